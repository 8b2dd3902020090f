from api.demo.ladders import LADDERS, P240, P360, P720, Ladder


def test_a_ladder_reads_like_go_livepeers_profiles_label() -> None:
    ladder = Ladder((P240, P360, P720), 1.0)
    assert ladder.label == "P240p30fps16x9,P360p30fps16x9,P720p30fps16x9"
    # 30 frames a second of 426x240, 640x360 and 1280x720.
    assert ladder.mil_pixels_per_second == 30 * (426 * 240 + 640 * 360 + 1280 * 720) / 1e6
    assert ladder.output_bitrate_bps == 600_000 + 1_200_000 + 4_000_000


def test_the_stock_ladders_are_distinct() -> None:
    assert len({ladder.label for ladder in LADDERS}) == len(LADDERS)
    assert all(ladder.weight > 0 for ladder in LADDERS)
