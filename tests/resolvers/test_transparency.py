"""``transparency``: public, states the allowlist and the public view's rules as
configured, and counts sessions, tokens and deletions served."""

from __future__ import annotations

import httpx

from api.account.erasure import erase_orchestrator_data
from api.core.services import Services
from api.core.settings import Settings
from api.ingest.allowlist import METRICS
from auth.sessions import create_session
from auth.tokens import create_token, revoke_token
from tests.support.rollup_rows import add_orchestrator
from tests.support.stats_fixtures import forget_answers, graphql

QUERY = """{ transparency {
  collected { name series kind required purpose }
  labelHandling neverStored
  retention { rawSamplesDays rollups chainData sessionsSeconds }
  publicView { minOrchestrators countBin significantDigits maxCellResolution
               minSeriesStepSeconds perOrchestratorFigures }
  signedInOrchestrators activeSessions activeTokens deletionsServed
  sourceCode version documentation
} }"""

A, B = "0x" + "a1" * 20, "0x" + "b2" * 20


async def test_transparency_is_public_and_counts(
    services: Services, settings: Settings, quiet_url: str
) -> None:
    for address in (A, B):
        await add_orchestrator(services.db, address)
    await create_session(services, A)
    await create_session(services, A)
    await create_session(services, B)
    _, _ = await create_token(services.db, A, "ingest", ["ingest"])
    record, _ = await create_token(services.db, B, "read", ["read"])
    await create_token(services.db, B, "other", ["read"])
    await revoke_token(services.db, record.id)
    await erase_orchestrator_data(services.db, B)  # B's remaining token goes too
    await forget_answers(services)
    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as anonymous:
        t = (await graphql(anonymous, QUERY))["transparency"]
    assert [m["name"] for m in t["collected"]] == [m.family for m in METRICS]
    required = {m["name"] for m in t["collected"] if m["required"]}
    assert "livepeer_current_sessions_total" in required
    assert any(not m["required"] for m in t["collected"])
    assert any("sender" in rule and "hash" in rule for rule in t["labelHandling"])
    assert "client IP addresses" in t["neverStored"]
    assert t["retention"]["rawSamplesDays"] == settings.raw_retention_days
    assert t["publicView"] == {
        "minOrchestrators": settings.public_min_orchestrators,
        "countBin": settings.public_count_bin,
        "significantDigits": 2,
        "maxCellResolution": settings.public_h3_res,
        "minSeriesStepSeconds": 3600,
        "perOrchestratorFigures": False,
    }
    assert (t["signedInOrchestrators"], t["activeSessions"]) == (2, 3)
    assert t["activeTokens"] == 1
    assert t["deletionsServed"] == 1
    assert t["sourceCode"] is None  # LPM_SOURCE_URL unset
    assert t["documentation"] == "docs/transparency.md"
