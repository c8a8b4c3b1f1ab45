#!/usr/bin/env bash
# The README's test command: sets up a fresh machine, then runs the whole test suite against
# real components (the sample portal's HTTP server, headless Chromium, a local CKAN with
# PostgreSQL, Redis and Solr). Extra arguments go to pytest (e.g. `bash scripts/test.sh -k harvest`).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[test $(date +%T)] $*" >&2; }

bash scripts/setup.sh

# The publishing tests need the local CKAN catalog (first time: ~4 min to install).
log "bringing up the local CKAN stack"
bash catalog/stack.sh up >/dev/null

mkdir -p test-artifacts
exec uv run --frozen pytest "$@"
