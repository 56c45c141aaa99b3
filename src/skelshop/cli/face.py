"""`skelshop face`: face detection, tracking and embedding from video."""

from __future__ import annotations

import click

from skelshop.cli.detection_options import detection_options
from skelshop.cli.embedder_options import embedder_options
from skelshop.cli.number_types import FiniteFloat
from skelshop.faces.settings import DEFAULT_FPS, DEFAULT_PER_TRACK, MODES
from skelshop.formats.scene_formats import SCENE_FORMATS


@click.group()
def face() -> None:
    """Faces from video: detect, track within shots, embed."""


@face.command()
@click.argument("video", type=click.Path(dir_okay=False))
@click.argument("scenes", type=click.Path(dir_okay=False))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--mode", type=click.Choice(MODES), default="sparse", show_default=True,
              help="sparse: the best faces of each (shot, track); full: every face of every sampled frame.")
@click.option("--fps", type=FiniteFloat(0), default=DEFAULT_FPS, show_default=True,
              help="Frames per second to sample, by the frames' timestamps (0 = every frame).")
@click.option("--per-track", type=click.IntRange(min=1), default=DEFAULT_PER_TRACK,
              show_default=True, help="Sparse mode: faces kept per (shot, track).")
@click.option("--write-chips/--no-write-chips", default=False, show_default=True,
              help="Also store the aligned 150x150 face chips.")
@click.option("--group-fmt", type=click.Choice(SCENE_FORMATS), default=None,
              help="Scenes file format (default: by suffix, .txt = ffprobe cut list).")
@detection_options
@embedder_options
@click.pass_context
def embed(ctx: click.Context, video: str, scenes: str, out: str, mode: str, fps: float,
          per_track: int, write_chips: bool, group_fmt: str | None, min_face: int,
          full_detect: float, embedder: str, embedder_backend: str) -> None:
    """Read VIDEO and its SCENES, write the face dump OUT (HDF5: tracks, embeddings).

    Frame numbers in SCENES and OUT are decoded frames (0-based in OUT); OUT also records
    every frame's and every shot's time from the frames' timestamps (/timing).
    """
    from skelshop.faces.models import make_embedder
    from skelshop.faces.pipeline import FaceExtractor
    from skelshop.formats.face_dump import write_face_dump
    from skelshop.formats.scenes import read_shots
    from skelshop.media.video import probe_video
    from skelshop.output_guard import check_outputs

    check_outputs(inputs=[video, scenes], files=[out])
    probe_video(video)
    shot_list = read_shots(scenes, group_fmt)
    extractor = FaceExtractor(embedder=make_embedder(embedder, embedder_backend))
    dump, stats = extractor.extract(video, shot_list, mode=mode, fps=fps or None,
                                    per_track=per_track, write_chips=write_chips,
                                    progress=ctx.obj["progress"], scenes_path=scenes,
                                    min_face=min_face, full_detect=full_detect)
    write_face_dump(out, dump)
    per_minute = stats.wall_seconds / (stats.video_seconds / 60) if stats.video_seconds else 0.0
    click.echo(
        f"{video}: {stats.shots} shots, {stats.tracks} tracks, {stats.faces_written} faces "
        f"({stats.faces_detected} detected in {stats.frames_sampled} sampled frames), "
        f"{per_minute:.1f} s per video minute -> {out}",
        err=True,
    )
