"""The simulator's load model and its Prometheus exporter."""

import re

import pytest
from prometheus_client import parser

from decision_engine.simulator import exporter as exporter_mod
from decision_engine.simulator import load as load_mod
from decision_engine.simulator.topology import Topology


def test_profiles_are_seeded_and_integrals_exact():
    a, b = load_mod.LoadModel(seed=4), load_mod.LoadModel(seed=4)
    assert a.profile('x') == b.profile('x')
    other = load_mod.LoadModel(seed=5)
    assert [other.profile(str(i)) for i in range(5)] != \
        [a.profile(str(i)) for i in range(5)]
    for kind in load_mod.PROFILES:
        model = load_mod.LoadModel(seed=1, day_s=100.0, burst_s=7.0,
                                   only=kind)
        # The integral equals a fine Riemann sum of the share.
        steps = 20000
        t0, t1 = 3.0, 53.0
        dt = (t1 - t0) / steps
        riemann = sum(model.cpu_share('u', t0 + (i + 0.5) * dt) * dt
                      for i in range(steps)) * 2
        assert model.cpu_seconds('u', 2, t0, t1) == pytest.approx(
            riemann, rel=1e-3)


def exposition(exporter, now):
    families = {f.name: f for f in parser.text_string_to_metric_families(
        exporter.render(now))}
    return families


def small_topology():
    topo = Topology.generate(hosts=2, instances=6, seed=2)
    for inst in topo.instances:
        inst.vm_state = 'active'
        inst.host = topo.hosts[0].hostname
    return topo


def test_exposition_names_labels_and_counters():
    topo = small_topology()
    exp = exporter_mod.LoadExporter(topo, load_mod.LoadModel(
        seed=1, only='steady'))
    exp.advance(1000.0)
    fams = exposition(exp, 1010.0)
    # prometheus-client's parser strips _total from counter family names.
    cpu = fams['node_cpu_seconds']
    assert cpu.type == 'counter'
    host = topo.hosts[0]
    idle = [s for s in cpu.samples if s.labels['fqdn'] == host.hostname
            and s.labels['mode'] == 'idle']
    assert len(idle) == host.vcpus
    ceil = fams['ceilometer_cpu']
    assert {s.labels['resource'] for s in ceil.samples} == \
        {i.uuid for i in topo.instances}
    # 10 s of steady load: ns counter == share x vcpus x 10 s x 1e9.
    inst = topo.instances[0]
    share = exp.model.profile(inst.uuid).base
    value = next(s.value for s in ceil.samples
                 if s.labels['resource'] == inst.uuid)
    assert value == pytest.approx(share * inst.flavor.vcpus * 10 * 1e9,
                                  rel=1e-6)
    assert exp.truth(inst.uuid, 'cpu', 10) == pytest.approx(
        share * inst.flavor.vcpus)


def test_migration_moves_the_load_and_hidden_is_absent():
    topo = small_topology()
    exp = exporter_mod.LoadExporter(topo, load_mod.LoadModel(
        seed=1, only='steady'))
    a, b = topo.hosts[0].hostname, topo.hosts[1].hostname
    exp.advance(0.0)
    exp.advance(10.0)
    assert exp.truth(b, 'cpu', 10) == pytest.approx(0.25 / topo.hosts[1]
                                                    .vcpus * 100)
    moved = topo.instances[0]
    moved.host = b
    exp.advance(20.0)
    cores = exp.model.profile(moved.uuid).base * moved.flavor.vcpus
    assert exp.truth(b, 'cpu', 10, end=20.0) == pytest.approx(
        (0.25 + cores) / topo.hosts[1].vcpus * 100)
    exp.hidden.update({a, moved.uuid})
    text = exp.render(21.0)
    assert 'fqdn="%s"' % a not in text and moved.uuid not in text


def test_a_host_runs_no_more_than_its_cores():
    topo = small_topology()
    topo.hosts[0].vcpus = 1
    exp = exporter_mod.LoadExporter(topo, load_mod.LoadModel(
        seed=1, only='steady'))
    exp.advance(0.0)
    exp.advance(10.0)
    assert exp.truth(topo.hosts[0].hostname, 'cpu', 10) == \
        pytest.approx(100.0)
    text = exp.render(10.0)
    idle = re.findall(r'node_cpu_seconds_total\{cpu="0",fqdn="%s",'
                      r'mode="idle"\} (\S+)' % topo.hosts[0].hostname, text)
    assert float(idle[0]) == pytest.approx(0.0, abs=1e-6)


def test_instance_label_for_the_fallback():
    topo = small_topology()
    exp = exporter_mod.LoadExporter(topo, host_label='instance')
    text = exp.render(5.0)
    assert 'instance="%s:9100"' % topo.hosts[0].hostname in text
    assert 'fqdn=' not in text
