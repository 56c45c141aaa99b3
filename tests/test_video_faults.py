"""`shots detect` and `face embed` on bad inputs and faults: one line, no output, inputs intact."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from made_videos import assert_one_error_line, make_video, run_cli, scenery

HEAVY = ("numpy", "h5py", "av", "cv2", "scenedetect", "dlib", "sklearn", "distributed", "scipy")


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50-frame constant-rate scenery video (no faces)."""
    return make_video(tmp_path_factory.mktemp("faults") / "scenery.mp4", scenery(50))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow  # face embed runs the models until the decoder reaches the cut
@pytest.mark.parametrize("kind", ["mkv", "faststart-mp4"])
def test_truncated_video_is_refused_by_both_commands(kind: str, tmp_path: Path) -> None:
    """Half of a complete file: its header still declares 480 frames / 19.2 s."""
    ext, options = ("mkv", {}) if kind == "mkv" else ("mp4", {"movflags": "faststart"})
    whole = make_video(tmp_path / f"whole.{ext}", scenery(480), options=options)
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "s.csv"
    line = assert_one_error_line(run_cli("shots", "detect", cut, out), cut, out)
    assert "truncated" in line
    (tmp_path / "cuts.txt").write_text("10\n")
    dump = tmp_path / "f.h5"
    line = assert_one_error_line(run_cli("face", "embed", cut, tmp_path / "cuts.txt", dump),
                                 cut, dump)
    assert "truncated" in line


@pytest.mark.parametrize(("option", "value"), [
    ("--threshold", "-5"), ("--threshold", "0"), ("--threshold", "nan"), ("--threshold", "inf"),
    ("--min-shot-frames", "-3"), ("--min-shot-frames", "0"), ("--min-shot-frames", "nan"),
])
def test_shots_detect_refuses_bad_settings(option: str, value: str, video: Path,
                                           tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    assert_one_error_line(run_cli("shots", "detect", video, out, option, value), option, out)


@pytest.mark.parametrize(("option", "value"), [
    ("--fps", "-5"), ("--fps", "nan"), ("--fps", "inf"), ("--fps", "-inf"), ("--fps", "x"),
    ("--per-track", "0"),
])
def test_face_embed_refuses_bad_settings(option: str, value: str, video: Path,
                                         tmp_path: Path) -> None:
    scenes, out = tmp_path / "cuts.txt", tmp_path / "f.h5"
    scenes.write_text("")
    assert_one_error_line(run_cli("face", "embed", video, scenes, out, option, value),
                          option, out)


def test_detect_settings_are_checked_in_the_library_too(video: Path) -> None:
    from skelshop.errors import SkelshopError
    from skelshop.shots.detect import detect_shots

    for threshold, min_frames in ((-5.0, 15), (float("nan"), 15), (27.0, -3)):
        with pytest.raises(SkelshopError, match=r"--threshold|--min-shot-frames"):
            detect_shots(video, threshold, min_frames)


def test_outputs_never_overwrite_inputs(video: Path, tmp_path: Path) -> None:
    scenes = tmp_path / "s.csv"
    assert run_cli("shots", "detect", video, scenes).returncode == 0
    before = {p: _digest(p) for p in (video, scenes)}
    link = tmp_path / "link.csv"
    link.symlink_to(scenes)
    runs = [
        (("shots", "detect", video, video), video),
        (("face", "embed", video, scenes, video), video),
        (("face", "embed", video, scenes, scenes), scenes),
        (("face", "embed", video, scenes, link), link),
    ]
    for args, out in runs:
        proc = run_cli(*args)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {out}"), proc.stderr
        assert {p: _digest(p) for p in before} == before


@pytest.mark.parametrize(("text", "problem"), [
    ("20\n50\n", "line 2: cut at frame 50 is past the end of the video"),
    ("20\n\n70\n30\n", "line 3: cut at frame 70 is past the end"),
    ("\n\n\n", "blank line"),
    ("-50\n", "line 1: frame number '-50' is negative"),
    ("inf\n", "not a finite number"),
    ("1e30\n", "beyond any video"),
])
def test_bad_cut_lists_are_refused(text: str, problem: str, video: Path, tmp_path: Path) -> None:
    scenes, out = tmp_path / "cuts.txt", tmp_path / "f.h5"
    scenes.write_text(text)
    line = assert_one_error_line(run_cli("face", "embed", video, scenes, out), scenes, out)
    assert problem in line


def test_scenes_csv_without_end_frame_is_refused(video: Path, tmp_path: Path) -> None:
    scenes, out = tmp_path / "s.csv", tmp_path / "f.h5"
    scenes.write_text("Scene Number,Start Frame,Start Time (seconds)\n1,1,0.0\n")
    line = assert_one_error_line(run_cli("face", "embed", video, scenes, out), scenes, out)
    assert "no 'End Frame' column" in line


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted for the test (we need root for this; skipped otherwise)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs for the full-disk test (needs root): "
                    f"{proc.stderr.strip() or proc.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> None:
    with (folder / "filler").open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass


@pytest.mark.slow  # face embed runs the models on the video before writing
def test_full_disk_is_one_line_for_both_commands(video: Path, tiny_disk: Path,
                                                 tmp_path: Path) -> None:
    _fill(tiny_disk)
    scenes = tmp_path / "s.csv"
    assert run_cli("shots", "detect", video, scenes).returncode == 0
    for args, out in (
        (("shots", "detect", video, tiny_disk / "s.csv"), tiny_disk / "s.csv"),
        (("face", "embed", video, scenes, tiny_disk / "f.h5"), tiny_disk / "f.h5"),
    ):
        proc = run_cli(*args)
        line = assert_one_error_line(proc, out, out)
        assert proc.returncode == 2
        assert line == f"error: {out}: No space left on device"
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]


WRITE_BIG_DUMP = """
import sys
import numpy as np
from skelshop.errors import SkelshopError
from skelshop.formats.face_dump import EmbedderInfo, FaceDump, write_face_dump
n = 100  # 100 random 150x150 chips: ~6 MB, gzip cannot shrink noise into 1 MiB
rng = np.random.default_rng(0)
dump = FaceDump(mode="sparse", video="v.mp4", num_frames=n, fps=25.0,
                embedder=EmbedderInfo("dlib", "euclidean", 0.6),
                frame=np.arange(n, dtype=np.uint32), pers=np.zeros(n, np.uint32),
                embed=rng.random((n, 128), dtype=np.float32),
                chip=rng.integers(0, 255, (n, 150, 150, 3), dtype=np.uint8))
try:
    write_face_dump(sys.argv[1], dump)
except SkelshopError as err:
    print(f"error: {err}")
"""


def test_dump_larger_than_the_disk_fails_cleanly_without_crashing(tiny_disk: Path) -> None:
    """HDF5's own driver segfaulted at exit after 'No space left on device' (rc 139)."""
    out = tiny_disk / "big.h5"
    proc = subprocess.run([sys.executable, "-c", WRITE_BIG_DUMP, str(out)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.strip() == f"error: {out}: No space left on device"
    assert proc.stderr == ""
    assert list(tiny_disk.iterdir()) == []


def test_cli_modules_import_nothing_heavy() -> None:
    code = ("import sys, skelshop.cli.face, skelshop.cli.shots; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == ""


def test_old_constant_names_still_import() -> None:
    from skelshop.faces.pipeline import DEFAULT_FPS, DEFAULT_PER_TRACK, MODES
    from skelshop.faces.settings import DEFAULT_FPS as LIGHT_FPS
    from skelshop.formats.scenes import SCENE_FORMATS
    from skelshop.shots.detect import DEFAULT_MIN_SHOT_FRAMES, DEFAULT_THRESHOLD

    assert (DEFAULT_FPS, DEFAULT_PER_TRACK, MODES) == (LIGHT_FPS, 3, ("sparse", "full"))
    assert SCENE_FORMATS == ("psd", "ffprobe")
    assert (DEFAULT_THRESHOLD, DEFAULT_MIN_SHOT_FRAMES) == (27.0, 15)


def test_scenes_csv_on_a_full_disk_names_the_output(tiny_disk: Path) -> None:
    from skelshop.errors import SkelshopError
    from skelshop.formats.scenes import ShotList, write_shots_csv

    _fill(tiny_disk)
    out = tiny_disk / "v-Scenes.csv"
    with pytest.raises(SkelshopError) as info:
        write_shots_csv(out, ShotList.from_cuts(list(range(10, 2000, 10)), 2000), 25.0)
    assert str(info.value) == f"{out}: No space left on device"
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]
