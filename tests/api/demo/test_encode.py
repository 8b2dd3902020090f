"""Demo bodies decode with the service's own remote-write decoder."""

from api.demo.encode import HEADERS, MAX_SAMPLES_PER_SEND, batches, encode
from api.demo.network import build_network
from api.demo.simulation import Simulation, labels
from api.remote_write import STALE_NAN, decode, is_stale_marker, negotiate

UP = labels(name="livepeer_current_sessions_total", node_id="orch-fra-1", node_type="orch")
PIXELS = labels(
    name="livepeer_mil_pixels_processed",
    node_id="orch-fra-1",
    node_type="orch",
    manifest_id="0123456789abcdef",
    client_ip="198.51.100.7",
)


def test_headers_are_those_of_remote_write_1_0() -> None:
    assert negotiate(HEADERS["Content-Type"], HEADERS["Content-Encoding"]) == 1
    assert HEADERS["X-Prometheus-Remote-Write-Version"] == "0.1.0"


def test_a_body_round_trips_through_the_decoder() -> None:
    body = encode([(UP, [(1000, 3.0), (16000, 4.0)]), (PIXELS, [(1000, 1.5), (16000, STALE_NAN)])])
    decoded = decode(body, 1)
    assert decoded.samples == 4 and decoded.histograms == decoded.exemplars == 0
    by_labels = {s.labels: s.samples for s in decoded.series}
    assert by_labels[UP] == [(1000, 3.0), (16000, 4.0)]
    (ts1, v1), (ts2, v2) = by_labels[PIXELS]
    assert (ts1, v1) == (1000, 1.5) and ts2 == 16000 and is_stale_marker(v2)
    assert decoded.series[0].name == "livepeer_current_sessions_total"


def test_batches_hold_at_most_2000_samples_and_lose_none() -> None:
    network = build_network()
    sim = Simulation(network, 1_700_000_040.0)
    samples = []  # one orchestrator's, as a runner batches them
    for i in range(1, 121):
        samples.extend(sim.scrape(1_700_000_040.0 + 60 * i)[network.reporting[0].address])
    assert len(samples) > 3 * MAX_SAMPLES_PER_SEND
    seen = []
    for body, count in batches(samples):
        decoded = decode(body, 1)
        assert decoded.samples == count <= MAX_SAMPLES_PER_SEND
        for series in decoded.series:
            timestamps = [ts for ts, _ in series.samples]
            assert timestamps == sorted(timestamps)
            seen.extend((series.labels, ts, v) for ts, v in series.samples)
    assert sorted(map(_comparable, seen)) == sorted(map(_comparable, samples))


def _comparable(sample):
    labels_, ts, value = sample
    return (labels_, ts, "stale" if is_stale_marker(value) else repr(value))
