"""Which detector looks to take on a frame, and which of the people found to follow.

The BlazePose detector finds people by their face and predicts a body-sized ROI. A frame can be looked at as is
(padding 0), padded with black (so a person cut by the frame's edges still shows a whole head and shoulders) or
cut into tiles (so a far-away person is big enough). A `DetectorStrategy` says which looks to take on a frame,
given what the earlier looks found (`next_look`), and which detections are the options to follow (`options`):

- ``retry="always"`` (the default): every padding in ``pads`` is looked at; each look's chosen person is an
  option, and the engine keeps the option the landmark model is surest shows a person (its person score, the
  pose flag for BlazePose; the first look on a tie).
- ``retry="border"``: the next padding is tried only when the person found touches the frame's border (their
  body square, the ROI before MediaPipe's 1.25 margin, reaches past an edge) or nobody is found; the latest
  look that found someone gives the one option.
- ``retry="nobody"``: the paddings are tried in turn until someone is found (the old default, padded first).

Within a look, ``choice="prominent"`` (the default) keeps the most prominent person (`prominence`: detector
score x body size x centrality) among finds scoring within ``score_margin`` of the best; ``choice="score"``
keeps the best-scoring find (MediaPipe's rule). Tiles are the last resort when no padding finds anybody, kept
only with ``tile_min_score``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from poseit.detect.roi import Roi
from poseit.errors import PoseItError
from poseit.models.base import Detection

RETRIES = ("nobody", "border", "always")
CHOICES = ("score", "prominent")
ROI_MARGIN = 1.25  # MediaPipe's ROI is the body square (alignment rect) x 1.25
TILES = "tiles"

Look = float | str  # a padding, or TILES
Found = dict[Look, list[Detection]]


def body_square(roi: Roi) -> tuple[float, float, float]:
    """Centre x, centre y and side of the person's body square (the alignment rect) behind a detector ROI."""
    return roi.cx, roi.cy, roi.width / ROI_MARGIN


def touches_border(det: Detection, width: int, height: int) -> bool:
    """Whether the detected person's body reaches past the frame's edge (the body square's inscribed circle,
    which does not depend on the ROI's rotation, crosses an edge)."""
    cx, cy, side = body_square(det.roi)
    r = side / 2
    return cx - r < 0 or cy - r < 0 or cx + r > width or cy + r > height


def prominence(det: Detection, width: int, height: int) -> float:
    """How prominent a detected person is: the detector's score x body side over the frame's long side x
    (1 - half the distance of the body centre from the frame centre over half the frame diagonal), so a person
    in a corner counts half as much as the same person in the middle."""
    cx, cy, side = body_square(det.roi)
    off = math.hypot(cx - width / 2, cy - height / 2) / (math.hypot(width, height) / 2)
    return det.score * side / max(width, height) * (1.0 - 0.5 * min(off, 1.0))


@dataclass(frozen=True)
class DetectorStrategy:
    """See the module docstring. The engine's default: the plain and the padded (0.25) frame, the most
    prominent person on each, the one the landmark model is surer of; tiles when both find nobody."""

    pads: tuple[float, ...] = (0.0, 0.25)
    retry: str = "always"
    choice: str = "prominent"
    tiles: int = 2
    tile_min_score: float = 0.6
    score_margin: float = 0.25

    def __post_init__(self) -> None:
        if self.retry not in RETRIES:
            raise PoseItError(f"unknown detector retry {self.retry!r}; choose one of {', '.join(RETRIES)}")
        if self.choice not in CHOICES:
            raise PoseItError(f"unknown person choice {self.choice!r}; choose one of {', '.join(CHOICES)}")
        if not self.pads:
            object.__setattr__(self, "pads", (0.0,))

    def choose(self, found: list[Detection], width: int, height: int) -> Detection | None:
        """The person to follow among one look's finds."""
        if not found:
            return None
        if self.choice == "score":
            return max(found, key=lambda d: d.score)
        bar = max(d.score for d in found) - self.score_margin
        return max((d for d in found if d.score >= bar), key=lambda d: prominence(d, width, height))

    def next_look(self, found: Found, width: int, height: int, tiles: bool = True) -> Look | None:
        """The next look to take on a frame given the finds so far (None: done)."""
        for k, pad in enumerate(self.pads):
            if pad in found:
                continue
            if k == 0 or self.retry == "always":
                return pad
            latest = self._pad_options(found, width, height)
            if not latest or (self.retry == "border" and touches_border(latest[-1], width, height)):
                return pad
            break
        if tiles and self.tiles > 1 and TILES not in found and not self._pad_options(found, width, height):
            return TILES
        return None

    def _pad_options(self, found: Found, width: int, height: int) -> list[Detection]:
        picks = [d for p in self.pads if (d := self.choose(found.get(p, []), width, height)) is not None]
        if self.retry == "always":
            return picks
        # in turn: the latest look that found someone (a border retry replaces the look that touched the border)
        return picks[-1:] if self.retry == "border" else picks[:1]

    def options(self, found: Found, width: int, height: int) -> list[Detection]:
        """The detections to choose from, in look order: one per padding look that found someone (one in all
        unless ``retry="always"``), else the tiles' choice among finds scoring ``tile_min_score``, else none."""
        picks = self._pad_options(found, width, height)
        if not picks and found.get(TILES):
            strong = self.choose([d for d in found[TILES] if d.score >= self.tile_min_score], width, height)
            picks = [] if strong is None else [strong]
        return picks

    def candidates(self, found: Found) -> list[Detection]:
        """Every find of the paddings (for checking a track against all the people in view)."""
        return [d for p in self.pads for d in found.get(p, [])]


def surest(person_scores: list[float]) -> int:
    """The option to keep: the highest landmark person score, the first one on a tie."""
    return max(range(len(person_scores)), key=lambda i: (person_scores[i], -i))
