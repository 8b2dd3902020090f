"""End to end: a real Prometheus (Debian's 2.42) in agent mode, configured with a scrape
job and nothing but the block ``lpmetrics token create`` printed, delivers a
go-livepeer-like exporter's metrics; allowlisted data arrives and is rolled up, the
rest never reaches the database."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from api.core.services import Services
from api.core.settings import Settings
from api.ingest.allowlist import BY_SERIES
from api.ingest.labels import sender_hash
from tests.support.prometheus import (
    ADDRESS,
    FIXTURE,
    NODE,
    PROMETHEUS,
    agent_config,
    exporter,
    ingest_block,
    prometheus_agent,
    wait_for,
)
from tests.support.services import running_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        PROMETHEUS is None,
        reason="needs the prometheus binary (apt-get install prometheus)",
    ),
]


async def test_agent_with_the_printed_block_delivers_allowlisted_metrics_only(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    await services.db.execute(
        "INSERT INTO orchestrators (address, active) VALUES ($1, true)", ADDRESS
    )
    async with running_server(settings) as url:
        block = await ingest_block(settings, url, ADDRESS)
        with exporter() as target:
            config = tmp_path / "prometheus.yml"
            config.write_text(
                agent_config(
                    f"  - job_name: livepeer\n    static_configs: [{{targets: ['{target}']}}]\n",
                    block,
                )
            )
            log = tmp_path / "prometheus.log"
            async with prometheus_agent(config, tmp_path) as (proc, prom_url):
                # Rows appear, then the rollup has counted paying broadcasters.
                await wait_for(services, proc, log, "SELECT count(*) FROM node_minute_senders")
                async with httpx.AsyncClient() as http:
                    prom_metrics = (await http.get(prom_url + "/metrics")).text

    metrics = set(await services.db.fetchval("SELECT array_agg(DISTINCT metric) FROM series"))
    exported = {
        line.split("{", 1)[0].split(" ", 1)[0]
        for line in FIXTURE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert metrics == exported & set(BY_SERIES)
    assert {"go_goroutines", "livepeer_versions"} & metrics == set()
    assert "livepeer_source_segment_duration_seconds_bucket" not in metrics

    node = await services.db.fetchrow("SELECT name, node_type, last_seen FROM nodes")
    assert (node["name"], node["node_type"]) == (NODE, "orch")
    assert node["last_seen"] is not None
    # The three streams stay three series per per-stream counter, folded ids and all.
    assert (
        await services.db.fetchval(
            "SELECT count(*) FROM series WHERE metric = 'livepeer_tickets_recv'"
        )
        == 3
    )
    senders = {
        r["sender"] for r in await services.db.fetch("SELECT sender FROM node_minute_senders")
    }
    fixture_senders = set(re.findall(r'sender="(0x[0-9a-fA-F]{40})"', FIXTURE.read_text()))
    assert senders <= {sender_hash(services.secret, s) for s in fixture_senders}
    assert await services.db.fetchval("SELECT count(*) FROM node_minutes") > 0
    # Prometheus saw every request accepted.
    failed = re.search(
        r"^prometheus_remote_storage_samples_failed_total\{.*\} (\S+)$", prom_metrics, re.M
    )
    assert failed is not None and float(failed[1]) == 0
