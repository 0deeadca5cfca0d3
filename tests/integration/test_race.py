"""Two exports racing on one run id: exactly one publishes, the other exits 2 with a clear
error, and what is published is whole and verified (the loser removed only its own parts)."""
import json
import os
import subprocess

import datagen
from harness import BIN, TempDirTest, all_files, run_cli


def race(args, env=None):
    procs = [subprocess.Popen([BIN, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for _ in range(2)]
    return [(p.wait(timeout=600), *p.communicate()) for p in procs]


def check_race_outcome(test, results):
    codes = sorted(code for code, _, _ in results)
    test.assertEqual(codes, [0, 2], results)
    loser_err = next(err for code, _, err in results if code == 2)
    errors = [l for l in loser_err.splitlines() if l.startswith("splitship: error")]
    test.assertEqual(len(errors), 1, loser_err)
    test.assertTrue(any(m in errors[0] for m in ("already published", "published by another export",
                                                 "being exported by another process")), errors[0])


class RaceLocalTest(TempDirTest):
    def test_one_of_two_racing_exports_publishes(self):
        src = os.path.join(self.tmp, "chat.jsonl")
        datagen.write_jsonl(src, 20_000)
        dest = os.path.join(self.tmp, "out")
        results = race(["export", "--input", src, "--split", "a=1,b=1", "--split-key", "id", "--dest", dest,
                        "--run-id", "same", "--target-file-size", "256KiB", "--progress", "never"])
        check_race_outcome(self, results)
        run_dir = os.path.join(dest, "same")
        with open(os.path.join(run_dir, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        listed = sorted(os.path.join(run_dir, fl["path"]) for s in manifest["splits"].values() for fl in s["files"])
        self.assertEqual(all_files(run_dir), sorted(listed + [os.path.join(run_dir, "manifest.json")]))
        run_cli("verify", "--deep", run_dir, check=0)
