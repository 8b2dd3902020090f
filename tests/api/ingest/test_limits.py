"""Per-orchestrator limits in Redis, shared by every process, refusing whole requests."""

from __future__ import annotations

from api.core.services import Services, open_services
from api.core.settings import Settings
from api.ingest.limits import BURST_SECONDS, Limiter

ORCH = "0x" + "1" * 40


def digests(*ids: int) -> list[bytes]:
    return [i.to_bytes(16, "big") for i in ids]


async def limited(settings: Settings, **overrides: int) -> Services:
    return settings.model_copy(update=overrides)


async def test_burst_then_refusal_with_retry_after(services: Services, settings: Settings) -> None:
    services.settings = settings.model_copy(update={"ingest_samples_per_second": 10})
    limiter = Limiter()
    burst = 10 * BURST_SECONDS
    assert await limiter.admit(services, ORCH, burst - 100, []) is None
    refusal = await limiter.admit(services, ORCH, 1000, [])
    assert refusal is not None and refusal.reason == "rate_limit"
    # About 900 samples missing at 10/s.
    assert 85 <= refusal.retry_after <= 90
    assert await limiter.admit(services, ORCH, 90, []) is None  # refused requests took nothing
    # Another orchestrator has its own bucket.
    assert await limiter.admit(services, "0x" + "2" * 40, burst, []) is None


async def test_series_limit_is_shared_by_processes(services: Services, settings: Settings) -> None:
    services.settings = settings.model_copy(update={"ingest_max_series": 3})
    async with open_services(services.settings) as other_process:
        one, two = Limiter(), Limiter()
        assert await one.admit(services, ORCH, 2, digests(1, 2)) is None
        assert await two.admit(other_process, ORCH, 1, digests(2, 3)) is None
        refusal = await one.admit(services, ORCH, 1, digests(4))
        assert refusal is not None and refusal.reason == "series_limit"
        assert refusal.retry_after > 0
        # Series already active are always welcome.
        assert await two.admit(other_process, ORCH, 3, digests(1, 2, 3)) is None


async def test_a_refused_request_adds_no_series(services: Services, settings: Settings) -> None:
    services.settings = settings.model_copy(
        update={"ingest_max_series": 2, "ingest_samples_per_second": 1}
    )
    limiter = Limiter()
    assert await limiter.admit(services, ORCH, BURST_SECONDS, []) is None  # bucket empty
    assert (await limiter.admit(services, ORCH, 10, digests(1, 2))).reason == "rate_limit"
    key = services.key("ingest", "series", ORCH)
    assert await services.redis.zcard(key) == 0
