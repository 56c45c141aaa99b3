"""Write a corpus run's report folder: index.html and, when asked, subtitles."""

from __future__ import annotations

from pathlib import Path

from skelshop.corpus.outdir_lock import outdir_lock
from skelshop.formats.atomic import atomic_text
from skelshop.output_guard import check_outputs
from skelshop.report.contents import gather, report_inputs
from skelshop.report.page import render
from skelshop.report.subtitles import write_subtitles


def build_report(out_dir: Path, subtitles: bool = False, named_only: bool = False,
                 corpus_base: Path | None = None) -> Path:
    """Read OUTDIR's identities and dumps, write OUTDIR/report/index.html; returns its path."""
    identities, corpus = report_inputs(out_dir)
    report_dir = out_dir / "report"
    index = report_dir / "index.html"
    check_outputs(inputs=[identities, corpus], files=[index],
                  folders=[report_dir, report_dir / "subtitles" if subtitles else None])
    # A run rewrites identities, dumps and the model while it works: a report read in
    # between would mix two runs, so the report holds OUTDIR like a run does.
    with outdir_lock(out_dir, command="report"):
        contents = gather(out_dir, corpus_base)
        with atomic_text(index) as handle:
            handle.write(render(contents, title=f"skelshop report: {out_dir.resolve().name}"))
        if subtitles:
            write_subtitles(contents, report_dir / "subtitles", named_only=named_only)
    return index
