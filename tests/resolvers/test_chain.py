"""Verification and estimates end to end: a scripted network (``tests.support.chain_scenario``)
whose chain is synced over HTTP from a simulated subgraph, then read through GraphQL
by the public, by the orchestrators themselves and by other orchestrators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from api.chain.simulated import subgraph_app
from api.chain.subgraph import SubgraphClient
from api.chain.sync import record_failure, sync_redemptions
from api.core.services import Services
from api.disclosure.precision import significant
from auth.sessions import create_session
from tests.support.chain_scenario import BY_LETTER, ORCHS, chain_for, load, true_hour
from tests.support.services import serving
from tests.support.stats_fixtures import TICK, forget_answers, graphql, pin

ESTIMATE = """
  estimate { avgStreams { value low high } pixelsPerSecond { value low high }
             transcodedMinutes { value low high } method reason
             basisOrchestrators inferredOrchestrators }
  coverage { reportingOrchestrators knownOrchestrators feeShare }
  avgStreams pixelsPerSecond transcodedMinutes precision
"""
NETWORK = (
    f"{{ network {{ {ESTIMATE} verification {{ consistent inconsistent insufficientData }} }} }}"
)
REGIONS = f"{{ regions(level: COUNTRY) {{ code {ESTIMATE} }} }}"
ORCHESTRATOR = """query($address: String!) { orchestrator(address: $address) {
  address avgStreams verification { status checkedFrom checkedTo reason
    valueRedeemed { reportedEth onChainEth winningTickets relativeDifference tolerance status }
    expectedValue { reportedEth onChainEth winningTickets relativeDifference tolerance status }
  } } }"""


async def _as(services: Services, url: str, letter: str) -> httpx.AsyncClient:
    session = await create_session(services, BY_LETTER[letter].address)
    return httpx.AsyncClient(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {session.token}"}
    )


@pytest.fixture
async def synced(services: Services) -> AsyncIterator[None]:
    await load(services.db, TICK)
    async with serving(subgraph_app(chain_for(TICK))) as url, httpx.AsyncClient() as http:
        result = await sync_redemptions(
            services.db, SubgraphClient(url, http), services.secret, now=TICK
        )
        assert result.reached_head and result.stored == sum(o.tickets for o in ORCHS)
    await pin(services)
    yield


async def test_verification_statuses(services: Services, quiet_url: str, synced: None) -> None:
    async with await _as(services, quiet_url, "T1") as t1:
        own = await graphql(t1, ORCHESTRATOR, {"address": BY_LETTER["T1"].address})
        v = own["orchestrator"]["verification"]
        assert v["status"] == "CONSISTENT"
        redeemed, expected = v["valueRedeemed"], v["expectedValue"]
        assert redeemed["winningTickets"] == 60 and redeemed["status"] == "CONSISTENT"
        assert redeemed["reportedEth"] == pytest.approx(redeemed["onChainEth"])
        assert redeemed["onChainEth"] == pytest.approx(1.2)
        assert redeemed["tolerance"] == 0.02
        assert expected["relativeDifference"] == pytest.approx(0.01, abs=1e-6)
        assert expected["tolerance"] == pytest.approx(3 / 60**0.5)
        # Another orchestrator: its status only.
        other = await graphql(t1, ORCHESTRATOR, {"address": BY_LETTER["I"].address})
        seen = other["orchestrator"]
        assert seen["verification"] == {
            "status": "INCONSISTENT",
            "checkedFrom": None,
            "checkedTo": None,
            "reason": None,
            "valueRedeemed": None,
            "expectedValue": None,
        }
        assert seen["avgStreams"] is None
    async with await _as(services, quiet_url, "I") as inflating:
        v = (await graphql(inflating, ORCHESTRATOR, {"address": BY_LETTER["I"].address}))[
            "orchestrator"
        ]["verification"]
        assert v["status"] == "INCONSISTENT"
        assert v["valueRedeemed"]["relativeDifference"] == pytest.approx(2.0)
        assert v["expectedValue"]["status"] == "INCONSISTENT"
    async with await _as(services, quiet_url, "S") as thin:
        v = (await graphql(thin, ORCHESTRATOR, {"address": BY_LETTER["S"].address}))[
            "orchestrator"
        ]["verification"]
        assert v["status"] == "INSUFFICIENT_DATA" and "too few winning tickets" in v["reason"]
        assert v["valueRedeemed"] is None and v["expectedValue"] is None
    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as anonymous:
        public = await graphql(anonymous, NETWORK)
        assert public["network"]["verification"] == {
            "consistent": 5,
            "inconsistent": 1,
            "insufficientData": 1,
        }
        hidden = await graphql(anonymous, ORCHESTRATOR, {"address": BY_LETTER["I"].address})
        assert hidden["orchestrator"] is None


def _covers(figure: dict, truth: float) -> None:
    assert figure["low"] <= figure["value"] <= figure["high"]
    assert figure["low"] <= truth <= figure["high"], (figure, truth)
    # And says something: the interval is tighter than +-25 %.
    assert figure["high"] - figure["low"] < 0.5 * truth


async def test_estimates_cover_the_hidden_truth(
    services: Services, quiet_url: str, synced: None
) -> None:
    async with await _as(services, quiet_url, "T1") as t1:
        network = (await graphql(t1, NETWORK))["network"]
        estimate = network["estimate"]
        assert estimate["reason"] is None and "fees" in estimate["method"]
        # The basis: T1..T5 and S (I is INCONSISTENT); N1 and N2 inferred.
        assert estimate["basisOrchestrators"] == 6
        assert estimate["inferredOrchestrators"] == 2
        truth = true_hour(ORCHS)
        reported = true_hour([o for o in ORCHS if o.reports])
        for key, value in truth.items():
            _covers(estimate[key], value)
            assert network[key] == pytest.approx(reported[key])
            assert estimate[key]["value"] > network[key]
        fees = {o.letter: o.fees for o in ORCHS}
        share = 1 - (fees["N1"] + fees["N2"]) / sum(fees.values())
        assert network["coverage"]["feeShare"] == pytest.approx(share)
        regions = {r["code"]: r for r in (await graphql(t1, REGIONS))["regions"]}
        for code, place in (("DE", "FRA"), ("US", "NYC")):
            here = [o for o in ORCHS if o.place == place]
            e = regions[code]["estimate"]
            assert e["inferredOrchestrators"] == 1
            for key, value in true_hour(here).items():
                _covers(e[key], value)
    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as anonymous:
        public = (await graphql(anonymous, NETWORK))["network"]
        assert public["precision"] == "COARSENED"
        for key in truth:
            for end in ("value", "low", "high"):
                assert public["estimate"][key][end] == significant(estimate[key][end])
        assert public["coverage"]["feeShare"] == significant(network["coverage"]["feeShare"])


async def test_a_withheld_region_withholds_its_estimate(
    services: Services, quiet_url: str, synced: None
) -> None:
    # Two of the three reporting orchestrators in the US stop counting: the public
    # view withholds the US (fewer than 3), and its estimate with it.
    await services.db.execute(
        "DELETE FROM nodes WHERE orchestrator = ANY ($1::text[])",
        [BY_LETTER["T4"].address, BY_LETTER["S"].address],
    )
    await forget_answers(services)
    await pin(services)
    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as anonymous:
        us = {r["code"]: r for r in (await graphql(anonymous, REGIONS))["regions"]}["US"]
        assert us["precision"] == "SUPPRESSED"
        assert us["avgStreams"] is None
        assert us["estimate"]["avgStreams"] == {"value": None, "low": None, "high": None}
        assert us["coverage"]["feeShare"] is None


async def test_without_chain_data_figures_say_why_and_nothing_else_changes(
    services: Services, quiet_url: str
) -> None:
    await load(services.db, TICK)
    await record_failure(services.db, "the subgraph at http://127.0.0.1:9 could not be reached")
    await pin(services)
    async with await _as(services, quiet_url, "T1") as t1:
        network = (await graphql(t1, NETWORK))["network"]
        e = network["estimate"]
        assert e["avgStreams"] is None and e["pixelsPerSecond"] is None
        assert "no chain data" in e["reason"] and "could not be reached" in e["reason"]
        assert network["coverage"]["feeShare"] is None
        assert network["verification"] == {
            "consistent": 0,
            "inconsistent": 0,
            "insufficientData": 7,
        }
        # The reported figures are all there.
        reported = true_hour([o for o in ORCHS if o.reports])
        for key, value in reported.items():
            assert network[key] == pytest.approx(value)
        own = await graphql(t1, ORCHESTRATOR, {"address": BY_LETTER["T1"].address})
        assert own["orchestrator"]["avgStreams"] == pytest.approx(
            true_hour([BY_LETTER["T1"]])["avgStreams"]
        )
        assert "no chain data" in own["orchestrator"]["verification"]["reason"]


async def test_a_thin_basis_or_stale_chain_gives_no_estimate(
    services: Services, quiet_url: str, synced: None
) -> None:
    # Only T5 and S are left as a basis (I is INCONSISTENT): fewer than 3.
    gone = [BY_LETTER[x].address for x in ("T1", "T2", "T3", "T4")]
    await services.db.execute("DELETE FROM nodes WHERE orchestrator = ANY ($1::text[])", gone)
    await forget_answers(services)
    await pin(services)
    async with await _as(services, quiet_url, "T5") as t5:
        e = (await graphql(t5, NETWORK))["network"]["estimate"]
        assert e["avgStreams"] is None and "too thin a basis" in e["reason"]
    # Chain data last complete two days before the tick: stale.
    await services.db.execute("UPDATE chain_sync SET synced_at = $1", TICK - timedelta(days=2))
    await forget_answers(services)
    await pin(services)
    async with await _as(services, quiet_url, "T5") as t5:
        e = (await graphql(t5, NETWORK))["network"]["estimate"]
        assert e["avgStreams"] is None and "stale" in e["reason"]
