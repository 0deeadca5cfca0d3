#!/usr/bin/env bash
# A real S3-compatible server for the tests and the benchmark: Ceph's RADOS Gateway from
# Debian's packages, one monitor and one OSD (bluestore on a sparse file), on 127.0.0.1.
#
#   scripts/s3-server.sh start        install if needed, start, create the test user and bucket
#   scripts/s3-server.sh stop         stop everything this script started, remove its state
#   scripts/s3-server.sh env          print export lines (endpoint, keys, region) for a shell
#   scripts/s3-server.sh restart-rgw  restart only the gateway (after a kill -9 in fault tests)
#
# Knobs: SPLITSHIP_S3_DIR (state, default /tmp/splitship-s3), SPLITSHIP_S3_PORT (7480),
# SPLITSHIP_S3_MON_PORT (40790), SPLITSHIP_S3_GB (store size, 16), SPLITSHIP_S3_EXTRA_ENDPOINT
# (another ADDR:PORT the gateway listens on, e.g. the bench's veth address; read by start and
# restart-rgw).
set -euo pipefail

DIR=${SPLITSHIP_S3_DIR:-/tmp/splitship-s3}
PORT=${SPLITSHIP_S3_PORT:-7480}
MON_PORT=${SPLITSHIP_S3_MON_PORT:-40790}
STORE_GB=${SPLITSHIP_S3_GB:-16}
HOST=127.0.0.1
ACCESS_KEY=SPLITSHIPTESTKEY0001
SECRET_KEY=splitship-test-secret-0000000000000000001
BUCKET=splitship-test
CONF=$DIR/ceph.conf

install_packages() {
  local need=()
  for p in ceph-mon ceph-osd radosgw; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if ((${#need[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

wait_for() { # seconds command...
  local limit=$1; shift
  timeout "$limit" bash -c "until $*; do sleep 0.3; done"
}

write_conf() {
  cat > "$CONF" <<CONF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = [v2:$HOST:$MON_PORT]
public addr = $HOST
cluster addr = $HOST
ms bind ipv6 = false
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
# radosgw's default secure mon client mode cannot work with auth none
ms mon client mode = crc
mon warn on insecure global id reclaim allowed = false
keyring = $DIR/keyring
run dir = $DIR/run
crash dir = $DIR/crash
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail crit = 1
[mon]
mon data = $DIR/mon.\$id
mon initial members = a
[osd]
osd data = $DIR/osd.\$id
osd objectstore = bluestore
bluestore block path = $DIR/osd.\$id/block.file
bluestore block create = true
bluestore block size = $((STORE_GB * 1024 * 1024 * 1024))
bluestore fsck on mkfs = false
osd memory target = 1073741824
bluestore cache autotune = false
bluestore cache size = 268435456
osd op num shards = 2
osd op num threads per shard = 1
[client.rgw.a]
rgw data = $DIR/rgw.a
rgw frontends = $(frontends)
rgw thread pool size = 64
rgw dns name = localhost
# reclaim deleted data quickly so repeated test runs do not fill the store
rgw gc obj min wait = 30
rgw gc processor period = 30
CONF
}

frontends() { echo "beast endpoint=$HOST:$PORT${SPLITSHIP_S3_EXTRA_ENDPOINT:+ endpoint=$SPLITSHIP_S3_EXTRA_ENDPOINT}"; }

start_rgw() {
  radosgw --conf "$CONF" -n client.rgw.a -f >>"$DIR/log/rgw.a.out" 2>&1 &
  echo "$! radosgw" >> "$DIR/pids"
  wait_for 120 "curl -fs -o /dev/null http://$HOST:$PORT/"
}

running() { [[ -f $DIR/pids ]] && curl -fs -o /dev/null "http://$HOST:$PORT/"; }

cmd_start() {
  if running; then echo "S3 server already running at http://$HOST:$PORT"; return 0; fi
  [[ -f $DIR/pids ]] && cmd_stop
  install_packages
  for port in "$MON_PORT" "$PORT"; do
    if ss -Hltn "sport = :$port" | grep -q .; then echo "port $port is in use by something else" >&2; exit 1; fi
  done
  rm -rf "$DIR"
  mkdir -p "$DIR"/{mon.a,osd.0,rgw.a,run,log,crash}
  write_conf
  trap 'rc=$?; if ((rc)); then echo "S3 server failed to start; logs in $DIR/log" >&2; cmd_stop; fi' EXIT
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  local fsid; fsid=$(awk '$1=="fsid"{print $3}' "$CONF")
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:$HOST:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon --conf "$CONF" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/keyring"
  : > "$DIR/pids"
  ceph-mon --conf "$CONF" -i a -f >"$DIR/log/mon.a.out" 2>&1 &
  echo "$! ceph-mon" >> "$DIR/pids"
  wait_for 60 "ceph --conf $CONF --connect-timeout 5 mon stat >/dev/null 2>&1"
  local uuid id; uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(ceph --conf "$CONF" osd new "$uuid")
  ceph-osd --conf "$CONF" -i "$id" --mkfs --osd-uuid "$uuid" >"$DIR/log/osd.mkfs.out" 2>&1
  ceph-osd --conf "$CONF" -i "$id" -f >"$DIR/log/osd.$id.out" 2>&1 &
  echo "$! ceph-osd" >> "$DIR/pids"
  wait_for 60 "ceph --conf $CONF osd stat 2>/dev/null | grep -q '1 up'"
  start_rgw
  radosgw-admin --conf "$CONF" user create --uid=splitship --display-name=splitship \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
  # The bucket, with a plain signed request through curl's own SigV4 support.
  curl -fsS -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "http://$HOST:$PORT/$BUCKET" -o /dev/null
  trap - EXIT
  echo "S3 server ready at http://$HOST:$PORT (bucket $BUCKET, state in $DIR)"
}

cmd_stop() {
  [[ -f $DIR/pids ]] || { rm -rf "$DIR"; return 0; }
  # Reverse order: gateway, OSD, monitor.
  tac "$DIR/pids" | while read -r pid name; do
    if [[ "$(cat /proc/"$pid"/comm 2>/dev/null)" == "$name"* ]]; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
}

cmd_env() {
  cat <<ENV
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=us-east-1
export AWS_ENDPOINT_URL=http://$HOST:$PORT
export SPLITSHIP_TEST_BUCKET=$BUCKET
export SPLITSHIP_S3_LOG=$DIR/log/client.rgw.a.log
export SPLITSHIP_S3_DIR=$DIR
ENV
}

cmd_restart_rgw() {
  [[ -f $DIR/pids ]] || { echo "no S3 server state in $DIR" >&2; exit 1; }
  local old; old=$(awk '$2=="radosgw"{print $1}' "$DIR/pids")
  if [[ -n $old ]] && kill -0 "$old" 2>/dev/null; then
    kill -TERM "$old"; while kill -0 "$old" 2>/dev/null; do sleep 0.2; done
  fi
  sed -i '/ radosgw$/d' "$DIR/pids"
  sed -i "s|^rgw frontends = .*|rgw frontends = $(frontends)|" "$CONF"
  start_rgw
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  restart-rgw) cmd_restart_rgw ;;
  *) echo "usage: $0 start|stop|env|restart-rgw" >&2; exit 2 ;;
esac
