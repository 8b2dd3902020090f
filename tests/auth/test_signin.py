import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from api.core.errors import BadUserInput, Forbidden, Unauthenticated
from api.core.services import Services
from auth.nonces import issue_nonce, nonce_pending
from auth.sessions import session_address
from auth.signin import sign_in, verify_sign_in
from tests.support.wallet import new_account, register, sign, siwe_message


async def _nonce(services: Services) -> str:
    return (await issue_nonce(services)).nonce


async def test_a_signed_message_signs_in_its_address(services: Services) -> None:
    account = new_account()
    nonce = await _nonce(services)
    message = siwe_message(account.address, nonce)
    address = await verify_sign_in(services, message, sign(account, message))
    assert address == account.address.lower()
    assert not await nonce_pending(services, nonce)


async def test_a_replayed_message_is_refused(services: Services) -> None:
    account = new_account()
    message = siwe_message(account.address, await _nonce(services))
    signature = sign(account, message)
    await verify_sign_in(services, message, signature)
    with pytest.raises(Unauthenticated, match="nonce"):
        await verify_sign_in(services, message, signature)


async def test_a_nonce_never_issued_is_refused(services: Services) -> None:
    account = new_account()
    message = siwe_message(account.address, "madeUpNonce12345")
    with pytest.raises(Unauthenticated, match="nonce was not issued"):
        await verify_sign_in(services, message, sign(account, message))


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("domain", "evil.test", "domain 'evil.test'"),
        ("uri", "https://evil.test", "URI 'https://evil.test'"),
        ("chain_id", 1, "chain 1"),
    ],
)
async def test_a_message_for_somewhere_else_is_refused(
    services: Services, field: str, value: object, complaint: str
) -> None:
    account = new_account()
    nonce = await _nonce(services)
    message = siwe_message(account.address, nonce, **{field: value})  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated, match=complaint):
        await verify_sign_in(services, message, sign(account, message))
    assert await nonce_pending(services, nonce)


async def test_another_scheme_is_refused(services: Services) -> None:
    account = new_account()
    message = "http://" + siwe_message(account.address, await _nonce(services))
    with pytest.raises(Unauthenticated, match="scheme 'http'"):
        await verify_sign_in(services, message, sign(account, message))


NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    ("times", "complaint"),
    [
        ({"expiration_time": NOW - timedelta(seconds=31)}, "expired"),
        ({"not_before": NOW + timedelta(seconds=31)}, "not valid yet"),
        ({"issued_at": NOW - timedelta(minutes=10, seconds=1)}, "more than 10 minutes ago"),
        ({"issued_at": NOW + timedelta(seconds=31)}, "in the future"),
        (
            {
                "not_before": NOW - timedelta(seconds=5),
                "expiration_time": NOW - timedelta(seconds=5),
            },
            "Not Before is not earlier",
        ),
    ],
)
async def test_messages_outside_their_time_window_are_refused(
    services: Services, times: dict[str, datetime], complaint: str
) -> None:
    account = new_account()
    nonce = await _nonce(services)
    message = siwe_message(account.address, nonce, **{"issued_at": NOW, **times})
    with pytest.raises(Unauthenticated, match=complaint):
        await verify_sign_in(services, message, sign(account, message), now=NOW)
    assert await nonce_pending(services, nonce)


@pytest.mark.parametrize(
    "times",
    [
        {"expiration_time": NOW - timedelta(seconds=29)},
        {"not_before": NOW + timedelta(seconds=29)},
        {"issued_at": NOW + timedelta(seconds=29)},
        {"issued_at": NOW - timedelta(minutes=9, seconds=59)},
        {"not_before": NOW - timedelta(minutes=1), "expiration_time": NOW + timedelta(minutes=5)},
    ],
)
async def test_clocks_may_be_30_seconds_off(services: Services, times: dict[str, datetime]) -> None:
    account = new_account()
    message = siwe_message(account.address, await _nonce(services), **{"issued_at": NOW, **times})
    assert await verify_sign_in(services, message, sign(account, message), now=NOW)


async def test_a_tampered_message_is_refused_and_keeps_its_nonce(services: Services) -> None:
    account = new_account()
    nonce = await _nonce(services)
    message = siwe_message(account.address, nonce)
    signature = sign(account, message)
    tampered = message.replace("Sign in to Livepeer", "Sign in to Livepe3r")
    with pytest.raises(Unauthenticated, match=r"not 0x[0-9a-fA-F]{40}'s signature"):
        await verify_sign_in(services, tampered, signature)
    # A forged attempt must not burn the nonce of the real signer.
    assert await verify_sign_in(services, message, signature)


async def test_a_message_naming_another_address_is_refused(services: Services) -> None:
    signer, victim = new_account(), new_account()
    message = siwe_message(victim.address, await _nonce(services))
    with pytest.raises(Unauthenticated, match=f"not {victim.address}'s signature"):
        await verify_sign_in(services, message, sign(signer, message))


@pytest.mark.parametrize(
    ("message", "signature", "complaint"),
    [
        ("hello", "0x00", "not a valid EIP-4361 message"),
        ("", "0x00", "must be an EIP-4361"),
        ("x" * 5000, "0x00", "longer than"),
        (None, "0x00", "must be an EIP-4361"),
    ],
)
async def test_malformed_messages_are_bad_input(
    services: Services, message: str, signature: str, complaint: str
) -> None:
    with pytest.raises(BadUserInput, match=complaint):
        await verify_sign_in(services, message, signature)


async def test_a_message_not_in_canonical_form_is_bad_input(services: Services) -> None:
    account = new_account()
    message = siwe_message(account.address, await _nonce(services)) + "\n"
    with pytest.raises(BadUserInput):
        await verify_sign_in(services, message, sign(account, message))


@pytest.mark.parametrize("signature", ["zz", "0xzz", "0x123", ""])
async def test_signatures_must_be_hex(services: Services, signature: str) -> None:
    account = new_account()
    message = siwe_message(account.address, await _nonce(services))
    with pytest.raises(BadUserInput, match="hex"):
        await verify_sign_in(services, message, signature)


async def test_a_wellformed_but_wrong_signature_is_refused(services: Services) -> None:
    account = new_account()
    message = siwe_message(account.address, await _nonce(services))
    with pytest.raises(Unauthenticated, match="signature"):
        await verify_sign_in(services, message, "0x" + "11" * 65)


async def test_of_two_concurrent_sign_ins_with_one_nonce_exactly_one_wins(
    services: Services,
) -> None:
    account = new_account()
    message = siwe_message(account.address, await _nonce(services))
    signature = sign(account, message)
    results = await asyncio.gather(
        *(verify_sign_in(services, message, signature) for _ in range(5)),
        return_exceptions=True,
    )
    assert [r for r in results if isinstance(r, str)] == [account.address.lower()]
    assert all(isinstance(r, Unauthenticated) for r in results if not isinstance(r, str))


async def test_only_registered_orchestrators_get_a_session(services: Services) -> None:
    stranger, orchestrator = new_account(), new_account()
    message = siwe_message(stranger.address, await _nonce(services))
    with pytest.raises(Forbidden, match="not a registered orchestrator"):
        await sign_in(services, message, sign(stranger, message))

    await register(services.db, orchestrator.address)
    message = siwe_message(orchestrator.address, await _nonce(services))
    session = await sign_in(services, message, sign(orchestrator, message))
    assert session.address == orchestrator.address.lower()
    assert await session_address(services, session.token) == session.address
