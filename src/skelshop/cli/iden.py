"""`skelshop iden`: reference building, identification, clustering and naming commands."""

from __future__ import annotations

import click


@click.group()
def iden() -> None:
    """Identify people: references, direct identification, clustering, naming."""


# Each command family lives in its own module and registers itself below.
