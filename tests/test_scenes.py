"""Scene files: both PySceneDetect layouts, ffprobe cut lists, our writer."""

from pathlib import Path

import numpy as np
import pytest

from skelshop.errors import SkelshopError
from skelshop.formats.scenes import ShotList, read_shots, write_shots_csv

HEADER = (
    "Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,"
    "End Time (seconds),Length (frames),Length (timecode),Length (seconds)\n"
)


def test_current_layout_is_one_based(tmp_path: Path) -> None:
    path = tmp_path / "v-Scenes.csv"
    path.write_text(
        "Timecode List:,00:00:04.000\n" + HEADER
        + "1,1,00:00:00.000,0.000,100,00:00:04.000,4.000,100,00:00:04.000,4.000\n"
        + "2,101,00:00:04.000,4.000,250,00:00:10.000,10.000,150,00:00:06.000,6.000\n"
    )
    shots = read_shots(path)
    assert shots.starts.tolist() == [0, 100]
    assert shots.end == 250
    assert shots.bounds(1) == (100, 250)
    assert shots.shot_of(np.array([0, 99, 100, 249])).tolist() == [0, 0, 1, 1]


def test_old_layout_is_zero_based(tmp_path: Path) -> None:
    path = tmp_path / "v-Scenes.csv"
    path.write_text(
        "Timecode List:,00:00:04.000\n" + HEADER
        + "1,0,00:00:00.000,0.000,100,00:00:04.000,4.000,100,00:00:04.000,4.000\n"
        + "2,100,00:00:04.000,4.000,250,00:00:10.000,10.000,150,00:00:06.000,6.000\n"
    )
    shots = read_shots(path)
    assert shots.starts.tolist() == [0, 100]
    assert shots.end == 250


def test_ffprobe_cut_list(tmp_path: Path) -> None:
    path = tmp_path / "cuts.txt"
    path.write_text("120\n\n300\n")
    shots = read_shots(path)
    assert shots.starts.tolist() == [0, 120, 300]
    assert shots.end is None
    assert read_shots(tmp_path / "cuts.txt", "ffprobe").starts.tolist() == [0, 120, 300]


def test_empty_cut_list_is_one_shot(tmp_path: Path) -> None:
    path = tmp_path / "cuts.txt"
    path.write_text("")
    assert len(read_shots(path)) == 1


def test_roundtrip_through_our_writer(tmp_path: Path) -> None:
    shots = ShotList.from_cuts([50, 80], 200)
    write_shots_csv(tmp_path / "s.csv", shots, 25.0)
    again = read_shots(tmp_path / "s.csv")
    assert again.starts.tolist() == [0, 50, 80]
    assert again.end == 200
    write_shots_csv(tmp_path / "one.csv", ShotList.from_cuts([], 10), 25.0)
    assert read_shots(tmp_path / "one.csv").bounds(0) == (0, 10)


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("x.csv", "hello,world\n", "no 'Start Frame' header"),
        ("x.csv", HEADER + "1,a,b\n", "bad scene row"),
        ("x.txt", "12\nabc\n", "not a frame number"),
    ],
)
def test_bad_scene_files(tmp_path: Path, name: str, text: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SkelshopError, match=problem) as info:
        read_shots(path)
    assert info.value.path == str(path)


def test_missing_scene_file(tmp_path: Path) -> None:
    with pytest.raises(SkelshopError, match="no such scenes file"):
        read_shots(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("-50\n", "line 1: frame number '-50' is negative"),
        ("10\ninf\n", "line 2: frame number 'inf' is not a finite number"),
        ("nan\n", "not a finite number"),
        ("1e30\n", "line 1: frame number '1e30' is beyond any video's length"),
        ("99999999999999999999999\n", "beyond any video's length"),
        ("12.5\n", "not a whole number"),
        ("\n\n\n", "3 blank line(s) and no frame numbers: a broken cut extraction"),
        (" \n", "a broken cut extraction"),
    ],
)
def test_bad_ffprobe_cut_lists(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "cuts.txt"
    path.write_text(text)
    with pytest.raises(SkelshopError) as info:
        read_shots(path)
    assert info.value.path == str(path)
    assert problem in info.value.problem


def test_cut_lines_are_remembered_for_messages(tmp_path: Path) -> None:
    path = tmp_path / "cuts.txt"
    path.write_text("300\n\n120\n120\n0\n")
    shots = read_shots(path)
    assert shots.starts.tolist() == [0, 120, 300]
    assert [shots.line_of(i) for i in range(3)] == [None, 3, 1]
    assert shots.seconds is None and shots.shot_seconds(1) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Scene Number,Start Frame\n1,1\n", "line 1: no 'End Frame' column"),
        (HEADER + "1,1,00:00:00.000,0.000\n", "line 2: bad scene row (too few columns)"),
        (HEADER + "1,1,a,0,1e30,b,0,1,c,0\n", "line 2: end frame '1e30' is beyond"),
        (HEADER + "1,-1,a,0,10,b,0,1,c,0\n", "line 2: start frame '-1' is negative"),
        (HEADER + "1,1,a,0,0,b,0,1,c,0\n", "the last scene ends (frame 0) before it starts"),
    ],
)
def test_bad_psd_files(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(text)
    with pytest.raises(SkelshopError) as info:
        read_shots(path)
    assert problem in info.value.problem


def test_binary_scenes_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cuts.txt"
    path.write_bytes(b"12\n\x00\x01\x02\n")
    with pytest.raises(SkelshopError, match="binary"):
        read_shots(path)


def test_true_times_are_written_and_read_back(tmp_path: Path) -> None:
    """A variable-rate video: frame 55 is at 5.167 s, not 55 / fps."""
    frame_times = np.array([i / 30 if i < 10 else 0.3 + (i - 10) / 6 for i in range(110)])
    shots = ShotList.from_cuts([55], 110).with_times(frame_times, 18.6)
    assert shots.shot_seconds(1) == pytest.approx((frame_times[55], 18.6))
    write_shots_csv(tmp_path / "s.csv", shots, 10.6)
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert rows[0] == f"Timecode List:,00:00:{frame_times[55]:06.3f}"
    again = read_shots(tmp_path / "s.csv")
    assert again.starts.tolist() == [0, 55] and again.end == 110
    assert again.seconds == pytest.approx([0.0, round(frame_times[55], 3), 18.6])


def test_csv_without_times_falls_back_to_frames(tmp_path: Path) -> None:
    write_shots_csv(tmp_path / "s.csv", ShotList.from_cuts([50], 100), 25.0)
    assert read_shots(tmp_path / "s.csv").shot_seconds(1) == pytest.approx((2.0, 4.0))
    path = tmp_path / "bare.csv"
    path.write_text("Scene Number,Start Frame,End Frame\n1,1,50\n2,51,100\n")
    assert read_shots(path).seconds is None
