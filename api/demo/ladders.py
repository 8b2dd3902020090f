"""The rendition ladders demo streams are transcoded to.

Names, sizes, frame rates and bitrates are go-livepeer's stock profiles (``ffmpeg``
package), so the ``profiles`` label and the pixel counts look like a real node's."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    width: int
    height: int
    fps: int
    bitrate_bps: int


P144 = Profile("P144p30fps16x9", 256, 144, 30, 400_000)
P240 = Profile("P240p30fps16x9", 426, 240, 30, 600_000)
P360 = Profile("P360p30fps16x9", 640, 360, 30, 1_200_000)
P576 = Profile("P576p30fps16x9", 1024, 576, 30, 1_500_000)
P720 = Profile("P720p30fps16x9", 1280, 720, 30, 4_000_000)
P720_60 = Profile("P720p60fps16x9", 1280, 720, 60, 6_000_000)
P1080 = Profile("P1080p30fps16x9", 1920, 1080, 30, 6_000_000)

SOURCE_BITRATE_BPS = 4_500_000
"""What a gateway uploads per stream: a 1080p30 source."""
SEGMENT_SECONDS = 2.0
"""go-livepeer's default segment length."""


@dataclass(frozen=True, slots=True)
class Ladder:
    profiles: tuple[Profile, ...]
    weight: float
    """How often broadcasters ask for it, relative to the other ladders."""

    @property
    def label(self) -> str:
        """The ``profiles`` label value, as go-livepeer writes it."""
        return ",".join(p.name for p in self.profiles)

    @property
    def mil_pixels_per_second(self) -> float:
        """What ``livepeer_mil_pixels_processed`` grows by per second of video."""
        return sum(p.width * p.height * p.fps for p in self.profiles) / 1e6

    @property
    def output_bitrate_bps(self) -> int:
        return sum(p.bitrate_bps for p in self.profiles)


LADDERS: tuple[Ladder, ...] = (
    Ladder((P240, P360, P720), 0.5),
    Ladder((P144, P360, P720, P1080), 0.2),
    Ladder((P360, P720_60), 0.15),
    Ladder((P240, P576), 0.15),
)
