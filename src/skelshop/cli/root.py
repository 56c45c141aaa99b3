"""The `skelshop` command group: global options (logging, the original's flags) and commands."""

from __future__ import annotations

import logging
import sys

import click

from skelshop import __version__
from skelshop.cli.corpus import corpus
from skelshop.cli.evaluate import evaluate_command
from skelshop.cli.face import face
from skelshop.cli.iden import iden
from skelshop.cli.report import report
from skelshop.cli.samples import samples
from skelshop.cli.shots import shots

LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# Libraries that log at INFO on their own (PyAV's libav messages, PySceneDetect, Dask).
_CHATTY_LOGGERS = ("libav", "pyscenedetect", "distributed", "dask", "numba", "h5py", "PIL")

log = logging.getLogger("skelshop")


def _configure_logging(verbose: int, quiet: int, level_name: str | None) -> int:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    if level_name:
        level = getattr(logging, level_name.upper())
    level = max(logging.DEBUG, level)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr, force=True)
    # Others' INFO lines are noise to our users: they follow our level but never below WARNING
    # unless debugging was asked for.
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else
                                         max(logging.WARNING, level))
    return level


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="skelshop")
@click.option("-v", "--verbose", count=True,
              help="More logging (-vv for debug); the original's `-v LEVEL` works too.")
@click.option("-q", "--quiet", count=True, help="Less logging and no progress bars.")
@click.option("--verbosity", "log_level", type=click.Choice(LEVELS, case_sensitive=False),
              default=None, metavar="LEVEL", help="Log level by name (the original's option).")
@click.option("--ffprobe-bin", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Accepted for the original's command lines. skelshop reads videos with the "
                   "FFmpeg inside PyAV, so no ffprobe binary is needed or used.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int, log_level: str | None,
        ffprobe_bin: str | None) -> None:
    """Person identification in video corpora: shots, face tracks, references, clustering."""
    _configure_logging(verbose, quiet, log_level)
    if ffprobe_bin:
        log.info("--ffprobe-bin %s: not needed, videos are read with PyAV", ffprobe_bin)
    ctx.ensure_object(dict)
    ctx.obj["progress"] = quiet == 0


cli.add_command(shots)
cli.add_command(face)
cli.add_command(samples)
cli.add_command(iden)
cli.add_command(corpus)
cli.add_command(report)
cli.add_command(evaluate_command)


def original_global_options(argv: list[str]) -> list[str]:
    """Rewrite the original's `-v LEVEL` (before the command name) to `--verbosity LEVEL`."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg in cli.commands:  # global options end at the command name
            return out + argv[i:]
        if arg == "-v" and i + 1 < len(argv) and argv[i + 1].upper() in LEVELS:
            out.append("--verbosity")
        else:
            out.append(arg)
    return out
