#!/usr/bin/env bash
# splitship's benchmark, on one machine: starts the project's S3 server, generates a chat
# dataset, and measures splitship against what a user would run instead (DuckDB + aws s3 cp /
# rclone, the original upload-then-re-read design, and plain uploads of identical files),
# alternating the commands, --runs times each; prints medians and ratios, writes JSON.
#
#   bench/run.sh [--regime loopback|wan|both] [--docs N (3M ≈ 2 GB) | --gb 2|10] [--runs 3]
#                [--rate-mb-s 50] [--work DIR] [--json FILE]
#
# WAN: the clients run in a network namespace of the bench's own making, joined to the
# gateway by a veth pair whose both directions tc limits to --rate-mb-s (default 50 MB/s).
# Loopback: no limit; on a 2-core machine the gateway shares the CPU with the client.
set -euo pipefail
cd "$(dirname "$0")/.."

REGIME=both DOCS=3000000 RUNS=3 RATE=50 WORK=/tmp/splitship-bench JSON=bench/results.json
while (($#)); do
  case $1 in
    --regime) REGIME=$2; shift 2 ;;
    --docs) DOCS=$2; shift 2 ;;
    --gb) DOCS=$(($2 * 1500000)); shift 2 ;;   # the generator writes ~0.66 GB of JSONL per million documents
    --runs) RUNS=$2; shift 2 ;;
    --rate-mb-s) RATE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --json) JSON=$2; shift 2 ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done

# The peers, from Debian: the AWS CLI (v2) and rclone.
need=()
for p in awscli rclone iproute2; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p"); done
if ((${#need[@]})); then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; fi
[[ -x build/splitship && -x build/duckdb_sql ]] || { bash scripts/install-deps.sh; bash scripts/build.sh; }
unset AWS_CA_BUNDLE  # this environment may set it; the gateway speaks plain HTTP
mkdir -p "$WORK"

NS=splitship-bench HOST_IP=10.211.0.1 NS_IP=10.211.0.2
teardown_wan() { ip netns del "$NS" 2>/dev/null || true; ip link del sbench0 2>/dev/null || true; }

setup_wan() {
  teardown_wan
  ip netns add "$NS"
  ip link add sbench0 type veth peer name sbench1
  ip link set sbench1 netns "$NS"
  ip addr add "$HOST_IP/30" dev sbench0 && ip link set sbench0 up
  ip netns exec "$NS" ip addr add "$NS_IP/30" dev sbench1
  ip netns exec "$NS" ip link set sbench1 up
  ip netns exec "$NS" ip link set lo up
  local mbit=$((RATE * 8))
  # Both directions: uploads leave the namespace through sbench1, answers come back via sbench0.
  tc qdisc add dev sbench0 root tbf rate "${mbit}mbit" burst 256kb latency 50ms
  ip netns exec "$NS" tc qdisc add dev sbench1 root tbf rate "${mbit}mbit" burst 256kb latency 50ms
}

run_regime() { # regime
  if [[ $1 == wan ]]; then
    setup_wan
    trap teardown_wan EXIT
    # The gateway listens on the veth address too (restarting only the gateway).
    SPLITSHIP_S3_EXTRA_ENDPOINT="$HOST_IP:7480" bash scripts/s3-server.sh start >/dev/null
    SPLITSHIP_S3_EXTRA_ENDPOINT="$HOST_IP:7480" bash scripts/s3-server.sh restart-rgw >/dev/null
    /usr/bin/python3 bench/bench.py --regime wan --netns "$NS" --endpoint-host "$HOST_IP" --rate-mb-s "$RATE" \
      --docs "$DOCS" --runs "$RUNS" --work "$WORK" --json "$JSON"
    teardown_wan
    trap - EXIT
  else
    bash scripts/s3-server.sh start >/dev/null
    /usr/bin/python3 bench/bench.py --regime loopback --docs "$DOCS" --runs "$RUNS" --work "$WORK" --json "$JSON"
  fi
}

case $REGIME in
  both) run_regime loopback; run_regime wan ;;
  loopback|wan) run_regime "$REGIME" ;;
  *) echo "--regime is loopback, wan or both" >&2; exit 2 ;;
esac
