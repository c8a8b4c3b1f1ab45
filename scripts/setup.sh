#!/usr/bin/env bash
# Installs what zwgk needs on a fresh machine (Debian, Python 3.11): uv, the locked Python
# environment in .venv, and Debian's Chromium (the harvester renders JS-shell columns in it; the
# report tests open the report in it) with a CJK font. Safe to run again: each step only does
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[setup $(date +%T)] $*" >&2; }

if ! command -v uv >/dev/null 2>&1; then
  log "installing uv"
  python3 -m pip install --quiet --disable-pip-version-check uv
fi
log "uv sync --frozen"
uv sync --frozen --quiet

need=()
for package in chromium fonts-wqy-microhei; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if ((${#need[@]})); then
  log "apt-get install ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
