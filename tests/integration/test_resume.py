"""Resume, to a local folder: kill -9 of splitship at random points, then the same command (or
`splitship resume`) finishes the run with the manifest an uninterrupted run gives; settings or
input that changed are refused; gc removes what abandoned runs left."""
import json
import os
import random
import shutil
import signal
import subprocess
import time

import datagen
from harness import BIN, TempDirTest, all_files, read_parquet, run_cli

SPLIT = ["--split", "train=0.8,test=0.2", "--split-key", "id"]


def export_args(src, dest, *extra):
    return ["export", "--input", src, *SPLIT, "--dest", dest, "--run-id", "r", "--target-file-size", "512KiB",
            "--progress", "never", *extra]


def start(args):
    return subprocess.Popen([BIN, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_after(proc, seconds):
    """kill -9 after `seconds`; False if the export had already finished."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            proc.communicate()
            return False
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return True


def kill_once_parts_exist(proc, dest, extra_delay=0.0):
    deadline = time.time() + 120
    while time.time() < deadline and not [f for f in all_files(dest) if f.endswith(".parquet")]:
        assert proc.poll() is None, "export ended before it could be killed"
        time.sleep(0.005)
    time.sleep(extra_delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()


def manifest_of(run_dir):
    with open(os.path.join(run_dir, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def split_summary(manifest):
    return {name: (s["num_documents"], s["checksum"], s["schema_fields"], s["feature_length_stats"],
                   s["role_distribution"]) for name, s in manifest["splits"].items()}


_DATA = {}


def setUpModule():
    """One dataset and one uninterrupted reference export for every test here."""
    import tempfile
    _DATA["dir"] = tempfile.TemporaryDirectory(prefix="splitship-resume-")
    src = os.path.join(_DATA["dir"].name, "chat.jsonl")
    datagen.write_jsonl(src, 60_000)
    ref = os.path.join(_DATA["dir"].name, "ref")
    t0 = time.time()
    run_cli(*export_args(src, ref), check=0)
    _DATA["seconds"] = time.time() - t0
    _DATA["src"] = src
    _DATA["reference"] = manifest_of(os.path.join(ref, "r"))
    _DATA["ids"] = {}
    for name, s in _DATA["reference"]["splits"].items():
        rows = read_parquet(os.path.join(ref, "r", f["path"]) for f in s["files"])
        _DATA["ids"][name] = sorted(r[0] for part in rows.values() for r in part["rows"])


def tearDownModule():
    _DATA["dir"].cleanup()


class ResumeCase(TempDirTest):
    def setUp(self):
        super().setUp()
        self.src = _DATA["src"]
        self.ref_seconds = _DATA["seconds"]
        self.reference = _DATA["reference"]
        self.ids = _DATA["ids"]

    def assert_same_as_reference(self, run_dir, read_rows=True):
        manifest = manifest_of(run_dir)
        self.assertEqual(split_summary(manifest), split_summary(self.reference))
        listed = sorted(os.path.join(run_dir, f["path"]) for s in manifest["splits"].values() for f in s["files"])
        # Only the manifest and its parts: no journal, no temp file, no stray part.
        self.assertEqual(all_files(run_dir), sorted(listed + [os.path.join(run_dir, "manifest.json")]))
        for name, s in manifest["splits"].items() if read_rows else ():
            rows = read_parquet(os.path.join(run_dir, f["path"]) for f in s["files"])
            ids = sorted(r[0] for part in rows.values() for r in part["rows"])
            self.assertEqual(ids, self.ids[name], f"split {name}: every row exactly once")
        run_cli("verify", "--deep", run_dir, check=0)
        return manifest


class KillAndResumeTest(ResumeCase):
    def test_kill_9_at_random_points_then_the_same_command_finishes(self):
        for seed in (1, 2, 3, 4):
            with self.subTest(seed=seed):
                dest = os.path.join(self.tmp, f"out{seed}")
                delay = random.Random(seed).uniform(0.05, self.ref_seconds)
                killed = kill_after(start(export_args(self.src, dest)), delay)
                finished_before = {f for f in all_files(dest) if f.endswith(".parquet") and "/." not in f}
                if os.path.exists(os.path.join(dest, "r", "manifest.json")):
                    # Killed after publishing: the run is whole; a re-run is told so, and gc
                    # removes a journal the kill may have left.
                    self.assertIn("already published", run_cli(*export_args(self.src, dest), check=2).stderr)
                    run_cli("gc", dest, "--yes", check=0)
                    self.assert_same_as_reference(os.path.join(dest, "r"), read_rows=False)
                    continue
                proc = run_cli(*export_args(self.src, dest), "--log-format", "json", check=0)
                manifest = self.assert_same_as_reference(os.path.join(dest, "r"), read_rows=seed <= 2)
                final = {os.path.join(dest, "r", f["path"]) for s in manifest["splits"].values() for f in s["files"]}
                # Bound: of the part files the killed run finished, at most one (committed but
                # not yet journaled when the kill came) is written again.
                self.assertLessEqual(len(finished_before - final), 1, (delay, finished_before - final))
                if killed and finished_before:
                    summary = json.loads(proc.stdout.splitlines()[-1])
                    self.assertGreaterEqual(summary["resumed"]["files_kept"], len(finished_before) - 1)

    def test_resume_command_uses_the_journaled_settings_from_any_folder(self):
        dest = os.path.join(self.tmp, "out")
        kill_once_parts_exist(start(export_args(self.src, dest)), dest, 0.02)
        self.assertFalse(os.path.exists(os.path.join(dest, "r", "manifest.json")))
        elsewhere = os.path.join(self.tmp, "elsewhere")
        os.makedirs(elsewhere)
        proc = subprocess.run([BIN, "resume", os.path.join(dest, "r"), "--progress", "never"], cwd=elsewhere,
                              capture_output=True, text=True, timeout=600)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("resumed:", proc.stdout)
        self.assert_same_as_reference(os.path.join(dest, "r"))

    def test_sigint_keeps_finished_parts_for_resume(self):
        dest = os.path.join(self.tmp, "out")
        proc = start(export_args(self.src, dest))
        deadline = time.time() + 120
        while time.time() < deadline and not [f for f in all_files(dest) if f.endswith(".parquet")]:
            self.assertIsNone(proc.poll())
            time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn("nothing was published", err)
        self.assertIn("splitship resume " + "file://" + os.path.join(dest, "r"), err)
        run_dir = os.path.join(dest, "r")
        self.assertFalse(os.path.exists(os.path.join(run_dir, "manifest.json")))
        parts = [f for f in all_files(run_dir) if "/_journal/" not in f]
        self.assertTrue(parts and all(f.endswith(".parquet") and "/." not in f for f in parts), parts)
        with open(os.path.join(run_dir, "_journal", "run.json"), encoding="utf-8") as f:
            self.assertIsNone(json.load(f)["lease"], "an interrupted run releases its lease")
        run_cli("resume", run_dir, "--progress", "never", check=0)
        self.assert_same_as_reference(run_dir, read_rows=False)


class ResumeRefusalTest(ResumeCase):
    def interrupted_run(self):
        dest = os.path.join(self.tmp, "out")
        kill_once_parts_exist(start(export_args(self.src, dest)), dest)
        return dest, sorted(all_files(dest))

    def test_other_settings_are_refused_and_change_nothing(self):
        dest, before = self.interrupted_run()
        proc = run_cli(*export_args(self.src, dest, "--compression", "snappy"), check=2)
        self.assertIn("was started with other settings: --compression", proc.stderr)
        self.assertIn("splitship resume", proc.stderr)
        self.assertEqual(len([l for l in proc.stderr.splitlines() if l.startswith("splitship: error")]), 1, proc.stderr)
        self.assertEqual(sorted(all_files(dest)), before)

    def test_changed_input_is_refused(self):
        src = os.path.join(self.tmp, "chat.jsonl")
        shutil.copy(self.src, src)
        dest = os.path.join(self.tmp, "out")
        kill_once_parts_exist(start(export_args(src, dest)), dest)
        with open(src, "a", encoding="utf-8") as f:
            f.write('{"id": "extra", "messages": []}\n')
        proc = run_cli(*export_args(src, dest), check=2)
        self.assertIn("the input changed since run r was interrupted: " + src + " was modified", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(dest, "r", "manifest.json")))

    def test_overwrite_starts_over(self):
        dest, before = self.interrupted_run()
        run_cli(*export_args(self.src, dest, "--overwrite", "--log-format", "json"), check=0)
        manifest = self.assert_same_as_reference(os.path.join(dest, "r"), read_rows=False)
        attempts = {f["path"].rsplit("-", 1)[1] for s in manifest["splits"].values() for f in s["files"]}
        self.assertEqual(len(attempts), 1, "every part written by the new attempt")

    def test_nothing_to_resume(self):
        proc = run_cli("resume", os.path.join(self.tmp, "nowhere", "r"), check=2)
        self.assertIn("nothing to resume", proc.stderr)
        dest = os.path.join(self.tmp, "pub")
        run_cli(*export_args(self.src, dest), check=0)
        proc = run_cli("resume", os.path.join(dest, "r"), check=2)
        self.assertIn("already published", proc.stderr)

    def test_corrupt_journal(self):
        dest, _ = self.interrupted_run()
        with open(os.path.join(dest, "r", "_journal", "run.json"), "w", encoding="utf-8") as f:
            f.write("{not json")
        for args in (["resume", os.path.join(dest, "r")], export_args(self.src, dest)):
            proc = run_cli(*args, check=2)
            self.assertIn("_journal/run.json is not valid JSON", proc.stderr)
            self.assertIn("--overwrite", proc.stderr)

    def test_bad_run_ids(self):
        for bad in ("..", ".hidden", "-r", "_journal"):
            proc = run_cli("resume", os.path.join(self.tmp, bad), check=2)
            self.assertIn("invalid run id", proc.stderr)

    def test_a_live_run_is_not_taken_over(self):
        dest = os.path.join(self.tmp, "out")
        proc = start(export_args(self.src, dest))
        deadline = time.time() + 60
        while time.time() < deadline and not os.path.exists(os.path.join(dest, "r", "_journal", "run.json")):
            time.sleep(0.005)
        second = run_cli(*export_args(self.src, dest), check=2)
        self.assertIn("is being exported by another process (pid " + str(proc.pid), second.stderr)
        proc.communicate(timeout=300)
        self.assertEqual(proc.returncode, 0)
        self.assert_same_as_reference(os.path.join(dest, "r"), read_rows=False)


class GcTest(ResumeCase):
    def test_gc_removes_abandoned_runs_and_journals_of_published_ones(self):
        dest = os.path.join(self.tmp, "out")
        kill_once_parts_exist(start(export_args(self.src, dest)), dest)
        run_cli("export", "--input", self.src, *SPLIT, "--dest", dest, "--run-id", "pub", "--progress", "never", check=0)
        # A journal left beside a published run (as a kill right after publishing would leave).
        shutil.copytree(os.path.join(dest, "r", "_journal"), os.path.join(dest, "pub", "_journal"))
        young = run_cli("gc", dest, check=0).stdout
        self.assertIn("found journal: file://" + os.path.join(dest, "pub", "_journal"), young)
        self.assertNotIn("abandoned run", young, "younger than --older-than: may be resumed soon")
        listed = run_cli("gc", dest, "--older-than", "0", check=0).stdout
        self.assertIn("found abandoned run: file://" + os.path.join(dest, "r"), listed)
        self.assertTrue(os.path.exists(os.path.join(dest, "r", "_journal", "run.json")), "listing removes nothing")
        run_cli("gc", dest, "--older-than", "0", "--yes", check=0)
        self.assertFalse(os.path.exists(os.path.join(dest, "r")))
        self.assertFalse(os.path.exists(os.path.join(dest, "pub", "_journal")))
        run_cli("verify", os.path.join(dest, "pub"), check=0)
