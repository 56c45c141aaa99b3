"""The `skelshop` root command: logging flags, error reporting, command groups."""

from __future__ import annotations

import logging
import signal
import sys

import click

from skelshop.cli.corpus import corpus
from skelshop.cli.evaluate import evaluate_command
from skelshop.cli.face import face
from skelshop.cli.iden import iden
from skelshop.cli.report import report
from skelshop.cli.samples import samples
from skelshop.cli.shots import shots
from skelshop.errors import SkelshopError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.option("-q", "--quiet", count=True, help="Less logging and no progress bars.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Person identification in video corpora."""
    level = logging.WARNING - 10 * verbose + 10 * quiet
    logging.basicConfig(
        level=max(logging.DEBUG, level),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # PySceneDetect installs its own INFO-level logger; make it follow our flags.
    logging.getLogger("pyscenedetect").setLevel(max(logging.WARNING, level))
    ctx.ensure_object(dict)
    ctx.obj["progress"] = quiet == 0


cli.add_command(shots)
cli.add_command(face)
cli.add_command(samples)
cli.add_command(iden)
cli.add_command(corpus)
cli.add_command(report)
cli.add_command(evaluate_command)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: run the CLI, turning input problems into one line and exit code 2."""
    # SIGTERM unwinds like Ctrl-C, so temp outputs are removed and nothing half-written stays.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = cli.main(standalone_mode=False)
    except SkelshopError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)
