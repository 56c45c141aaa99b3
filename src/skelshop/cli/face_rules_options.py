"""The options of the rules that keep unknown faces from being named (light: click only)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from skelshop.identify.settings import (
    DEFAULT_AGREEMENT,
    DEFAULT_CALIBRATE,
    DEFAULT_MARGIN,
    DEFAULT_MIN_CLARITY,
    DEFAULT_MIN_FACE_PX,
    DEFAULT_MIN_VOTES,
    FaceRules,
)

_NAMES = ("main_rules", "min_face_px", "min_clarity", "margin", "min_votes", "agreement",
          "calibrate")


def face_rules_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the face-rule options to a command; it receives them as one `rules` argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _NAMES}
        rules = FaceRules.main() if values.pop("main_rules") else FaceRules(**values)
        return func(*args, rules=rules, **kwargs)

    options = [
        click.option("--min-face-px", type=click.FloatRange(0), default=DEFAULT_MIN_FACE_PX,
                     show_default=True, help="Faces shorter than this (pixels) do not vote."),
        click.option("--min-clarity", type=click.FloatRange(0, 1), default=DEFAULT_MIN_CLARITY,
                     show_default=True,
                     help="Faces less clear than this (detector score x sharpness) do not vote."),
        click.option("--margin", type=click.FloatRange(0), default=DEFAULT_MARGIN,
                     show_default=True,
                     help="A face votes for its nearest person only when the second nearest "
                          "is this much farther."),
        click.option("--min-votes", type=click.IntRange(1), default=DEFAULT_MIN_VOTES,
                     show_default=True, help="Votes of a track's faces a person needs."),
        click.option("--agreement", type=click.FloatRange(0, 1), default=DEFAULT_AGREEMENT,
                     show_default=True,
                     help="Fraction of a track's voting faces that must vote for the person."),
        click.option("--calibrate/--no-calibrate", default=DEFAULT_CALIBRATE, show_default=True,
                     help="Tighter radius for people whose reference images lie far apart."),
        click.option("--main-rules", is_flag=True,
                     help="No rule: every face within the threshold counts for every person "
                          "(the behaviour before these rules)."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
