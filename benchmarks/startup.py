"""Start-up time of the command line: `skelshop --help` and `skelshop COMMAND --help`.

Each command line runs as a fresh process (as a user's would), repeated; the table shows the
best and the median wall time, beside `python -c pass` (the interpreter's own floor) and
`python -c "import numpy"` (what a single heavy import would add).
Usage: python benchmarks/startup.py [--repeat 7] [--out benchmarks/results/startup.txt]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = [
    [], ["shots", "detect"], ["face", "embed"], ["corpus", "run"], ["report"], ["eval"],
    ["samples", "demo"], ["iden"], ["iden", "buildrefs"], ["iden", "embedrefs"],
    ["iden", "idsegssparse"], ["iden", "idsegsfull"], ["iden", "clus", "fixed"],
    ["iden", "writeprotos"], ["iden", "whoisthis"], ["iden", "idclus"], ["iden", "idrnnclus"],
    ["iden", "applymap"],
]


def timed(argv: list[str], repeat: int) -> list[float]:
    """Wall seconds of `repeat` runs of one command line."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    """Print the table and save it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results/startup.txt")
    args = parser.parse_args()
    rows = [("python -c pass", timed([sys.executable, "-c", "pass"], args.repeat)),
            ("python -c 'import numpy'", timed([sys.executable, "-c", "import numpy"],
                                               args.repeat))]
    for cmd in COMMANDS:
        argv = [sys.executable, "-m", "skelshop", *cmd, "--help"]
        rows.append((" ".join(["skelshop", *cmd, "--help"]), timed(argv, args.repeat)))
    load = os.getloadavg()
    lines = [f"# benchmarks/startup.py, {args.repeat} runs each; {platform.machine()}, "
             f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
             f"{time.strftime('%Y-%m-%d %H:%M')}",
             f"{'command line':<40} {'best s':>7} {'median s':>9}"]
    for name, times in rows:
        lines.append(f"{name:<40} {min(times):>7.3f} {statistics.median(times):>9.3f}")
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
