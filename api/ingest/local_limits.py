"""The ingest limits of one process, for while Redis is away.

``api.ingest.limits`` keeps the limits in Redis so that all processes share them. When
Redis cannot be reached, ingest must keep storing (an O's Prometheus would otherwise
pile up retries for the whole outage), so each process then limits on its own with the
same rules as the Redis script: a token bucket of samples per orchestrator and a set of
active series per orchestrator. The limits fail open per process: N processes admit up
to N times the configured rate until Redis is back, which bounds the damage while no
data is lost. What these buckets hold is forgotten once Redis answers again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

PRUNE_EVERY_SECONDS = 60.0

ADMITTED, OVER_RATE, OVER_SERIES = 0, 1, 2


@dataclass(slots=True)
class _Orchestrator:
    tokens: float
    at: float
    series: dict[bytes, float] = field(default_factory=dict)
    pruned_at: float = 0.0


class LocalLimits:
    """Per-orchestrator bucket and active series in this process's memory."""

    def __init__(self) -> None:
        self._by_orchestrator: dict[str, _Orchestrator] = {}

    def admit(
        self,
        orchestrator: str,
        now: float,
        rate: float,
        burst: float,
        cost: int,
        window: float,
        max_series: int,
        series: Sequence[bytes],
    ) -> tuple[int, int]:
        """``(ADMITTED, 0)``, ``(OVER_RATE, seconds to wait)`` or ``(OVER_SERIES, 0)``,
        as the Redis script answers; a refused request takes nothing."""
        state = self._by_orchestrator.get(orchestrator)
        if state is None:
            state = self._by_orchestrator[orchestrator] = _Orchestrator(burst, now)
        tokens = min(burst, state.tokens + max(0.0, now - state.at) * rate)
        need = min(cost, burst)
        if need > tokens:
            return OVER_RATE, max(1, math.ceil((need - tokens) / rate))
        if series:
            known = state.series
            if now - state.pruned_at > PRUNE_EVERY_SECONDS:
                for digest in [d for d, seen in known.items() if seen <= now - window]:
                    del known[digest]
                state.pruned_at = now
            new = sum(1 for digest in series if digest not in known)
            if new and len(known) + new > max_series:
                return OVER_SERIES, 0
            for digest in series:
                known[digest] = now
        state.tokens, state.at = tokens - need, now
        return ADMITTED, 0

    def clear(self) -> None:
        self._by_orchestrator.clear()
