"""A JSON-RPC server on 127.0.0.1 standing in for an Ethereum node, with one contract
wallet on it: enough for the EIP-1271 and EIP-6492 paths of SIWE verification.

The wallet behaves like a one-owner smart account: ``isValidSignature(hash, sig)``
answers the EIP-1271 magic value when ``sig`` is the owner's signature of ``hash``.
For EIP-6492 (a wallet not deployed yet) the server plays the universal validator
contract the ``siwe`` package sends as ``eth_call`` init code: it unwraps the
signature and answers 0x01 when the counterfactual wallet would accept it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import siwe.siwe
from eth_abi import decode
from eth_account import Account

from tests.support.http_threads import QuietHandler, threaded_server

IS_VALID_SIGNATURE = "0x1626ba7e"
MAGIC_VALUE = "0x1626ba7e" + "00" * 28
NOT_MAGIC = "0xffffffff" + "00" * 28


@dataclass
class ContractWalletChain:
    chain_id: int
    wallet: str
    owner: str
    calls: list[dict[str, Any]] = field(default_factory=list)

    def _owner_signed(self, digest: bytes, signature: bytes) -> bool:
        try:
            return Account._recover_hash(digest, signature=signature).lower() == self.owner.lower()
        except Exception:
            return False

    def eth_call(self, call: dict[str, Any]) -> str:
        data = bytes.fromhex(call.get("data", call.get("input", "0x"))[2:])
        validator = bytes.fromhex(siwe.siwe.EIP6492_VALIDATOR_BYTECODE[2:])
        if call.get("to") is None and data.startswith(validator):
            address, digest, wrapped = decode(
                ["address", "bytes32", "bytes"], data[len(validator) :]
            )
            _factory, _calldata, inner = decode(["address", "bytes", "bytes"], wrapped[:-32])
            ok = address.lower() == self.wallet.lower() and self._owner_signed(digest, inner)
            return "0x01" if ok else "0x00"
        if (call.get("to") or "").lower() == self.wallet.lower() and data[:4].hex() == "1626ba7e":
            digest, signature = decode(["bytes32", "bytes"], data[4:])
            return MAGIC_VALUE if self._owner_signed(digest, signature) else NOT_MAGIC
        return "0x"  # an account without code

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(request)
        method, params = request.get("method"), request.get("params") or []
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        if method == "eth_chainId":
            reply["result"] = hex(self.chain_id)
        elif method == "eth_call":
            reply["result"] = self.eth_call(params[0])
        else:
            reply["error"] = {"code": -32601, "message": f"method {method} not found"}
        return reply


@contextlib.contextmanager
def serve_chain(chain: ContractWalletChain) -> Iterator[str]:
    """Serve ``chain`` over HTTP on a loopback port; yields its URL."""

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            replies = (
                [chain.answer(r) for r in body] if isinstance(body, list) else chain.answer(body)
            )
            self.send(json.dumps(replies).encode(), "application/json")

    with threaded_server(Handler) as port:
        yield f"http://127.0.0.1:{port}"
