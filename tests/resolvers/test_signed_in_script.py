"""The whole path a script takes to exact figures, over real HTTP: eth-account signs a
SIWE message, ``signIn`` gives a session, the session mints a READ API token, and the
token alone then gets exact figures where an anonymous caller gets coarsened ones."""

from __future__ import annotations

import httpx

from api.core.services import Services
from tests.support.stats_scenario import Loaded
from tests.support.wallet import (
    graphql,
    new_account,
    register,
    request_nonce,
    sign,
    siwe_message,
)

SIGN_IN = "mutation($m: String!, $s: String!) { signIn(message: $m, signature: $s) { token } }"
CREATE_TOKEN = """
mutation { createApiToken(name: "dashboard script", scopes: [READ]) { token } }
"""
NETWORK = "{ network { currentStreams capacity precision } viewer { role address } }"


async def test_script_signs_in_and_reads_exact_figures(
    services: Services, quiet_url: str, scripted: Loaded
) -> None:
    account = new_account()
    await register(services.db, account.address)
    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as http:
        message = siwe_message(account.address, await request_nonce(http))
        signed = await graphql(http, SIGN_IN, {"m": message, "s": sign(account, message)})
        session = signed.json()["data"]["signIn"]["token"]
        minted = await graphql(http, CREATE_TOKEN, token=session)
        read_token = minted.json()["data"]["createApiToken"]["token"]

    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as script:
        exact = (await graphql(script, NETWORK, token=read_token)).json()["data"]
        anonymous = (await graphql(script, NETWORK)).json()["data"]

    assert exact["viewer"] == {"role": "ORCHESTRATOR", "address": account.address.lower()}
    # The scripted network by hand (tests/resolvers/test_network.py): 22 streams now.
    assert exact["network"] == {"currentStreams": 22, "capacity": 46, "precision": "EXACT"}
    # Anonymous: counts rounded up to a multiple of LPM_PUBLIC_COUNT_BIN (8).
    assert anonymous["viewer"] == {"role": "ANONYMOUS", "address": None}
    assert anonymous["network"] == {"currentStreams": 24, "capacity": 48, "precision": "COARSENED"}
