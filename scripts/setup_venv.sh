#!/usr/bin/env bash
# Create (or reuse) the project venv and install the pinned requirements.
#   scripts/setup_venv.sh [extra requirement files...]
# Prints nothing but errors; the venv is $RISKMAP_VENV (default .venv in the repo).
# Relies on nothing preinstalled but bash and apt: Python 3 and its venv module (Debian ships
# ensurepip apart, in python3-venv, which brings pip's wheel) are installed with apt when
# missing (as root; otherwise it says what to install and stops).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${RISKMAP_VENV:-.venv}

install_python() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup_venv: python3 with its venv module is needed: apt-get install python3 python3-venv (as root)" >&2
    exit 1
  fi
  echo "[setup] installing python3 and python3-venv with apt ..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >&2
}

# A venv is usable when its python runs pip (an interrupted creation leaves one without).
if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$venv"
fi
if [ ! -x "$venv/bin/python" ]; then
  command -v python3 >/dev/null 2>&1 || install_python
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then  # Debian without python3-venv: no ensurepip
    rm -rf "$venv"
    install_python
    python3 -m venv "$venv"
  fi
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt "${@/#/-r}"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
