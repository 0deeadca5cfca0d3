"""The real S3 server for the tests (Ceph's RADOS Gateway via scripts/s3-server.sh), an
independent client (boto3) and the gateway's request log."""
import os
import re
import subprocess
import uuid

import boto3
from botocore.config import Config

SCRIPT = os.path.join(os.path.dirname(__file__), "../../scripts/s3-server.sh")
# This environment may point AWS_CA_BUNDLE at a file; a plain-HTTP test server needs none.
os.environ.pop("AWS_CA_BUNDLE", None)


def server_env():
    """Starts the gateway unless it runs (idempotent), returns its settings. Never skips."""
    start = subprocess.run(["bash", SCRIPT, "start"], capture_output=True, text=True, timeout=600)
    if start.returncode != 0:
        raise AssertionError("cannot start the S3 test server:\n" + start.stdout + start.stderr)
    out = subprocess.run(["bash", SCRIPT, "env"], capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"^export (\w+)=(.*)$", out, re.M))


def cli_env(s3, **overrides):
    """The environment splitship runs in: the server's keys and endpoint, nothing else of AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({k: v for k, v in s3.items() if k.startswith("AWS_")})
    env["HOME"] = env.get("HOME", "/root")
    env["AWS_CONFIG_FILE"] = "/nonexistent/config"
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def client(s3):
    return boto3.client("s3", endpoint_url=s3["AWS_ENDPOINT_URL"], region_name=s3["AWS_REGION"],
                        aws_access_key_id=s3["AWS_ACCESS_KEY_ID"], aws_secret_access_key=s3["AWS_SECRET_ACCESS_KEY"],
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))


def unique_prefix(name):
    return f"it-{name}-{uuid.uuid4().hex[:8]}"


def list_objects(s3c, bucket, prefix):
    out = {}
    for page in s3c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = o
    return out


def pending_uploads(s3c, bucket, prefix):
    return s3c.list_multipart_uploads(Bucket=bucket, Prefix=prefix).get("Uploads", [])


class GatewayLog:
    """Requests the gateway served after a mark: (method, path, status, user agent)."""
    LINE = re.compile(r'beast: \S+ \S+ - \S+ \[[^\]]+\] "(\w+) (\S+) HTTP/[\d.]+" (\d+) \S+ \S+ "([^"]*)"')

    def __init__(self, path):
        self.path = path
        self.offset = os.path.getsize(path)

    def requests(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            text = f.read().decode("utf-8", "replace")
        return [m.groups() for m in self.LINE.finditer(text)]

    def splitship_requests(self):
        return [(m, p, int(s)) for m, p, s, ua in self.requests() if ua.startswith("splitship/")]


def is_object_get(method, path, bucket):
    """A GET of an object's data: a key after the bucket (listings are GET /bucket?...)."""
    if method != "GET":
        return False
    rest = path.split("?", 1)[0][len("/" + bucket):]
    return rest.startswith("/") and len(rest) > 1


def gateway_pid(s3):
    with open(os.path.join(s3["SPLITSHIP_S3_DIR"], "pids"), encoding="utf-8") as f:
        for line in f:
            pid, name = line.split()
            if name == "radosgw":
                return int(pid)
    raise AssertionError("no radosgw in the S3 server's pid file")


def restart_gateway():
    proc = subprocess.run(["bash", SCRIPT, "restart-rgw"], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError("cannot restart the gateway:\n" + proc.stdout + proc.stderr)
