"""The one reader and writer of face dumps (sparse and full HDF5 layouts, design.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_path

FMT_VER = 1
SPARSE = "sparse_faces"
FULL = "full_faces"
# Dumps written by the original SkelShop carry no embedder attributes; it used dlib's ResNet.
ORIGINAL_EMBEDDER = "dlib_face_recognition_resnet_model_v1"


@dataclass(frozen=True)
class EmbedderInfo:
    """What produced the embeddings: recorded in every file, checked before comparing."""

    name: str
    metric: str
    threshold: float


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
    extra_attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.embed.shape[1])


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


def write_face_dump(path: str | Path, dump: FaceDump) -> None:
    """Write a dump atomically in the sparse or full layout, as `dump.mode` says."""
    order = np.lexsort((dump.pers, dump.frame))
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as h5:
        grp = h5.create_group("faces")
        embed = np.asarray(dump.embed, dtype=np.float32)[order]
        if dump.mode == "sparse":
            h5.attrs.update(_attrs(dump, SPARSE))
            frame_pers = np.stack([dump.frame[order], dump.pers[order]], axis=1)
            grp.create_dataset("frame_pers", data=frame_pers.astype(np.uint32).reshape(-1, 2))
        elif dump.mode == "full":
            h5.attrs.update(_attrs(dump, FULL))
            processed = np.asarray(
                dump.processed_frames if dump.processed_frames is not None else [],
                dtype=np.uint32,
            )
            frames = dump.frame[order]
            if len(frames) and not np.isin(frames, processed).all():
                raise ValueError("every face's frame must be among the processed frames")
            indices = np.searchsorted(frames, processed, side="right")
            grp.create_dataset("indices", data=indices.astype(np.uint32))
            grp.create_dataset("frame", data=processed)
            grp.create_dataset("pers", data=dump.pers[order].astype(np.uint32))
        else:
            raise ValueError(f"unknown dump mode {dump.mode!r}")
        grp.create_dataset("embed", data=embed, chunks=True if len(embed) else None)
        optional = {
            "seg": (dump.seg, np.int32),
            "bbox": (dump.bbox, np.float32),
            "quality": (dump.quality, np.float32),
            "chip_bbox": (dump.chip_bbox, np.float32),
        }
        for name, (values, dtype) in optional.items():
            if values is not None:
                grp.create_dataset(name, data=np.asarray(values, dtype=dtype)[order])
        if dump.chip is not None:
            grp.create_dataset(
                "chip", data=np.asarray(dump.chip, dtype=np.uint8)[order],
                chunks=(1, *dump.chip.shape[1:]) if len(dump) else None,
                compression="gzip", compression_opts=4,
            )


def _embedder_of(attrs: h5py.AttributeManager) -> EmbedderInfo:
    return EmbedderInfo(
        name=str(attrs.get("embedder", ORIGINAL_EMBEDDER)),
        metric=str(attrs.get("metric", "euclidean")),
        threshold=float(attrs.get("threshold", 0.6)),
    )


def read_face_dump(path: str | Path, with_chips: bool = False) -> FaceDump:
    """Read a sparse or full dump, ours or the original SkelShop's."""
    path = Path(path)
    if not path.is_file():
        raise SkelshopError(path, "no such face dump")
    try:
        h5 = h5py.File(path, "r")
    except OSError:
        raise SkelshopError(path, "not an HDF5 face dump") from None
    with h5:
        if "faces" not in h5 or "embed" not in h5["faces"]:
            raise SkelshopError(path, "not a face dump (no /faces/embed)")
        grp = h5["faces"]
        attrs = h5.attrs
        embed = grp["embed"][()].astype(np.float32)
        if embed.ndim == 1:
            embed = embed.reshape(len(embed), -1)

        def opt(name: str) -> np.ndarray | None:
            return grp[name][()] if name in grp else None

        common = dict(
            video=str(attrs.get("video", "")),
            num_frames=int(attrs.get("num_frames", 0)),
            fps=float(attrs.get("fps", 0.0)),
            embedder=_embedder_of(attrs),
            embed=embed,
            seg=opt("seg"),
            bbox=opt("bbox"),
            quality=opt("quality"),
            chip_bbox=opt("chip_bbox"),
            chip=opt("chip") if with_chips else None,
        )
        if "frame_pers" in grp:
            frame_pers = grp["frame_pers"][()].reshape(-1, 2)
            dump = FaceDump(mode="sparse", frame=frame_pers[:, 0].astype(np.uint32),
                            pers=frame_pers[:, 1].astype(np.uint32), **common)
        elif "indices" in grp:
            indices = grp["indices"][()].astype(np.int64)
            processed = opt("frame")
            if processed is None:  # the original's full dumps hold every frame
                processed = np.arange(len(indices), dtype=np.uint32)
            counts = np.diff(np.concatenate([[0], indices]))
            if len(counts) and (counts.min() < 0 or indices[-1] != len(embed)):
                raise SkelshopError(path, "face dump indices do not match its embeddings")
            pers = opt("pers")
            if pers is None:  # the original lost track ids: number faces within each frame
                starts = np.repeat(indices - counts, counts)
                pers = np.arange(len(embed)) - starts
            dump = FaceDump(mode="full", frame=np.repeat(processed, counts).astype(np.uint32),
                            pers=np.asarray(pers, dtype=np.uint32),
                            processed_frames=processed.astype(np.uint32), **common)
        else:
            raise SkelshopError(path, "face dump has neither /faces/frame_pers nor /faces/indices")
    if len(dump.frame) != len(embed):
        raise SkelshopError(path, "face dump rows do not match its embeddings")
    return dump


def check_same_embedder(a: EmbedderInfo, a_src: str | Path, b: EmbedderInfo, b_src: str | Path) -> None:
    """Refuse to compare embeddings made by different models."""
    if a.name != b.name:
        raise SkelshopError(
            b_src, f"embedded by {b.name!r} but {a_src} was embedded by {a.name!r}; "
            "embeddings of different models cannot be compared",
        )


def read_dump_attrs(path: str | Path) -> dict | None:
    """The root attributes of a dump (cheap: no datasets read); None if it is not readable."""
    try:
        with h5py.File(path, "r") as h5:
            return dict(h5.attrs)
    except OSError:
        return None


def count_faces(path: str | Path) -> int:
    """Number of faces in a dump, from the embedding dataset's shape (no data read)."""
    try:
        with h5py.File(path, "r") as h5:
            return int(h5["faces/embed"].shape[0]) if "faces/embed" in h5 else 0
    except OSError:
        return 0
