"""Per-orchestrator ingest limits, kept in Redis so every API process shares them.

One Lua script admits or refuses a whole request atomically:

* a token bucket of samples: ``LPM_INGEST_SAMPLES_PER_SECOND`` sustained, with a burst
  of ``BURST_SECONDS`` worth, enough for a Prometheus catching up after an outage;
* active series: distinct series seen in the last ``ACTIVE_WINDOW_SECONDS``, at most
  ``LPM_INGEST_MAX_SERIES``. Each process reports a series at most every
  ``REPORT_EVERY_SECONDS``, so a steady request costs one small script call.

A refused request consumes nothing. The bucket is the shared one of ``api.core.ratelimit``.

While Redis is away the same limits are kept per process (``api.ingest.local_limits``):
ingest keeps storing, and each process admits at most the configured rate.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from api.core.metrics import REDIS_FALLBACKS
from api.core.outage import REDIS_AWAY, Outage
from api.core.ratelimit import Refusal, Script
from api.core.services import Services
from api.ingest.local_limits import LocalLimits

__all__ = ["Limiter", "Refusal"]

BURST_SECONDS = 300
ACTIVE_WINDOW_SECONDS = 3600
REPORT_EVERY_SECONDS = 300
SERIES_RETRY_AFTER_SECONDS = 60

_ADMIT = Script("""
local now = clock()
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local window, max_series = tonumber(ARGV[4]), tonumber(ARGV[5])

local tokens = bucket_level(KEYS[1], rate, burst, now)
local need = math.min(cost, burst)
if need > tokens then
  return {1, tostring(bucket_wait(need, tokens, rate))}
end

if #ARGV > 5 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  local new = 0
  for i = 6, #ARGV do
    if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then new = new + 1 end
  end
  if new > 0 and redis.call('ZCARD', KEYS[2]) + new > max_series then
    return {2, '0'}
  end
  for i = 6, #ARGV do
    redis.call('ZADD', KEYS[2], now, ARGV[i])
  end
  redis.call('EXPIRE', KEYS[2], math.ceil(window) + 60)
end

bucket_take(KEYS[1], tokens - need, rate, burst, now)
return {0, '0'}
""")


class Limiter:
    """Admits requests against one deployment's limits (see module docstring). A
    ``Refusal``'s reason is ``rate_limit`` or ``series_limit``."""

    def __init__(self) -> None:
        self._local = LocalLimits()
        self._outage = Outage("Redis (ingest limits)", "limiting ingest in each process")

    async def admit(
        self, services: Services, orchestrator: str, samples: int, series: Sequence[bytes]
    ) -> Refusal | None:
        """None when the request may be stored; a ``Refusal`` otherwise. ``series`` are
        the digests of series due a report (seen first or long ago by this process)."""
        settings = services.settings
        rate = settings.ingest_samples_per_second
        limits = (rate, rate * BURST_SECONDS, samples, ACTIVE_WINDOW_SECONDS)
        answer = None
        if not self._outage.skip():
            try:
                answer = await _ADMIT(
                    services.redis,
                    [
                        services.key("ingest", "rate", orchestrator),
                        services.key("ingest", "series", orchestrator),
                    ],
                    [*limits, settings.ingest_max_series, *series],
                )
            except REDIS_AWAY as exc:
                self._outage.failed(exc)
            else:
                if self._outage.down:
                    self._outage.succeeded()
                    self._local.clear()
        if answer is None:
            REDIS_FALLBACKS.labels("ingest_limits").inc()
            answer = self._local.admit(
                orchestrator,
                time.monotonic(),
                *limits,
                settings.ingest_max_series,
                series,
            )
        status, detail = int(answer[0]), answer[1]
        if status == 0:
            return None
        if status == 1:
            wait = max(1, int(detail))
            return Refusal(
                "rate_limit",
                wait,
                f"over the limit of {rate} samples/s for this orchestrator; retry in {wait} s",
            )
        return Refusal(
            "series_limit",
            SERIES_RETRY_AFTER_SECONDS,
            f"over the limit of {settings.ingest_max_series} active series for this "
            "orchestrator; send fewer series (see the generated write_relabel_configs)",
        )
