"""Our SigV4 Authorization header equals botocore's (Debian's python3-botocore), request by
request, on generated requests: methods, odd keys, query strings, headers, session tokens,
signed and unsigned payloads, with a fixed clock and fixed keys."""
import datetime
import hashlib
import json
import os
import random
import subprocess
import types
import unittest
from unittest import mock
from urllib.parse import quote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HELPER = os.environ.get("SPLITSHIP_SIGV4_HELPER",
                        os.path.join(os.path.dirname(__file__), "../../build/tests/sigv4_sign"))

KEY_PIECES = ["data", "train", "part-00001.parquet", "with space", "plus+sign", "eq=uals", "amp&ersand",
              "q?mark", "hash#tag", "per%cent", "é", "日本語", "emoji🚀", "tilde~", "a,b;c:d@e", "$dollar",
              "(paren)", "star*", "bang!", "quote'", "", "dot.", "..", "UPPER", "under_score"]
HEADER_POOL = [("Content-Type", "application/octet-stream"), ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
               ("x-amz-checksum-crc64nvme", "AAAAAAAAAAA="), ("If-None-Match", "*"), ("Range", "bytes=0-9"),
               ("x-amz-meta-note", "  padded   value  with  runs "), ("X-Amz-Meta-Mixed-Case", "Value"),
               ("x-amz-storage-class", "STANDARD"), ("Cache-Control", "no-cache"),
               ("x-amz-checksum-algorithm", "CRC64NVME")]
QUERY_POOL = [("uploads", ""), ("partNumber", "7"), ("uploadId", "2~abc+/def=="), ("list-type", "2"),
              ("prefix", "run 1/é"), ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
              ("encoding-type", "url"), ("max-keys", "1000"), ("delimiter", "/"), ("key-marker", "a&b=c")]
FIXED = datetime.datetime(2026, 11, 24, 3, 15, 9)


class FixedClock(datetime.datetime):
    """botocore reads the clock with utcnow() (Debian's 1.29) or now(timezone.utc) (newer)."""
    @classmethod
    def utcnow(cls):
        return FIXED

    @classmethod
    def now(cls, tz=None):
        return FIXED.replace(tzinfo=tz)


def make_case(rng):
    method = rng.choice(["GET", "PUT", "POST", "DELETE", "HEAD"])
    bucket = rng.choice(["splitship-test", "my.bucket", "b" * 20])
    key = "/".join(rng.choice(KEY_PIECES) for _ in range(rng.randint(1, 4)))
    path = f"/{bucket}/{key}" if rng.random() < 0.9 else f"/{bucket}"
    host = rng.choice(["127.0.0.1:7480", "s3.us-east-1.amazonaws.com", "minio.internal:9000", "localhost"])
    query = rng.sample(QUERY_POOL, rng.randint(0, 4))
    headers = rng.sample(HEADER_POOL, rng.randint(0, 5))
    body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))) if method in ("PUT", "POST") else b""
    unsigned = rng.random() < 0.25
    token = "FQoGZXIvYXdzE+token/with=chars" if rng.random() < 0.2 else ""
    region = rng.choice(["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"])
    access = "AK" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(18))
    secret = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/") for _ in range(40))
    return dict(method=method, path=path, host=host, query=query, headers=headers, body=body,
                unsigned=unsigned, token=token, region=region, access_key=access, secret_key=secret)


def botocore_authorization(case):
    scheme = "https" if case["unsigned"] else "http"  # botocore always signs payloads over http
    url = f"{scheme}://{case['host']}{quote(case['path'], safe='/~')}"
    request = AWSRequest(method=case["method"], url=url, headers=dict(case["headers"]),
                         data=case["body"], params=list(case["query"]))
    if case["unsigned"]:
        request.context["client_config"] = types.SimpleNamespace(s3={"payload_signing_enabled": False})
    auth = S3SigV4Auth(Credentials(case["access_key"], case["secret_key"], case["token"] or None),
                       "s3", case["region"])
    with mock.patch("datetime.datetime", FixedClock):
        auth.add_auth(request)
    return request.headers["Authorization"]


def helper_input(case):
    """The request as our client would send it: the headers we add ourselves are listed here."""
    payload = "UNSIGNED-PAYLOAD" if case["unsigned"] else hashlib.sha256(case["body"]).hexdigest()
    headers = list(case["headers"]) + [("host", case["host"]), ("x-amz-date", FIXED.strftime("%Y%m%dT%H%M%SZ")),
                                       ("x-amz-content-sha256", payload)]
    if case["token"]:
        headers.append(("x-amz-security-token", case["token"]))
    return json.dumps(dict(method=case["method"], path=case["path"], query=case["query"], headers=headers,
                           body_hex=case["body"].hex(), unsigned=case["unsigned"],
                           access_key=case["access_key"], secret_key=case["secret_key"], token=case["token"],
                           region=case["region"], amz_date=FIXED.strftime("%Y%m%dT%H%M%SZ")))


class SigV4AgainstBotocore(unittest.TestCase):
    def test_generated_requests_match_botocore(self):
        rng = random.Random(20261124)
        cases = [make_case(rng) for _ in range(300)]
        expected = [botocore_authorization(c) for c in cases]
        proc = subprocess.run([HELPER], input="\n".join(helper_input(c) for c in cases) + "\n",
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        ours = proc.stdout.splitlines()
        self.assertEqual(len(ours), len(cases))
        mismatches = [(c["method"], c["path"], c["query"], e, o) for c, e, o in zip(cases, expected, ours) if e != o]
        self.assertEqual(mismatches, [], f"{len(mismatches)} of {len(cases)} differ; first: {mismatches[:1]}")
        # The generator really exercised what it claims to.
        self.assertTrue(any(c["unsigned"] for c in cases) and any(c["token"] for c in cases))
        self.assertTrue(any("日本語" in c["path"] for c in cases) and any("+" in c["path"] for c in cases))
        self.assertEqual({c["method"] for c in cases}, {"GET", "PUT", "POST", "DELETE", "HEAD"})


if __name__ == "__main__":
    unittest.main()
