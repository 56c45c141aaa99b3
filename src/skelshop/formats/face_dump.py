"""The one reader and writer of face dumps (sparse and full HDF5 layouts, design.md §4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from skelshop.errors import SkelshopError
from skelshop.faces.models import embedding_space
from skelshop.formats.hdf5_output import hdf5_output
from skelshop.formats.hdf5_values import (
    HDF5_READ_ERRORS,
    attr_count,
    attr_number,
    attr_text,
    attr_threshold,
    finite_rows,
    numeric_array,
)
from skelshop.space import DLIB_RESNET_V1, METRICS, EmbeddingSpace, space_of

FMT_VER = 1
CHIP_SHAPE = (150, 150, 3)
SPARSE = "sparse_faces"
FULL = "full_faces"
# Dumps written by the original SkelShop carry no embedder attributes; it used dlib's ResNet.
ORIGINAL_EMBEDDER = DLIB_RESNET_V1.name


@dataclass(frozen=True)
class EmbedderInfo:
    """What produced the embeddings: recorded in every file, checked before comparing."""

    name: str
    metric: str
    threshold: float


@dataclass(frozen=True)
class VideoTiming:
    """When each decoded frame and each shot of a video is, in seconds from its first frame.

    Frame numbers are decoded indices; on variable-frame-rate video `frame / fps` is not a
    frame's time, so the times taken from the frames' timestamps are stored (`/timing`).
    """

    frame_seconds: np.ndarray  # float64 (F,) time of every decoded frame
    end_seconds: float  # end of the last frame: the video's length
    shot_starts: np.ndarray  # int64 (S,) first frame of each shot the dump was made with
    shot_seconds: np.ndarray  # float64 (S + 1,) time of each shot's first frame, then the end


@dataclass
class FaceDump:
    """Every stored face of one video as parallel per-face arrays, whatever the layout."""

    mode: str  # "sparse" | "full"
    video: str
    num_frames: int
    fps: float
    embedder: EmbedderInfo
    frame: np.ndarray  # uint32 (N,) absolute frame number
    pers: np.ndarray  # uint32 (N,) track id (unique within the video)
    embed: np.ndarray  # float32 (N, D)
    seg: np.ndarray | None = None  # int32 (N,) shot index, when stored
    bbox: np.ndarray | None = None  # float32 (N, 4) x1, y1, x2, y2
    quality: np.ndarray | None = None  # float32 (N,)
    chip_bbox: np.ndarray | None = None  # float32 (N, 5) x1, y1, x2, y2, angle
    chip: np.ndarray | None = None  # uint8 (N, 150, 150, 3) RGB
    processed_frames: np.ndarray | None = None  # full mode: uint32 (F,) frames looked at
    timing: VideoTiming | None = None  # written as /timing; read with read_timing()
    extra_attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.embed.shape[1])

    @property
    def space(self) -> EmbeddingSpace:
        """The embedding space the dump's vectors are in (recorded model, metric, threshold)."""
        return space_of(self.embedder, self.dim)


def _attrs(dump: FaceDump, fmt_type: str) -> dict:
    return {
        "fmt_type": fmt_type,
        "fmt_ver": FMT_VER,
        "video": dump.video,
        "num_frames": int(dump.num_frames),
        "fps": float(dump.fps),
        "embedder": dump.embedder.name,
        "metric": dump.embedder.metric,
        "threshold": float(dump.embedder.threshold),
        **dump.extra_attrs,
    }


def _put(grp: h5py.Group, name: str, data: np.ndarray, **options: object) -> None:
    """A dataset with a Fletcher-32 checksum per chunk, so damaged bytes fail the read loudly.

    HDF5 stores raw data unchecked: a flipped block in an embedding would otherwise read as
    valid numbers. Empty datasets cannot be chunked and hold nothing to check.
    """
    if np.asarray(data).size:
        options.setdefault("fletcher32", True)
    grp.create_dataset(name, data=data, **options)


def write_face_dump(path: str | Path, dump: FaceDump,
                    chips: Iterable[np.ndarray] | None = None) -> None:
    """Write a dump atomically in the sparse or full layout, as `dump.mode` says.

    `chips`: the face chips in batches, streamed instead of `dump.chip` (a long video's do
    not fit in memory); the dump's faces must then be in file order (by frame, then track).
    """
    order = np.lexsort((dump.pers, dump.frame))
    if chips is not None and not np.array_equal(order, np.arange(len(order))):
        raise ValueError("streamed chips need the faces in file order (frame, then track)")
    with hdf5_output(path) as h5:  # a full disk: SkelshopError(path, ...), nothing left
        if dump.timing is not None:
            _write_timing(h5, dump.timing)
        grp = h5.create_group("faces")
        embed = np.asarray(dump.embed, dtype=np.float32)[order]
        if dump.mode == "sparse":
            h5.attrs.update(_attrs(dump, SPARSE))
            frame_pers = np.stack([dump.frame[order], dump.pers[order]], axis=1)
            _put(grp, "frame_pers", frame_pers.astype(np.uint32).reshape(-1, 2))
        elif dump.mode == "full":
            h5.attrs.update(_attrs(dump, FULL))
            frames = dump.frame[order]
            processed = _processed_frames(dump, frames)
            # One entry per frame of the video (the original's readers take entry i as frame
            # i); frames that were not sampled add no faces. /faces/frame says which were.
            num_entries = max(int(dump.num_frames), int(processed[-1]) + 1 if len(processed) else 0)
            indices = np.searchsorted(frames, np.arange(num_entries), side="right")
            _put(grp, "indices", indices.astype(np.uint32))
            _put(grp, "frame", processed)
            _put(grp, "pers", dump.pers[order].astype(np.uint32))
        else:
            raise ValueError(f"unknown dump mode {dump.mode!r}")
        _put(grp, "embed", embed)
        optional = {
            "seg": (dump.seg, np.int32),
            "bbox": (dump.bbox, np.float32),
            "quality": (dump.quality, np.float32),
            "chip_bbox": (dump.chip_bbox, np.float32),
        }
        for name, (values, dtype) in optional.items():
            if values is not None:
                _put(grp, name, np.asarray(values, dtype=dtype)[order])
        if dump.chip is not None:
            _put(grp, "chip", np.asarray(dump.chip, dtype=np.uint8)[order],
                 chunks=(1, *dump.chip.shape[1:]) if len(dump) else None,
                 compression="gzip", compression_opts=4)
        elif chips is not None:
            _write_streamed_chips(grp, len(dump), chips)


def _write_streamed_chips(grp: h5py.Group, n: int, chips: Iterable[np.ndarray]) -> None:
    """The chip dataset written batch by batch, stored as `write_face_dump` stores it whole."""
    shape = (CHIP_SHAPE[0], CHIP_SHAPE[1], CHIP_SHAPE[2])
    if n == 0:
        grp.create_dataset("chip", data=np.zeros((0, *shape), np.uint8),
                           compression="gzip", compression_opts=4)
        return
    node = grp.create_dataset("chip", shape=(n, *shape), dtype=np.uint8, chunks=(1, *shape),
                              compression="gzip", compression_opts=4, fletcher32=True)
    at = 0
    for batch in chips:
        batch = np.asarray(batch, dtype=np.uint8).reshape(-1, *shape)
        node[at:at + len(batch)] = batch
        at += len(batch)
    if at != n:
        raise ValueError(f"{at} chips streamed for {n} faces")


def _write_timing(h5: h5py.File, timing: VideoTiming) -> None:
    h5.attrs["duration"] = float(timing.end_seconds)
    grp = h5.create_group("timing")
    frames = np.asarray(timing.frame_seconds, dtype=np.float64)
    packed = {"chunks": (min(len(frames), 65536),), "compression": "gzip", "shuffle": True}
    grp.create_dataset("frame_seconds", data=frames, **(packed if len(frames) else {}))
    grp.create_dataset("shot_starts", data=np.asarray(timing.shot_starts, dtype=np.int64))
    grp.create_dataset("shot_seconds", data=np.asarray(timing.shot_seconds, dtype=np.float64))
    grp.attrs["end_seconds"] = float(timing.end_seconds)


def read_timing(path: str | Path) -> VideoTiming | None:
    """The frame and shot times a dump records (/timing); None for dumps without them."""
    try:
        with h5py.File(path, "r") as h5:
            grp = h5.get("timing")
            if not isinstance(grp, h5py.Group) or not all(
                    isinstance(grp.get(name), h5py.Dataset)
                    for name in ("frame_seconds", "shot_starts", "shot_seconds")):
                return None
            timing = VideoTiming(
                frame_seconds=np.asarray(grp["frame_seconds"][()], dtype=np.float64).reshape(-1),
                end_seconds=float(grp.attrs.get("end_seconds", np.nan)),
                shot_starts=np.asarray(grp["shot_starts"][()], dtype=np.int64).reshape(-1),
                shot_seconds=np.asarray(grp["shot_seconds"][()], dtype=np.float64).reshape(-1),
            )
    except HDF5_READ_ERRORS:
        return None
    finite = np.isfinite(timing.shot_seconds).all() and np.isfinite(timing.end_seconds)
    if not finite or len(timing.shot_seconds) != len(timing.shot_starts) + 1:
        return None
    return timing


def _processed_frames(dump: FaceDump, sorted_frames: np.ndarray) -> np.ndarray:
    """The sampled frames of a full dump (every frame when not given), checked against its faces."""
    if dump.processed_frames is None:
        last = int(sorted_frames[-1]) + 1 if len(sorted_frames) else 0
        return np.arange(max(int(dump.num_frames), last), dtype=np.uint32)
    processed = np.unique(np.asarray(dump.processed_frames, dtype=np.uint32))
    if len(sorted_frames) and not np.isin(sorted_frames, processed).all():
        raise ValueError("every face's frame must be among the processed frames")
    return processed


# Trailing shapes of the optional per-face datasets (first axis: one row per face).
_OPTIONAL = {"seg": (), "bbox": (4,), "quality": (), "chip_bbox": (5,), "chip": (150, 150, 3)}
_INTEGER = {"seg"}


def _embedder_of(path: Path, attrs: h5py.AttributeManager) -> EmbedderInfo:
    # The original wrote no embedder, metric or threshold: it used dlib's ResNet.
    return recorded_embedder(path, attrs, attr_text(attrs, "embedder", ORIGINAL_EMBEDDER))


def recorded_embedder(path: Path, attrs: h5py.AttributeManager, name: str) -> EmbedderInfo:
    """A file's embedder `name` with the metric and threshold it records, else its model's.

    An unknown metric, or a model this version does not know recorded without a threshold,
    is refused.
    """
    known = embedding_space(name)
    info = EmbedderInfo(
        name=name,
        metric=attr_text(attrs, "metric", known.metric if known else "euclidean"),
        threshold=attr_threshold(path, attrs, "threshold",
                                 known.threshold if known else float("nan")),
    )
    if info.metric not in METRICS:
        raise SkelshopError(path, f"embedding metric {info.metric!r} is not one this version "
                                  f"knows ({', '.join(METRICS)})")
    if np.isnan(info.threshold):
        raise SkelshopError(path, f"no threshold recorded for embedder {name!r}")
    return info


def read_face_dump(path: str | Path, with_chips: bool = False) -> FaceDump:
    """Read a sparse or full dump, ours or the original SkelShop's; every value is checked.

    Anything unusable (a damaged file, strings where numbers belong, shapes that do not fit,
    NaN or infinite embeddings) is a SkelshopError naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such face dump")
    try:
        h5 = h5py.File(path, "r")
    except OSError:
        raise SkelshopError(path, "not an HDF5 face dump") from None
    try:
        with h5:
            return _read_open_dump(path, h5, with_chips)
    except SkelshopError:
        raise
    except HDF5_READ_ERRORS as err:
        raise SkelshopError(path, f"damaged or unreadable face dump ({_reason(err)})") from None


def _reason(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _dataset(path: Path, grp: h5py.Group, name: str) -> h5py.Dataset | None:
    if name not in grp:
        return None
    node = grp[name]
    if not isinstance(node, h5py.Dataset):
        raise SkelshopError(path, f"/faces/{name} is a group, not a dataset")
    return node


def _per_face(path: Path, grp: h5py.Group, name: str, n: int) -> np.ndarray | None:
    """An optional per-face dataset, checked to hold one row of the right shape per face."""
    node = _dataset(path, grp, name)
    if node is None:
        return None
    values = numeric_array(path, node, f"/faces/{name} values", integer=name in _INTEGER)
    want = (n, *_OPTIONAL[name])
    if values.shape != want and not (n == 0 and values.size == 0):
        raise SkelshopError(path, f"/faces/{name} has shape {values.shape}, but {n} faces "
                                  f"need {want}")
    return values.reshape(want)


def _frame_numbers(path: Path, node: h5py.Dataset, what: str) -> np.ndarray:
    values = numeric_array(path, node, what, integer=True).astype(np.int64)
    if values.size and (values.min() < 0 or values.max() >= 2**32):
        raise SkelshopError(path, f"{what} hold numbers outside 0..{2**32 - 1}")
    return values


def _read_open_dump(path: Path, h5: h5py.File, with_chips: bool) -> FaceDump:
    if "faces" not in h5 or not isinstance(h5["faces"], h5py.Group) or "embed" not in h5["faces"]:
        raise SkelshopError(path, "not a face dump (no /faces/embed)")
    grp = h5["faces"]
    attrs = h5.attrs
    embed_node = _dataset(path, grp, "embed")
    assert embed_node is not None
    embed = numeric_array(path, embed_node, "embeddings (/faces/embed)").astype(np.float32)
    if embed.ndim == 1 and embed.size == 0:
        embed = embed.reshape(0, 0)
    if embed.ndim != 2:
        raise SkelshopError(path, f"embeddings (/faces/embed) have shape {embed.shape}, "
                                  "not one row per face")
    finite_rows(path, embed, "embeddings (/faces/embed)")
    n = len(embed)
    common = dict(
        video=attr_text(attrs, "video", ""),
        num_frames=attr_count(path, attrs, "num_frames", 0),
        fps=attr_number(path, attrs, "fps", 0.0),
        embedder=_embedder_of(path, attrs),
        embed=embed,
        **{name: _per_face(path, grp, name, n) for name in _OPTIONAL if name != "chip"},
        chip=_per_face(path, grp, "chip", n) if with_chips else None,
    )
    if common["fps"] < 0:  # type: ignore[operator]
        raise SkelshopError(path, f"attribute fps={common['fps']} is negative")
    frame_pers_node = _dataset(path, grp, "frame_pers")
    indices_node = _dataset(path, grp, "indices")
    if frame_pers_node is not None:
        frame_pers = _frame_numbers(path, frame_pers_node, "/faces/frame_pers values")
        if frame_pers.size == 0 and n == 0:
            frame_pers = frame_pers.reshape(0, 2)
        if frame_pers.shape != (n, 2):
            raise SkelshopError(path, f"/faces/frame_pers has shape {frame_pers.shape}, but "
                                      f"{n} faces need ({n}, 2): (frame, track) per face")
        return FaceDump(mode="sparse", frame=frame_pers[:, 0].astype(np.uint32),
                        pers=frame_pers[:, 1].astype(np.uint32), **common)
    if indices_node is not None:
        return _read_full(path, grp, indices_node, n, common)
    raise SkelshopError(path, "face dump has neither /faces/frame_pers nor /faces/indices")


def _read_full(path: Path, grp: h5py.Group, indices_node: h5py.Dataset, n: int,
               common: dict) -> FaceDump:
    """The three full layouts: indices per video frame (the original's, and ours with
    /faces/frame naming the sampled frames), or per sampled frame (our first version)."""
    indices = _frame_numbers(path, indices_node, "/faces/indices values").reshape(-1)
    counts = np.diff(np.concatenate([[0], indices]))
    if (len(counts) and counts.min() < 0) or (indices[-1] if len(indices) else 0) != n:
        raise SkelshopError(path, "face dump indices do not match its embeddings")
    frame_node = _dataset(path, grp, "frame")
    if frame_node is None:  # the original's: entry i is frame i, every frame processed
        processed = np.arange(len(indices), dtype=np.int64)
        entry_frame = processed
    else:
        processed = _frame_numbers(path, frame_node, "/faces/frame values").reshape(-1)
        if np.any(np.diff(processed) <= 0):
            raise SkelshopError(path, "/faces/frame (the sampled frames) is not increasing")
        if len(processed) == len(indices):  # one entry per sampled frame (or every frame)
            entry_frame = processed
        else:  # one entry per video frame; only sampled frames may hold faces
            entry_frame = np.arange(len(indices), dtype=np.int64)
            if len(processed) and processed[-1] >= len(indices):
                raise SkelshopError(path, f"/faces/frame names frame {int(processed[-1])}, "
                                          f"past the {len(indices)} frames of /faces/indices")
            unsampled = np.ones(len(indices), bool)
            unsampled[processed] = False
            if np.any(counts[unsampled] > 0):
                first = int(np.flatnonzero(unsampled & (counts > 0))[0])
                raise SkelshopError(path, f"/faces/indices puts faces at frame {first}, "
                                          "which /faces/frame says was not sampled")
    pers_node = _dataset(path, grp, "pers")
    if pers_node is None:  # the original lost track ids: number faces within each frame
        starts = np.repeat(indices - counts, counts)
        pers = np.arange(n) - starts
    else:
        pers = _frame_numbers(path, pers_node, "/faces/pers values").reshape(-1)
        if len(pers) != n:
            raise SkelshopError(path, f"/faces/pers has {len(pers)} track ids for {n} faces")
    return FaceDump(mode="full", frame=np.repeat(entry_frame, counts).astype(np.uint32),
                    pers=np.asarray(pers, dtype=np.uint32),
                    processed_frames=processed.astype(np.uint32), **common)


def check_same_embedder(a: EmbedderInfo | EmbeddingSpace, a_src: str | Path,
                        b: EmbedderInfo | EmbeddingSpace, b_src: str | Path) -> None:
    """Refuse (one line naming `b_src`) to compare embeddings of different spaces.

    Model names, metrics and dimensions must agree; pass a file's `.space` to have its
    vectors' dimension checked too (a bare EmbedderInfo stands for its model's known one).
    """
    space_of(a).check_comparable(space_of(b), a_src, b_src)


def read_dump_attrs(path: str | Path) -> dict | None:
    """The root attributes of a dump (cheap: no datasets read); None if it is not readable."""
    try:
        with h5py.File(path, "r") as h5:
            return dict(h5.attrs)
    except HDF5_READ_ERRORS:
        return None


def read_dump_space(path: str | Path) -> EmbeddingSpace | None:
    """The embedding space a dump records (cheap: no data read); None if it is not readable."""
    try:
        with h5py.File(path, "r") as h5:
            embed = h5.get("faces/embed")
            shape = getattr(embed, "shape", None) or ()
            return space_of(_embedder_of(Path(path), h5.attrs), shape[1] if len(shape) == 2 else 0)
    except (*HDF5_READ_ERRORS, SkelshopError):  # damaged or an unknown metric: not usable
        return None


def count_faces(path: str | Path) -> int:
    """Number of faces in a dump, from the embedding dataset's shape (no data read)."""
    try:
        with h5py.File(path, "r") as h5:
            return int(h5["faces/embed"].shape[0]) if "faces/embed" in h5 else 0
    except HDF5_READ_ERRORS:
        return 0
