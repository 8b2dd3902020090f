"""Per-orchestrator ingest limits, kept in Redis so every API process shares them.

One Lua script admits or refuses a whole request atomically:

* a token bucket of samples: ``LPM_INGEST_SAMPLES_PER_SECOND`` sustained, with a burst
  of ``BURST_SECONDS`` worth, enough for a Prometheus catching up after an outage;
* active series: distinct series seen in the last ``ACTIVE_WINDOW_SECONDS``, at most
  ``LPM_INGEST_MAX_SERIES``. Each process reports a series at most every
  ``REPORT_EVERY_SECONDS``, so a steady request costs one small script call.

A refused request consumes nothing. The clock is Redis's, the same for all processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.commands.core import AsyncScript

from api.services import Services

BURST_SECONDS = 300
ACTIVE_WINDOW_SECONDS = 3600
REPORT_EVERY_SECONDS = 300
SERIES_RETRY_AFTER_SECONDS = 60

_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local window, max_series = tonumber(ARGV[4]), tonumber(ARGV[5])

local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local need = math.min(cost, burst)
if need > tokens then
  return {1, tostring(math.ceil((need - tokens) / rate))}
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

redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - need), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return {0, '0'}
"""


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    """``rate_limit`` or ``series_limit``."""
    retry_after: int
    message: str


class Limiter:
    """Admits requests against one deployment's limits (see module docstring)."""

    def __init__(self) -> None:
        self._script: AsyncScript | None = None

    async def admit(
        self, services: Services, orchestrator: str, samples: int, series: Sequence[bytes]
    ) -> Refusal | None:
        """None when the request may be stored; a ``Refusal`` otherwise. ``series`` are
        the digests of series due a report (seen first or long ago by this process)."""
        settings = services.settings
        if self._script is None:
            self._script = services.redis.register_script(_ADMIT)
        rate = settings.ingest_samples_per_second
        status, detail = await self._script(
            keys=[
                services.key("ingest", "rate", orchestrator),
                services.key("ingest", "series", orchestrator),
            ],
            args=[
                rate,
                rate * BURST_SECONDS,
                samples,
                ACTIVE_WINDOW_SECONDS,
                settings.ingest_max_series,
                *series,
            ],
        )
        status = int(status)
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
