"""The ``remote_write`` block an orchestrator pastes into its Prometheus (server or agent
mode, 2.42 and later) to opt in, printed by ``lpmetrics token create``.

Its ``write_relabel_configs`` come from ``allowlist`` so that the least data leaves the
orchestrator's machine: only allowlisted metric names, never the loopback interface,
and only the labels a feature needs. The per-stream labels the service does not keep
(manifest_id, ...) are not simply dropped: that would merge every stream's counter into
one series with interleaved values, which no receiver can take apart again. They are
first folded into one opaque hash label, ``lpm_series``, then dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

import yaml

from api.ingest import allowlist

WRITE_PATH = "/api/v1/write"
_MAX_UINT64 = 2**64 - 1

QUEUE_CONFIG = {
    # Few, full requests: an orchestrator sends a few hundred samples per scrape.
    "capacity": 10000,
    "min_shards": 1,
    "max_shards": 4,
    "max_samples_per_send": 2000,
    "batch_send_deadline": "10s",
    "min_backoff": "1s",
    "max_backoff": "30s",
    # A 429 (over the rate or series limit) is otherwise dropped; retry it instead,
    # honouring Retry-After. Supported since Prometheus 2.26.
    "retry_on_http_429": True,
}


def write_url(base_url: str) -> str:
    """The remote-write endpoint under the service's public URL."""
    base = base_url.strip().rstrip("/")
    return base if base.endswith(WRITE_PATH) else base + WRITE_PATH


def relabel_configs(optional: Iterable[str] = ()) -> list[dict[str, object]]:
    """``write_relabel_configs`` keeping what the server keeps for these optional metrics."""
    kept = allowlist.kept_series(optional)
    rules: list[dict[str, object]] = [
        {"source_labels": ["__name__"], "regex": "|".join(kept), "action": "keep"}
    ]
    nic = [name for name in kept if name in allowlist.NIC_METRICS]
    if nic:
        rules.append(
            {
                "source_labels": ["__name__", "device"],
                "regex": f"({'|'.join(nic)});{allowlist.LOOPBACK_DEVICE}",
                "action": "drop",
            }
        )
    rules.append(
        {
            "source_labels": list(allowlist.FOLDED_LABELS),
            "target_label": allowlist.SERIES_KEY_LABEL,
            "modulus": _MAX_UINT64,
            "action": "hashmod",
        }
    )
    keep = ("__name__", *allowlist.KEPT_LABELS, allowlist.SERIES_KEY_LABEL)
    rules.append({"regex": "|".join(keep), "action": "labelkeep"})
    return rules


def remote_write_config(base_url: str, token: str, optional: Iterable[str] = ()) -> str:
    """A complete top-level ``remote_write:`` section as YAML, with a comment header."""
    optional = tuple(optional)
    entry = {
        "name": "lpmetrics",
        "url": write_url(base_url),
        "authorization": {"type": "Bearer", "credentials": token},
        "remote_timeout": "30s",
        "queue_config": QUEUE_CONFIG,
        # Metadata (HELP texts of every scraped metric) is not relabelled, so it would
        # describe metrics we never receive: don't send it.
        "metadata_config": {"send": False},
        "write_relabel_configs": relabel_configs(optional),
    }
    shared = ", ".join(optional) if optional else "none"
    header = (
        "# lpmetrics: add to prometheus.yml (server or agent mode). If you already have a\n"
        "# remote_write section, append the list entry below to it.\n"
        f"# Sends the required metrics plus the optional ones you share ({shared});\n"
        "# run `lpmetrics sharing set` and create a new token to change that.\n"
        "# Series need a node_id label: node_exporter targets get one with\n"
        "#   static_configs: [{targets: [...], labels: {node_id: <your node_id>}}]\n"
    )
    body = yaml.safe_dump(
        {"remote_write": [entry]}, sort_keys=False, default_flow_style=False, width=1000
    )
    return header + body
