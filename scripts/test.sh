#!/usr/bin/env bash
# The README's test command: set up, start a throwaway PostGIS, run the whole suite.
#   bash scripts/test.sh [pytest args...]
# Relies on nothing preinstalled but bash and apt: installs Python 3 with its venv module
# (scripts/setup_venv.sh), PostGIS and Chromium with apt when missing (needs root for that), runs
# ruff, mypy and radon (no block of complexity E or F), then pytest (unit, db and web on PostGIS +
# GeoPackage, browser), and stops the cluster even when something fails. No test needs wrk (only
# the benchmarks do, and install it themselves).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RISKMAP_VENV:-.venv}
start=$(date +%s)

echo "[test] installing Python packages ..." >&2
bash scripts/setup_venv.sh requirements-dev.txt

# Chromium for the browser tests; a small CJK font so screenshots show Chinese, not boxes.
if ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/truetype/wqy ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[test] installing Chromium and a CJK font with apt ..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >&2
  else
    echo "[test] chromium missing and not root: the browser tests will fail" >&2
  fi
fi

pgdir=$(mktemp -d /tmp/riskmap-pg.XXXXXX)
cleanup() { bash scripts/postgis_cluster.sh stop "$pgdir" || true; }
trap cleanup EXIT
url=$(bash scripts/postgis_cluster.sh start "$pgdir")
export RISKMAP_TEST_DATABASE_URL=${url#RISKMAP_DATABASE_URL=}
echo "[test] PostGIS at $RISKMAP_TEST_DATABASE_URL (setup took $(( $(date +%s) - start )) s)" >&2

echo "[test] ruff + mypy + radon ..." >&2
"$venv/bin/ruff" check .
"$venv/bin/mypy"  # geo, layers and webmap (pyproject.toml)
# No block of cyclomatic complexity E or F anywhere in our code (radon prints nothing).
complex_blocks=$("$venv/bin/radon" cc -n E geo layers webmap scripts tests)
if [ -n "$complex_blocks" ]; then
  printf '%s\n' "$complex_blocks" >&2
  echo "[test] radon: the blocks above have cyclomatic complexity E or F; split them" >&2
  exit 1
fi

mkdir -p test-artifacts
"$venv/bin/python" -m pytest -n 2 --dist loadfile "$@"
echo "[test] total $(( $(date +%s) - start )) s" >&2
