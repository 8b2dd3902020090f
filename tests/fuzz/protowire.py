"""Hypothesis strategies for protobuf wire data: well-formed at the wire level but with
any field numbers, wire types and contents, nested to a few levels. They reach the
decoders' checks behind the protobuf parser (labels, symbols, counts) far more often
than random bytes, which the parser refuses at once; ``mutated`` damages real messages
byte by byte."""

from __future__ import annotations

from hypothesis import strategies as st

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number: int, wire_type: int, payload: bytes) -> bytes:
    key = varint((number << 3) | wire_type)
    if wire_type == LENGTH:
        return key + varint(len(payload)) + payload
    return key + payload


# Field numbers the remote-write messages use (1-5, 11) show up most, others too.
_NUMBERS = st.one_of(st.integers(1, 6), st.just(11), st.integers(1, 2**29 - 1))
_SCALARS = st.one_of(
    st.builds(lambda n, v: field(n, VARINT, varint(v)), _NUMBERS, st.integers(0, 2**64 - 1)),
    st.builds(lambda n, b: field(n, FIXED64, b), _NUMBERS, st.binary(min_size=8, max_size=8)),
    st.builds(lambda n, b: field(n, FIXED32, b), _NUMBERS, st.binary(min_size=4, max_size=4)),
    st.builds(
        lambda n, t: field(n, LENGTH, t.encode("utf-8", "surrogatepass")),
        _NUMBERS,
        st.text(max_size=12),
    ),
    st.builds(lambda n, b: field(n, LENGTH, b), _NUMBERS, st.binary(max_size=12)),
)

messages = st.recursive(
    st.lists(_SCALARS, max_size=6).map(b"".join),
    lambda inner: st.lists(
        st.one_of(_SCALARS, st.builds(lambda n, m: field(n, LENGTH, m), _NUMBERS, inner)),
        max_size=6,
    ).map(b"".join),
    max_leaves=40,
)
"""Any protobuf message, as bytes."""


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few bytes flipped, inserted, deleted, repeated or cut off."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "repeat", "cut"]))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[at] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF, draw(st.integers(0, 255))]))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[at : at + draw(st.integers(1, 8))]
        elif op == "repeat" and data:
            data[at:at] = data[at : at + draw(st.integers(1, 32))]
        elif op == "cut":
            del data[at:]
    return bytes(data)
