"""Exports to the real S3-compatible server (Ceph's RADOS Gateway), checked with an independent
client (boto3): keys, sizes, ETags, downloaded bytes, rows; no object GETs by splitship."""
import collections
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import datagen
import faultproxy
import s3harness as s3h
import tlsproxy
import test_race
from harness import BIN, crc64nvme_b64, python_split, read_parquet, run_cli, stats_checksum

SPLITS = [("train", 0.8), ("val", 0.1), ("test", 0.1)]
SEED = 3
N_DOCS = 60_000


class S3Case(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = s3h.server_env()
        cls.bucket = cls.s3["SPLITSHIP_TEST_BUCKET"]
        cls.client = s3h.client(cls.s3)
        cls._tmp = tempfile.TemporaryDirectory(prefix="splitship-s3-")
        cls.tmp = cls._tmp.name

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def cli(self, *args, check=None, **env):
        return run_cli(*args, env=s3h.cli_env(self.s3, **env), check=check)

    def manifest(self, key):
        return json.loads(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def assert_nothing_under(self, prefix):
        self.assertEqual(s3h.list_objects(self.client, self.bucket, prefix), {}, "objects left behind")
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [], "orphan multipart uploads")


class S3DataCase(S3Case):
    """A generated chat dataset and the export command line for it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jsonl = os.path.join(cls.tmp, "chat.jsonl")
        datagen.write_jsonl(cls.jsonl, N_DOCS)
        with open(cls.jsonl, encoding="utf-8") as f:
            cls.docs = {d["id"]: d for d in map(json.loads, f)}

    def export_args(self, dest, run_id, *extra):
        return ("export", "--input", self.jsonl, "--split", ",".join(f"{n}={w}" for n, w in SPLITS),
                "--split-key", "id", "--seed", SEED, "--dest", dest, "--run-id", run_id, "--progress", "never",
                "--row-group-size", "5000", *extra)


class S3ExportTest(S3DataCase):
    def test_export_matches_an_independent_client_and_never_reads_back(self):
        prefix = s3h.unique_prefix("export")
        log = s3h.GatewayLog(self.s3["SPLITSHIP_S3_LOG"])
        # Uncompressed 12 MiB train parts go in 5 MiB upload parts; the smaller splits in one PUT.
        self.cli(*self.export_args(f"s3://{self.bucket}/{prefix}", "r1", "--target-file-size", "12MiB",
                                   "--part-size", "5MiB", "--concurrency", "3", "--compression", "none"), check=0)
        manifest = self.manifest(f"{prefix}/r1/manifest.json")
        run = f"{prefix}/r1/"
        listed = s3h.list_objects(self.client, self.bucket, run)
        files = [f for s in manifest["splits"].values() for f in s["files"]]
        self.assertEqual(sorted(listed), sorted([run + "manifest.json"] + [run + f["path"] for f in files]))
        self.assertTrue(any("-" in f["etag"] for f in files), "no object went through multipart upload")
        self.assertTrue(any("-" not in f["etag"] for f in files), "no object went through PutObject")
        download = os.path.join(self.tmp, "download-" + prefix)
        paths = {}
        for f in files:
            obj = listed[run + f["path"]]
            self.assertEqual((obj["Size"], obj["ETag"].strip('"')), (f["size"], f["etag"]), f["path"])
            body = self.client.get_object(Bucket=self.bucket, Key=run + f["path"])["Body"].read()
            self.assertEqual(hashlib.md5(body).hexdigest(), f["md5"])
            self.assertEqual(hashlib.sha256(body).hexdigest(), f["sha256"])
            self.assertEqual(expected_etag(body, 5 << 20), f["etag"])
            path = os.path.join(download, f["path"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as out:
                out.write(body)
            paths[path] = (f, body)
        smallest = min(paths.values(), key=lambda fb: len(fb[1]))
        self.assertEqual(smallest[0]["crc64nvme"], crc64nvme_b64(smallest[1]))
        # Every row once, in the split the documented rule gives.
        parts = read_parquet(paths)
        seen = collections.Counter()
        for name, split in manifest["splits"].items():
            n = 0
            for f in split["files"]:
                part = parts[os.path.join(download, f["path"])]
                self.assertEqual(part["num_rows"], f["num_rows"])
                for row in part["rows"]:
                    self.assertEqual(python_split(row[0], SEED, SPLITS), name)
                    seen[row[0]] += 1
                n += part["num_rows"]
            self.assertEqual(n, split["num_documents"])
            names = [fld["name"] for fld in split["schema_fields"]]
            self.assertEqual(split["checksum"], stats_checksum(split["num_documents"], names, split["feature_length"],
                                                               split["role_distribution"]))
        self.assertEqual(set(seen), set(self.docs))
        self.assertEqual(max(seen.values()), 1)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])
        # The gateway's own log: splitship wrote, and never read an object back.
        requests = wait_for_requests(log, lambda rs: any(m == "PUT" and p.endswith("manifest.json") for m, p, _ in rs))
        self.assertGreater(sum(m == "PUT" for m, _, _ in requests), len(files))
        object_gets = [r for r in requests if s3h.is_object_get(r[0], r[1], self.bucket)]
        self.assertEqual(object_gets, [])
        # The same export to a local folder has the same stats and split checksums.
        local = os.path.join(self.tmp, "local-" + prefix)
        run_cli(*self.export_args(local, "r1", "--target-file-size", "12MiB", "--compression", "none"), check=0)
        with open(os.path.join(local, "r1", "manifest.json"), encoding="utf-8") as f:
            local_manifest = json.load(f)
        for name, split in manifest["splits"].items():
            other = local_manifest["splits"][name]
            for field in ("num_documents", "checksum", "role_distribution", "feature_length_stats", "schema_fields"):
                self.assertEqual(split[field], other[field], f"{name}.{field}")
        shutil.rmtree(download)

    def test_published_run_is_refused_and_overwrite_replaces_it(self):
        prefix = s3h.unique_prefix("overwrite")
        dest = f"s3://{self.bucket}/{prefix}"
        self.cli(*self.export_args(dest, "r", "--target-file-size", "2MiB"), check=0)
        first = s3h.list_objects(self.client, self.bucket, prefix)
        again = self.cli(*self.export_args(dest, "r"), check=2)
        self.assertIn("already published", again.stderr)
        self.assertEqual(s3h.list_objects(self.client, self.bucket, prefix).keys(), first.keys())
        self.cli(*self.export_args(dest, "r", "--overwrite", "--target-file-size", "64MiB"), check=0)
        manifest = self.manifest(f"{prefix}/r/manifest.json")
        files = {f"{prefix}/r/{f['path']}" for s in manifest["splits"].values() for f in s["files"]}
        self.assertEqual(set(s3h.list_objects(self.client, self.bucket, prefix)), files | {f"{prefix}/r/manifest.json"})

    def test_checksum_headers_and_unsigned_payload_are_accepted(self):
        prefix = s3h.unique_prefix("options")
        for i, extra in enumerate([("--checksum-algorithm", "CRC64NVME"), ("--checksum-algorithm", "CRC32C"),
                                   ("--checksum-algorithm", "SHA256"), ("--unsigned-payload",),
                                   ("--signed-payload", "--checksum-algorithm", "SHA256")]):
            self.cli(*self.export_args(f"s3://{self.bucket}/{prefix}", f"r{i}", "--target-file-size", "6MiB",
                                       "--part-size", "5MiB", *extra), check=0)
            manifest = self.manifest(f"{prefix}/r{i}/manifest.json")
            self.assertEqual(sum(s["num_documents"] for s in manifest["splits"].values()), N_DOCS)

    def test_virtual_hosted_addressing(self):
        # bucket.localhost resolves to 127.0.0.1 and the gateway's dns name is localhost.
        prefix = s3h.unique_prefix("virtual")
        port = self.s3["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]
        log = s3h.GatewayLog(self.s3["SPLITSHIP_S3_LOG"])
        self.cli(*self.export_args(f"s3://{self.bucket}/{prefix}", "r", "--addressing-style", "virtual",
                                   "--endpoint-url", f"http://localhost:{port}"), check=0)
        self.assertIn(f"{prefix}/r/manifest.json", s3h.list_objects(self.client, self.bucket, prefix))
        requests = wait_for_requests(log, lambda rs: any(p.endswith("manifest.json") for _, p, _ in rs))
        # Virtual-hosted requests carry the key without the bucket in the path.
        self.assertTrue(any(p.startswith(f"/{prefix}/") for _, p, _ in requests), requests[:3])

    def test_sigint_during_upload_leaves_nothing(self):
        prefix = s3h.unique_prefix("sigint")
        # Part uploads through a slow link (each delayed 0.5 s): the interrupt lands while a
        # multipart upload is open, however fast this machine is. One split at a time, so no
        # part file is finished yet (finished ones would stay for a resume).
        proxy = faultproxy.FaultProxy(int(self.s3["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]), ["delay"],
                                      applies=lambda m, t: m == "PUT" and "partNumber=" in t)
        self.addCleanup(proxy.close)
        args = self.export_args(f"s3://{self.bucket}/{prefix}", "r", "--target-file-size", "12MiB", "--part-size",
                                "5MiB", "--compression", "none", "--concurrency", "1", "--parallel-splits", "1")
        proc = subprocess.Popen([BIN, *map(str, args)], env=s3h.cli_env(self.s3, AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and not s3h.pending_uploads(self.client, self.bucket, prefix):
            self.assertIsNone(proc.poll(), "export ended before it could be interrupted")
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        self.assertEqual(proc.returncode, 130, err)
        self.assert_nothing_under(prefix)


class S3RetryTest(S3DataCase):
    """kill -9 of the gateway in the middle of an export: it finishes through retries."""

    def test_gateway_killed_and_restarted_mid_export(self):
        prefix = s3h.unique_prefix("gwkill")
        args = self.export_args(f"s3://{self.bucket}/{prefix}", "r", "--target-file-size", "12MiB", "--part-size",
                                "5MiB", "--compression", "none", "--max-attempts", "10", "--concurrency", "2")
        proc = subprocess.Popen([BIN, *map(str, args)], env=s3h.cli_env(self.s3), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # Kill as soon as the destination probe succeeded and the input is being read: the
        # gateway is then down (kill, 2 s, ~3 s restart) when the first parts go up, whatever
        # the machine's speed. (Waiting for a pending upload raced with fast loopback uploads.)
        first = proc.stderr.readline()
        self.assertIn("reading input", first)
        os.kill(s3h.gateway_pid(self.s3), signal.SIGKILL)
        time.sleep(2)
        s3h.restart_gateway()
        out, err = proc.communicate(timeout=300)
        err = first + err
        self.assertEqual(proc.returncode, 0, err)
        published = [l for l in err.splitlines() if l.startswith("published")]
        self.assertEqual(len(published), 1, err)
        retries = int(published[0].split("retries=")[1].split()[0])
        self.assertGreater(retries, 0, "the export saw no failure: the gateway was killed too late")
        manifest = self.manifest(f"{prefix}/r/manifest.json")
        self.assertEqual(sum(s["num_documents"] for s in manifest["splits"].values()), N_DOCS)
        listed = s3h.list_objects(self.client, self.bucket, prefix + "/r/")
        for split in manifest["splits"].values():
            for f in split["files"]:
                obj = listed[f"{prefix}/r/{f['path']}"]
                self.assertEqual((obj["Size"], obj["ETag"].strip('"')), (f["size"], f["etag"]))
                body = self.client.get_object(Bucket=self.bucket, Key=f"{prefix}/r/{f['path']}")["Body"].read()
                self.assertEqual(hashlib.sha256(body).hexdigest(), f["sha256"])
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])


class S3FaultTest(S3DataCase):
    """Faults a real server cannot make on demand, from a loopback proxy in front of it."""

    def proxy(self, schedule, **kw):
        p = faultproxy.FaultProxy(int(self.s3["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]), schedule, **kw)
        self.addCleanup(p.close)
        return f"http://127.0.0.1:{p.port}", p

    def test_injected_faults_are_retried_and_counted(self):
        endpoint, proxy = self.proxy([None, "503", None, "500", None, "reset", None, "stall", None, None], stall_s=3)
        prefix = s3h.unique_prefix("faults")
        out = self.cli(*self.export_args(f"s3://{self.bucket}/{prefix}", "r", "--target-file-size", "12MiB",
                                         "--part-size", "5MiB", "--compression", "none", "--request-timeout", "1",
                                         "--max-attempts", "8"), check=0, AWS_ENDPOINT_URL=endpoint)
        self.assertEqual(set(proxy.injected), {"503", "500", "reset", "stall"}, proxy.injected)
        faults = sum(proxy.injected.values())
        summary = [l for l in out.stdout.splitlines() if "retried" in l]
        self.assertEqual(len(summary), 1, out.stdout)
        self.assertEqual(int(summary[0].split(", ")[1].split()[0]), faults)
        published = [l for l in out.stderr.splitlines() if l.startswith("published")][0]
        self.assertEqual(int(published.split("retries=")[1].split()[0]), faults)
        # What was stored is what the manifest says, byte for byte (straight to the gateway).
        deep = self.cli("verify", "--deep", f"s3://{self.bucket}/{prefix}/r", check=0)
        self.assertIn("ok: ", deep.stdout)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])

    def test_bodies_go_unsigned_under_a_signed_content_md5_and_damage_is_refused_then_resent(self):
        # Every 3rd part upload has one byte flipped on the way. With the default payload
        # signing (no SHA-256 of the body), Ceph itself must refuse the damaged body through
        # Content-MD5 (BadDigest, nothing stored); splitship sends it again.
        endpoint, proxy = self.proxy([None, None, "flip"], applies=lambda m, t: m == "PUT" and "partNumber=" in t)
        prefix = s3h.unique_prefix("flip")
        out = self.cli(*self.export_args(f"s3://{self.bucket}/{prefix}", "r", "--target-file-size", "12MiB",
                                         "--part-size", "5MiB", "--compression", "none"),
                       check=0, AWS_ENDPOINT_URL=endpoint)
        self.assertGreaterEqual(proxy.injected.get("flip", 0), 1, proxy.injected)
        published = [l for l in out.stderr.splitlines() if l.startswith("published")][0]
        self.assertGreaterEqual(int(published.split("retries=")[1].split()[0]), proxy.injected["flip"])
        body_hashes = {h for m, t, h in proxy.payload_hashes if m == "PUT"}
        self.assertEqual(body_hashes, {"UNSIGNED-PAYLOAD"}, proxy.payload_hashes[:3])
        deep = self.cli("verify", "--deep", f"s3://{self.bucket}/{prefix}/r", check=0)
        self.assertIn("ok: ", deep.stdout)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])

        # --signed-payload: every body's SHA-256 is signed; the server checks that too.
        signed_proxy_endpoint, signed_proxy = self.proxy([None])
        self.cli(*self.export_args(f"s3://{self.bucket}/{prefix}", "s", "--target-file-size", "12MiB",
                                   "--part-size", "5MiB", "--compression", "none", "--signed-payload"),
                 check=0, AWS_ENDPOINT_URL=signed_proxy_endpoint)
        puts = [(t, h) for m, t, h in signed_proxy.payload_hashes if m == "PUT"]
        self.assertTrue(puts)
        for target, h in puts:
            self.assertRegex(h, r"^[0-9a-f]{64}$", target)

    def test_a_server_that_keeps_failing_is_given_up_on(self):
        # Every upload of part 2 or later fails: the multipart upload exists, then must be aborted.
        # The splits are written at once, so a small split's single-PUT part may finish first:
        # such finished parts stay for a resume, listed in the journal; nothing else may.
        endpoint, proxy = self.proxy(["500"], applies=lambda m, t: m == "PUT" and "partNumber=" in t
                                     and "partNumber=1&" not in t and not t.endswith("partNumber=1"))
        prefix = s3h.unique_prefix("keepsfailing")
        proc = self.cli(*self.export_args(f"s3://{self.bucket}/{prefix}", "r", "--target-file-size", "12MiB",
                                          "--part-size", "5MiB", "--compression", "none", "--max-attempts", "3"),
                        AWS_ENDPOINT_URL=endpoint)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        lines = [l for l in proc.stderr.splitlines() if l.startswith("splitship: error")]
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("500 InternalError", lines[0])
        self.assertIn("gave up after 3 attempts", lines[0])
        self.assertNotIn("Traceback", proc.stderr)
        self.assertGreaterEqual(proxy.injected.get("500", 0), 3)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [], "orphan multipart uploads")
        objects = s3h.list_objects(self.client, self.bucket, prefix)
        self.assertNotIn(f"{prefix}/r/manifest.json", objects)
        parts = [k for k in objects if "/_journal/" not in k]
        for key in parts:
            self.assertRegex(key, r"/r/\w+/part-\d+-\w+\.parquet$")
        # Each part file left behind is one the journal lists as finished.
        self.assertEqual(len(parts), len([k for k in objects if "/_journal/done/" in k]), objects)


    def test_a_failing_split_stops_the_other_and_resume_finishes(self):
        # Splits written at once: train's part 2+ uploads keep failing while the small splits
        # finish. The error is train's own (not "interrupted"), no upload is left pending,
        # finished part files stay, and a resume straight to the gateway publishes the run.
        proxies = []

        def small_splits_done():
            deadline = time.time() + 60
            while time.time() < deadline:
                done = {t.split("/_journal/done/")[1].split("/")[0] for m, t, _ in list(proxies[0].forwarded)
                        if m == "PUT" and "/_journal/done/" in t}
                if {"val", "test"} <= done:
                    return True
                time.sleep(0.05)
            return True

        # Train's part uploads wait at the proxy until val and test are finished, then fail:
        # the order is fixed, however the threads are scheduled.
        endpoint, proxy = self.proxy(["500"], applies=lambda m, t: m == "PUT" and "/train/" in t and "partNumber=" in t
                                     and small_splits_done())
        proxies.append(proxy)
        prefix = s3h.unique_prefix("splitfails")
        dest = f"s3://{self.bucket}/{prefix}"
        proc = self.cli(*self.export_args(dest, "r", "--target-file-size", "12MiB", "--part-size", "5MiB",
                                          "--compression", "none", "--max-attempts", "2", "--parallel-splits", "3"),
                        AWS_ENDPOINT_URL=endpoint)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        errors = [l for l in proc.stderr.splitlines() if l.startswith("splitship: error")]
        self.assertEqual(len(errors), 1, proc.stderr)
        self.assertIn("500 InternalError", errors[0])
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])
        left = s3h.list_objects(self.client, self.bucket, prefix)
        self.assertNotIn(f"{prefix}/r/manifest.json", left)
        kept = [k for k in left if k.endswith(".parquet")]
        self.assertTrue(kept and all("/train/" not in k for k in kept), kept)
        self.assertIn(f"splitship resume {dest}/r", proc.stderr)
        out = self.cli("resume", f"{dest}/r", check=0)
        self.assertIn("resumed:", out.stdout)
        manifest = self.manifest(f"{prefix}/r/manifest.json")
        self.assertEqual(sum(s["num_documents"] for s in manifest["splits"].values()), N_DOCS)
        for k in kept:
            self.assertIn(k.split("/r/", 1)[1], {f["path"] for sp in manifest["splits"].values() for f in sp["files"]})
        self.assertIn("ok: ", self.cli("verify", "--deep", f"{dest}/r", check=0).stdout)


class S3ShardTest(S3DataCase):
    def test_three_shards_of_one_parquet_file_then_commit(self):
        # The dataset as one Parquet file of 12 row groups, cut into 3 shards that upload
        # to S3; commit publishes what a single-process export of the same file publishes.
        local = os.path.join(self.tmp, "as-parquet")
        run_cli("export", "--split-input", f"all={self.jsonl}", "--dest", local, "--run-id", "p",
                "--row-group-size", "5000", "--progress", "never", check=0)
        with open(os.path.join(local, "p", "manifest.json"), encoding="utf-8") as f:
            source = os.path.join(local, "p", json.load(f)["splits"]["all"]["files"][0]["path"])
        args = ("export", "--input", source, "--split", ",".join(f"{n}={w}" for n, w in SPLITS), "--split-key", "id",
                "--seed", SEED, "--run-id", "r", "--progress", "never", "--target-file-size", "2MiB")
        run_cli(*args, "--dest", os.path.join(self.tmp, "single"), check=0)
        with open(os.path.join(self.tmp, "single", "r", "manifest.json"), encoding="utf-8") as f:
            single = json.load(f)
        prefix = s3h.unique_prefix("shards")
        dest = f"s3://{self.bucket}/{prefix}"
        for i in range(3):
            self.cli(*args, "--dest", dest, "--shard", f"{i}/3", check=0)
        self.assertNotIn(f"{prefix}/r/manifest.json", s3h.list_objects(self.client, self.bucket, prefix))
        self.cli("commit", f"{dest}/r", "--shards", "3", check=0)
        manifest = self.manifest(f"{prefix}/r/manifest.json")
        for name, split in single["splits"].items():
            self.assertEqual(manifest["splits"][name]["checksum"], split["checksum"], name)
            self.assertEqual(manifest["splits"][name]["num_documents"], split["num_documents"], name)
        shards_seen = {f["path"].split("/part-")[1][:5] for s in manifest["splits"].values() for f in s["files"]}
        self.assertEqual(shards_seen, {"00000", "00001", "00002"})
        self.assertIn("ok: ", self.cli("verify", "--deep", f"{dest}/r", check=0).stdout)
        files = {f"{prefix}/r/{f['path']}" for s in manifest["splits"].values() for f in s["files"]}
        self.assertEqual(set(s3h.list_objects(self.client, self.bucket, prefix)), files | {f"{prefix}/r/manifest.json"})
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])


class S3ResumeTest(S3DataCase):
    """kill -9 of splitship at chosen and random points: the re-run continues the uploads in
    flight (ListParts) and keeps finished part files (HEAD); bytes sent again stay within the
    bound: what was in flight, and at most one part file."""

    PART = 5 << 20
    CONCURRENCY = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        local = os.path.join(cls.tmp, "reference")
        run_cli(*cls.args(local, "r"), check=0)
        with open(os.path.join(local, "r", "manifest.json"), encoding="utf-8") as f:
            cls.reference = json.load(f)

    @classmethod
    def args(cls, dest, run_id, *extra):
        return S3DataCase.export_args(cls, dest, run_id, "--target-file-size", "9MiB", "--part-size", str(cls.PART),
                                "--compression", "none", "--concurrency", str(cls.CONCURRENCY), *extra)

    def interrupted_then_resumed(self, kill_when, rerun=True, extra=()):
        """Runs the export through a counting proxy, kill -9 when kill_when(n_part_puts) says so,
        then (with rerun) runs the same command again through the same proxy."""
        prefix = s3h.unique_prefix("resume")
        dest = f"s3://{self.bucket}/{prefix}"
        state = {"puts": 0, "proc": None}

        def after_forward(method, target):
            if method == "PUT" and "/_journal/" not in target:
                state["puts"] += 1
                proc = state["proc"]
                if proc and proc.poll() is None and kill_when(state["puts"]):
                    proc.send_signal(signal.SIGKILL)

        proxy = faultproxy.FaultProxy(int(self.s3["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]), [None],
                                      after_forward=after_forward)
        self.addCleanup(proxy.close)
        env = s3h.cli_env(self.s3, AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}")
        state["proc"] = subprocess.Popen([BIN, *map(str, self.args(dest, "r", *extra))], env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
        state["proc"].communicate(timeout=300)
        killed = state["proc"].returncode == -signal.SIGKILL
        state["proc"] = None
        out = run_cli(*self.args(dest, "r", "--log-format", "json", *extra), env=env) if rerun else None
        return prefix, killed, out, proxy

    def check_resumed(self, prefix, out, proxy):
        self.assertEqual(out.returncode, 0, out.stderr)
        manifest = self.manifest(f"{prefix}/r/manifest.json")
        for name, split in self.reference["splits"].items():
            got = manifest["splits"][name]
            self.assertEqual((got["num_documents"], got["checksum"], got["feature_length_stats"]),
                             (split["num_documents"], split["checksum"], split["feature_length_stats"]))
        files = {f"{prefix}/r/{f['path']}": f for s in manifest["splits"].values() for f in s["files"]}
        self.assertEqual(set(s3h.list_objects(self.client, self.bucket, prefix)), set(files) | {f"{prefix}/r/manifest.json"})
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])
        self.cli("verify", "--deep", f"s3://{self.bucket}/{prefix}/r", check=0)
        # Bytes that reached the server for part files, over both runs, beyond what is kept.
        sent = sum(n for method, target, n in proxy.forwarded
                   if method in ("PUT", "POST") and "/_journal/" not in target and "manifest.json" not in target
                   and ("partNumber=" in target or method == "PUT"))
        resent = sent - sum(f["size"] for f in files.values())
        largest_file = max(f["size"] for f in files.values())
        self.assertLessEqual(resent, max(self.CONCURRENCY * self.PART, largest_file), (resent, sent))
        return json.loads(out.stdout.strip().splitlines()[-1])

    def test_upload_in_flight_is_continued_not_resent(self):
        # Killed once the third part of the first part file reached the server: parts 1-3 are
        # held by the upload; the re-run sends the rest only. One split at a time, so the first
        # three part PUTs are that file's (with two, they interleave with another split's).
        prefix, killed, out, proxy = self.interrupted_then_resumed(lambda puts: puts == 3, extra=("--parallel-splits", "1"))
        self.assertTrue(killed, "the export finished before the kill")
        summary = self.check_resumed(prefix, out, proxy)
        self.assertEqual(summary["resumed"]["uploads_continued"], 1, summary)
        self.assertGreaterEqual(summary["resumed"]["bytes_reused"], 2 * self.PART, summary)

    def test_kill_9_at_random_points(self):
        total = sum(1 for m, t, _ in self.reference_puts())
        for seed in (11, 12, 13):
            with self.subTest(seed=seed):
                at = random.Random(seed).randint(1, total - 1)  # any PUT but the manifest's
                prefix, killed, out, proxy = self.interrupted_then_resumed(lambda puts, at=at: puts == at)
                self.assertTrue(killed)
                self.check_resumed(prefix, out, proxy)

    def test_resume_command_with_store_options(self):
        prefix = s3h.unique_prefix("resumecmd")
        run = f"s3://{self.bucket}/{prefix}/r"
        # The journaled upload keeps its 5 MiB parts even though the resume asks for 8 MiB.
        proc = subprocess.Popen([BIN, *map(str, self.args(f"s3://{self.bucket}/{prefix}", "r"))], env=s3h.cli_env(self.s3),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and not s3h.pending_uploads(self.client, self.bucket, prefix):
            self.assertIsNone(proc.poll(), "export ended before it could be killed")
            time.sleep(0.02)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        out = self.cli("resume", run, "--part-size", "8MiB", "--concurrency", "3", "--log-format", "json", check=0)
        self.assertIn("resumed", json.loads(out.stdout.strip().splitlines()[-1]))
        self.cli("verify", "--deep", run, check=0)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])

    def reference_puts(self):
        """The PUTs of an uninterrupted run of the same export (through a counting proxy)."""
        if not hasattr(type(self), "_reference_puts"):
            prefix, killed, out, proxy = self.interrupted_then_resumed(lambda puts: False, rerun=False)
            type(self)._reference_puts = [(m, t, n) for m, t, n in proxy.forwarded
                                          if m == "PUT" and "/_journal/" not in t]
        return type(self)._reference_puts


class S3RaceTest(S3DataCase):
    def test_one_of_two_racing_exports_publishes(self):
        prefix = s3h.unique_prefix("race")
        results = test_race.race(self.export_args(f"s3://{self.bucket}/{prefix}", "same", "--target-file-size", "1MiB"),
                                 env=s3h.cli_env(self.s3))
        test_race.check_race_outcome(self, results)
        manifest = self.manifest(f"{prefix}/same/manifest.json")
        files = {f"{prefix}/same/{f['path']}" for s in manifest["splits"].values() for f in s["files"]}
        self.assertEqual(set(s3h.list_objects(self.client, self.bucket, prefix)), files | {f"{prefix}/same/manifest.json"})
        self.cli("verify", f"s3://{self.bucket}/{prefix}/same", check=0)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])


class S3SecretsTest(S3DataCase):
    """The secret key and session token never appear in output, logs, errors or manifests."""

    def test_no_command_prints_a_secret(self):
        secret = self.s3["AWS_SECRET_ACCESS_KEY"]
        canary = "CANARY-secret-9f8e7d6c5b4a"
        token = "CANARY-token-1a2b3c4d"
        prefix = s3h.unique_prefix("secrets")
        dest = f"s3://{self.bucket}/{prefix}"
        blob = os.path.join(self.tmp, "blob")
        with open(blob, "wb") as f:
            f.write(os.urandom(1000))
        outputs = []
        for run_id, logging in (("text", "-v"), ("json", "--log-format=json")):
            outputs.append(self.cli(*self.export_args(dest, run_id, logging, "--target-file-size", "2MiB"), check=0))
        run = f"{dest}/text"
        outputs += [self.cli("inspect", run, "-v", check=0), self.cli("verify", "--deep", run, "-v", check=0),
                    self.cli("cp", blob, f"{dest}/blob", "-v", check=0),
                    self.cli(*self.export_args(dest, "bad", "-v"), check=2, AWS_SECRET_ACCESS_KEY=canary),
                    self.cli(*self.export_args(dest, "tok", "-v"), AWS_SESSION_TOKEN=token),
                    self.cli("cp", blob, f"{dest}/blob2", "-v", check=2, AWS_SECRET_ACCESS_KEY=canary),
                    self.cli("verify", run, "-v", AWS_SECRET_ACCESS_KEY=canary),
                    self.cli(*self.export_args(dest, "unreach", "-v", "--max-attempts", "2"), check=2,
                             AWS_SECRET_ACCESS_KEY=canary, AWS_ENDPOINT_URL="http://127.0.0.1:9")]
        # An interrupted run keeps a journal: it must not hold a secret either; then resume and gc.
        proc = subprocess.Popen([BIN, *map(str, self.export_args(dest, "journaled", "-v", "--target-file-size", "1MiB"))],
                                env=s3h.cli_env(self.s3), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and not any(k.endswith(".parquet") for k in s3h.list_objects(self.client, self.bucket, f"{prefix}/journaled/")):
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        outputs.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        journal = [self.client.get_object(Bucket=self.bucket, Key=k)["Body"].read().decode("utf-8", "replace")
                   for k in s3h.list_objects(self.client, self.bucket, f"{prefix}/journaled/_journal/")]
        self.assertTrue(journal, "the interrupted run kept its journal")
        outputs += [self.cli("resume", f"{dest}/journaled", "-v", check=0),
                    self.cli("resume", f"{dest}/journaled", "-v", check=2, AWS_SECRET_ACCESS_KEY=canary),
                    self.cli("gc", dest, "-v", "--older-than", "0", check=0)]
        stored = journal + [self.client.get_object(Bucket=self.bucket, Key=k)["Body"].read().decode("utf-8", "replace")
                            for k in s3h.list_objects(self.client, self.bucket, prefix) if k.endswith("manifest.json")]
        self.assertGreaterEqual(len(stored), 2)  # the gateway ignores session tokens: "tok" may publish too
        for text in [o.stdout + o.stderr for o in outputs] + stored:
            for s in (secret, canary, token):
                self.assertNotIn(s, text)


class S3VerifyTest(S3DataCase):
    def test_verify_uses_metadata_only_and_sees_a_replaced_object(self):
        prefix = s3h.unique_prefix("verify")
        self.cli(*self.export_args(f"s3://{self.bucket}/{prefix}", "r", "--target-file-size", "2MiB"), check=0)
        run = f"s3://{self.bucket}/{prefix}/r"
        log = s3h.GatewayLog(self.s3["SPLITSHIP_S3_LOG"])
        self.assertIn("ok: ", self.cli("verify", run, check=0).stdout)
        requests = wait_for_requests(log, lambda rs: sum(m == "HEAD" for m, _, _ in rs) >= 2)
        self.assertTrue(any(m == "HEAD" for m, _, _ in requests))
        self.assertEqual([r for r in requests if s3h.is_object_get(r[0], r[1], self.bucket)
                          and not r[1].split("?")[0].endswith("manifest.json")], [])
        manifest = self.manifest(f"{prefix}/r/manifest.json")
        victim = manifest["splits"]["train"]["files"][0]
        key = f"{prefix}/r/{victim['path']}"
        body = bytearray(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        body[200] ^= 0xFF  # same size, other bytes
        self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(body))
        shallow = json.loads(self.cli("verify", run, "--log-format", "json", check=1).stdout)
        self.assertEqual([(p["object"], p["check"]) for p in shallow["problems"]], [(victim["path"], "etag")])
        deep = json.loads(self.cli("verify", "--deep", run, "--log-format", "json", check=1).stdout)
        self.assertEqual({p["check"] for p in deep["problems"]}, {"etag", "md5", "sha256", "crc64nvme"})


class S3ErrorTest(S3Case):
    """Wrong keys, a missing bucket, an unreachable endpoint: one clear line, exit 2, nothing left."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.jsonl = os.path.join(cls.tmp, "small.jsonl")
        datagen.write_jsonl(cls.jsonl, 2000)

    def run_export(self, dest, **env):
        return self.cli("export", "--input", self.jsonl, "--split", "a=1,b=1", "--split-key", "id", "--dest", dest,
                        "--run-id", "r", "--progress", "never", check=2, **env)

    def assert_one_error_line(self, proc, *needles):
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("splitship: error: "), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertNotIn(self.s3["AWS_SECRET_ACCESS_KEY"], proc.stderr + proc.stdout)
        self.assertNotIn("Traceback", proc.stderr)

    def test_wrong_secret(self):
        prefix = s3h.unique_prefix("badsecret")
        proc = self.run_export(f"s3://{self.bucket}/{prefix}", AWS_SECRET_ACCESS_KEY="not-the-secret-at-all")
        self.assert_one_error_line(proc, "signature", "secret key")
        self.assertNotIn("not-the-secret-at-all", proc.stderr)
        self.assert_nothing_under(prefix)

    def test_unknown_access_key(self):
        prefix = s3h.unique_prefix("badkey")
        proc = self.run_export(f"s3://{self.bucket}/{prefix}", AWS_ACCESS_KEY_ID="AKNOSUCHKEY000000000")
        self.assert_one_error_line(proc, "access key")
        self.assert_nothing_under(prefix)

    def test_missing_bucket(self):
        proc = self.run_export("s3://no-such-bucket-splitship/x")
        self.assert_one_error_line(proc, "'no-such-bucket-splitship' does not exist")

    def test_unreachable_endpoint(self):
        start = time.time()
        proc = self.run_export(f"s3://{self.bucket}/x", AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_MAX_ATTEMPTS="2")
        self.assert_one_error_line(proc, "cannot reach the S3 endpoint http://127.0.0.1:9", "2 attempts")
        self.assertLess(time.time() - start, 60)

    def test_no_credentials(self):
        proc = self.run_export(f"s3://{self.bucket}/x", AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None)
        self.assert_one_error_line(proc, "no AWS credentials found")


class S3TlsTest(S3Case):
    """HTTPS with certificate verification on by default (the gateway behind a TLS proxy)."""

    def test_certificate_is_verified_unless_told_otherwise(self):
        cert, key = tlsproxy.make_certificate(self.tmp)
        proxy = tlsproxy.TlsProxy(cert, key, int(self.s3["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]))
        self.addCleanup(proxy.close)
        endpoint = f"https://127.0.0.1:{proxy.port}"
        src = os.path.join(self.tmp, "tls.jsonl")
        datagen.write_jsonl(src, 500)
        prefix = s3h.unique_prefix("tls")

        def export(run_id, *extra, check, **env):
            return self.cli("export", "--input", src, "--split", "a=1,b=1", "--split-key", "id", "--run-id", run_id,
                            "--dest", f"s3://{self.bucket}/{prefix}", "--progress", "never", *extra, check=check,
                            AWS_ENDPOINT_URL=endpoint, **env)

        refused = export("r0", check=2)
        lines = refused.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, refused.stderr)
        self.assertIn("certificate", lines[0])
        self.assertIn("--ca-bundle", lines[0])
        export("r1", "--ca-bundle", cert, check=0)
        export("r2", check=0, AWS_CA_BUNDLE=cert)
        export("r3", "--no-verify-ssl", check=0)
        listed = s3h.list_objects(self.client, self.bucket, prefix)
        self.assertEqual({k.split("/")[1] for k in listed if k.endswith("manifest.json")}, {"r1", "r2", "r3"})


class S3GcTest(S3Case):
    def test_gc_lists_then_aborts_stale_uploads(self):
        prefix = s3h.unique_prefix("gc")
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=f"{prefix}/r/train/part.parquet")
        self.client.upload_part(Bucket=self.bucket, Key=f"{prefix}/r/train/part.parquet", PartNumber=1,
                                UploadId=upload["UploadId"], Body=b"x" * 1000)
        dest = f"s3://{self.bucket}/{prefix}"
        young = self.cli("gc", dest, check=0).stdout  # 24 h by default: a fresh upload may be a running export
        self.assertIn("nothing to remove under", young)
        listed = self.cli("gc", dest, "--older-than", "0", check=0).stdout
        self.assertIn(f"found multipart upload: {dest}/r/train/part.parquet", listed)
        self.assertEqual(len(s3h.pending_uploads(self.client, self.bucket, prefix)), 1, "listing must not abort")
        aborted = self.cli("gc", dest, "--older-than", "0", "--yes", check=0).stdout
        self.assertIn(f"removed multipart upload: {dest}/r/train/part.parquet", aborted)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])


class S3CopyTest(S3Case):
    """Multipart boundaries through `splitship cp`: one part size exactly, one byte more, many parts."""

    def test_part_size_boundaries_and_odd_keys(self):
        part = 5 << 20
        prefix = s3h.unique_prefix("cp") + "/odd key é 日本 +=&?#%"
        for size, parts in [(0, None), (1, None), (part - 1, None), (part, 1), (part + 1, 2), (3 * part + 7, 4)]:
            with self.subTest(size=size):
                path = os.path.join(self.tmp, f"blob-{size}")
                data = os.urandom(size)
                with open(path, "wb") as f:
                    f.write(data)
                key = f"{prefix}/blob {size}"
                out = self.cli("cp", path, f"s3://{self.bucket}/{key}", "--part-size", "5MiB", "--log-format", "json",
                               check=0)
                record = json.loads(out.stdout.splitlines()[-1])
                head = self.client.head_object(Bucket=self.bucket, Key=key)
                etag = head["ETag"].strip('"')
                self.assertEqual(head["ContentLength"], size)
                self.assertEqual(record["etag"], etag)
                self.assertEqual(etag, expected_etag(data, part) if parts else hashlib.md5(data).hexdigest())
                if parts:
                    self.assertTrue(etag.endswith(f"-{parts}"), etag)
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                self.assertEqual(hashlib.sha256(body).hexdigest(), record["sha256"])
                self.assertEqual(body, data)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix.split("/")[0]), [])

    def test_folder_needs_recursive_and_keeps_relative_paths(self):
        src = os.path.join(self.tmp, "tree")
        os.makedirs(os.path.join(src, "sub dir"))
        for rel in ["a.txt", "sub dir/b é.txt"]:
            with open(os.path.join(src, rel), "w", encoding="utf-8") as f:
                f.write(rel * 100)
        prefix = s3h.unique_prefix("cpdir")
        refused = self.cli("cp", src, f"s3://{self.bucket}/{prefix}/", check=2)
        self.assertIn("--recursive", refused.stderr)
        self.cli("cp", "--recursive", src, f"s3://{self.bucket}/{prefix}/", check=0)
        self.assertEqual(sorted(s3h.list_objects(self.client, self.bucket, prefix)),
                         [f"{prefix}/a.txt", f"{prefix}/sub dir/b é.txt"])
        self.cli("cp", os.path.join(src, "a.txt"), f"s3://{self.bucket}/{prefix}/single/", check=0)
        self.assertIn(f"{prefix}/single/a.txt", s3h.list_objects(self.client, self.bucket, prefix))

    def test_many_files_at_once_with_progress(self):
        # 9 files of mixed sizes (some multipart), 3 at a time: every object matches its
        # file, the report lists them in name order, and --progress always draws the line.
        src = os.path.join(self.tmp, "many")
        os.makedirs(src, exist_ok=True)
        sizes = [0, 1, 1000, (5 << 20) + 3, 7 << 20, 12345, (11 << 20) + 1, 2, 64 << 10]
        blobs = {}
        for i, size in enumerate(sizes):
            blobs[f"f{i}.bin"] = os.urandom(size)
            with open(os.path.join(src, f"f{i}.bin"), "wb") as f:
                f.write(blobs[f"f{i}.bin"])
        prefix = s3h.unique_prefix("cpmany")
        out = self.cli("cp", "--recursive", src, f"s3://{self.bucket}/{prefix}/", "--part-size", "5MiB",
                       "--parallel-files", "3", "--progress", "always", check=0)
        reported = [l.split(" to ")[0].removeprefix("upload: ") for l in out.stdout.splitlines()]
        self.assertEqual(reported, [os.path.join(src, n) for n in sorted(blobs)])
        self.assertIn("uploading [", out.stderr)
        self.assertIn(f"{len(sizes)}/{len(sizes)} files", out.stderr)
        for name, data in blobs.items():
            body = self.client.get_object(Bucket=self.bucket, Key=f"{prefix}/{name}")["Body"].read()
            self.assertEqual(body, data, name)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])

    def test_a_failing_file_stops_the_others_with_its_own_error(self):
        # The store refuses one of four files (403 from a proxy): cp names that object, exits 2,
        # and leaves no upload pending, whichever files were in flight.
        src = os.path.join(self.tmp, "refused")
        os.makedirs(src, exist_ok=True)
        for i in range(4):
            with open(os.path.join(src, f"g{i}.bin"), "wb") as f:
                f.write(os.urandom(6 << 20))
        proxy = faultproxy.FaultProxy(int(self.s3["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]), ["403"],
                                      applies=lambda m, t: "g2.bin" in t)
        self.addCleanup(proxy.close)
        prefix = s3h.unique_prefix("cpfail")
        proc = self.cli("cp", "--recursive", src, f"s3://{self.bucket}/{prefix}/", "--part-size", "5MiB",
                        "--parallel-files", "2", AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        errors = [l for l in proc.stderr.splitlines() if l.startswith("splitship: error")]
        self.assertEqual(len(errors), 1, proc.stderr)
        self.assertIn("g2.bin", errors[0])
        self.assertIn("AccessDenied", errors[0])
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])

    def test_file_parts_carry_checksums_and_signed_payloads(self):
        # The digests of a part sent from the file are computed a slice at a time. With
        # --signed-payload the server recomputes each body's SHA-256 against the signed one
        # (and Content-MD5 always): a wrong streamed digest is refused, not stored.
        part = 5 << 20
        blobs = {"three-parts.bin": os.urandom(2 * part + 12345), "small.bin": os.urandom(1000)}
        for name, data in blobs.items():
            with open(os.path.join(self.tmp, name), "wb") as f:
                f.write(data)
        prefix = s3h.unique_prefix("cpsums")
        for i, extra in enumerate([("--checksum-algorithm", "CRC64NVME"), ("--checksum-algorithm", "CRC32C"),
                                   ("--checksum-algorithm", "SHA256"), ("--signed-payload",),
                                   ("--signed-payload", "--checksum-algorithm", "SHA256")]):
            for name, data in blobs.items():
                with self.subTest(options=extra, file=name):
                    key = f"{prefix}/{i}/{name}"
                    self.cli("cp", os.path.join(self.tmp, name), f"s3://{self.bucket}/{key}", "--part-size", "5MiB",
                             *extra, check=0)
                    etag = self.client.head_object(Bucket=self.bucket, Key=key)["ETag"].strip('"')
                    expected = expected_etag(data, part) if len(data) >= part else hashlib.md5(data).hexdigest()
                    self.assertEqual(etag, expected)
        self.assertEqual(s3h.pending_uploads(self.client, self.bucket, prefix), [])

    def test_a_file_cut_short_during_its_upload_is_an_error_not_a_short_object(self):
        # cp sends each part straight from the file, reading it again after hashing it. Here
        # the proxy holds part 1 for 2 s (one part at a time), the test truncates the file
        # to one part meanwhile, and the later parts find the file ended: exit 2, a message
        # that says the file changed, and neither an object nor an upload left behind.
        part = 5 << 20
        path = os.path.join(self.tmp, "shrinking.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(3 * part + 11))
        proxy = faultproxy.FaultProxy(int(self.s3["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]), ["delay"], delay_s=2.0,
                                      applies=lambda m, t: m == "PUT" and "partNumber=1&" in t + "&")
        self.addCleanup(proxy.close)
        key = s3h.unique_prefix("cpshrink") + "/shrinking.bin"
        proc = subprocess.Popen([BIN, "cp", path, f"s3://{self.bucket}/{key}", "--part-size", "5MiB", "--concurrency", "1"],
                                env=s3h.cli_env(self.s3, AWS_ENDPOINT_URL=f"http://127.0.0.1:{proxy.port}"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while not proxy.injected.get("delay") and time.time() < deadline:
            time.sleep(0.02)
        self.assertEqual(proxy.injected.get("delay"), 1, "part 1 never reached the proxy")
        os.truncate(path, part)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 2, out + err)
        self.assertIn("changed", err)
        self.assertNotIn("Traceback", err)
        self.assert_nothing_under(key.split("/")[0])

    def test_a_broken_link_in_a_folder_is_an_error_not_a_skip(self):
        src = os.path.join(self.tmp, "broken-link")
        os.makedirs(src, exist_ok=True)
        with open(os.path.join(src, "ok.txt"), "w", encoding="utf-8") as f:
            f.write("ok")
        os.symlink(os.path.join(src, "nowhere"), os.path.join(src, "dangling.txt"))
        prefix = s3h.unique_prefix("cplink")
        proc = self.cli("cp", "--recursive", src, f"s3://{self.bucket}/{prefix}/")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("dangling.txt", proc.stderr)
        self.assertEqual(s3h.list_objects(self.client, self.bucket, prefix), {})


def expected_etag(data, part_size):
    """S3's ETag rule, computed here independently: md5 hex below one part, else md5 of the
    concatenated part md5s plus -N."""
    if len(data) < part_size:
        return hashlib.md5(data).hexdigest()
    digests = [hashlib.md5(data[i:i + part_size]).digest() for i in range(0, len(data), part_size)]
    return hashlib.md5(b"".join(digests)).hexdigest() + f"-{len(digests)}"


def wait_for_requests(log, done, timeout=10):
    """The gateway writes its log asynchronously: wait until the requests we expect appear."""
    deadline = time.time() + timeout
    while True:
        requests = log.splitship_requests()
        if done(requests) or time.time() > deadline:
            return requests
        time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
