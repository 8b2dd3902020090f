from api.demo.clock import TROUGH_SHARE, demand, floor_to, scrape_times

HOUR = 3600.0


def test_demand_peaks_in_the_local_evening_and_dips_in_the_morning() -> None:
    midnight = 1_700_006_400.0  # a UTC midnight
    assert midnight % 86400 == 0
    assert demand(0.0, midnight + 20 * HOUR) == 1.0
    assert abs(demand(0.0, midnight + 8 * HOUR) - TROUGH_SHARE) < 1e-9
    # 120 degrees east, local time runs 8 h ahead: its evening is noon UTC.
    assert demand(120.0, midnight + 12 * HOUR) == 1.0
    values = [demand(-74.0, midnight + m * 60) for m in range(24 * 60)]
    assert min(values) >= TROUGH_SHARE and max(values) <= 1.0


def test_scrapes_fall_on_a_grid() -> None:
    assert floor_to(125.0, 60) == 120.0
    assert list(scrape_times(100.0, 300.0, 60)) == [120.0, 180.0, 240.0, 300.0]
    assert list(scrape_times(120.0, 179.0, 60)) == []
