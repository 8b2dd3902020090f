"""EIP-1271 and EIP-6492 sign-ins, checked over JSON-RPC (a local stand-in node)."""

import dataclasses
from collections.abc import Iterator

import pytest
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from web3 import Web3

from api.core.errors import Unauthenticated
from api.core.services import Services
from auth.nonces import issue_nonce, nonce_pending
from auth.signin import verify_sign_in
from tests.support.eth_rpc import ContractWalletChain, serve_chain
from tests.support.services import free_port
from tests.support.wallet import CHAIN_ID, new_account, sign, siwe_message

WALLET = "0x" + "c0ffee" * 6 + "c0ff"
MAGIC_6492 = bytes.fromhex("6492" * 16)


@pytest.fixture
def owner() -> LocalAccount:
    return new_account()


@pytest.fixture
def chain(owner: LocalAccount) -> ContractWalletChain:
    return ContractWalletChain(chain_id=CHAIN_ID, wallet=WALLET, owner=owner.address)


@pytest.fixture
def rpc_url(chain: ContractWalletChain) -> Iterator[str]:
    with serve_chain(chain) as url:
        yield url


def _with_rpc(services: Services, url: str | None) -> Services:
    settings = services.settings.model_copy(update={"eth_rpc_url": url})
    return dataclasses.replace(services, settings=settings)


def _checksummed(address: str) -> str:
    return Web3.to_checksum_address(address)


async def test_an_eip1271_wallet_signs_in_through_the_rpc(
    services: Services, owner: LocalAccount, chain: ContractWalletChain, rpc_url: str
) -> None:
    services = _with_rpc(services, rpc_url)
    nonce = (await issue_nonce(services)).nonce
    message = siwe_message(_checksummed(WALLET), nonce)
    address = await verify_sign_in(services, message, sign(owner, message))
    assert address == WALLET
    assert not await nonce_pending(services, nonce)
    calls = [c for c in chain.calls if c["method"] == "eth_call"]
    assert calls and calls[0]["params"][0]["to"].lower() == WALLET


async def test_an_eip1271_signature_by_someone_else_is_refused(
    services: Services, rpc_url: str
) -> None:
    services = _with_rpc(services, rpc_url)
    nonce = (await issue_nonce(services)).nonce
    message = siwe_message(_checksummed(WALLET), nonce)
    with pytest.raises(Unauthenticated, match="signature"):
        await verify_sign_in(services, message, sign(new_account(), message))
    assert await nonce_pending(services, nonce)


async def test_without_an_rpc_contract_wallets_cannot_sign_in(
    services: Services, owner: LocalAccount
) -> None:
    services = _with_rpc(services, None)
    message = siwe_message(_checksummed(WALLET), (await issue_nonce(services)).nonce)
    with pytest.raises(Unauthenticated, match="signature"):
        await verify_sign_in(services, message, sign(owner, message))


def _eip6492(owner: LocalAccount, message: str) -> str:
    inner = bytes.fromhex(sign(owner, message)[2:])
    factory = "0x" + "fa" * 20
    wrapped = encode(["address", "bytes", "bytes"], [factory, b"\x12\x34deploy", inner])
    return "0x" + (wrapped + MAGIC_6492).hex()


async def test_an_undeployed_eip6492_wallet_signs_in_through_the_rpc(
    services: Services, owner: LocalAccount, chain: ContractWalletChain, rpc_url: str
) -> None:
    services = _with_rpc(services, rpc_url)
    message = siwe_message(_checksummed(WALLET), (await issue_nonce(services)).nonce)
    assert await verify_sign_in(services, message, _eip6492(owner, message)) == WALLET
    calls = [c for c in chain.calls if c["method"] == "eth_call"]
    assert calls and calls[0]["params"][0].get("to") is None


async def test_an_eip6492_signature_by_someone_else_is_refused(
    services: Services, rpc_url: str
) -> None:
    services = _with_rpc(services, rpc_url)
    message = siwe_message(_checksummed(WALLET), (await issue_nonce(services)).nonce)
    with pytest.raises(Unauthenticated, match="signature"):
        await verify_sign_in(services, message, _eip6492(new_account(), message))


async def test_an_rpc_on_another_chain_is_refused(services: Services, owner: LocalAccount) -> None:
    other = ContractWalletChain(chain_id=1, wallet=WALLET, owner=owner.address)
    with serve_chain(other) as url:
        services = _with_rpc(services, url)
        message = siwe_message(_checksummed(WALLET), (await issue_nonce(services)).nonce)
        with pytest.raises(Unauthenticated, match="chain"):
            await verify_sign_in(services, message, sign(owner, message))


async def test_an_unreachable_rpc_is_a_clear_error(services: Services, owner: LocalAccount) -> None:
    services = _with_rpc(services, f"http://127.0.0.1:{free_port()}")
    nonce = (await issue_nonce(services)).nonce
    message = siwe_message(_checksummed(WALLET), nonce)
    with pytest.raises(Unauthenticated, match="RPC did not answer"):
        await verify_sign_in(services, message, sign(owner, message))
    assert await nonce_pending(services, nonce)


async def test_plain_accounts_need_no_rpc_call(
    services: Services, chain: ContractWalletChain, rpc_url: str
) -> None:
    services = _with_rpc(services, rpc_url)
    account = new_account()
    message = siwe_message(account.address, (await issue_nonce(services)).nonce)
    assert await verify_sign_in(services, message, sign(account, message))
    assert chain.calls == []
