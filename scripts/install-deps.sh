#!/usr/bin/env bash
# Installs everything splitship needs to build and test, idempotently, on Debian 12 as root.
# Debian packages via apt; DuckDB (only) from the npm registry by pinned version, verified
# against npm's published integrity hashes, without running any npm install scripts.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build pkg-config
  libcurl4-openssl-dev libssl-dev libisal-dev nlohmann-json3-dev libcli11-dev libpugixml-dev
  libgtest-dev libgmock-dev libbenchmark-dev python3-botocore python3-boto3 openssl nodejs npm
  libopenmpi-dev openmpi-bin)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere on the image; only install Debian's when absent.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

bash scripts/fetch-duckdb.sh
bash scripts/fetch-js-tools.sh
