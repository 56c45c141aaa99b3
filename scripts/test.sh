#!/usr/bin/env bash
# One command from a fresh clone: install with test tools, fetch the samples, lint, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/skelshop samples fetch >/dev/null
.venv/bin/ruff check src tests benchmarks
# One test process per core (pytest-xdist), each test file on one of them (its module
# fixtures are made once); the sample dumps are shared between them (tests/conftest.py).
exec .venv/bin/python -m pytest -q -ra -n auto --dist loadfile "$@"
