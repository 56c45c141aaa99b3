"""`skelshop report` holds OUTDIR like `corpus run`: a report during a run is refused."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from skelshop.corpus.outdir_lock import LOCK_NAME
from skelshop.formats.corpus import write_corpus
from skelshop.formats.corpus_identities import write_corpus_identities


def test_report_during_a_run_is_refused_naming_the_run(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus.csv", [])
    write_corpus_identities(tmp_path / "identities.csv", [])
    run = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_NAME).write_text(
            f'{{"pid": {run.pid}, "host": "{socket.gethostname()}", "since": 0, '
            '"command": "corpus run"}')
        proc = subprocess.run([sys.executable, "-m", "skelshop", "report", str(tmp_path)],
                              capture_output=True, text=True, check=False, timeout=120)
    finally:
        run.kill()
        run.wait()
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {tmp_path}: in use by skelshop process {run.pid} on host")
    assert "running `skelshop corpus run`" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "report" / "index.html").exists()
    # The run is gone: its lock is stale, the report takes it over, reads the (empty) corpus
    # and releases the lock on its way out.
    proc = subprocess.run([sys.executable, "-m", "skelshop", "report", str(tmp_path)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.stderr == f"error: {tmp_path / 'corpus.csv'}: the corpus has no videos\n"
    assert not (tmp_path / LOCK_NAME).exists()
