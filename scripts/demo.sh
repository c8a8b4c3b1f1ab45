#!/usr/bin/env bash
# The README's main command: sets up a fresh machine, then runs the pipeline on the built-in
# sample portal (generate, serve, harvest, normalize, validate, report, publish).
# Extra arguments go to `zwgk demo` (e.g. `--serve` to keep the portal up afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec uv run --frozen zwgk demo "$@"
