"""The version-independent shape a decoded remote-write request takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

Labels = tuple[tuple[str, str], ...]
"""(name, value) pairs sorted by name, `__name__` included, no empty values."""

Sample = tuple[int, float]
"""(timestamp in ms since the epoch, value); the value may be a stale marker."""


class DecodedSeries(NamedTuple):
    # A NamedTuple rather than a dataclass, and labels as two columns rather
    # than pairs: ~2,000 of these are built per request, and every object
    # saved there is measurable.
    name: str
    """Metric name (the `__name__` label's value)."""
    label_names: tuple[str, ...]
    """Label names, sorted, `__name__` included. Series with the same names
    share one tuple, so it is cheap to use as (part of) a cache key."""
    label_values: list[str]
    """Label values, parallel to `label_names`; never empty strings."""
    samples: list[Sample]
    """Float samples in the order sent (timestamp order, per the spec)."""
    histograms: int
    """Native-histogram samples in this series; not decoded, only counted."""
    exemplars: int
    """Exemplars attached to this series; not decoded, only counted."""

    @property
    def labels(self) -> Labels:
        """The label set as sorted (name, value) pairs (built on each access)."""
        return tuple(zip(self.label_names, self.label_values, strict=True))


@dataclass(slots=True)
class DecodedRequest:
    version: Literal[1, 2]
    series: list[DecodedSeries]
    samples: int
    """Float samples across all series."""
    histograms: int
    """Native-histogram samples across all series."""
    exemplars: int
    """Exemplars across all series."""
