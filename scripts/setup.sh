#!/usr/bin/env bash
# Installs what zwgk needs on a fresh machine (Debian, Python 3.11): uv, then the locked
# Python environment in .venv. Safe to run again: each step only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[setup $(date +%T)] $*" >&2; }

if ! command -v uv >/dev/null 2>&1; then
  log "installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
log "uv sync --frozen"
uv sync --frozen --quiet
