"""splitship's benchmark: the whole export against what a user would do instead, side by side.

Run through bench/run.sh (it installs the peers, starts the gateway and, for the WAN regime,
the rate-limited network namespace). Each command runs --runs times, the commands alternating
within each round; the table shows medians: wall time, client CPU seconds per GB of output,
peak RSS, and the bytes the gateway sent back (from its own access log).
"""
import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import datagen  # noqa: E402

SPLITSHIP = os.path.join(ROOT, "build", "splitship")
DUCKDB_SQL = os.path.join(ROOT, "build", "duckdb_sql")
# Debian's AWS CLI (v2), as the issue asks: a pip-installed `aws` may come first on PATH.
AWS = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else "aws"
SPLITS = [("train", 0.8), ("validation", 0.1), ("test", 0.1)]
BEAST = re.compile(r'beast: \S+ \S+ - \S+ \[[^\]]+\] "(\w+) (\S+) HTTP/[\d.]+" (\d+) (\d+) ')


def server_env():
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "s3-server.sh"), "env"], capture_output=True,
                         text=True, check=True).stdout
    return dict(re.findall(r"^export (\w+)=(.*)$", out, re.M))


class Step:
    """One process of a command: argv, and whether it runs inside the WAN namespace."""

    def __init__(self, argv, network=True, cwd=None):
        self.argv, self.network, self.cwd = [str(a) for a in argv], network, cwd


class Bench:
    def __init__(self, args):
        self.args = args
        self.s3 = server_env()
        self.bucket = self.s3["SPLITSHIP_TEST_BUCKET"]
        self.endpoint = f"http://{args.endpoint_host}:{self.s3['AWS_ENDPOINT_URL'].rsplit(':', 1)[1]}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.env.update({k: v for k, v in self.s3.items() if k.startswith("AWS_")})
        self.env.update({"AWS_ENDPOINT_URL": self.endpoint, "AWS_CONFIG_FILE": os.path.join(args.work, "plain-config"),
                         "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "RCLONE_CONFIG": os.path.join(args.work, "rclone.conf")})
        os.makedirs(args.work, exist_ok=True)
        # splitship runs with its own defaults: it reads the AWS CLI's s3.multipart_chunksize
        # too, so the tuned file below is the AWS CLI's alone (until 2026-11-24 it was not, and
        # `export` ran with 64 MiB parts, which cost it 2-6 s at 10 MB/s).
        with open(self.env["AWS_CONFIG_FILE"], "w", encoding="utf-8") as f:
            f.write("[default]\nregion = us-east-1\n")
        # The AWS CLI tuned as the gateway notes recommend (64 MB parts, 8 at once): the same
        # part size and concurrency `splitship cp` uses, so the comparison is of engines, not knobs.
        self.aws_env = {**self.env, "AWS_CONFIG_FILE": os.path.join(args.work, "aws-config")}
        with open(self.aws_env["AWS_CONFIG_FILE"], "w", encoding="utf-8") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n  multipart_chunksize = 64MB\n  multipart_threshold = 64MB\n"
                    "  max_concurrent_requests = 8\n")
        with open(self.env["RCLONE_CONFIG"], "w", encoding="utf-8") as f:
            f.write(f"[gw]\ntype = s3\nprovider = Ceph\nenv_auth = true\nendpoint = {self.endpoint}\n"
                    "upload_cutoff = 64Mi\nchunk_size = 64Mi\nupload_concurrency = 8\n")

    # ---- running and measuring ----------------------------------------------------------
    def measure(self, steps):
        """Wall time, CPU (user+sys) and peak RSS of each process (wait4), and the bytes the
        gateway sent back (its access log: GETs of objects) while the command ran."""
        log = self.s3["SPLITSHIP_S3_LOG"]
        offset = os.path.getsize(log)
        wall = cpu = 0.0
        rss_kib = 0
        outputs = []
        for step in steps:
            argv = step.argv
            if step.network and self.args.netns:
                argv = ["ip", "netns", "exec", self.args.netns, *argv]  # ip execs the command: same pid
            out_path = os.path.join(self.args.work, "step.out")
            with open(out_path, "wb") as out, open(out_path + ".err", "wb") as err:
                t0 = time.monotonic()
                env = self.aws_env if step.argv[0] == AWS else self.env
                proc = subprocess.Popen(argv, env=env, cwd=step.cwd, stdout=out, stderr=err)
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                wall += time.monotonic() - t0
            cpu += usage.ru_utime + usage.ru_stime
            rss_kib = max(rss_kib, usage.ru_maxrss)
            if proc.returncode != 0:
                with open(out_path + ".err", "rb") as f:
                    raise SystemExit(f"bench: {' '.join(argv)} failed ({proc.returncode}):\n"
                                     f"{f.read().decode(errors='replace')[-3000:]}")
            with open(out_path, "rb") as f:
                outputs.append(f.read().decode(errors="replace"))
        time.sleep(0.5)  # the gateway logs a request after answering it
        sent_back = 0
        with open(log, "rb") as f:
            f.seek(offset)
            for m in BEAST.finditer(f.read().decode("utf-8", "replace")):
                method, path, status, size = m.groups()
                if method == "GET" and "?" not in path and status.startswith("2"):
                    sent_back += int(size)
        return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mib": rss_kib / 1024, "bytes_sent_back": sent_back}, outputs

    # ---- the commands ---------------------------------------------------------------------
    def dataset(self):
        path = os.path.join(self.args.work, f"chat-{self.args.docs}.jsonl")
        if not os.path.exists(path):
            print(f"generating {self.args.docs} chat documents → {path}", flush=True)
            datagen.write_jsonl(path + ".tmp", self.args.docs)
            os.rename(path + ".tmp", path)
        return path

    def s3_url(self, prefix):
        return f"s3://{self.bucket}/{prefix}"

    def splitship_export(self, src, prefix):
        weights = ",".join(f"{n}={w}" for n, w in SPLITS)
        return [Step([SPLITSHIP, "export", "--input", src, "--split", weights, "--split-key", "id",
                      "--dest", self.s3_url(prefix), "--run-id", "r", "--progress", "never", "-q",
                      "--work-dir", self.args.work])]

    def duckdb_splits(self, src, out_dir):
        """What a user writes with DuckDB: read once into a table, one COPY per split (zstd)."""
        shutil.rmtree(out_dir, ignore_errors=True)
        os.makedirs(out_dir)
        db = os.path.join(self.args.work, "user.duckdb")
        for stale in (db, db + ".wal"):
            if os.path.exists(stale):
                os.remove(stale)
        cum, cases = 0.0, []
        for name, w in SPLITS:
            cum += w
            cases.append(f"WHEN u < {cum} THEN '{name}'")
        sql = [f"SET temp_directory='{self.args.work}/duckdb-spill'",
               "CREATE TABLE t AS SELECT *, CASE " + " ".join(cases[:-1]) + f" ELSE '{SPLITS[-1][0]}' END AS split "
               f"FROM (SELECT *, (hash(id) % 1000000) / 1000000.0 AS u FROM read_json('{src}'))"]
        for name, _ in SPLITS:
            os.makedirs(os.path.join(out_dir, name))
            sql.append(f"COPY (SELECT * EXCLUDE (split, u) FROM t WHERE split = '{name}') TO "
                       f"'{out_dir}/{name}/part-0.parquet' (FORMAT parquet, COMPRESSION zstd)")
        return Step([DUCKDB_SQL, "--db", db, *sql], network=False)

    def aws_upload(self, folder, prefix):
        # --endpoint-url: Debian's AWS CLI (2.9) predates AWS_ENDPOINT_URL.
        return Step([AWS, "s3", "cp", "--recursive", "--only-show-errors", "--endpoint-url", self.endpoint, folder,
                     self.s3_url(prefix) + "/"])

    def rclone_upload(self, folder, prefix):
        return Step(["rclone", "copy", folder, f"gw:{self.bucket}/{prefix}"])

    def download_and_count(self, prefix, into):
        """The original design's re-read: download each split back and count its rows."""
        steps = [Step([AWS, "s3", "cp", "--recursive", "--only-show-errors", "--endpoint-url", self.endpoint,
                       self.s3_url(prefix) + "/", into])]
        steps.append(Step([DUCKDB_SQL, f"SELECT count(*) FROM read_parquet('{into}/**/*.parquet')"], network=False))
        return steps

    def commands(self, src, user_dir):
        """name → function(run prefix) returning the steps; all see the same input."""
        work = self.args.work

        def user_then(upload):
            def steps(prefix):
                return [self.duckdb_splits(src, user_dir), upload(user_dir, prefix)]
            return steps

        def original(prefix):
            back = os.path.join(work, "downloaded")
            shutil.rmtree(back, ignore_errors=True)
            return [self.duckdb_splits(src, user_dir), self.aws_upload(user_dir, prefix),
                    *self.download_and_count(prefix, back)]

        return {
            "export: splitship export": lambda prefix: self.splitship_export(src, prefix),
            "export: duckdb + aws s3 cp": user_then(self.aws_upload),
            "export: duckdb + rclone": user_then(self.rclone_upload),
            "export: original (duckdb + aws + re-read)": original,
        }

    def upload_commands(self, folder):
        return {
            "upload: splitship cp -r": lambda prefix: [Step([SPLITSHIP, "cp", "--recursive", "-q", folder,
                                                              self.s3_url(prefix) + "/"])],
            "upload: aws s3 cp -r": lambda prefix: [self.aws_upload(folder, prefix)],
            "upload: rclone copy": lambda prefix: [self.rclone_upload(folder, prefix)],
        }

    # ---- the rounds ---------------------------------------------------------------------
    def run(self):
        src = self.dataset()
        user_dir = os.path.join(self.args.work, "user-splits")
        upload_dir = os.path.join(self.args.work, "upload-files")
        if not os.path.isdir(upload_dir):
            # Identical bytes for every uploader: the user's split files, made once.
            self.measure([self.duckdb_splits(src, upload_dir)])
        output_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(upload_dir) for f in fs)
        commands = {**self.commands(src, user_dir), **self.upload_commands(upload_dir)}
        results = {name: [] for name in commands}
        for r in range(self.args.runs):
            for name, make in commands.items():
                prefix = f"bench-{uuid.uuid4().hex[:8]}"
                m, _ = self.measure(make(prefix))
                results[name].append(m)
                print(f"  round {r + 1}: {name:45s} {m['wall_s']:7.1f} s  cpu {m['cpu_s']:6.1f} s  "
                      f"rss {m['peak_rss_mib']:6.0f} MiB  read back {m['bytes_sent_back'] / 1e6:8.1f} MB", flush=True)
                self.remove_prefix(prefix)
        return self.report(results, output_bytes, os.path.getsize(src))

    def remove_prefix(self, prefix):
        subprocess.run([AWS, "s3", "rm", "--recursive", "--only-show-errors", "--endpoint-url", self.s3["AWS_ENDPOINT_URL"],
                        self.s3_url(prefix) + "/"],
                       env={**self.aws_env, "AWS_ENDPOINT_URL": self.s3["AWS_ENDPOINT_URL"]}, check=False)

    def report(self, results, output_bytes, input_bytes):
        gb = output_bytes / 1e9
        rows = {}
        for name, ms in results.items():
            med = {k: statistics.median(m[k] for m in ms) for k in ms[0]}
            med["cpu_s_per_gb"] = med["cpu_s"] / gb
            rows[name] = med
        base_export = rows["export: splitship export"]["wall_s"]
        base_upload = rows["upload: splitship cp -r"]["wall_s"]
        for name, row in rows.items():
            row["time_vs_splitship"] = row["wall_s"] / (base_export if name.startswith("export") else base_upload)
        report = {"regime": self.args.regime, "link_rate_mb_s": self.args.rate_mb_s if self.args.netns else None,
                  "docs": self.args.docs, "input_bytes": input_bytes, "output_bytes": output_bytes,
                  "runs": self.args.runs, "machine": machine(), "results": rows}
        if self.args.netns:
            transfer = output_bytes / (self.args.rate_mb_s * 1e6)
            report["pure_transfer_s"] = transfer
            report["targets"] = {
                "export_vs_transfer (≤ 1.1)": base_export / transfer,
                "export_vs_original (≤ 0.55)": base_export / rows["export: original (duckdb + aws + re-read)"]["wall_s"]}
        else:
            user = min(rows["export: duckdb + aws s3 cp"]["wall_s"], rows["export: duckdb + rclone"]["wall_s"])
            faster_peer = min(rows["upload: aws s3 cp -r"]["wall_s"], rows["upload: rclone copy"]["wall_s"])
            report["targets"] = {
                "export_vs_user_alternative (≤ 0.8)": base_export / user,
                "upload_throughput_vs_faster_peer (≥ 1.3)": faster_peer / base_upload,
                "upload_cpu_per_gb_vs_aws (≤ 0.4)": rows["upload: splitship cp -r"]["cpu_s_per_gb"]
                / rows["upload: aws s3 cp -r"]["cpu_s_per_gb"]}
        report["targets"]["export_peak_rss_mib (< 1024)"] = rows["export: splitship export"]["peak_rss_mib"]
        return report


def machine():
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_gib = int(f.readline().split()[1]) / 2**20
    return f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.system()} {platform.release()}"


def print_table(report):
    print(f"\n{report['regime']}: {report['docs']} docs, {report['input_bytes'] / 1e9:.2f} GB JSONL → "
          f"{report['output_bytes'] / 1e9:.2f} GB Parquet; median of {report['runs']} runs; {report['machine']}")
    print(f"{'command':45s} {'wall s':>8s} {'× ours':>7s} {'CPU s/GB':>9s} {'peak RSS':>9s} {'read back':>10s}")
    for name, r in report["results"].items():
        print(f"{name:45s} {r['wall_s']:8.1f} {r['time_vs_splitship']:7.2f} {r['cpu_s_per_gb']:9.1f} "
              f"{r['peak_rss_mib']:7.0f}Mi {r['bytes_sent_back'] / 1e6:8.1f}MB")
    for target, value in report["targets"].items():
        print(f"  {target}: {value:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--regime", choices=["loopback", "wan"], required=True)
    ap.add_argument("--netns", default="", help="run clients in this network namespace (WAN)")
    ap.add_argument("--endpoint-host", default="127.0.0.1")
    ap.add_argument("--rate-mb-s", type=float, default=50)
    ap.add_argument("--work", default="/tmp/splitship-bench")
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args()
    report = Bench(args).run()
    print_table(report)
    existing = {}
    if os.path.exists(args.json):
        with open(args.json, encoding="utf-8") as f:
            existing = json.load(f)
    # One entry per regime, and per link rate for WAN: "loopback", "wan-50", "wan-10", …
    existing[args.regime if not args.netns else f"wan-{args.rate_mb_s:g}"] = report
    with open(args.json, "w", encoding="utf-8") as f:
        json.dump(existing, f, indent=2)
    print(f"\nwritten to {args.json}")


if __name__ == "__main__":
    main()
