"""Entry point of `skelshop`: signals from the first instant, one line for every failure."""

from __future__ import annotations

import contextlib
import signal
import sys


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C so temp outputs are removed; exits 143, not 130."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


# Installed before anything heavy is imported; main() imports the commands inside its `try`,
# so even a signal during start-up ends in the one-line `interrupted`, never a traceback.
signal.signal(signal.SIGTERM, _terminate)
# A shell starts background jobs with SIGINT ignored, and Python then keeps it ignored; but an
# explicit `kill -INT` (or Ctrl-C) sent to skelshop means stop, wherever it was started from.
signal.signal(signal.SIGINT, signal.default_int_handler)


def _usage_error(err: object) -> str:
    """A click usage error as one line: the command, the problem, where to get help."""
    ctx = getattr(err, "ctx", None)
    command = ctx.command_path if ctx is not None else "skelshop"
    message = " ".join(err.format_message().split())  # type: ignore[attr-defined]
    return f"error: {command}: {message} (see `{command} --help`)"


def _os_error(err: OSError) -> str:
    path = err.filename or "?"
    reason = err.strerror or str(err) or type(err).__name__
    return f"error: {path}: {reason}"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every failure becomes one line on stderr and a non-zero exit."""
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        import logging

        import click

        from skelshop.errors import SkelshopError

        try:
            from skelshop.cli.root import cli, original_global_options

            args = original_global_options(list(sys.argv[1:] if argv is None else argv))
            # Not cli.main(): it turns Ctrl-C into Abort after printing a blank line.
            with cli.make_context("skelshop", args) as ctx:
                code = cli.invoke(ctx)
        except click.exceptions.Exit as done:  # --help, --version, ctx.exit(n)
            code = done.exit_code
        except SkelshopError as err:
            _leave(f"error: {err}", 2)
        except click.exceptions.Abort:
            _leave("aborted", 130)
        except click.UsageError as err:
            if isinstance(err, click.exceptions.NoArgsIsHelpError) and err.ctx is not None:
                _leave(err.ctx.get_help(), err.exit_code)  # a group without a command: its help
            _leave(_usage_error(err), err.exit_code)
        except click.ClickException as err:
            _leave(f"error: {' '.join(err.format_message().split())}", err.exit_code)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BrokenPipeError:  # `skelshop ... | head`: the reader left, nothing to say
            _quiet_stdout()
            sys.exit(141)
        except MemoryError:
            _leave("error: out of memory", 1)
        except OSError as err:  # a full disk, a permission, a vanished file not foreseen
            logging.getLogger("skelshop").debug("OS error", exc_info=True)
            _leave(_os_error(err), 1)
        except Exception as err:  # never a traceback on a user's screen; -vv shows it
            logging.getLogger("skelshop").debug("internal error", exc_info=True)
            reason = " ".join(str(err).split())[:300]
            _leave(f"error: internal error ({type(err).__name__}: {reason}); run with -vv "
                   "for the traceback and report it", 1)
    except Terminated:
        _leave("interrupted", 143)
    except KeyboardInterrupt:
        _leave("interrupted", 130)
    if isinstance(code, int) and code:
        sys.exit(code)


def _leave(line: str, code: int) -> None:
    # A second signal while reporting the first must not print a traceback either.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)
    sys.exit(code)


def _quiet_stdout() -> None:
    # Python flushes stdout at exit; point it at /dev/null so that flush cannot fail again.
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
