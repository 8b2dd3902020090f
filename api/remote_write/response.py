"""Response headers a remote-write 2.0 receiver must send."""

from __future__ import annotations

SAMPLES_WRITTEN = "X-Prometheus-Remote-Write-Samples-Written"
HISTOGRAMS_WRITTEN = "X-Prometheus-Remote-Write-Histograms-Written"
EXEMPLARS_WRITTEN = "X-Prometheus-Remote-Write-Exemplars-Written"


def written_headers(samples: int, histograms: int = 0, exemplars: int = 0) -> dict[str, str]:
    """Headers reporting what was stored, for every answer to a 2.0 request.

    The sender compares these with what it sent to detect partial writes, so
    count only what was actually kept (we never store histograms or exemplars).
    """
    return {
        SAMPLES_WRITTEN: str(samples),
        HISTOGRAMS_WRITTEN: str(histograms),
        EXEMPLARS_WRITTEN: str(exemplars),
    }
