"""`splitship verify`: metadata checks by default, re-hashing with --deep; exit 0 when all
holds, 1 with a table of what does not, 2 when there is no (valid) manifest."""
import json
import os

import datagen
from harness import TempDirTest, run_cli


class VerifyLocalTest(TempDirTest):
    def setUp(self):
        super().setUp()
        src = os.path.join(self.tmp, "chat.jsonl")
        datagen.write_jsonl(src, 3000)
        self.dest = os.path.join(self.tmp, "out")
        run_cli("export", "--input", src, "--split", "train=0.8,test=0.2", "--split-key", "id", "--dest", self.dest,
                "--run-id", "r", "--target-file-size", "64KiB", check=0)
        self.run_dir = os.path.join(self.dest, "r")
        with open(os.path.join(self.run_dir, "manifest.json"), encoding="utf-8") as f:
            self.manifest = json.load(f)
        self.part = os.path.join(self.run_dir, self.manifest["splits"]["train"]["files"][0]["path"])

    def verify(self, *extra, check):
        return run_cli("verify", os.path.join(self.dest, "r"), *extra, check=check)

    def test_intact_run_passes_both_ways(self):
        self.assertIn("ok: ", self.verify(check=0).stdout)
        deep = self.verify("--deep", "--log-format", "json", check=0)
        report = json.loads(deep.stdout)
        self.assertTrue(report["ok"] and report["deep"])
        self.assertEqual(report["objects"], sum(len(s["files"]) for s in self.manifest["splits"].values()))

    def test_same_size_corruption_needs_deep(self):
        with open(self.part, "r+b") as f:
            f.seek(100)
            byte = f.read(1)
            f.seek(100)
            f.write(bytes([byte[0] ^ 0xFF]))
        self.verify(check=0)  # a local folder has no ETag: size alone cannot see this
        out = self.verify("--deep", check=1).stdout
        self.assertIn("FAILED", out)
        for check in ("md5", "sha256", "crc64nvme"):
            self.assertIn(check, out)

    def test_truncated_and_missing_parts(self):
        with open(self.part, "r+b") as f:
            f.truncate(10)
        other = os.path.join(self.run_dir, self.manifest["splits"]["test"]["files"][0]["path"])
        os.remove(other)
        report = json.loads(self.verify("--log-format", "json", check=1).stdout)
        found = {(p["object"], p["check"]) for p in report["problems"]}
        rel = lambda p: os.path.relpath(p, self.run_dir)
        self.assertIn((rel(self.part), "size"), found)
        self.assertIn((rel(other), "exists"), found)

    def test_edited_stats_break_the_split_checksum(self):
        self.manifest["splits"]["test"]["role_distribution"]["user"] += 1
        with open(os.path.join(self.run_dir, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(self.manifest, f)
        report = json.loads(self.verify("--log-format", "json", check=1).stdout)
        self.assertEqual([(p["object"], p["check"]) for p in report["problems"]], [("split test", "checksum")])

    def test_missing_or_corrupt_manifest_is_exit_2(self):
        os.rename(os.path.join(self.run_dir, "manifest.json"), os.path.join(self.tmp, "m.json"))
        missing = self.verify(check=2)
        self.assertIn("no manifest at", missing.stderr)
        with open(os.path.join(self.run_dir, "manifest.json"), "w", encoding="utf-8") as f:
            f.write("{not json")
        corrupt = self.verify(check=2)
        self.assertIn("corrupt", corrupt.stderr)
        self.assertEqual(len(corrupt.stderr.strip().splitlines()), 1)
