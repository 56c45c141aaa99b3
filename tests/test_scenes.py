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
