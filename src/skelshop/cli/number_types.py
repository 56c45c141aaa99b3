"""Click option types for numbers that must be finite (click's FloatRange lets NaN through)."""

from __future__ import annotations

import math

import click


class FiniteFloat(click.ParamType):
    """A finite float at least (or, with `open_min`, above) `minimum`: no NaN, no infinity."""

    name = "float"

    def __init__(self, minimum: float | None = None, open_min: bool = False):
        self.minimum = minimum
        self.open_min = open_min

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        """The value as a float, or a usage error saying what is allowed."""
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.minimum is not None:
            too_small = number <= self.minimum if self.open_min else number < self.minimum
            if too_small:
                bound = ">" if self.open_min else ">="
                self.fail(f"{value!r} is not {bound} {self.minimum:g}", param, ctx)
        return number
