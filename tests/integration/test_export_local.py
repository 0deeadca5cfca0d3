"""End-to-end exports to a local folder, read back with an independent Parquet reader."""
import collections
import glob
import json
import os
import shutil
import tempfile
import unittest

import datagen
from harness import (TempDirTest, all_files, crc64nvme_b64, file_digests, python_split, read_parquet, run_cli,
                     stats_checksum)

N_DOCS = 200_000
SPLITS = [("train", 0.8), ("val", 0.1), ("test", 0.1)]
SEED = 7


def doc_length(doc):
    return sum(len(m["content"]) for m in doc["messages"] if m["content"] is not None)


class ChatExportTest(unittest.TestCase):
    """One 200k-document dataset, exported from JSONL and from Parquet; every property checked."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="splitship-chat-")
        cls.tmp = cls._tmp.name
        cls.jsonl = os.path.join(cls.tmp, "chat.jsonl")
        datagen.write_jsonl(cls.jsonl, N_DOCS)
        with open(cls.jsonl, encoding="utf-8") as f:
            cls.docs = {d["id"]: d for d in map(json.loads, f)}
        # Expected per split, computed independently of splitship from the source.
        cls.expected = collections.defaultdict(lambda: {"n": 0, "roles": collections.Counter(), "lengths": []})
        for d in cls.docs.values():
            e = cls.expected[python_split(d["id"], SEED, SPLITS)]
            e["n"] += 1
            e["roles"].update(m["role"] for m in d["messages"])
            e["lengths"].append(doc_length(d))

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def export(self, input_path, run_id):
        dest = os.path.join(self.tmp, "out")
        run_cli("export", "--input", input_path, "--split", ",".join(f"{n}={w}" for n, w in SPLITS),
                "--split-key", "id", "--seed", SEED, "--dest", dest, "--run-id", run_id,
                "--target-file-size", "1MiB", "--row-group-size", "10000", check=0)
        run_dir = os.path.join(dest, run_id)
        with open(os.path.join(run_dir, "manifest.json"), encoding="utf-8") as f:
            return run_dir, json.load(f)

    def check_export(self, run_dir, manifest):
        self.assertEqual(manifest["manifest_version"], 1)
        self.assertEqual(list(manifest["splits"]), [n for n, _ in SPLITS])
        paths = [os.path.join(run_dir, f["path"]) for s in manifest["splits"].values() for f in s["files"]]
        # Nothing but the listed parts and the manifest in the run folder.
        self.assertEqual(all_files(run_dir), sorted(paths + [os.path.join(run_dir, "manifest.json")]))
        parts = read_parquet(paths)
        seen = set()
        for name, split in manifest["splits"].items():
            exp = self.expected[name]
            self.assertEqual(split["num_documents"], exp["n"], name)
            self.assertEqual(split["role_distribution"], dict(exp["roles"]), name)
            self.assertEqual(split["feature_length"], max(exp["lengths"]), name)
            st = split["feature_length_stats"]
            self.assertEqual((st["min"], st["max"], st["sum"]), (min(exp["lengths"]), max(exp["lengths"]), sum(exp["lengths"])))
            self.assertAlmostEqual(st["mean"], sum(exp["lengths"]) / exp["n"], places=6)
            lengths = sorted(exp["lengths"])
            self.assertIn(st["p50"], lengths)
            self.assertLessEqual(st["p50"], st["p95"])
            self.assertLessEqual(st["p95"], st["p99"])
            names = [f["name"] for f in split["schema_fields"]]
            self.assertEqual(names, ["id", "source", "messages"])
            # The split checksum, recomputed from the independent expectations.
            self.assertEqual(split["checksum"], stats_checksum(exp["n"], names, max(exp["lengths"]), dict(exp["roles"])))
            self.assertEqual(split["num_bytes"], sum(f["size"] for f in split["files"]))
            rows_in_split = 0
            for f in split["files"]:
                path = os.path.join(run_dir, f["path"])
                md5, sha = file_digests(path)
                self.assertEqual((f["md5"], f["sha256"], f["size"]), (md5, sha, os.path.getsize(path)), path)
                part = parts[path]
                self.assertEqual(part["columns"], names)
                self.assertEqual(f["num_rows"], part["num_rows"])
                self.assertEqual(len(part["rows"]), part["num_rows"])
                rows_in_split += part["num_rows"]
                for row in part["rows"]:
                    doc_id, source, messages = row
                    self.assertNotIn(doc_id, seen, "row exported twice")
                    seen.add(doc_id)
                    src = self.docs[doc_id]
                    self.assertEqual(python_split(doc_id, SEED, SPLITS), name)
                    self.assertEqual((source, messages), (src["source"], src["messages"]))
            self.assertEqual(rows_in_split, split["num_documents"])
            # Part after part, a split's rows keep the input's order: resume relies on it, as
            # part k is always the same row range of the split.
            in_parts = [row[0] for f in split["files"] for row in parts[os.path.join(run_dir, f["path"])]["rows"]]
            self.assertEqual(in_parts, [d for d in self.docs if python_split(d, SEED, SPLITS) == name], name)
        self.assertEqual(seen, set(self.docs), "every row in exactly one split")
        # Several parts for train at a 1 MiB target; CRC64/NVME checked on the smallest part.
        self.assertGreater(len(manifest["splits"]["train"]["files"]), 2)
        smallest = min((f for s in manifest["splits"].values() for f in s["files"]), key=lambda f: f["size"])
        with open(os.path.join(run_dir, smallest["path"]), "rb") as fh:
            self.assertEqual(smallest["crc64nvme"], crc64nvme_b64(fh.read()))

    def test_jsonl_export(self):
        run_dir, manifest = self.export(self.jsonl, "from-jsonl")
        self.assertEqual(manifest["source"]["format"], "jsonl")
        self.check_export(run_dir, manifest)

    def test_parquet_export_equals_jsonl_export(self):
        # A Parquet copy of the source (one part, written by splitship's --split-input path).
        dest = os.path.join(self.tmp, "as-parquet")
        run_cli("export", "--split-input", f"all={self.jsonl}", "--dest", dest, "--run-id", "src", check=0)
        parquet = glob.glob(os.path.join(dest, "src", "all", "part-00000-*.parquet"))[0]
        run_dir, manifest = self.export(parquet, "from-parquet")
        self.assertEqual(manifest["source"]["format"], "parquet")
        self.check_export(run_dir, manifest)
        _, from_jsonl = self.export(self.jsonl, "from-jsonl-2")
        for name in manifest["splits"]:
            self.assertEqual(manifest["splits"][name]["checksum"], from_jsonl["splits"][name]["checksum"])
        # The same input exported twice gives the same bytes, part for part.
        _, again = self.export(self.jsonl, "from-jsonl-3")
        for name, split in from_jsonl["splits"].items():
            self.assertEqual([f["md5"] for f in split["files"]], [f["md5"] for f in again["splits"][name]["files"]], name)


class SplitModesTest(TempDirTest):
    def write_jsonl(self, name, rows):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        return path

    def manifest(self, dest, run_id):
        with open(os.path.join(dest, run_id, "manifest.json"), encoding="utf-8") as f:
            return json.load(f)

    def test_split_column_uses_values_and_drops_the_column(self):
        rows = [{"id": i, "text": "x" * (i % 13), "role": "user" if i % 3 else "assistant",
                 "split": ["train", "test"][i % 2]} for i in range(1000)]
        src = self.write_jsonl("rows.jsonl", rows)
        dest = os.path.join(self.tmp, "out")
        run_cli("export", "--input", src, "--split-column", "split", "--dest", dest, "--run-id", "r", check=0)
        m = self.manifest(dest, "r")
        self.assertEqual(sorted(m["splits"]), ["test", "train"])
        for name, split in m["splits"].items():
            mine = [r for r in rows if r["split"] == name]
            self.assertEqual(split["num_documents"], len(mine))
            self.assertEqual([f["name"] for f in split["schema_fields"]], ["id", "text", "role"])
            self.assertEqual(split["feature_length"], max(len(r["text"]) for r in mine))
            self.assertEqual(split["role_distribution"], dict(collections.Counter(r["role"] for r in mine)))
            part = read_parquet([os.path.join(dest, "r", split["files"][0]["path"])]).popitem()[1]
            self.assertEqual(part["columns"], ["id", "text", "role"])
            self.assertEqual(sorted(r[0] for r in part["rows"]), [r["id"] for r in mine])

    def test_split_input_and_length_expr(self):
        train = self.write_jsonl("train.jsonl", [{"id": i, "body": "ab" * i} for i in range(50)])
        test = self.write_jsonl("test.jsonl", [{"id": i, "body": "c" * i} for i in range(7)])
        dest = os.path.join(self.tmp, "out")
        run_cli("export", "--split-input", f"train={train}", "--split-input", f"test={test}", "--dest", dest,
                "--run-id", "r", "--length-expr", "length(body) * 10", "--compression", "snappy", check=0)
        m = self.manifest(dest, "r")
        self.assertEqual(list(m["splits"]), ["train", "test"])
        self.assertEqual(m["splits"]["train"]["feature_length"], 980)
        self.assertEqual(m["splits"]["test"]["feature_length"], 60)
        self.assertEqual(m["splits"]["test"]["role_distribution"], {})
        self.assertEqual(m["splits"]["test"]["checksum"], stats_checksum(7, ["id", "body"], 60, {}))
        self.assertEqual(m["settings"]["compression"], "snappy")

    def test_csv_input_and_null_counts(self):
        src = os.path.join(self.tmp, "rows.csv")
        with open(src, "w") as f:
            f.write("id,text,score\n1,hello,\n2,,3\n3,héllo wörld,4\n")
        dest = os.path.join(self.tmp, "out")
        run_cli("export", "--input", src, "--split", "all=1", "--split-key", "id", "--dest", dest, "--run-id", "r", check=0)
        split = self.manifest(dest, "r")["splits"]["all"]
        self.assertEqual(split["num_documents"], 3)
        self.assertEqual(split["feature_length"], 11)
        self.assertEqual(split["null_counts"], {"id": 0, "text": 1, "score": 1})

    def test_rows_without_messages_are_null_counts_not_roles(self):
        # The roles pass also counts rows whose messages are NULL (one scan of that column).
        rows = [{"id": 0, "messages": [{"role": "user", "content": "hi"}, {"role": None, "content": "x"}]},
                {"id": 1, "messages": None},
                {"id": 2, "messages": []},
                {"id": 3, "messages": None},
                {"id": 4, "messages": [{"role": "assistant", "content": "yes"}]}]
        src = self.write_jsonl("chat.jsonl", rows)
        dest = os.path.join(self.tmp, "out")
        run_cli("export", "--input", src, "--split", "all=1", "--split-key", "id", "--dest", dest, "--run-id", "r", check=0)
        split = self.manifest(dest, "r")["splits"]["all"]
        self.assertEqual(split["num_documents"], 5)
        self.assertEqual(split["null_counts"], {"id": 0, "messages": 2})
        self.assertEqual(split["role_distribution"], {"<null>": 1, "assistant": 1, "user": 1})
        self.assertEqual(split["feature_length"], 3)  # the longest document
        stats = split["feature_length_stats"]  # lengths 3, 0, 0, 0, 3 (NULL messages count 0)
        self.assertEqual((stats["min"], stats["max"], stats["sum"]), (0, 3, 6))
        self.assertEqual((stats["p50"], stats["p95"], stats["p99"]), (0, 3, 3))

    def test_folder_and_glob_inputs_read_every_file_once(self):
        os.makedirs(os.path.join(self.tmp, "data", "more"))
        for i in range(3):
            self.write_jsonl(os.path.join("data", f"p{i}.jsonl"), [{"id": i * 100 + k, "text": "t"} for k in range(10)])
        self.write_jsonl(os.path.join("data", "more", "p9.jsonl"), [{"id": 900 + k, "text": "t"} for k in range(5)])
        self.write_jsonl(os.path.join("data", "_ignored.jsonl"), [{"id": -1, "text": "hidden"}])
        dest = os.path.join(self.tmp, "out")
        run_cli("export", "--input", os.path.join(self.tmp, "data"), "--split", "a=1,b=1", "--split-key", "id",
                "--dest", dest, "--run-id", "folder", check=0)
        m = self.manifest(dest, "folder")
        self.assertEqual(sum(s["num_documents"] for s in m["splits"].values()), 35)
        self.assertEqual(len(m["source"]["files"]), 4)
        run_cli("export", "--input", os.path.join(self.tmp, "data", "**", "*.jsonl"), "--split", "a=1,b=1",
                "--split-key", "id", "--dest", dest, "--run-id", "glob", check=0)
        self.assertEqual(sum(s["num_documents"] for s in self.manifest(dest, "glob")["splits"].values()), 36)

    def test_inspect_and_json_logs(self):
        src = self.write_jsonl("rows.jsonl", [{"id": i, "text": "abc"} for i in range(20)])
        dest = os.path.join(self.tmp, "out")
        proc = run_cli("export", "--input", src, "--split", "train=3,test=1", "--split-key", "id", "--dest", dest,
                       "--run-id", "r", "--log-format", "json", check=0)
        for line in proc.stderr.splitlines():
            self.assertIn(json.loads(line)["level"], ("info", "warn", "debug"))
        summary = json.loads(proc.stdout)
        m = self.manifest(dest, "r")
        self.assertEqual(summary["splits"]["train"]["checksum"], m["splits"]["train"]["checksum"])
        out = run_cli("inspect", os.path.join(dest, "r"), check=0).stdout
        self.assertIn(m["splits"]["test"]["checksum"], out)
        self.assertIn("train", out)


if __name__ == "__main__":
    unittest.main()
