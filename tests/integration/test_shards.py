"""Sharded exports to a local folder: N `--shard I/N` processes, or N MPI ranks, then one commit.
Every row is exported exactly once, the stats and split checksums equal a single-process
export's, percentiles stay within the documented rank error, and `verify` accepts the run.
A killed rank publishes nothing and the same command completes the run; a commit with a
fragment missing or made with other settings is refused."""
import json
import os
import random
import shutil
import signal
import subprocess
import time

import datagen
from harness import BIN, TempDirTest, all_files, read_parquet, run_cli

SPLIT = ["--split", "train=0.7,val=0.2,test=0.1", "--split-key", "id", "--seed", "5"]
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "3"]


def write_files(folder, files, docs_per_file):
    """JSON Lines files with disjoint ids (a dataset of several files)."""
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(7)
    for k in range(files):
        with open(os.path.join(folder, f"chunk-{k:02d}.jsonl"), "w", encoding="utf-8") as f:
            for i in range(k * docs_per_file, (k + 1) * docs_per_file):
                f.write(json.dumps(datagen.document(i, rng), ensure_ascii=False) + "\n")


def manifest_of(dest, run_id="r"):
    with open(os.path.join(dest, run_id, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def ids_by_split(dest, manifest, run_id="r"):
    out = {}
    for name, split in manifest["splits"].items():
        paths = [os.path.join(dest, run_id, f["path"]) for f in split["files"]]
        ids = []
        for data in read_parquet(paths).values():
            col = data["columns"].index("id")
            ids.extend(row[col] for row in data["rows"])
        out[name] = ids
    return out


class ShardCase(TempDirTest):
    """Helpers: a 5-file dataset, the single-process reference, the equality checks."""

    def setUp(self):
        super().setUp()
        self.src = os.path.join(self.tmp, "src")
        write_files(self.src, 5, 4000)

    def export_args(self, src, dest, *extra):
        return ["export", "--input", src, *SPLIT, "--dest", dest, "--run-id", "r", "--progress", "never",
                "--target-file-size", "256KiB", *extra]

    def single(self, src):
        dest = os.path.join(self.tmp, "single")
        run_cli(*self.export_args(src, dest), check=0)
        return dest, manifest_of(dest)

    def assert_same_as_single(self, dest, single_dest, single, sharded_parts=True):
        m = manifest_of(dest)
        self.assertEqual(list(m["splits"]), list(single["splits"]))
        for name, s in single["splits"].items():
            got = m["splits"][name]
            self.assertEqual(got["checksum"], s["checksum"], name)
            for field in ("num_documents", "schema_fields", "feature_length", "role_distribution", "null_counts"):
                self.assertEqual(got[field], s[field], (name, field))
            for field in ("min", "max", "sum"):
                self.assertEqual(got["feature_length_stats"][field], s["feature_length_stats"][field], (name, field))
            self.assertAlmostEqual(got["feature_length_stats"]["mean"], s["feature_length_stats"]["mean"], places=6)
        # Every row exactly once, in the split the single-process export put it in.
        got_ids, want_ids = ids_by_split(dest, m), ids_by_split(single_dest, single)
        for name in want_ids:
            self.assertEqual(len(got_ids[name]), len(set(got_ids[name])), name)
            self.assertEqual(sorted(got_ids[name]), sorted(want_ids[name]), name)
        if sharded_parts:
            names = [f["path"] for s in m["splits"].values() for f in s["files"]]
            self.assertTrue(any("/part-00002-" in n for n in names), names[:5])
        self.assertEqual(m["settings"]["shards"], 3)
        out = run_cli("verify", os.path.join(dest, "r"), check=0)
        self.assertIn("ok", out.stdout)
        # Nothing but the manifest and the parts: fragments and shard journals are gone.
        left = sorted(os.path.relpath(p, dest) for p in all_files(dest))
        self.assertEqual([p for p in left if not p.endswith(".parquet")], ["r/manifest.json"], left)
        return m

    def percentiles_within_rank_error(self, m, dest):
        """p50/p95/p99 of the merged manifest: their rank among the real lengths is within 1%."""
        for name, split in m["splits"].items():
            lengths = []
            paths = [os.path.join(dest, "r", f["path"]) for f in split["files"]]
            for data in read_parquet(paths).values():
                col = data["columns"].index("messages")
                for row in data["rows"]:
                    lengths.append(sum(len(msg["content"] or "") for msg in row[col]))
            lengths.sort()
            n = len(lengths)
            stats = split["feature_length_stats"]
            for key, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
                value = stats[key]
                lo = sum(1 for x in lengths if x < value)
                hi = sum(1 for x in lengths if x <= value)
                target = p * (n - 1)
                self.assertTrue(lo - 0.01 * n <= target <= hi + 0.01 * n, (name, key, value, lo, hi, target))


class ShardTest(ShardCase):
    def test_three_shard_processes_then_commit_equal_a_single_export(self):
        single_dest, single = self.single(self.src)
        dest = os.path.join(self.tmp, "sharded")
        for i in range(3):
            out = run_cli(*self.export_args(self.src, dest, "--shard", f"{i}/3"), check=0)
            self.assertIn(f"shard {i}/3 done", out.stdout)
            self.assertFalse(os.path.exists(os.path.join(dest, "r", "manifest.json")))
        # A shard run again is a no-op; its fragment is already there.
        again = run_cli(*self.export_args(self.src, dest, "--shard", "1/3"), check=0)
        self.assertIn("already done", again.stdout)
        run_cli("commit", os.path.join(dest, "r"), "--shards", "3", check=0)
        m = self.assert_same_as_single(dest, single_dest, single)
        self.percentiles_within_rank_error(m, dest)

    def test_one_big_parquet_file_is_shared_by_row_groups(self):
        # One Parquet file of ~16 row groups (made by an export of one split), cut into 3 slices.
        big = os.path.join(self.tmp, "big")
        run_cli("export", "--split-input", f"all={self.src}", "--dest", big, "--run-id", "b",
                "--row-group-size", "1250", "--progress", "never", check=0)
        parts = [p for p in all_files(os.path.join(big, "b")) if p.endswith(".parquet")]
        self.assertEqual(len(parts), 1, parts)
        single_dest, single = self.single(parts[0])
        dest = os.path.join(self.tmp, "sharded")
        for i in range(3):
            env = {**os.environ, "JOB_COMPLETION_INDEX": str(i)}  # --shard auto/3, as a Kubernetes Indexed Job
            run_cli(*self.export_args(parts[0], dest, "--shard", "auto/3"), env=env, check=0)
        run_cli("commit", os.path.join(dest, "r"), "--shards", "3", check=0)
        m = self.assert_same_as_single(dest, single_dest, single)
        self.assertEqual([f["path"] for f in m["source"]["files"]], [parts[0]])

    def test_commit_refuses_a_missing_fragment_and_other_settings(self):
        dest = os.path.join(self.tmp, "sharded")
        run_cli(*self.export_args(self.src, dest, "--shard", "0/3"), check=0)
        run_cli(*self.export_args(self.src, dest, "--shard", "2/3", "--compression", "snappy"), check=0)
        missing = run_cli("commit", os.path.join(dest, "r"), "--shards", "3", check=2)
        self.assertIn("1/3", missing.stderr)
        self.assertIn("not done", missing.stderr)
        run_cli(*self.export_args(self.src, dest, "--shard", "1/3"), check=0)
        other = run_cli("commit", os.path.join(dest, "r"), "--shards", "3", check=2)
        self.assertIn("compression", other.stderr)
        self.assertFalse(os.path.exists(os.path.join(dest, "r", "manifest.json")))
        for bad in ("3/3", "x/3", "1", "auto/3"):
            proc = run_cli(*self.export_args(self.src, dest, "--shard", bad),
                           env={k: v for k, v in os.environ.items() if k not in ("JOB_COMPLETION_INDEX",
                                                                               "SLURM_ARRAY_TASK_ID", "PMI_RANK",
                                                                               "OMPI_COMM_WORLD_RANK")})
            self.assertEqual(proc.returncode, 2, (bad, proc.stderr))
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    def test_gc_removes_a_sharded_run_never_committed(self):
        dest = os.path.join(self.tmp, "sharded")
        for i in (0, 1):  # shard 2 never ran
            run_cli(*self.export_args(self.src, dest, "--shard", f"{i}/3"), check=0)
        young = run_cli("gc", dest, check=0).stdout
        self.assertNotIn("abandoned run", young, "younger than --older-than: the last shard may come soon")
        listed = run_cli("gc", dest, "--older-than", "0", check=0).stdout
        self.assertIn("found abandoned run: file://" + os.path.join(dest, "r"), listed)
        self.assertIn("never committed: 2 fragment(s)", listed)
        self.assertTrue(os.path.exists(os.path.join(dest, "r", "_shards", "0-of-3.json")), "listing removes nothing")
        run_cli("gc", dest, "--older-than", "0", "--yes", check=0)
        self.assertEqual(all_files(os.path.join(dest, "r")) if os.path.exists(os.path.join(dest, "r")) else [], [])


class MpiTest(ShardCase):
    def mpi_args(self, dest):
        return [*MPIRUN, BIN, *self.export_args(self.src, dest, "--mpi")]

    def test_three_mpi_ranks_export_and_rank_0_commits(self):
        single_dest, single = self.single(self.src)
        dest = os.path.join(self.tmp, "mpi")
        proc = subprocess.run(self.mpi_args(dest), capture_output=True, text=True, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assert_same_as_single(dest, single_dest, single)

    def test_a_killed_rank_publishes_nothing_and_the_same_command_completes(self):
        single_dest, single = self.single(self.src)
        dest = os.path.join(self.tmp, "mpi")
        proc = subprocess.Popen(self.mpi_args(dest), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Kill rank 1 once it has started writing parts (its journal exists).
        journal = os.path.join(dest, "r", "_journal", "shard-1-of-3")
        deadline = time.time() + 120
        while time.time() < deadline and not os.path.isdir(journal):
            self.assertIsNone(proc.poll(), "mpirun ended before a rank could be killed")
            time.sleep(0.01)
        ranks = subprocess.run(["pgrep", "-f", f"{BIN} export"], capture_output=True, text=True).stdout.split()
        victim = None
        for pid in ranks:
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if b"OMPI_COMM_WORLD_RANK=1\0" in f.read():
                        victim = int(pid)
            except OSError:
                pass
        self.assertIsNotNone(victim, ranks)
        os.kill(victim, signal.SIGKILL)
        proc.communicate(timeout=300)
        self.assertNotEqual(proc.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(dest, "r", "manifest.json")))
        again = subprocess.run(self.mpi_args(dest), capture_output=True, text=True, timeout=600)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assert_same_as_single(dest, single_dest, single)
