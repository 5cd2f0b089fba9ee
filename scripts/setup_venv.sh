#!/usr/bin/env bash
# Create (or reuse) the project venv and install the pinned requirements.
#   scripts/setup_venv.sh [extra requirement files...]
# Prints nothing but errors; the venv is $RISKMAP_VENV (default .venv in the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RISKMAP_VENV:-.venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt "${@/#/-r}"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
