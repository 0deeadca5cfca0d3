#!/usr/bin/env bash
# Fetches DuckDB's header and shared library from the npm registry (pinned, integrity-checked).
# Result: third_party/duckdb/{include/duckdb.h,lib/libduckdb.so}. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=third_party/duckdb
HEADER_PKG=duckdb@1.4.4
LIB_PKG=@duckdb/node-bindings-linux-x64@1.4.4-r.4
# npm's published "dist.integrity" for each tarball (sha512, base64).
HEADER_SRI="$(cat scripts/duckdb.integrity | awk '$1=="duckdb@1.4.4"{print $2}')"
LIB_SRI="$(cat scripts/duckdb.integrity | awk '$1=="@duckdb/node-bindings-linux-x64@1.4.4-r.4"{print $2}')"

if [[ -f $DEST/include/duckdb.h && -f $DEST/lib/libduckdb.so && -f $DEST/.ok ]]; then exit 0; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent --ignore-scripts "$HEADER_PKG" "$LIB_PKG" >/dev/null)

verify() { # file sri
  local got; got="sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
  [[ $got == "$2" ]] || { echo "integrity mismatch for $1: got $got want $2" >&2; exit 1; }
}
verify "$work"/duckdb-1.4.4.tgz "$HEADER_SRI"
verify "$work"/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz "$LIB_SRI"

mkdir -p "$DEST/include" "$DEST/lib"
tar -xzf "$work"/duckdb-1.4.4.tgz -C "$work" package/src/duckdb/src/include/duckdb.h
cp "$work"/package/src/duckdb/src/include/duckdb.h "$DEST/include/"
rm -rf "$work/package"
tar -xzf "$work"/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz -C "$work" package/libduckdb.so
cp "$work"/package/libduckdb.so "$DEST/lib/"
touch "$DEST/.ok"
echo "duckdb 1.4.4 ready in $DEST"
