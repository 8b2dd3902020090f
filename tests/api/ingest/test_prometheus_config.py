"""The remote_write block: valid for Prometheus 2.42, and filtering exactly as the
server does (one allowlist for both)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from api.ingest import allowlist
from api.ingest.prometheus_config import relabel_configs, remote_write_config, write_url

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "go-livepeer-orch.prom"
TOKEN = "lpm_" + "T" * 43


def names_in_fixture() -> set[str]:
    return {
        re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)[0]
        for line in FIXTURE.read_text().splitlines()
        if line and not line.startswith("#")
    }


def keep_regex(rules: list[dict]) -> re.Pattern[str]:
    [keep] = [r for r in rules if r["action"] == "keep"]
    return re.compile(keep["regex"])  # Prometheus anchors regexes: use fullmatch


@pytest.mark.parametrize("optional", [(), allowlist.OPTIONAL])
def test_client_side_keep_is_the_server_allowlist(optional: tuple[str, ...]) -> None:
    regex = keep_regex(relabel_configs(optional))
    universe = (
        names_in_fixture()
        | set(allowlist.BY_SERIES)
        | {
            "livepeer_transcode_time_seconds_bucket",
            "node_network_receive_packets_total",
        }
    )
    kept = {name for name in universe if regex.fullmatch(name)}
    assert kept == set(allowlist.kept_series(optional))
    assert "go_goroutines" not in kept and "livepeer_versions" not in kept


def test_labels_are_folded_then_dropped() -> None:
    rules = relabel_configs()
    [hashmod] = [r for r in rules if r["action"] == "hashmod"]
    assert hashmod["source_labels"] == list(allowlist.FOLDED_LABELS)
    assert hashmod["target_label"] == allowlist.SERIES_KEY_LABEL
    [labelkeep] = [r for r in rules if r["action"] == "labelkeep"]
    kept = re.compile(labelkeep["regex"])
    for label in ("__name__", "node_id", "node_type", "sender", "client_ip", "lpm_series"):
        assert kept.fullmatch(label), label
    for label in ("manifest_id", "profiles", "instance", "job", "le", "error_code"):
        assert not kept.fullmatch(label), label
    assert rules.index(hashmod) < rules.index(labelkeep)


def test_loopback_is_dropped_only_when_nic_metrics_are_shared() -> None:
    assert not [r for r in relabel_configs() if r["action"] == "drop"]
    [drop] = [
        r for r in relabel_configs(["node_network_transmit_bytes_total"]) if r["action"] == "drop"
    ]
    regex = re.compile(drop["regex"])
    assert regex.fullmatch("node_network_transmit_bytes_total;lo")
    assert not regex.fullmatch("node_network_transmit_bytes_total;eth0")


def test_block_shape() -> None:
    text = remote_write_config("https://metrics.example/", TOKEN, ["livepeer_value_redeemed"])
    assert text.startswith("#")
    [entry] = yaml.safe_load(text)["remote_write"]
    assert entry["url"] == "https://metrics.example/api/v1/write"
    assert entry["authorization"] == {"type": "Bearer", "credentials": TOKEN}
    assert entry["queue_config"]["retry_on_http_429"] is True
    assert entry["queue_config"]["max_samples_per_send"] == 2000
    assert entry["metadata_config"] == {"send": False}
    assert "livepeer_value_redeemed" in entry["write_relabel_configs"][0]["regex"]


def test_write_url() -> None:
    assert write_url("http://h:8000") == "http://h:8000/api/v1/write"
    assert write_url("http://h:8000/api/v1/write/") == "http://h:8000/api/v1/write"


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed"
)
def test_promtool_accepts_the_block(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "scrape_configs:\n"
        "  - job_name: livepeer\n"
        "    static_configs: [{targets: ['127.0.0.1:7935']}]\n"
        + remote_write_config("http://127.0.0.1:8000", TOKEN, allowlist.OPTIONAL)
    )
    result = subprocess.run(
        ["promtool", "check", "config", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
