"""Evidence in an S3 bucket (EVIDENCE_STORAGE=s3): filed through the public form or a reply on the tracking
page, it lands in the bucket, privately, and only there; the staff evidence view streams it as it streams a
file from the folder, and records the opening.

The bucket is on a real S3 endpoint on 127.0.0.1 (moto's server, tests/s3.py), reached over HTTP.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from portal.settings.base import evidence_storage_settings
from tests import factories
from tests.conftest import staff_client
from tests.helpers import PDF_BYTES, PNG_BYTES, open_link, submit
from tickets.models import Evidence, ServiceRequest
from tickets.storage import PrivateFileSystemStorage, evidence_storage
from tickets.storage.s3 import PrivateS3Storage

pytestmark = pytest.mark.django_db

PASSPORT = PDF_BYTES + b"% passport of Claire Martin, number 12AB34567\n"
RANDOM_KEY = re.compile(r"evidence/\d{4}/\d{2}/[0-9a-f]{32}")
PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


def evidence_url(evidence):
    return reverse("admin:tickets_servicerequest_evidence", args=[evidence.service_request_id, evidence.pk])


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def nothing_stored_locally():
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    return not root.exists() or not any(root.rglob("*"))


def assert_served_as_before(response, content, evidence):
    """What the staff view answered with a file from the folder, it answers with one from the bucket."""
    assert response.status_code == 200
    assert body_of(response) == content
    assert response["Content-Type"] == evidence.content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    assert response["Content-Disposition"] == f'inline; filename="{evidence.original_name}"'


def test_evidence_filed_with_the_form_is_in_the_bucket_privately_and_the_staff_view_streams_it(agent, s3_evidence):
    photo = SimpleUploadedFile("photo.png", PNG_BYTES, content_type="image/png")
    passport = SimpleUploadedFile("passport-claire-martin.pdf", PASSPORT, content_type="application/pdf")
    assert submit(Client(), files=[passport, photo]).status_code == 302

    stored = {e.original_name: e for e in ServiceRequest.objects.get().evidence.all()}
    assert set(stored) == {"passport-claire-martin.pdf", "photo.png"}
    assert s3_evidence.keys() == {e.file.name for e in stored.values()}
    for evidence in stored.values():
        key = evidence.file.name
        assert RANDOM_KEY.fullmatch(key), "a random key: no collision between nodes, no person's name in the bucket"
        head = s3_evidence.head(key)
        assert head["ContentType"] == "application/octet-stream" and head["ContentDisposition"] == "attachment"
        grants = s3_evidence.grants(key)
        assert [g["Permission"] for g in grants] == ["FULL_CONTROL"], "the owner only"
        assert not [g for g in grants if g["Grantee"].get("URI") in PUBLIC_GROUPS]
    assert s3_evidence.read(stored["passport-claire-martin.pdf"].file.name) == PASSPORT
    assert s3_evidence.read(stored["photo.png"].file.name) == PNG_BYTES
    assert nothing_stored_locally()

    browser = staff_client(Client(), agent)
    assert_served_as_before(
        browser.get(evidence_url(stored["passport-claire-martin.pdf"])), PASSPORT, stored["passport-claire-martin.pdf"]
    )
    assert_served_as_before(browser.get(evidence_url(stored["photo.png"])), PNG_BYTES, stored["photo.png"])
    opened = AuditEvent.objects.filter(action="evidence.viewed").order_by("pk")
    assert [(e.actor_id, e.after["name"]) for e in opened] == [(agent.pk, "passport-claire-martin.pdf"), (agent.pk, "photo.png")]
    assert nothing_stored_locally(), "streamed from the bucket, not copied to the node's disk"


def test_a_reply_with_a_file_on_the_tracking_page_goes_to_the_bucket(agent, s3_evidence):
    sr, raw = factories.tracked_request(status="new")
    link = factories.tracking_path(sr, raw)
    requester = Client()
    letter = SimpleUploadedFile("letter-on-paper.pdf", PASSPORT, content_type="application/pdf")
    response = requester.post(link, {"token": raw, "action": "reply", "body": "Here is the signed letter.", "evidence": [letter]})
    assert response.status_code == 302

    page = open_link(requester, link).content.decode()
    assert "Here is the signed letter." in page and "letter-on-paper.pdf" in page
    [evidence] = sr.messages.get(from_requester=True).attachments.all()
    assert evidence.file.name not in page, "the requester sees the file's name, never where it is kept"
    assert s3_evidence.keys() == {evidence.file.name}
    assert s3_evidence.read(evidence.file.name) == PASSPORT
    assert nothing_stored_locally()

    assert_served_as_before(staff_client(Client(), agent).get(evidence_url(evidence)), PASSPORT, evidence)
    assert AuditEvent.objects.filter(action="evidence.viewed", actor=agent, after__evidence=evidence.pk).count() == 1


def test_two_files_of_the_same_name_keep_their_own_content(s3_evidence):
    # S3 overwrites a key silently; Django's folder would have renamed the second file.
    for content in (PDF_BYTES + b"% first\n", PDF_BYTES + b"% second\n"):
        assert submit(Client(), files=[SimpleUploadedFile("id-card.pdf", content, content_type="application/pdf")]).status_code == 302
    first, second = Evidence.objects.order_by("pk")
    assert first.file.name != second.file.name
    assert s3_evidence.read(first.file.name).endswith(b"% first\n")
    assert s3_evidence.read(second.file.name).endswith(b"% second\n")


def test_server_side_encryption_is_asked_for_every_file_when_configured(settings, monkeypatch, s3_evidence):
    s3_evidence.use_for_evidence(settings, monkeypatch, AWS_S3_SERVER_SIDE_ENCRYPTION="AES256")
    assert submit(Client()).status_code == 302
    [key] = s3_evidence.keys()
    assert s3_evidence.head(key)["ServerSideEncryption"] == "AES256"


def test_evidence_has_no_url_in_either_storage(s3_evidence):
    assert submit(Client()).status_code == 302
    evidence = Evidence.objects.get()
    with pytest.raises(NotImplementedError):
        evidence.file.url  # noqa: B018  (a presigned link would bypass the permission check and the audit)
    with pytest.raises(NotImplementedError):
        PrivateFileSystemStorage().url(evidence.file.name)


# --- the setting ----------------------------------------------------------------------------------


def test_the_model_field_follows_the_setting_and_migrations_do_not_change(settings, monkeypatch, s3_endpoint):
    field = Evidence._meta.get_field("file")
    assert isinstance(field.storage, PrivateFileSystemStorage) and evidence_storage() is field.storage
    call_command("makemigrations", "tickets", "--check", "--dry-run", verbosity=0)

    s3_endpoint.new_bucket().use_for_evidence(settings, monkeypatch)
    assert isinstance(field.storage, PrivateS3Storage) and isinstance(evidence_storage(), PrivateS3Storage)
    call_command("makemigrations", "tickets", "--check", "--dry-run", verbosity=0)


def test_filesystem_is_the_default(monkeypatch):
    monkeypatch.delenv("EVIDENCE_STORAGE", raising=False)
    assert evidence_storage_settings() == {"BACKEND": "tickets.storage.PrivateFileSystemStorage"}


@pytest.mark.parametrize(
    "environment",
    [
        {"EVIDENCE_STORAGE": "ftp"},
        {"EVIDENCE_STORAGE": "s3"},  # no bucket
        {"EVIDENCE_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "b", "AWS_DEFAULT_ACL": "public-read"},
        {"EVIDENCE_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": "b", "AWS_S3_SERVER_SIDE_ENCRYPTION": "yes"},
    ],
    ids=["unknown storage", "s3 without a bucket", "a public ACL", "unknown encryption"],
)
def test_a_storage_setting_that_cannot_work_or_would_publish_the_files_is_refused_at_start(monkeypatch, environment):
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured):
        evidence_storage_settings()
