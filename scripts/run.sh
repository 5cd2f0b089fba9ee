#!/usr/bin/env bash
# The README's run command: set up, build the demo into the embedded store, serve.
#   bash scripts/run.sh [--port 5000]
# No root and no database server needed (set RISKMAP_DATABASE_URL to use PostGIS).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "[riskmap] installing into ${RISKMAP_VENV:-.venv} ..." >&2
bash scripts/setup_venv.sh
exec "${RISKMAP_VENV:-.venv}/bin/riskmap" demo "$@"
