"""Nova's os-hypervisors API for the simulator, mixed into
:class:`~.compute.ComputeService`.

limit/marker from 2.33 (``hypervisors_links``), uuid ids from 2.53, and
from 2.88 the capacity/usage fields (vcpus, memory_mb, local_gb, *_used,
free_*, running_vms...) are gone, as in Nova;
``hypervisor_hostname_pattern`` is a SUBSTRING match (the trap that makes
``compute-1`` find ``compute-10``).
"""

import bisect

from decision_engine.simulator import routing
from decision_engine.simulator.routing import HTTPError, dumps


class HypervisorsAPI:
    """The hypervisor routes' handlers; needs ComputeService's host indexes
    (``_hosts``, ``_host_by_uuid``, ``_host_by_id``, ``_usage``,
    ``_hyp_cache``) and its plumbing."""

    def _host_usage(self, host):
        vcpus = ram = disk = count = 0
        for r in self._by_host.get(host.hostname, ()):
            f = self._servers[r].flavor
            vcpus += f.vcpus
            ram += f.ram
            disk += f.disk + f.ephemeral
            count += 1
        return vcpus, ram, disk, count

    def _hypervisor_dict(self, h, version, detail=True):
        uuids = version >= (2, 53)
        d = {'id': h.uuid if uuids else h.id,
             'hypervisor_hostname': h.hostname,
             'state': h.state, 'status': h.status}
        if not detail:
            return d
        d.update({
            'hypervisor_type': h.hypervisor_type,
            'hypervisor_version': 1 if h.is_ironic else 8002000,
            'host_ip': h.host_ip,
            'service': {'host': h.compute_host,
                        'id': h.service_uuid if uuids else h.id,
                        'disabled_reason': h.disabled_reason},
        })
        if version < (2, 88):
            vcpus_used, ram_used, disk_used, count = \
                self._usage[h.hostname]
            ram_used += h.memory_mb_reserved
            d.update({
                'vcpus': h.vcpus, 'memory_mb': h.memory_mb,
                'local_gb': h.disk_gb, 'vcpus_used': vcpus_used,
                'memory_mb_used': ram_used, 'local_gb_used': disk_used,
                'free_ram_mb': h.memory_mb - ram_used,
                'free_disk_gb': h.disk_gb - disk_used,
                'current_workload': 0, 'running_vms': count,
                'disk_available_least': h.disk_gb - disk_used,
                'cpu_info': ({'arch': 'x86_64', 'model': 'host-model',
                              'vendor': 'Intel',
                              'topology': {'cores': h.vcpus, 'threads': 1,
                                           'sockets': 1}}
                             if version >= (2, 28) else
                             '{"arch": "x86_64", "vendor": "Intel"}'),
            })
        else:
            d['uptime'] = None
        return d

    def _hypervisor_bytes(self, h, version, detail=True):
        # Shape depends only on these version thresholds.
        key = (h.uuid, detail, version >= (2, 28), version >= (2, 53),
               version >= (2, 88))
        data = self._hyp_cache.get(key)
        if data is None:
            data = dumps(self._hypervisor_dict(h, version, detail))
            self._hyp_cache[key] = data
        return data

    def _hypervisor_listing(self, req, detail):
        version = self.microversion(req)
        hosts = self._hosts
        full = False
        pattern = req.arg('hypervisor_hostname_pattern') \
            if version >= (2, 53) else None
        if pattern is not None:
            if req.has_arg('limit') or req.has_arg('marker'):
                raise HTTPError(400, 'Paging over hypervisors with the '
                                'hypervisor_hostname_pattern query '
                                'parameter is not supported.')
            hosts = [h for h in hosts if pattern in h.hostname]
            if not hosts:
                raise HTTPError(404, "No hypervisor matching '%s' could "
                                "be found." % pattern)
        elif version >= (2, 33):
            limit = self._limit(req)
            marker = req.arg('marker')
            start = 0
            if marker is not None:
                h = (self._host_by_uuid if version >= (2, 53)
                     else self._host_by_id).get(marker)
                if h is None:
                    raise HTTPError(400, 'marker [%s] not found' % marker)
                start = bisect.bisect_right([x.id for x in hosts], h.id)
            hosts = hosts[start:start + limit]
            full = len(hosts) == limit
        items = [self._hypervisor_bytes(h, version, detail) for h in hosts]
        last = None
        if hosts:
            last = hosts[-1].uuid if version >= (2, 53) else hosts[-1].id
        return routing.json_response(
            self._listing(req, 'hypervisors', items, full, last),
            headers=self.response_headers(version))

    def hypervisors_detail(self, req):
        return self._hypervisor_listing(req, True)

    def hypervisors_index(self, req):
        return self._hypervisor_listing(req, False)

    def hypervisor_show(self, req):
        version = self.microversion(req)
        ident = req.params['id']
        h = (self._host_by_uuid if version >= (2, 53)
             else self._host_by_id).get(ident)
        if h is None:
            raise HTTPError(404, 'Hypervisor with ID %s could not be found.'
                            % ident)
        return routing.json_response(
            b'{"hypervisor":%s}' % self._hypervisor_bytes(h, version),
            headers=self.response_headers(version))
