"""Cuts at hard cuts, dissolves and fades, over the stream of decoded frames `CutDetector` sees.

Hard cuts come from PySceneDetect's ContentDetector with `CutDetector`'s settings and frames,
so hard-cut frames and precision stay those of main; only a content cut where no single frame
step makes most of the change (inside a fade, say) gives way to the transition's middle. Gradual transitions spread their change over
many frames, so no two consecutive frames differ much; two detectors find them:

- a bilateral window: for each centre frame m, the difference `across` between frames m-h and
  m+h is compared with the differences over the same span wholly before (m-3h..m-h) and wholly
  after (m+h..m+3h). Inside a shot, motion, zooms and pans change a picture about as much over
  any span of 2h frames, so `across` is no larger than its neighbours; across a transition of
  up to 2h frames, `across` is the whole change between the shots while each side holds one
  shot only. The score `across - max(before, after)` is a trapezoid whose flat top is centred
  on the transition's middle, where the cut is recorded. A person moving between two still
  moments makes that score too; a dissolve's middle frame is, unlike a moving person, a blend
  of the frames a few steps either side of it (the linear-blend test), which decides.
- a dip to black (what ThresholdDetector finds, with a bounded delay): a short run of dark
  frames between lit ones is a fade through black; its cut is the run's middle, even when the
  shots on either side look alike.

Frames are compared as small Lab thumbnails (48 px wide): small enough that a moving head or
a slow zoom shifts few thumbnail pixels, large enough that two talking heads at one screen
position differ.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction
from itertools import pairwise
from typing import TYPE_CHECKING

import cv2
import numpy as np
from scenedetect import ContentDetector, FrameTimecode
from scenedetect.scene_manager import compute_downscale_factor

from skelshop.formats.scenes import ShotList
from skelshop.shots.downscale import downscaled, downscaled_frame, small_size
from skelshop.shots.settings import DEFAULT_MIN_SHOT_FRAMES, DEFAULT_THRESHOLD

if TYPE_CHECKING:
    import av

__all__ = ["DEFAULT_BLACK_LEVEL", "DEFAULT_GRADUAL_SCORE", "DEFAULT_HALF_SPAN",
           "TransitionDetector"]

# Half the span the bilateral window compares (frames): transitions up to 2h frames long
# show their whole change; longer ones a part of it.
DEFAULT_HALF_SPAN = 12
# How much more (mean Lab levels of the thumbnail) frames across a transition must differ
# than frames of the same span inside either shot: low, because a dissolve between two
# look-alike shots (one man in one room, cap12 to cap13 in benchmarks/cuts.py) peaks at 2.3
# levels; the ratio below is what keeps steady shots out.
DEFAULT_GRADUAL_SCORE = 2.0
# And how many times more. In steady shots (talking heads, a slow zoom, a moving background)
# the ratio stayed under 1.6 in benchmarks/cuts.py (1.7 let one through); dissolves between
# look-alike shots reach 1.9.
DEFAULT_GRADUAL_RATIO = 1.8
# A dissolve's frames are blends of the two shots, so its middle frame is close to the mean of
# the frames BLEND_STEP before and after it; a hard cut makes most of the change over those
# frames in one frame step; a person moving between two still moments (what else makes the
# bilateral window fire) does neither. As shares of the change over the 2 x BLEND_STEP frames:
# the blend residual was at most 0.16 at the dissolves of benchmarks/identify_tv.py and at least
# 0.25 at the windows that fired inside the sample clips (franck.mp4, cap12, cap13), whose
# largest frame step was at most 0.60 of the change, against at least 0.91 at hard cuts.
DEFAULT_BLEND_RESIDUAL = 0.21
DEFAULT_STEP_SHARE = 0.75
BLEND_STEP = 3
# Mean grey level (0-255) below which a frame is black (ThresholdDetector's default is 12).
DEFAULT_BLACK_LEVEL = 12.0
THUMB_WIDTH = 48
_FROM_CONTENT, _FROM_WINDOW, _FROM_BLACK = 0, 1, 2  # also the rank of a gradual source


class TransitionDetector:
    """Hard cuts, dissolves and fades over frames given one at a time, in decoding order.

    Same interface as `CutDetector` (`add`, `flush`, `shots`, `finish`, `small`, `lag`), so
    either can be used where decoded frames are fed to a cut detector. Frames may be given at
    full size or already downscaled as `small` does.
    """

    def __init__(self, fps: float, width: int, threshold: float = DEFAULT_THRESHOLD,
                 min_shot_frames: int = DEFAULT_MIN_SHOT_FRAMES,
                 half_span: int = DEFAULT_HALF_SPAN,
                 gradual_score: float = DEFAULT_GRADUAL_SCORE,
                 gradual_ratio: float = DEFAULT_GRADUAL_RATIO,
                 black_level: float = DEFAULT_BLACK_LEVEL, thumb_width: int = THUMB_WIDTH,
                 blend_residual: float = DEFAULT_BLEND_RESIDUAL):
        # Imported here so that shots.detect may import this module (a one-line swap).
        from skelshop.shots.detect import check_detect_settings

        check_detect_settings(threshold, min_shot_frames)
        if int(half_span) != half_span or half_span < 2:
            raise ValueError(f"half_span must be a whole number >= 2, not {half_span}")
        self._rate = Fraction(fps).limit_denominator(100000) if fps > 0 else Fraction(25)
        self._content = ContentDetector(threshold=float(threshold),
                                        min_scene_len=int(min_shot_frames))
        self._downscale = float(compute_downscale_factor(width)) if width > 0 else 1.0
        self._small_width = small_size(width, 0, self._downscale)[0] if width > 0 else 0
        self._min_shot_frames = int(min_shot_frames)
        self._h = int(half_span)
        self._gradual_score = float(gradual_score)
        self._gradual_ratio = float(gradual_ratio)
        self._black_level = float(black_level)
        self._blend_residual = float(blend_residual)
        self._thumb_width = int(thumb_width)
        # A gradual candidate run longer than this is closed anyway (bounds the delay).
        self._max_run = 4 * self._h
        # A dark run up to this long is one fade (cut in its middle); longer is a black shot.
        self._max_black = 4 * self._h
        # Thumbnails kept long enough to judge a content cut when it is confirmed.
        self._thumbs: deque[np.ndarray] = deque(maxlen=self.lag + 4 * self._h + 2)
        self._thumb_base = 0  # stream position of self._thumbs[0]
        self._index_of: list[int] = []  # stream position -> decoded frame index
        self._run: list[tuple[int, float]] = []  # (centre position, score) of an open run
        self._dark_start: int | None = None
        self._seen_light = False
        # Candidate cuts not yet emitted: (position, source), source one of the _FROM_ values.
        self._pending: list[tuple[int, int]] = []
        self._emitted: list[int] = []  # positions
        self._cuts: list[int] = []  # decoded frame indices
        self.frames = 0

    def small(self, bgr: np.ndarray) -> np.ndarray:
        """The frame as the content detector sees it (downscaled as `CutDetector` does, BGR)."""
        if bgr.shape[1] <= self._small_width:  # already downscaled by the caller
            return bgr
        return downscaled(bgr, self._downscale)

    def small_frame(self, frame: av.VideoFrame) -> np.ndarray:
        """A decoded frame as the content detector sees it, made without converting the
        whole frame to BGR (`downscale.downscaled_frame`)."""
        return downscaled_frame(frame, self._downscale)

    @property
    def lag(self) -> int:
        """Frames a cut may be reported after it: after frame n is added, no cut at or
        before n - lag is still to come (the windows look ahead, runs are bounded)."""
        content = self._min_shot_frames + 1
        gradual = 3 * self._h + self._max_run + 1
        black = self._max_black + 1
        return max(content, gradual, black) + self._h + 1

    def add(self, index: int, bgr: np.ndarray) -> list[int]:
        """Look at the next decoded frame (BGR, full size or `small`); returns the cuts it confirms."""
        small = self.small(bgr)
        position = len(self._index_of)
        self._index_of.append(int(index))
        self.frames = index + 1
        timecode = FrameTimecode(position, self._rate)
        for cut in self._content.process_frame(timecode, small):
            self._pending.append((_frame_of(cut), _FROM_CONTENT))
        self._add_thumb(position, small)
        return self._confirm(position - self.lag + 1)

    def flush(self) -> list[int]:
        """After the last frame: the cuts still held back."""
        last = len(self._index_of) - 1
        if last >= 0:
            for cut in self._content.post_process(FrameTimecode(last, self._rate)):
                self._pending.append((_frame_of(cut), _FROM_CONTENT))
            # Centres whose after-window would run past the end are not judged: on one side
            # alone, the ratio test lets a shot's own change pass for a transition.
            self._close_run(last_centre=last - 3 * self._h)
        return self._confirm(last + self.lag + 1)

    def shots(self) -> ShotList:
        """The shots of the frames seen (call after `flush`; no cut = one shot)."""
        return ShotList.from_cuts(sorted(set(self._cuts)), self.frames)

    def finish(self) -> ShotList:
        """Flush and return the shots of the frames seen (a video with no cut is one shot)."""
        self.flush()
        return self.shots()

    # --- frame differences ------------------------------------------------------------

    def _add_thumb(self, position: int, small: np.ndarray) -> None:
        height, width = small.shape[:2]
        size = (self._thumb_width, max(1, round(height * self._thumb_width / max(width, 1))))
        thumb = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
        if len(self._thumbs) == self._thumbs.maxlen:
            self._thumb_base += 1
        self._thumbs.append(cv2.cvtColor(thumb, cv2.COLOR_BGR2LAB).astype(np.int16))
        self._track_black(position, float(thumb.mean()))  # as ThresholdDetector: mean of BGR
        # A centre is judged once both its windows are known; transitions within 3h frames
        # of either end of the video are left to the content detector.
        centre = position - 3 * self._h
        if centre >= 3 * self._h:
            self._judge(centre)

    def _thumb(self, position: int) -> np.ndarray:
        return self._thumbs[position - self._thumb_base]

    def _distance(self, a: int, b: int) -> float:
        return float(np.abs(self._thumb(a) - self._thumb(b)).mean())

    # --- gradual transitions ----------------------------------------------------------

    def _judge(self, centre: int) -> None:
        """Score one centre frame (both its windows are known) and extend or close the run."""
        h = self._h
        across = self._distance(centre - h, centre + h)
        within = max(self._distance(centre - 3 * h, centre - h),
                     self._distance(centre + h, centre + 3 * h))
        score = across - within
        if score >= self._gradual_score and across >= self._gradual_ratio * within:
            self._run.append((centre, score))
            if len(self._run) >= self._max_run:
                self._close_run()
        else:
            self._close_run()

    def _close_run(self, last_centre: int | None = None) -> None:
        if not self._run:
            return
        if self._run[0][0] == 3 * self._h or self._run[-1][0] == last_centre:
            # Cut short by an end of the video: no middle to find, and a transition that
            # close to an end belongs to the first or last shot (as min_shot_frames has it).
            self._run = []
            return
        top = max(score for _, score in self._run)
        near_top = [c for c, score in self._run if score >= 0.8 * top]
        # The flat top of the trapezoid is centred on the transition's middle; the cut is the
        # first frame of the new shot, so a half frame rounds up.
        middle = math.floor((near_top[0] + near_top[-1]) / 2 + 0.5)
        if self._is_blend(middle):
            self._pending.append((middle, _FROM_WINDOW))
        self._run = []

    def _is_blend(self, middle: int) -> bool:
        """Whether the frames around `middle` change as a transition does: the middle one a
        blend of its neighbours (a dissolve), or most of the change in one step (a cut)."""
        frames = [self._thumb(middle + j) for j in range(-BLEND_STEP, BLEND_STEP + 1)]
        before, here, after = frames[0], frames[BLEND_STEP], frames[-1]
        change = float(np.abs(after - before).mean())
        residual = float(np.abs(2 * here - before - after).mean()) / 2
        if residual <= self._blend_residual * change:
            return True
        step = max(float(np.abs(b - a).mean()) for a, b in pairwise(frames))
        return step >= DEFAULT_STEP_SHARE * change

    # --- fades through black ----------------------------------------------------------

    def _track_black(self, position: int, level: float) -> None:
        if level < self._black_level:
            if self._dark_start is None:
                self._dark_start = position
            elif position - self._dark_start + 1 > self._max_black and self._seen_light:
                # A long black stretch: its own shot, beginning where the picture went dark.
                self._pending.append((self._dark_start, _FROM_BLACK))
                self._seen_light = False
            return
        if self._dark_start is not None:
            length = position - self._dark_start
            if length <= self._max_black and self._seen_light:
                self._pending.append((math.floor(self._dark_start + (length - 1) / 2 + 0.5),
                                      _FROM_BLACK))
            elif length > self._max_black:
                self._pending.append((position, _FROM_BLACK))
            self._dark_start = None
        self._seen_light = True

    # --- merging ----------------------------------------------------------------------

    def _confirm(self, upto: int) -> list[int]:
        """Emit, in order, the transitions that begin before `upto` (all their candidates are in)."""
        self._pending.sort()
        found = []
        # Candidates within h frames of the first are one transition: a hard cut (a content
        # cut that makes most of the change in one frame step) wins, then a dip to black,
        # then the bilateral window's middle, then a content cut inside a gradual change.
        while self._pending and self._pending[0][0] < upto:
            first = self._pending[0][0]
            group = [c for c in self._pending if c[0] - first <= self._h]
            self._pending = self._pending[len(group):]
            found.extend(self._emit(group))
        return found

    def _emit(self, group: list[tuple[int, int]]) -> list[int]:
        def rank(cand: tuple[int, int]) -> tuple[int, int]:
            position, source = cand
            if source == _FROM_CONTENT:
                return (3 if self._is_hard(position) else 0, -position)
            return (source, -position)

        position = max(group, key=rank)[0]
        # No shot shorter than min_shot_frames, the first one included (as ContentDetector).
        if position - (self._emitted[-1] if self._emitted else 0) < self._min_shot_frames:
            return []
        self._emitted.append(position)
        index = self._index_of[position]
        self._cuts.append(index)
        return [index]

    def _is_hard(self, position: int) -> bool:
        """Whether one frame step makes most of the change around a content cut."""
        h = self._h
        last = self._thumb_base + len(self._thumbs) - 1
        if position - 1 < self._thumb_base or position > last:
            return True  # no thumbnails left to judge by: trust ContentDetector
        step = self._distance(position - 1, position)
        around = self._distance(max(self._thumb_base, position - h), min(last, position + h))
        return step >= 0.5 * around


def _frame_of(cut: object) -> int:
    return int(cut.frame_num) if hasattr(cut, "frame_num") else int(cut)  # type: ignore[attr-defined, call-overload]
