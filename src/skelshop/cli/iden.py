"""`skelshop iden`: reference building, identification, clustering and naming commands."""

from __future__ import annotations

import click


@click.group()
def iden() -> None:
    """Identify people: references, direct identification, clustering, naming."""


# Each command family lives in its own module and registers itself below.

from skelshop.cli.iden_refs import buildrefs, embedrefs, idsegsfull, idsegssparse  # noqa: E402

iden.add_command(buildrefs)
iden.add_command(embedrefs)
iden.add_command(idsegssparse)
iden.add_command(idsegsfull)

from skelshop.cli.iden_naming import NAMING_COMMANDS  # noqa: E402

for _command in NAMING_COMMANDS:
    iden.add_command(_command)

from skelshop.cli.iden_clus import clus  # noqa: E402

iden.add_command(clus)
