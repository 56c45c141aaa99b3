#!/usr/bin/env bash
# One command from a fresh clone: install, fetch the sample media, run the main job on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/skelshop samples fetch >/dev/null
exec .venv/bin/skelshop samples demo "${1:-demo-out}"
