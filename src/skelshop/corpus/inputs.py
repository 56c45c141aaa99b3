"""Turn command-line VIDEO arguments (files, folders, .txt lists) into a list of videos."""

from __future__ import annotations

from pathlib import Path

from skelshop.errors import SkelshopError

VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".avi", ".mov", ".webm", ".mpg", ".mpeg", ".ts", ".m4v", ".flv", ".wmv"})


def _list_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise SkelshopError(path, "not a video list: not UTF-8 text (one video path per line)") \
            from None
    except OSError as err:
        raise SkelshopError(path, f"cannot read: {err.strerror or err}") from None


def collect_videos(args: list[str | Path]) -> list[Path]:
    """Expand files, folders (searched recursively) and `.txt` lists into unique videos."""
    found: list[Path] = []
    for arg in map(Path, args):
        if arg.is_dir():
            found.extend(sorted(p for p in arg.rglob("*")
                                if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES))
        elif arg.suffix.lower() == ".txt" and arg.is_file():
            for lineno, line in enumerate(_list_lines(arg), 1):
                entry = line.strip()
                if not entry or entry.startswith("#"):
                    continue
                if "\0" in entry:
                    raise SkelshopError(arg, f"line {lineno}: holds a NUL byte; not a video list")
                path = Path(entry) if Path(entry).is_absolute() else arg.parent / entry
                if not path.is_file():
                    raise SkelshopError(arg, f"line {lineno}: no such video {entry!r}")
                found.append(path)
        elif arg.is_file():
            found.append(arg)
        else:
            raise SkelshopError(arg, "no such video, folder or list")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if not unique:
        raise SkelshopError(", ".join(map(str, args)), "no videos found")
    return unique
