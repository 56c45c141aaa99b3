"""Video → face dump: sample frames, detect, align, track within shots, select, embed."""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from skelshop.errors import SkelshopError
from skelshop.faces.detect_schedule import DetectionSchedule, full_every_samples
from skelshop.faces.detector import Detections, YuNetDetector
from skelshop.faces.embedder import CHIP_SIZE, DlibFaceEmbedder
from skelshop.faces.models import make_detector
from skelshop.faces.selection import face_quality, select_best
from skelshop.faces.settings import (
    DEFAULT_FPS,
    DEFAULT_FULL_DETECT,
    DEFAULT_MIN_FACE,
    DEFAULT_PER_TRACK,
    MODES,
    available_cores,
    detection_side,
)
from skelshop.faces.tracker import FaceCandidate, ShotTracker, Track
from skelshop.formats.face_dump import CHIP_SHAPE, FaceDump, VideoTiming, write_face_dump
from skelshop.formats.scenes import ShotList, write_shots_csv
from skelshop.formats.shot_log import ShotFaces, ShotLog, video_stamp
from skelshop.media.video import DecodedFrame, FrameReader
from skelshop.shots.detect import check_detect_settings, default_cut_detector
from skelshop.shots.settings import DEFAULT_MIN_SHOT_FRAMES, DEFAULT_THRESHOLD
from skelshop.shots.transitions import TransitionDetector

__all__ = ["DEFAULT_FPS", "DEFAULT_PER_TRACK", "MODES", "ExtractionStats", "FaceExtractor",
           "check_extract_settings"]

log = logging.getLogger(__name__)

# Sparse picks of one track are at least this many seconds apart when the track allows it.
MIN_PICK_GAP_SECONDS = 0.5
# How far (seconds) a box may be carried across frames without a detection.
MAX_IOU_GAP_SECONDS = 1.0
# A shot list may differ from the decoded length by this much (container rounding).
LENGTH_TOLERANCE = 0.02


@dataclass
class ExtractionStats:
    """Counts and per-stage seconds of one extraction."""

    frames_decoded: int = 0
    frames_sampled: int = 0
    shots: int = 0
    tracks: int = 0
    faces_detected: int = 0
    faces_embedded: int = 0
    faces_written: int = 0
    video_seconds: float = 0.0
    wall: float = 0.0  # measured end to end (stages overlap when decoding has a thread)
    resumed_at: int = 0  # a checkpointed run: the frame it went on from (0: from the start)
    stage_seconds: dict[str, float] = field(
        default_factory=lambda: {"decode": 0.0, "detect": 0.0, "align": 0.0, "embed": 0.0}
    )

    @property
    def wall_seconds(self) -> float:
        """Seconds the extraction took (the sum of the stages when not measured)."""
        return self.wall or sum(self.stage_seconds.values())


class FaceExtractor:
    """Loads the models once; extracts face dumps from any number of videos."""

    def __init__(self, detector: YuNetDetector | None = None,
                 embedder: DlibFaceEmbedder | None = None):
        self.detector = detector or make_detector()
        self.embedder = embedder or DlibFaceEmbedder()
        # The extraction's stages (threads) and workers (processes) are its parallelism:
        # OpenCV's own pool on top of them would oversubscribe the cores.
        cv2.setNumThreads(1)

    def extract(self, video: str | Path, shots: ShotList, mode: str = "sparse",
                fps: float | None = DEFAULT_FPS, per_track: int = DEFAULT_PER_TRACK,
                write_chips: bool = False, progress: bool = False,
                scenes_path: str | Path | None = None,
                min_face: int = DEFAULT_MIN_FACE, threads: int | None = None,
                observe: Callable[[int, np.ndarray], None] | None = None,
                full_detect: float = DEFAULT_FULL_DETECT,
                ) -> tuple[FaceDump, ExtractionStats]:
        """Run the whole front end on one video and return its dump and statistics.

        Frames are detected at the size that finds faces >= `min_face` px tall (0: at a long
        side of 960, as before --min-face), whole every `full_detect` seconds and around the
        faces found last in between (faces/detect_schedule.py; 0: every sample whole);
        alignment and embedding use the full frame.
        `threads` (default: up to 2 cores): 2 runs decoding and detection in threads of their
        own (both release the GIL), 1 runs everything in line; with cut detection
        (`extract_with_shots`) FFmpeg decodes in a third.
        """
        check_extract_settings(mode, fps, per_track, min_face, full_detect)
        threads = default_threads() if threads is None else max(1, int(threads))
        reader = FrameReader(video, fps, threads=_decode_threads(threads))
        info = reader.info
        # Before any work: a scenes file clearly of another video, by the count the container
        # states (an estimate from length x average rate is wrong for variable-rate video).
        # The decoded count decides at the end.
        _check_shots_fit(shots, info.num_frames if info.frames_declared else 0, scenes_path,
                         exact=False)
        run = _FacePass(self, reader, mode, per_track, write_chips, min_face, full_detect, lag=0)
        run.observe = observe  # (frame, boxes) of every sampled frame, for evaluation
        cuts = [int(c) for c in shots.starts[1:]]
        run.consume(run.staged(_decode_events(reader, None, run.stats.stage_seconds), threads,
                               given_cuts=cuts), progress, Path(video).name)
        _check_shots_fit(shots, reader.decoded, scenes_path, exact=True,
                         timestamp_frames=round(reader.end_time * info.fps))
        run.stats.shots = len(shots)
        return run.dump(video, shots), run.stats

    def extract_with_shots(self, video: str | Path, scenes_out: str | Path | None = None,
                           mode: str = "sparse", fps: float | None = DEFAULT_FPS,
                           per_track: int = DEFAULT_PER_TRACK, write_chips: bool = False,
                           progress: bool = False, min_face: int = DEFAULT_MIN_FACE,
                           threshold: float = DEFAULT_THRESHOLD,
                           min_shot_frames: int = DEFAULT_MIN_SHOT_FRAMES,
                           threads: int | None = None, faces_out: str | Path | None = None,
                           extra_attrs: dict | None = None,
                           observe: Callable[[int, np.ndarray], None] | None = None,
                           full_detect: float = DEFAULT_FULL_DETECT,
                           ) -> tuple[FaceDump, ShotList, ExtractionStats]:
        """Cuts and faces from one decode of the video: the shots (written to `scenes_out`
        as `shots detect` writes them, when given), the dump and statistics.

        With `faces_out` the dump is written there (with `extra_attrs`), checkpointed shot by
        shot in `faces_out.shots` (formats.shot_log): a killed run, run again with the same
        video and settings, goes on after its last finished shot, and the dump is the one an
        uninterrupted run writes. Memory then stays flat with video length (finished shots'
        faces are on disk); the returned dump has no chips.

        Every decoded frame goes, downscaled, to the cut detector; the sampled ones also to the
        face pass, where detection holds a frame until no cut can come before it any more (the
        cut detector confirms a cut at most its `lag` frames late), so no track crosses a cut.
        """
        check_extract_settings(mode, fps, per_track, min_face, full_detect)
        check_detect_settings(threshold, min_shot_frames)
        threads = default_threads() if threads is None else max(1, int(threads))
        reader = FrameReader(video, fps, threads=_decode_threads(threads))
        info = reader.info
        cut_detector = default_cut_detector(info.fps, info.width, threshold, min_shot_frames)
        log_book = None
        if faces_out is not None:
            run_settings = {
                **video_stamp(video), "mode": mode, "fps": fps or 0.0, "per_track": per_track,
                "write_chips": bool(write_chips), "min_face": int(min_face),
                "full_detect": float(full_detect), "threshold": float(threshold),
                "min_shot_frames": int(min_shot_frames),
                "embedder": self.embedder.info.name, **dict(self.embedder.file_attrs),
                "extra_attrs": {k: _json_value(v) for k, v in (extra_attrs or {}).items()},
            }
            log_book = ShotLog(faces_out, run_settings)
        run = _FacePass(self, reader, mode, per_track, write_chips, min_face, full_detect,
                        lag=cut_detector.lag, log_book=log_book)
        run.observe = observe  # (frame, boxes) of every sampled frame, for evaluation
        events = _decode_events(reader, cut_detector, run.stats.stage_seconds,
                                decode_thread=threads > 1)
        run.consume(run.staged(events, threads), progress, Path(video).name)
        shots = cut_detector.shots().with_times(reader.times, reader.end_time)
        run.stats.shots = len(shots)
        dump = run.dump(video, shots)
        dump.extra_attrs.update(extra_attrs or {})
        if scenes_out is not None:
            write_shots_csv(scenes_out, shots, info.fps)
        if log_book is not None and faces_out is not None:
            write_face_dump(faces_out, dump, chips=run.logged_chips() if write_chips else None)
            log_book.remove()
        return dump, shots, run.stats


def _json_value(value: object) -> object:
    """An attribute value as JSON holds it (numpy scalars become Python numbers)."""
    return value.item() if isinstance(value, np.generic) else value


def default_threads() -> int:
    """Threads one extraction uses by default: its two stages on up to two cores."""
    return min(2, available_cores())


def _decode_threads(threads: int) -> int:
    """FFmpeg threads: its own choice with cores to spare, else one (no oversubscription)."""
    return 0 if threads > 2 else 1


# Events from the decoding side to the face pass, in decoding order.
_Frame = DecodedFrame  # a sampled frame, as decoded
_Cut = int  # a confirmed cut: the first frame of a new shot
# A sampled frame after detection: index, its faces, the full-size RGB frame (None: no face
# found, or a frame of a shot logged before that is not looked at again).
_Detected = tuple[int, Detections | None, np.ndarray | None]


def _decode_events(reader: FrameReader, cut_detector: TransitionDetector | None,
                   timer: dict[str, float], decode_thread: bool = False,
                   ) -> Iterator[_Frame | _Cut]:
    """Decode once: every frame to the cut detector (if any), sampled frames to the face pass.

    Sampled frames go on as decoded (converted to BGR where they are detected: half the
    memory while they wait for the cut detector, and off this thread); the cut detector gets
    its small frame straight from the decoded planes. A frame's cuts come before the frame itself,
    so when the face pass sees frame n every cut the detector has confirmed up to n is known.
    With `decode_thread` FFmpeg decodes in a thread of its own: it releases the GIL, the cut
    detector's numpy work on small frames mostly holds it, so the two overlap (one thread
    doing both was the busiest of the extraction's, 93 % of the time on 720p).
    """
    if cut_detector is not None:
        timer.setdefault("cuts", 0.0)
    frames = _timed(reader.frames(), timer, "decode")
    if decode_thread and cut_detector is not None:
        frames = _in_background(frames, maxsize=8, name="skelshop-ffmpeg")
    for item, is_sample in frames:
        if cut_detector is not None:
            t0 = time.perf_counter()
            found = cut_detector.add(item.index, cut_detector.small_frame(item.frame))
            timer["cuts"] += time.perf_counter() - t0
            yield from found
        if is_sample:
            yield item
    if cut_detector is not None:
        yield from cut_detector.flush()


def _timed(items: Iterator, timer: dict[str, float], key: str) -> Iterator:
    """`items`, adding the seconds spent making each to `timer[key]`."""
    while True:
        t0 = time.perf_counter()
        item = next(items, None)
        timer[key] += time.perf_counter() - t0
        if item is None:
            return
        yield item


_END = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def _in_background(events: Iterator, maxsize: int = 8, name: str = "skelshop-decode") -> Iterator:
    """Run an iterator in a thread of its own, handing items over a bounded queue.

    Decoding (FFmpeg) and detection (ONNX Runtime) release the GIL, so they overlap on two
    cores; the queue bounds how many decoded frames wait in memory. An error
    in the thread is raised here; stopping early (an error or Ctrl-C here) stops the thread.
    """
    handover: queue.Queue = queue.Queue(maxsize)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in events:
                if not put(item):
                    return
            put(_END)
        except BaseException as err:  # handed to the consuming thread, raised there
            put(_Failure(err))
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = handover.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()


class _FacePass:
    """The face work of one video: detect and align sampled frames, track them within shots,
    pick and embed each finished shot's faces."""

    def __init__(self, extractor: FaceExtractor, reader: FrameReader, mode: str, per_track: int,
                 write_chips: bool, min_face: int, full_detect: float, lag: int,
                 log_book: ShotLog | None = None):
        self.extractor = extractor
        self.reader = reader
        self.info = reader.info
        self.mode = mode
        self.per_track = per_track
        self.write_chips = write_chips
        self.min_face = int(min_face)
        self.detect_side = detection_side(self.info.width, self.info.height, min_face)
        self.full_detect = float(full_detect)
        # used by the detection stage only (its thread, when it has one)
        self.schedule = DetectionSchedule(
            extractor.detector, self.detect_side,
            full_every_samples(full_detect, self.info.fps / reader.step))
        self.lag = lag
        self.stats = ExtractionStats()
        self.kept: list[tuple[int, int, FaceCandidate]] = []  # (shot, track id, face)
        self.processed: list[int] = []
        self.next_track_id = 0
        self.shot = 0
        self.last_cut = 0
        self.tracked_until = 0  # frames before this were handed to a tracker
        self.tracker: ShotTracker | None = None
        self.pending: deque[tuple[int, list[FaceCandidate]]] = deque()
        # Checkpointing: finished shots go to the log, not to `kept`; a resumed run skips
        # the frames of the shots logged before.
        self.log_book = log_book
        # Sees every sampled frame's detected boxes (evaluation: recall of sparse runs).
        self.observe: Callable[[int, np.ndarray], None] | None = None
        self.resume_frame = log_book.resume_frame if log_book is not None else 0
        if log_book is not None and log_book.resumed is not None:
            state = log_book.state
            self.next_track_id = int(state["next_track_id"])
            self.stats.tracks = int(state["tracks"])
            self.stats.faces_detected = int(state["faces_detected"])
            self.stats.faces_embedded = int(state["faces_embedded"])
            self.stats.faces_written = int(state["faces_written"])
            self.stats.resumed_at = self.resume_frame

    def staged(self, events: Iterator[_Frame | _Cut], threads: int,
               given_cuts: list[int] | None = None) -> Iterator[_Detected | _Cut]:
        """The decoding side's events with the sampled frames detected: with `threads` > 1
        decoding (with cut detection) and detection each run in a thread of their own, linked
        by bounded queues (FFmpeg, OpenCV and ONNX Runtime release the GIL; alignment,
        tracking and embedding stay in this thread), else all in line."""
        cuts = list(given_cuts or [])
        if threads <= 1:
            return self._detected(events, cuts)
        return _in_background(self._detected(_in_background(events), cuts), maxsize=4,
                              name="skelshop-detect")

    def _detected(self, events: Iterator[_Frame | _Cut],
                  given_cuts: list[int]) -> Iterator[_Detected | _Cut]:
        """Detect the faces of the sampled frames; cuts (confirmed or `given_cuts`) pass on
        in order, each before the first frame of its shot.

        A sampled frame is detected and passed on once no cut can come before it any more
        (the cut detector confirms cuts up to `lag` frames late; `given_cuts` are known from
        the start), so the schedule starts each shot afresh (an uninterrupted run and one
        resumed at a shot detect every frame alike) and the face pass can track each frame
        as it comes.
        """
        timer = self.stats.stage_seconds
        schedule = self.schedule
        upcoming = deque(given_cuts)
        waiting: deque[_Frame] = deque()
        last_cut = 0

        def release(limit: int | None) -> Iterator[_Detected | _Cut]:
            nonlocal last_cut
            while waiting and (limit is None or waiting[0].index < limit):
                item = waiting.popleft()
                index = item.index
                while upcoming and upcoming[0] <= index:
                    last_cut = upcoming.popleft()
                    schedule.cut()
                    yield last_cut
                if index < self.resume_frame:  # its shot is in the log already
                    yield index, None, None
                    continue
                t0 = time.perf_counter()
                # The frame in BGR for detection and in RGB for alignment, made here (off
                # the decoding thread and the one that holds the GIL for alignment); counted
                # as detection: this thread's own timer.
                bgr = item.bgr()
                found = schedule.detect(bgr)
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if len(found) else None
                timer["detect"] += time.perf_counter() - t0
                yield index, found, rgb

        # OpenMP thread counts are per calling thread: YuNet's limit is set where it runs.
        with threadpool_limits(limits=1, user_api="openmp"):
            for event in events:
                if isinstance(event, int):
                    yield from release(event)
                    if event > last_cut:
                        last_cut = event
                        schedule.cut()
                    yield event
                    continue
                waiting.append(event)
                yield from release(event.index + 1 - self.lag)
            yield from release(None)

    def consume(self, events: Iterator[_Detected | _Cut], progress: bool, name: str) -> None:
        """Run the face pass over the decoding side's events, then finish the last shot."""
        bar = tqdm(total=self.info.num_frames or None, desc=name, unit="frame",
                   disable=not progress, leave=False)
        wall = time.perf_counter()
        try:
            while True:
                event = next(events, None)
                if event is None:
                    break
                if isinstance(event, int):
                    self.cut(event)
                    continue
                index, found, rgb = event
                bar.update(index + 1 - bar.n)
                self.frame(index, found, rgb)
            self.finish()
        finally:
            bar.close()
        counts = self.schedule.counts
        log.info("%s: %d samples detected whole, %d in %d crops around faces", name,
                 counts.full, counts.regions, counts.crops)
        self.stats.wall = time.perf_counter() - wall

    def frame(self, index: int, found: Detections | None, rgb: np.ndarray | None) -> None:
        """Align one detected sampled frame's faces and track them (every cut before this
        frame has come already: the detection stage holds frames back until it is sure).

        `found` is None for a frame of a shot logged before (not looked at again); `rgb`
        is the full-size frame, given when faces were found.
        """
        timer = self.stats.stage_seconds
        self.processed.append(index)
        if found is None:  # its shot is in the log already
            self.tracked_until = index + 1
            return
        if self.observe is not None:
            self.observe(index, found.boxes)
        self.stats.faces_detected += len(found)
        if len(found):
            assert rgb is not None
            t0 = time.perf_counter()
            candidates = []
            for box, score in zip(found.boxes, found.scores, strict=True):
                aligned = self.extractor.embedder.align(rgb, box)
                candidates.append(FaceCandidate(
                    frame=index, box=box, score=float(score),
                    quality=face_quality(score, box, aligned.chip),
                    chip=aligned.chip, chip_bbox=aligned.chip_bbox,
                ))
            timer["align"] += time.perf_counter() - t0
            self.pending.append((index, candidates))
        self._track_before(index + 1)

    def cut(self, at: int) -> None:
        """A confirmed cut: the shot before it is finished."""
        if at <= self.last_cut:  # a repeat, or frame 0 (as ShotList.from_cuts drops them)
            return
        if at <= self.resume_frame:  # a shot logged by the run that was stopped
            self.last_cut = at
            self.shot += 1
            return
        if at < self.tracked_until:
            raise RuntimeError(f"cut at frame {at} confirmed after frame "
                               f"{self.tracked_until - 1} was tracked (cut detector lag)")
        self._track_before(at)
        self._finish_shot(at)
        self.last_cut = at
        self.shot += 1

    def finish(self) -> None:
        """End of the video: the last shot is finished."""
        self._track_before(None)
        self._finish_shot(self.reader.decoded)
        self.stats.frames_decoded = self.reader.decoded
        self.stats.frames_sampled = len(self.processed)
        self.stats.video_seconds = self.reader.end_time
        if self.log_book is None:
            self.stats.faces_written = len(self.kept)

    def _track_before(self, limit: int | None) -> None:
        while self.pending and (limit is None or self.pending[0][0] < limit):
            _, candidates = self.pending.popleft()
            if self.tracker is None:
                self.tracker = ShotTracker(
                    self._ensure_embeddings, self.extractor.embedder.threshold,
                    max_iou_gap=max(1, round(MAX_IOU_GAP_SECONDS * self.info.fps)),
                    space=self.extractor.embedder.space)
            self.tracker.add_frame(candidates)
            self.tracked_until = candidates[0].frame + 1
        if limit is not None:
            self.tracked_until = max(self.tracked_until, limit)

    def _ensure_embeddings(self, faces: list[FaceCandidate]) -> None:
        todo = [f for f in faces if f.embedding is None]
        if todo:
            t0 = time.perf_counter()
            vectors = self.extractor.embedder.embed([f.chip for f in todo])
            self.stats.stage_seconds["embed"] += time.perf_counter() - t0
            self.stats.faces_embedded += len(todo)
            for face, vec in zip(todo, vectors, strict=True):
                face.embedding = vec

    def _finish_shot(self, next_start: int) -> None:
        """Pick and embed the faces of the shot that ends before frame `next_start`."""
        finished: list[tuple[int, int, FaceCandidate]] = []
        if self.tracker is not None:
            min_gap = max(1, round(MIN_PICK_GAP_SECONDS * self.info.fps))
            for track in self.tracker.tracks:
                faces = track.faces if self.mode == "full" else select_best(
                    track.faces, self.per_track, min_gap)
                self._ensure_embeddings(faces)
                finished.extend((self.shot, self.next_track_id, f) for f in faces)
                self.next_track_id += 1
                _drop_chips(track, keep={id(f) for f in faces} if self.write_chips else set())
            self.stats.tracks += len(self.tracker.tracks)
            self.tracker = None
        if self.log_book is None:
            self.kept.extend(finished)
            return
        self.stats.faces_written += len(finished)
        finished.sort(key=lambda k: (k[2].frame, k[1]))  # file order: frame, then track
        faces = [f for _, _, f in finished]
        dim = self.extractor.embedder.dim
        self.log_book.append(ShotFaces(
            embed=np.asarray([f.embedding for f in faces], np.float32).reshape(-1, dim),
            arrays={"frame": np.asarray([f.frame for f in faces]),
                    "pers": np.asarray([t for _, t, _ in finished]),
                    "seg": np.asarray([s for s, _, _ in finished]),
                    "bbox": np.asarray([f.box for f in faces]),
                    "quality": np.asarray([f.quality for f in faces]),
                    "chip_bbox": np.asarray([f.chip_bbox for f in faces])},
            chip=np.asarray([f.chip for f in faces], np.uint8).reshape(-1, *CHIP_SHAPE)
            if self.write_chips else None,
            resume_frame=int(next_start),
            state={"next_track_id": self.next_track_id, "tracks": self.stats.tracks,
                   "faces_detected": self.stats.faces_detected,
                   "faces_embedded": self.stats.faces_embedded,
                   "faces_written": self.stats.faces_written},
        ))

    def logged_chips(self) -> Iterator[np.ndarray]:
        """The chips of every logged shot, in file order, read back from the log."""
        assert self.log_book is not None
        for block in self.log_book.shots():
            if block.chip is not None:
                yield block.chip

    def _logged_dump(self, video: str | Path) -> FaceDump:
        return _logged_dump_of(self, video)

    def dump(self, video: str | Path, shots: ShotList) -> FaceDump:
        """The dump of the finished pass (`shots`: the shots it was made with)."""
        reader = self.reader
        if self.log_book is not None:
            dump = self._logged_dump(video)
        else:
            dump = _to_dump(self.kept, self.mode, video, reader.decoded, self.info.fps,
                            self.extractor.embedder, self.processed, self.write_chips)
        dump.extra_attrs.update({"min_face": self.min_face, "detect_side": int(self.detect_side),
                                 "full_detect": self.full_detect})
        timed = shots.with_times(reader.times, reader.end_time)
        assert timed.seconds is not None
        dump.timing = VideoTiming(frame_seconds=reader.times, end_seconds=reader.end_time,
                                  shot_starts=shots.starts.copy(), shot_seconds=timed.seconds)
        return dump


def _logged_dump_of(run: _FacePass, video: str | Path) -> FaceDump:
    """The dump of a checkpointed pass from its log: every array but the chips."""
    assert run.log_book is not None
    blocks = list(_small_parts(run.log_book))
    embedder = run.extractor.embedder

    def joined(name: str, dtype: type, shape: tuple) -> np.ndarray:
        parts = [b[name] for b in blocks]
        return np.concatenate(parts).astype(dtype).reshape((-1, *shape)) if parts \
            else np.zeros((0, *shape), dtype)

    return FaceDump(
        mode=run.mode, video=str(video), num_frames=run.reader.decoded, fps=run.info.fps,
        embedder=embedder.info,
        frame=joined("frame", np.uint32, ()), pers=joined("pers", np.uint32, ()),
        embed=joined("embed", np.float32, (embedder.dim,)), seg=joined("seg", np.int32, ()),
        bbox=joined("bbox", np.float32, (4,)), quality=joined("quality", np.float32, ()),
        chip_bbox=joined("chip_bbox", np.float32, (5,)), chip=None,
        processed_frames=np.asarray(run.processed, dtype=np.uint32)
        if run.mode == "full" else None,
        extra_attrs=dict(embedder.file_attrs),
    )


def _small_parts(log_book: ShotLog) -> Iterator[dict[str, np.ndarray]]:
    """Each logged record's arrays without its chips (those are streamed when writing)."""
    for block in log_book.shots():
        yield {**block.arrays, "embed": block.embed}


def _drop_chips(track: Track, keep: set[int]) -> None:
    """Free the chip memory of faces whose chips will not be written."""
    for face in track.faces:
        if id(face) not in keep:
            face.chip = _NO_CHIP


_NO_CHIP = np.zeros((0, 0, 3), np.uint8)


def check_extract_settings(mode: str, fps: float | None, per_track: int,
                           min_face: int = DEFAULT_MIN_FACE,
                           full_detect: float = DEFAULT_FULL_DETECT) -> None:
    """Refuse settings that make no sense: an unknown mode, a negative/NaN/infinite --fps."""
    if not (math.isfinite(full_detect) and full_detect >= 0):
        raise SkelshopError(None, f"--full-detect must be a finite number of seconds >= 0, "
                                  f"not {full_detect}")
    if int(min_face) != min_face or min_face < 0:
        raise SkelshopError(None, f"--min-face must be a whole number >= 0, not {min_face}")
    if mode not in MODES:
        raise SkelshopError(None, f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if fps is not None and not (math.isfinite(fps) and fps >= 0):
        raise SkelshopError(None, f"--fps must be a finite number >= 0 (0 = every frame), "
                                  f"not {fps}")
    if int(per_track) != per_track or per_track < 1:
        raise SkelshopError(None, f"--per-track must be a whole number >= 1, not {per_track}")


def _check_shots_fit(shots: ShotList, num_frames: int, scenes_path: str | Path | None,
                     exact: bool, timestamp_frames: int | None = None) -> None:
    """The shot list must be this video's: same length, no cut at or past its last frame.

    `exact` is for the decoded frame count; a declared one may be off by a few frames.
    `timestamp_frames` is the length counted as PySceneDetect's own readers count frames
    (duration x average rate), which differs on variable-frame-rate video.
    """
    if not num_frames:
        return
    slack = 0 if exact else max(2, round(LENGTH_TOLERANCE * num_frames))
    last_start = int(shots.starts[-1])
    if shots.end is None and last_start >= num_frames + slack:
        line = shots.line_of(len(shots) - 1)
        where = f"line {line}: " if line else ""
        raise SkelshopError(
            scenes_path, f"{where}cut at frame {last_start} is past the end of the video "
            f"({num_frames} frames, 0 to {num_frames - 1}); is it the cut list of another video?",
        )
    if shots.end is None:
        return
    tolerance = max(2, LENGTH_TOLERANCE * num_frames)
    if abs(shots.end - num_frames) > tolerance and timestamp_frames is not None \
            and abs(shots.end - timestamp_frames) <= tolerance:
        raise SkelshopError(
            scenes_path, f"scenes cover {shots.end} frames, but the video is variable-frame-"
            f"rate and decodes to {num_frames}: its frames were numbered by timestamp x "
            "average rate (PySceneDetect's readers do that); make it with `skelshop shots "
            "detect`, which numbers decoded frames",
        )
    if abs(shots.end - num_frames) > tolerance:
        raise SkelshopError(
            scenes_path, f"scenes cover {shots.end} frames but the video has {num_frames}; "
            "is it the scenes file of another video?",
        )


def _to_dump(kept: list[tuple[int, int, FaceCandidate]], mode: str, video: str | Path,
             num_frames: int, fps: float, embedder: DlibFaceEmbedder,
             processed: list[int], write_chips: bool) -> FaceDump:
    n = len(kept)
    faces = [f for _, _, f in kept]

    def stack(values: list, shape: tuple, dtype: type) -> np.ndarray:
        return np.asarray(values, dtype=dtype).reshape((n, *shape))

    return FaceDump(
        mode=mode,
        video=str(video),
        num_frames=num_frames,
        fps=fps,
        embedder=embedder.info,
        frame=stack([f.frame for f in faces], (), np.uint32),
        pers=stack([t for _, t, _ in kept], (), np.uint32),
        embed=stack([f.embedding for f in faces], (embedder.dim,), np.float32),
        seg=stack([s for s, _, _ in kept], (), np.int32),
        bbox=stack([f.box for f in faces], (4,), np.float32),
        quality=stack([f.quality for f in faces], (), np.float32),
        chip_bbox=stack([f.chip_bbox for f in faces], (5,), np.float32),
        chip=stack([f.chip for f in faces], (CHIP_SIZE, CHIP_SIZE, 3), np.uint8)
        if write_chips else None,
        processed_frames=np.asarray(processed, dtype=np.uint32) if mode == "full" else None,
        extra_attrs=dict(embedder.file_attrs),  # which backend computed the embeddings
    )
