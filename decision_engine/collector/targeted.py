"""Targeted fetches: one instance or one host the live model lacks.

An event about an instance or host the model does not know (it appeared
since the last full build) is not dropped: the handler fetches just that
element, on the pool worker already applying the event, with the same
retries as a build (:mod:`decision_engine.collector.fetch`) and a short
deadline of its own.

* an instance: ``GET /servers/{id}`` (microversion 2.53);
* a host: ``GET /os-hypervisors/detail?hypervisor_hostname_pattern=`` (a
  substring match, so the answer is filtered on the service host), its
  Placement inventories and traits, ``GET
  /os-services?binary=nova-compute&host=`` for its zone and status, and
  ``GET /os-aggregates`` for its aggregates.
"""

import time

from decision_engine.collector import builder
from decision_engine.collector import fetch
from decision_engine.model import parse
from decision_engine.model.errors import ModelBuildError

_MV = builder.COMPUTE_MICROVERSION


class NotFound(LookupError):
    """Nova does not have that instance or host (any more)."""


class TargetedFetcher:
    """:param transport_factory: ``() -> transport`` (the collector's).
    :param settings: :class:`~decision_engine.collector.fetch.
        FetchSettings`.
    :param timeout: seconds one fetch (retries included) may take.
    """

    def __init__(self, transport_factory, settings, timeout=30.0):
        self._transport = transport_factory
        self.settings = settings
        self.timeout = timeout
        self.requests = 0

    def _fetcher(self):
        fetcher = fetch.Fetcher(self._transport(), self.settings,
                                time.monotonic() + self.timeout,
                                self.timeout)
        return fetcher

    def _get(self, fetcher, service, path, params=None, microversion=_MV,
             host=None):
        try:
            return fetcher.get_json(service, path, params,
                                    microversion=microversion, host=host)
        except ModelBuildError as exc:
            if getattr(exc, 'status', None) == 404:
                raise NotFound(str(exc))
            raise
        finally:
            self.requests = self.requests + fetcher.requests

    def instance(self, uuid):
        """``(Instance, hostname)``; hostname None when unscheduled.

        :raises NotFound: Nova has no such server.
        """
        fetcher = self._fetcher()
        doc = self._get(fetcher, 'compute', '/servers/%s' % uuid)
        server = doc.get('server')
        if not isinstance(server, dict):
            raise ModelBuildError("GET /servers/%s: no 'server' object"
                                  % uuid)
        host = server.get('OS-EXT-SRV-ATTR:host')
        if host is None:
            return None, None
        try:
            instances, _ = parse.servers({'servers': [server]}, host, None,
                                         {})
        except parse.BadDocument as exc:
            raise ModelBuildError('GET /servers/%s: %s' % (uuid, exc))
        return (instances[0] if instances else None), host

    def host(self, hostname):
        """``(ComputeNode, aggregate names)`` of one compute host.

        :raises NotFound: no hypervisor has that service host.
        """
        fetcher = self._fetcher()
        doc = self._get(fetcher, 'compute', '/os-hypervisors/detail',
                        {'hypervisor_hostname_pattern': hostname},
                        host=hostname)
        try:
            hypervisors, _ = parse.hypervisors(doc)
        except parse.BadDocument as exc:
            raise ModelBuildError('GET /os-hypervisors/detail: %s' % exc)
        matches = [h for h in hypervisors if h[1] == hostname]
        if not matches:
            raise NotFound('no hypervisor of service host %s' % hostname)
        hyp = matches[0]
        path = '/resource_providers/%s/inventories' % hyp[0]
        inventories = self._get(fetcher, 'placement', path,
                                microversion=builder.PLACEMENT_MICROVERSION,
                                host=hostname)
        path = '/resource_providers/%s/traits' % hyp[0]
        traits = self._get(fetcher, 'placement', path,
                           microversion=builder.TRAITS_MICROVERSION,
                           host=hostname)
        services = self._get(fetcher, 'compute', '/os-services',
                             {'binary': 'nova-compute', 'host': hostname},
                             host=hostname)
        aggregates = self._get(fetcher, 'compute', '/os-aggregates')
        try:
            node = parse.node(hyp, inventories)
            node.traits = parse.provider_traits(traits)
            service = parse.compute_services(services).get(hostname)
            names = tuple(name for name, hosts in
                          parse.aggregates(aggregates) if hostname in hosts)
        except parse.BadDocument as exc:
            raise ModelBuildError('host %s: unexpected response: %s'
                                  % (hostname, exc))
        if service is not None:
            node.availability_zone = service[0]
        node.aggregates = names
        return node
