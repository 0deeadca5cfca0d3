#!/usr/bin/env bash
# One command, fresh Debian 12 machine to a published export: installs dependencies, builds,
# generates a small chat dataset (2,000 documents) and exports it to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
mkdir -p out
python3 tests/integration/datagen.py out/sample-chat.jsonl 2000
run_id="demo-$(date -u +%Y%m%dT%H%M%SZ)"
./build/splitship export --input out/sample-chat.jsonl \
  --split train=0.8,validation=0.1,test=0.1 --split-key id --seed 0 \
  --dest out/demo --run-id "$run_id"
echo
echo "manifest: out/demo/$run_id/manifest.json"
./build/splitship inspect "out/demo/$run_id"
