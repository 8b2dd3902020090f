"""The simulation: deterministic, counters only grow, sessions stay within capacity,
and the label sets are what go-livepeer with or without its per-stream flags exports."""

from collections import defaultdict

import pytest

from api.demo.network import build_network
from api.demo.simulation import CAPACITY, SESSIONS, Sample, Simulation
from api.remote_write import is_stale_marker

START = 1_700_000_040.0  # a whole minute
GAUGES = {SESSIONS, CAPACITY}


def scrapes(sim: Simulation, count: int, step: float) -> list[dict[str, list[Sample]]]:
    return [sim.scrape(sim.now + step) for _ in range(count)]


@pytest.fixture(scope="module")
def network():
    return build_network()


@pytest.fixture(scope="module")
def ninety_minutes(network) -> list[dict[str, list[Sample]]]:
    return scrapes(Simulation(network, START), 180, 30.0)


def all_samples(history: list[dict[str, list[Sample]]]):
    for scrape in history:
        for address, samples in scrape.items():
            for sample in samples:
                yield address, sample


def test_the_same_network_and_start_give_the_same_samples(network) -> None:
    assert scrapes(Simulation(network, START), 5, 15.0) == scrapes(
        Simulation(network, START), 5, 15.0
    )
    assert scrapes(Simulation(network, START + 60), 5, 15.0) != scrapes(
        Simulation(network, START), 5, 15.0
    )


def test_scrapes_only_move_forward(network) -> None:
    sim = Simulation(network, START)
    sim.scrape(START + 15)
    with pytest.raises(ValueError):
        sim.scrape(START + 15)


def test_counters_never_decrease_and_ended_series_stay_gone(ninety_minutes) -> None:
    # Series are per orchestrator: two may both have a node called "fra1".
    last: dict[tuple, float] = {}
    ended: set[tuple] = set()
    stale = 0
    for address, (labels, _, value) in all_samples(ninety_minutes):
        series = (address, labels)
        assert series not in ended
        if is_stale_marker(value):
            stale += 1
            ended.add(series)
            continue
        if dict(labels)["__name__"] not in GAUGES:
            assert value >= last.get(series, 0.0), series
            last[series] = value
    assert stale > 0  # streams ended in 90 minutes, and their series were marked stale
    assert any(v > 0 for v in last.values())


def test_sessions_stay_within_capacity_and_move(network, ninety_minutes) -> None:
    seen: dict[tuple[str, str], list[float]] = defaultdict(list)
    for scrape in ninety_minutes:
        per_node: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
        for address, samples in scrape.items():
            for labels, _, value in samples:
                values = dict(labels)
                if values["__name__"] in GAUGES:
                    per_node[address, values["node_id"]][values["__name__"]] = value
        assert len(per_node) == len(network.nodes)
        for node_id, gauges in per_node.items():
            assert 0 <= gauges[SESSIONS] <= gauges[CAPACITY]
            seen[node_id].append(gauges[SESSIONS])
    assert sum(series[-1] for series in seen.values()) > 0
    assert any(len(set(series)) > 1 for series in seen.values())


def test_label_sets_follow_each_orchestrators_flags(network, ninety_minutes) -> None:
    by_address = {o.address: o for o in network.orchestrators}
    senders_at: dict[str, set[str]] = defaultdict(set)
    for address, (labels, _, _) in all_samples(ninety_minutes):
        assert list(labels) == sorted(labels)
        values = dict(labels)
        orchestrator = by_address[address]
        assert values["node_id"] in {n.node_id for n in orchestrator.nodes}
        assert {"job", "instance"} <= values.keys()
        if values["__name__"].startswith("livepeer_"):
            assert values["node_type"] == "orch"
        if not orchestrator.per_stream:
            assert "sender" not in values and "manifest_id" not in values
        if not orchestrator.client_ip:
            assert "client_ip" not in values
        if "sender" in values:
            senders_at[values["sender"]].add(address)
        if values["__name__"].startswith("node_network_"):
            assert orchestrator.shares_nic and values["device"] in ("eth0", "lo")
    reporting = {o.address for o in network.reporting}
    silent = {o.address for o in network.orchestrators} - reporting
    assert set(ninety_minutes[0]) == reporting and silent
    # Broadcasters pay several orchestrators.
    assert max(len(addresses) for addresses in senders_at.values()) >= 3
    assert sum(1 for a in senders_at.values() if len(a) >= 2) >= 3
    flagged = {a for a in reporting if by_address[a].per_stream}
    assert set().union(*senders_at.values()) == flagged


def test_demand_follows_the_time_of_day() -> None:
    network = build_network(8)  # all in Frankfurt
    sim = Simulation(network, START)
    frankfurt = {(o.address, n.node_id) for o, n in network.nodes if n.region == "FRA"}
    evening, morning = [], []
    for i in range(1, 24 * 12 + 1):
        at = START + i * 300
        total = sum(
            value
            for address, samples in sim.scrape(at).items()
            for labels, _, value in samples
            if dict(labels)["__name__"] == SESSIONS
            and (address, dict(labels)["node_id"]) in frankfurt
        )
        hour = (at % 86400) / 3600 + 8.68 / 15  # local solar time in Frankfurt
        if 19 <= hour % 24 < 21:
            evening.append(total)
        elif 7 <= hour % 24 < 9:
            morning.append(total)
    assert sum(evening) / len(evening) > 2 * sum(morning) / len(morning)
