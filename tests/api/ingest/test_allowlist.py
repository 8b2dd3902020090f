"""The allowlist: the required and optional sets of DESIGN §2 and the issue."""

from __future__ import annotations

import pytest

from api.ingest import allowlist
from api.rollup.minutes import COUNTERS, NIC_COUNTERS


def test_required_set_is_the_minimum_the_statistics_need() -> None:
    assert set(allowlist.REQUIRED) == {
        "livepeer_current_sessions_total",
        "livepeer_max_sessions_total",
        "livepeer_mil_pixels_processed",
        "livepeer_segment_transcoded_total",
        "livepeer_source_segment_duration_seconds",
        "livepeer_ticket_value_recv",
        "livepeer_tickets_recv",
        "livepeer_winning_tickets_recv",
    }
    assert set(allowlist.OPTIONAL) == {
        "livepeer_segment_transcode_failed_total",
        "livepeer_transcode_time_seconds",
        "livepeer_value_redeemed",
        "node_network_receive_bytes_total",
        "node_network_transmit_bytes_total",
        "lpm_port_receive_bytes_total",
        "lpm_port_transmit_bytes_total",
    }


def test_histograms_keep_sums_not_buckets() -> None:
    kept = allowlist.kept_series(allowlist.OPTIONAL)
    assert "livepeer_source_segment_duration_seconds_sum" in kept
    assert not [name for name in kept if name.endswith("_bucket")]
    assert "livepeer_source_segment_duration_seconds_count" not in kept


def test_every_rolled_up_series_is_allowlisted() -> None:
    rolled_up = {*COUNTERS.values(), *NIC_COUNTERS.values()}
    assert rolled_up <= set(allowlist.BY_SERIES)
    gauges = {name for name, m in allowlist.BY_SERIES.items() if m.kind == "gauge"}
    assert gauges == {"livepeer_current_sessions_total", "livepeer_max_sessions_total"}


def test_kept_series_follow_the_shared_optional_metrics() -> None:
    base = allowlist.kept_series()
    with_nic = allowlist.kept_series(["node_network_receive_bytes_total"])
    assert set(with_nic) - set(base) == {"node_network_receive_bytes_total"}


def test_check_optional_names_the_choices() -> None:
    assert allowlist.check_optional(["livepeer_value_redeemed", "livepeer_value_redeemed"]) == (
        "livepeer_value_redeemed",
    )
    with pytest.raises(allowlist.UnknownMetric, match="is required, always kept"):
        allowlist.check_optional(["livepeer_tickets_recv"])
    with pytest.raises(allowlist.UnknownMetric, match="optional metrics: livepeer_segment"):
        allowlist.check_optional(["go_goroutines"])
