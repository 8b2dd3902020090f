"""Validation of a series' label set against the remote-write spec.

Senders MUST send label names sorted and unique, matching
`[a-zA-Z_][a-zA-Z0-9_]*`, and a metric name matching `[a-zA-Z_:][a-zA-Z0-9_:]*`.
Breaking any of those rejects the request; error messages name label *names*
only, never values (they may be client IPs or broadcaster addresses).

An empty label value is, in the Prometheus data model, the same as the label
being absent, so such labels are dropped rather than rejected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from api.remote_write.errors import InvalidRequest

METRIC_NAME = "__name__"
_LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_METRIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


class LabelError(ValueError):
    """A label-set problem; callers prefix the series it was found in."""


@lru_cache(maxsize=4096)
def name_set(names: tuple[str, ...]) -> tuple[tuple[str, ...], int]:
    """Validate a series' label names; return them and where `__name__` is.

    The same few label-name sets recur in every request, so results are
    cached: a hit costs one lookup instead of a sort and a regex per label,
    and series with equal names share the returned tuple. Invalid sets raise
    `LabelError` and are not cached.
    """
    if not names:
        raise LabelError("has no labels; a metric name is required")
    for label_name in names:
        if _LABEL_NAME_RE.fullmatch(label_name) is None:
            problem = (
                f"invalid label name {label_name[:64]!r}" if label_name else "an empty label name"
            )
            raise LabelError(f"has {problem}; label names must match [a-zA-Z_][a-zA-Z0-9_]*")
    for previous, current in pairwise(names):
        if current == previous:
            raise LabelError(f"repeats label name {current!r}")
        if current < previous:
            raise LabelError(
                f"has labels not sorted by name ({previous!r} before {current!r}); "
                "senders must sort them"
            )
    try:
        return names, names.index(METRIC_NAME)
    except ValueError:
        raise LabelError(f"has no {METRIC_NAME} label") from None


@lru_cache(maxsize=4096)
def metric_name(name: str) -> str:
    """Validate a metric name (cached: a few dozen recur in every request)."""
    if _METRIC_NAME_RE.fullmatch(name) is None:
        # The name is a label value too, and this one failed validation: don't echo it.
        raise LabelError(
            "has an invalid metric name; metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*"
        )
    return name


def series_labels(
    names: Sequence[str], values: Sequence[str], index: int
) -> tuple[str, tuple[str, ...], list[str]]:
    """Validate one series' labels as sent (parallel name and value lists).

    Returns the metric name, the label names and the label values, with labels
    whose value is empty dropped. `index` is the series' position in the
    request, for error messages.
    """
    if "" in values:
        kept = [(n, v) for n, v in zip(names, values, strict=True) if v]
        names = [n for n, _ in kept]
        values = [v for _, v in kept]
    try:
        label_names, position = name_set(tuple(names))
        return metric_name(values[position]), label_names, list(values)
    except LabelError as exc:
        raise series_error(index, exc) from None


def series_error(index: int, exc: LabelError) -> InvalidRequest:
    return InvalidRequest(f"timeseries[{index}] {exc}")
