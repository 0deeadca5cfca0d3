"""Every bad input gets one clear line naming what is wrong, exit code 2, and nothing published."""
import glob
import json
import os

from harness import TempDirTest, all_files, run_cli

GOOD_ROWS = [{"id": i, "text": f"row {i}"} for i in range(100)]


class BadInputTest(TempDirTest):
    def setUp(self):
        super().setUp()
        self.dest = os.path.join(self.tmp, "out")
        self.good = self.write("good.jsonl", "".join(json.dumps(r) + "\n" for r in GOOD_ROWS))

    def write(self, name, text, mode="w"):
        path = os.path.join(self.tmp, name)
        with open(path, mode) as f:
            f.write(text)
        return path

    def export(self, *args, run_id="r"):
        return run_cli("export", *args, "--dest", self.dest, "--run-id", run_id)

    def assert_refused(self, proc, *fragments):
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        error_lines = [l for l in lines if l.startswith("splitship: error:")]
        self.assertEqual(len(error_lines), 1, proc.stderr)
        for fragment in fragments:
            self.assertIn(fragment, error_lines[0])
        self.assertNotIn("Traceback", proc.stderr)
        self.assertNotIn("terminate called", proc.stderr)
        # Nothing published: no manifest, no parts, no temp files, not even an empty run folder.
        self.assertEqual(os.listdir(self.dest) if os.path.isdir(self.dest) else [], [])

    def test_missing_input(self):
        self.assert_refused(self.export("--input", os.path.join(self.tmp, "nope.jsonl"), "--split", "a=1", "--split-key", "id"),
                            "input not found", "nope.jsonl")

    def test_glob_matching_nothing(self):
        self.assert_refused(self.export("--input", os.path.join(self.tmp, "*.parquet"), "--split", "a=1", "--split-key", "id"),
                            "no files match")

    def test_malformed_json_names_file_and_exact_line(self):
        lines = [json.dumps(r) for r in GOOD_ROWS[:5]] + ['{"id": 5, "text": '] + [json.dumps(r) for r in GOOD_ROWS[6:9]]
        bad = self.write("bad.jsonl", "\n".join(lines) + "\n")
        self.assert_refused(self.export("--input", bad, "--split", "a=1", "--split-key", "id"), f"{bad}:6:", "malformed JSON")

    def test_corrupt_parquet(self):
        bad = self.write("bad.parquet", b"PAR1 this is not parquet at all PAR1", mode="wb")
        self.assert_refused(self.export("--input", bad, "--split", "a=1", "--split-key", "id"), "bad.parquet", "Parquet")

    def test_truncated_parquet(self):
        run_cli("export", "--split-input", f"all={self.good}", "--dest", os.path.join(self.tmp, "pq"), "--run-id", "src", check=0)
        with open(glob.glob(os.path.join(self.tmp, "pq", "src", "all", "part-00000-*.parquet"))[0], "rb") as f:
            data = f.read()
        bad = self.write("truncated.parquet", data[: len(data) // 2], mode="wb")
        self.assert_refused(self.export("--input", bad, "--split", "a=1", "--split-key", "id"), "truncated.parquet")

    def test_split_key_not_in_schema(self):
        self.assert_refused(self.export("--input", self.good, "--split", "a=1", "--split-key", "uid"),
                            "--split-key 'uid' is not a column", "id, text")

    def test_split_column_not_in_schema(self):
        self.assert_refused(self.export("--input", self.good, "--split-column", "fold"), "--split-column 'fold' is not a column")

    def test_weights_not_positive(self):
        for weights in ("a=0,b=1", "a=-1", "a=x", "a"):
            self.assert_refused(self.export("--input", self.good, "--split", weights, "--split-key", "id"), "--split")

    def test_duplicate_split_names(self):
        self.assert_refused(self.export("--input", self.good, "--split", "a=1,a=2", "--split-key", "id"), "named twice")
        self.assert_refused(self.export("--split-input", f"a={self.good}", "--split-input", f"a={self.good}"), "named twice")

    def test_split_column_value_that_is_not_a_folder_name(self):
        src = self.write("s.jsonl", '{"id": 1, "s": "../evil"}\n{"id": 2, "s": "ok"}\n')
        self.assert_refused(self.export("--input", src, "--split-column", "s"), "invalid split name '../evil'")

    def test_destination_not_writable(self):
        blocker = self.write("a-file", "x")
        proc = run_cli("export", "--input", self.good, "--split", "a=1", "--split-key", "id",
                       "--dest", os.path.join(blocker, "sub"), "--run-id", "r")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("not writable", proc.stderr)

    def test_bad_run_ids(self):
        for run_id in ("a/b", "..", "../x", ".hidden", "_journal"):
            self.assert_refused(self.export("--input", self.good, "--split", "a=1", "--split-key", "id", run_id=run_id),
                                "invalid run id")

    def test_bad_length_expr(self):
        self.assert_refused(self.export("--input", self.good, "--split", "a=1", "--split-key", "id", "--length-expr", "length(nope)"),
                            "--length-expr")

    def test_bad_sizes_and_modes(self):
        self.assert_refused(self.export("--input", self.good, "--split", "a=1", "--split-key", "id", "--target-file-size", "12XB"),
                            "--target-file-size")
        self.assert_refused(self.export("--input", self.good, "--split-column", "id", "--split", "a=1"), "exactly one of")

    def test_published_run_needs_overwrite(self):
        args = ("--input", self.good, "--split", "a=3,b=1", "--split-key", "id", "--target-file-size", "1KiB")
        self.assertEqual(self.export(*args).returncode, 0)
        manifest = os.path.join(self.dest, "r", "manifest.json")
        with open(manifest) as f:
            before = f.read()
        proc = self.export(*args)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("already published", proc.stderr)
        self.assertIn("--overwrite", proc.stderr)
        with open(manifest) as f:
            self.assertEqual(f.read(), before)
        # --overwrite replaces it; a run with fewer parts leaves no old parts behind.
        self.assertEqual(self.export("--input", self.good, "--split", "a=1", "--split-key", "id", "--overwrite").returncode, 0)
        with open(manifest) as f:
            m = json.load(f)
        listed = sorted(os.path.join(self.dest, "r", p["path"]) for s in m["splits"].values() for p in s["files"])
        self.assertEqual(all_files(os.path.join(self.dest, "r")), sorted(listed + [manifest]))

    def test_empty_split_warns_and_still_publishes(self):
        one = self.write("one.jsonl", '{"id": 1, "text": "solo"}\n')
        proc = self.export("--input", one, "--split", "a=1,b=1", "--split-key", "id")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("is empty", proc.stderr)
        with open(os.path.join(self.dest, "r", "manifest.json")) as f:
            m = json.load(f)
        counts = sorted(s["num_documents"] for s in m["splits"].values())
        self.assertEqual(counts, [0, 1])
        empty = [s for s in m["splits"].values() if s["num_documents"] == 0][0]
        self.assertEqual(len(empty["files"]), 1)
        self.assertEqual(empty["files"][0]["num_rows"], 0)
        self.assertEqual(empty["feature_length"], 0)

    def test_inspect_of_missing_or_corrupt_manifest(self):
        proc = run_cli("inspect", os.path.join(self.dest, "nothing"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("no manifest", proc.stderr)
        os.makedirs(os.path.join(self.dest, "broken"))
        self.write(os.path.join(self.dest, "broken", "manifest.json"), "{not json")
        proc = run_cli("inspect", os.path.join(self.dest, "broken"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("corrupt", proc.stderr)
