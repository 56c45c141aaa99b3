#!/usr/bin/env bash
# One command from a fresh clone: install with test tools, fetch the samples, lint, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/skelshop samples fetch >/dev/null
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest -q -ra "$@"
