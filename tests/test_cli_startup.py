"""Start-up stays fast: the command line imports no heavy library until a command runs."""

from __future__ import annotations

import json
import subprocess
import sys

# Each of these costs 0.1-1 s to import; `skelshop COMMAND --help` must not pay for any.
HEAVY = ("numpy", "scipy", "cv2", "h5py", "av", "dlib", "yuface", "sklearn", "scenedetect",
         "distributed", "dask", "numba", "faiss", "pynndescent", "onnxruntime", "onnx", "PIL",
         "requests", "tqdm")

PROBE = """
import json, sys
import click
from skelshop.cli.root import cli

def walk(cmd, path):
    yield path
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(None):
            yield from walk(cmd.get_command(None, name), path + [name])

paths = list(walk(cli, []))
for path in paths:  # render every help page, as `skelshop ... --help` would
    ctx = cli.make_context("skelshop", path + ["--help"], resilient_parsing=True)
    sub = cli
    for name in path:
        sub = sub.get_command(ctx, name)
    with click.Context(sub, info_name=" ".join(["skelshop", *path])) as c:
        sub.get_help(c)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in set(sys.argv[1:]))
print(json.dumps({"commands": [" ".join(p) for p in paths], "heavy": heavy}))
"""


def test_help_of_every_command_imports_no_heavy_library() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, *HEAVY], capture_output=True,
                          text=True, check=True, timeout=120)
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(found["commands"]) > 20  # every group and command was walked
    assert found["heavy"] == [], f"imported at start-up: {sorted({m.split('.')[0] for m in found['heavy']})}"


def test_version_and_one_line_usage_errors() -> None:
    proc = subprocess.run([sys.executable, "-m", "skelshop", "--version"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("skelshop, version ")
    proc = subprocess.run([sys.executable, "-m", "skelshop", "shots", "detect", "--bogus"],
                          capture_output=True, text=True, check=False, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: skelshop shots detect: ") and "--bogus" in lines[0]


def test_original_global_options_are_accepted(tmp_path) -> None:
    fake_ffprobe = tmp_path / "ffprobe"
    fake_ffprobe.write_text("#!/bin/sh\n")
    for argv in (["--verbosity", "DEBUG"], ["-v", "INFO"], ["-v", "debug"],
                 ["--ffprobe-bin", str(fake_ffprobe)], ["-vv"]):
        proc = subprocess.run([sys.executable, "-m", "skelshop", *argv, "shots", "--help"],
                              capture_output=True, text=True, check=False, timeout=60)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert "Shot (cut) detection" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "skelshop", "--verbosity", "LOUD", "shots",
                           "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 2 and "--verbosity" in proc.stderr
