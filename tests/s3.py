"""An S3 endpoint of the tests' own: moto's server on a free port of 127.0.0.1.

Not a mock of boto: the portal's storage, the web nodes started as subprocesses and the tests' own boto3
client all send real S3 requests over HTTP to it. Each test gets a bucket of its own.
"""

import uuid

import boto3
from moto.server import ThreadedMotoServer

from portal.settings.base import evidence_storage_settings

REGION = "us-east-1"
# moto accepts any credentials; these are sent, so that boto3 never looks for the developer's own.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "portal-test", "AWS_SECRET_ACCESS_KEY": "portal-test-secret"}


class S3Endpoint:
    def __init__(self):
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self):
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self):
        self.server.stop()

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self):
        bucket = Bucket(self, f"evidence-{uuid.uuid4().hex[:16]}")
        self.client().create_bucket(Bucket=bucket.name)
        return bucket


class Bucket:
    def __init__(self, endpoint, name):
        self.endpoint = endpoint
        self.name = name
        self.client = endpoint.client()

    def environment(self, **extra) -> dict[str, str]:
        """What a web node's environment says to keep evidence in this bucket (docs/operations.md)."""
        return {
            "EVIDENCE_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.name,
            "AWS_S3_ENDPOINT_URL": self.endpoint.url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_S3_ADDRESSING_STYLE": "path",
            **CREDENTIALS,
            **extra,
        }

    def use_for_evidence(self, settings, monkeypatch, **extra):
        """Make this bucket ``STORAGES["evidence"]`` for the test, from the environment as a web node reads it
        (``extra``: more variables, e.g. ``AWS_S3_SERVER_SIDE_ENCRYPTION``)."""
        for name, value in self.environment(**extra).items():
            monkeypatch.setenv(name, value)
        settings.STORAGES = {**settings.STORAGES, "evidence": evidence_storage_settings()}
        return self

    def keys(self) -> set[str]:
        return {o["Key"] for o in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])}

    def read(self, key) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def head(self, key) -> dict:
        return self.client.head_object(Bucket=self.name, Key=key)

    def grants(self, key) -> list[dict]:
        return self.client.get_object_acl(Bucket=self.name, Key=key)["Grants"]
