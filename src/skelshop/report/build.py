"""Write a corpus run's report folder: index.html and, when asked, subtitles."""

from __future__ import annotations

from pathlib import Path

from skelshop.errors import SkelshopError
from skelshop.formats.atomic import atomic_text
from skelshop.report.contents import gather
from skelshop.report.page import render
from skelshop.report.subtitles import write_subtitles


def build_report(out_dir: Path, subtitles: bool = False) -> Path:
    """Read OUTDIR's identities and dumps, write OUTDIR/report/index.html; returns its path."""
    if not (out_dir / "identities.csv").is_file():
        raise SkelshopError(out_dir, "no identities.csv here; run `skelshop corpus run` first")
    contents = gather(out_dir)
    report_dir = out_dir / "report"
    index = report_dir / "index.html"
    with atomic_text(index) as handle:
        handle.write(render(contents, title=f"skelshop report: {out_dir.resolve().name}"))
    if subtitles:
        write_subtitles(contents, report_dir / "subtitles")
    return index
