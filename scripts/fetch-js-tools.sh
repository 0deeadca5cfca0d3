#!/usr/bin/env bash
# Installs the pinned independent Parquet reader used by the tests (npm ci, lockfile, no scripts).
set -euo pipefail
cd "$(dirname "$0")/../tests/reader"
if [[ -d node_modules/hyparquet && node_modules/.package-lock.json -nt package-lock.json ]]; then exit 0; fi
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
