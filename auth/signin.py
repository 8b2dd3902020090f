"""Sign-In with Ethereum (EIP-4361): check a signed message and open a session.

The ``siwe`` package (``signinwithethereum``) parses the message and checks domain,
URI, chain id, nonce and signature, EOAs locally and contract wallets (EIP-1271,
EIP-6492) with ``eth_call`` through ``LPM_ETH_RPC_URL``. What it leaves to us: that the
nonce is one we issued and is used once, how old a message may be, and a clock
allowance for wallets whose clocks run a little off."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import siwe
from web3 import HTTPProvider

from api.core.errors import BadUserInput, Forbidden, Unauthenticated
from api.core.services import Services
from auth.nonces import NONCE_TTL, consume_nonce, nonce_pending
from auth.sessions import Session, create_session

logger = logging.getLogger(__name__)

ISSUED_AT_MAX_AGE = NONCE_TTL
CLOCK_ALLOWANCE = timedelta(seconds=30)
RPC_TIMEOUT_SECONDS = 10
# Far above any real message or (EIP-6492 wrapped) signature; keeps the ABNF parser
# and the RPC away from megabytes of junk.
MAX_MESSAGE_CHARS = 4096
MAX_SIGNATURE_CHARS = 2 + 2 * 16384
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


def _parse(message: str) -> siwe.SiweMessage:
    if not isinstance(message, str) or not message.strip():
        raise BadUserInput("message must be an EIP-4361 sign-in message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise BadUserInput(f"message is longer than {MAX_MESSAGE_CHARS} characters")
    try:
        parsed = siwe.SiweMessage.from_message(message)
    except Exception as exc:  # the parser raises several types; all mean "malformed"
        reason = str(exc).strip().splitlines()
        detail = f": {reason[0]}" if reason else ""
        raise BadUserInput(f"message is not a valid EIP-4361 message{detail}") from None
    # The signature is checked over the library's rendering of the parsed fields, so
    # insist the text is that rendering: what was signed is exactly what we read.
    if parsed.prepare_message() != message:
        raise BadUserInput("message is not in EIP-4361 form (check line breaks and field order)")
    return parsed


def _instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_times(parsed: siwe.SiweMessage, now: datetime) -> datetime:
    """Apply our age limit and clock allowance; return the instant to verify at.

    The library compares Expiration Time and Not Before with one instant and no
    allowance, so after our own checks it is given an instant inside the message's
    validity window."""
    issued_at = _instant(parsed.issued_at)
    if issued_at > now + CLOCK_ALLOWANCE:
        raise Unauthenticated("the message's Issued At is in the future; check your clock")
    if issued_at < now - ISSUED_AT_MAX_AGE:
        minutes = int(ISSUED_AT_MAX_AGE.total_seconds() // 60)
        raise Unauthenticated(
            f"the message was issued more than {minutes} minutes ago; request a new nonce"
        )
    not_before = _instant(parsed.not_before) if parsed.not_before else None
    expires = _instant(parsed.expiration_time) if parsed.expiration_time else None
    if expires is not None and expires <= now - CLOCK_ALLOWANCE:
        raise Unauthenticated("the message has expired (Expiration Time)")
    if not_before is not None and not_before > now + CLOCK_ALLOWANCE:
        raise Unauthenticated("the message is not valid yet (Not Before)")
    if not_before is not None and expires is not None and not_before >= expires:
        raise Unauthenticated("the message's Not Before is not earlier than its Expiration Time")
    at = now
    if not_before is not None and at < not_before:
        at = not_before
    if expires is not None and at >= expires:
        at = expires - timedelta(milliseconds=1)
    return at


def _verify(parsed: siwe.SiweMessage, signature: str, services: Services, at: datetime) -> None:
    settings = services.settings
    provider = (
        HTTPProvider(settings.eth_rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS})
        if settings.eth_rpc_url
        else None
    )
    try:
        parsed.verify(
            signature,
            domain=settings.siwe_domain,
            uri=settings.siwe_uri,
            chain_id=settings.chain_id,
            nonce=parsed.nonce,  # known to be ours and unused: checked before
            timestamp=at,
            provider=provider,
            strict=True,
        )
    except siwe.DomainMismatch:
        raise Unauthenticated(
            f"the message is for domain {parsed.domain!r}; sign in to {settings.siwe_domain!r}"
        ) from None
    except siwe.UriMismatch:
        raise Unauthenticated(
            f"the message is for URI {parsed.uri!r}; sign in to {settings.siwe_uri!r}"
        ) from None
    except siwe.ChainIdMismatch:
        raise Unauthenticated(
            f"the message is for chain {parsed.chain_id}; sign in on chain {settings.chain_id}"
        ) from None
    except siwe.InvalidSignature:
        raise Unauthenticated(
            f"the signature is not {parsed.address}'s signature of this message"
        ) from None
    except siwe.VerificationError as exc:
        raise Unauthenticated(f"the message was refused: {type(exc).__name__}") from None
    except Exception as exc:
        # Only the contract-wallet path does I/O: the RPC is down, slow or answers junk.
        logger.warning("contract wallet check failed: %s: %s", type(exc).__name__, exc)
        raise Unauthenticated(
            "the signature could not be checked as a contract wallet signature because"
            " the Ethereum RPC did not answer; try again later"
        ) from None


async def verify_sign_in(
    services: Services, message: str, signature: str, *, now: datetime | None = None
) -> str:
    """Check a signed EIP-4361 message and use up its nonce; return the lower-case address.

    Raises ``BadUserInput`` for a malformed message or signature and
    ``Unauthenticated`` for anything that makes it not a valid sign-in here and now."""
    parsed = _parse(message)
    if not isinstance(signature, str) or not _HEX.fullmatch(signature):
        raise BadUserInput("signature must be 0x-prefixed hex")
    if len(signature) > MAX_SIGNATURE_CHARS:
        raise BadUserInput("signature is too long")
    scheme = urlsplit(services.settings.siwe_uri).scheme
    if parsed.scheme is not None and parsed.scheme != scheme:
        raise Unauthenticated(f"the message is for scheme {parsed.scheme!r}; expected {scheme!r}")
    if not await nonce_pending(services, parsed.nonce):
        raise Unauthenticated(
            "the nonce was not issued by this service, has expired or was already used;"
            " request a new one"
        )
    at = _check_times(parsed, now or datetime.now(UTC))
    # Signature recovery is CPU work and the contract-wallet check a blocking RPC.
    await asyncio.to_thread(_verify, parsed, signature, services, at)
    # Only now: a bad signature must not burn somebody else's nonce, and of two
    # concurrent sign-ins with one nonce exactly one gets past this line.
    if not await consume_nonce(services, parsed.nonce):
        raise Unauthenticated("the nonce was already used; request a new one")
    return parsed.address.lower()


async def is_registered(services: Services, address: str) -> bool:
    return bool(
        await services.db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM orchestrators WHERE address = $1)", address
        )
    )


async def sign_in(services: Services, message: str, signature: str) -> Session:
    """Verify a SIWE sign-in of a registered orchestrator and open its session."""
    address = await verify_sign_in(services, message, signature)
    if not await is_registered(services, address):
        raise Forbidden(
            f"{address} is not a registered orchestrator; only orchestrators in the"
            " Livepeer registry can sign in"
        )
    return await create_session(services, address)
