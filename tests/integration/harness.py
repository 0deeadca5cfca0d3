"""Shared helpers for the integration tests: run the CLI, read parts back independently."""
import hashlib
import json
import os
import subprocess
import tempfile
import unittest

BIN = os.environ.get("SPLITSHIP_BIN", os.path.join(os.path.dirname(__file__), "../../build/splitship"))
READER = os.environ.get("SPLITSHIP_READER", os.path.join(os.path.dirname(__file__), "../reader"))


def run_cli(*args, env=None, check=None):
    """Runs splitship; returns CompletedProcess. check=0/2 asserts the exit code."""
    proc = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=env, timeout=600)
    if check is not None and proc.returncode != check:
        raise AssertionError(f"exit {proc.returncode}, wanted {check}\nstdout:{proc.stdout}\nstderr:{proc.stderr}")
    return proc


def read_parquet(paths):
    """Reads Parquet files with hyparquet (not DuckDB): {path: {"num_rows", "columns", "rows"}}."""
    out = {}
    paths = list(paths)
    for i in range(0, len(paths), 16):
        chunk = paths[i:i + 16]
        proc = subprocess.run(["node", os.path.join(READER, "read_parquet.mjs"), *chunk],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise AssertionError("independent reader failed: " + proc.stderr[-2000:])
        for line in proc.stdout.splitlines():
            rec = json.loads(line)
            out[rec["file"]] = rec
    return out


def python_split(key, seed, splits):
    """The documented rule, verbatim from the README."""
    h = int(hashlib.md5(f"{seed}:{key}".encode()).hexdigest()[:16], 16)
    u = h / 2**64
    total = sum(w for _, w in splits)
    cum = 0.0
    for name, w in splits:
        cum += w / total
        if u < cum:
            return name
    return splits[-1][0]


def stats_checksum(num_documents, names, feature_length, role_distribution):
    """The seed formula, verbatim."""
    s = f"{num_documents}:{names}:{feature_length}:{sorted(role_distribution.items())}"
    return "md5:" + hashlib.md5(s.encode()).hexdigest()


def file_digests(path):
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            md5.update(block)
            sha.update(block)
    return md5.hexdigest(), sha.hexdigest()


_CRC64_TABLE = []
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ 0x9A6C9329AC4BC9B5 if _c & 1 else _c >> 1
    _CRC64_TABLE.append(_c)


def crc64nvme_b64(data):
    """CRC-64/NVME (table-driven, independent of ours), base64 of 8 big-endian bytes."""
    import base64
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc = _CRC64_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return base64.b64encode((crc ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")).decode()


def all_files(root):
    found = []
    for d, _, files in os.walk(root):
        found += [os.path.join(d, f) for f in files]
    return sorted(found)


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="splitship-it-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()
