"""A request body over REQUEST_BODY_MAX_BYTES is refused before it is read, with a clear page."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIRequest
from django.test import RequestFactory
from django.test.client import encode_multipart

from portal.uploads import body_refused
from tests import factories
from tests.helpers import captcha_answer, form_data
from tickets.models import ServiceRequest

MB = 1024 * 1024


class CountingInput(io.BytesIO):
    """wsgi.input that counts the bytes the application actually reads."""

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1):
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def _request(body: bytes, content_type: str) -> tuple[WSGIRequest, CountingInput]:
    stream = CountingInput(body)
    environ = RequestFactory()._base_environ(
        REQUEST_METHOD="POST", PATH_INFO="/requests/new/admin_left/", CONTENT_TYPE=content_type,
        CONTENT_LENGTH=str(len(body)), **{"wsgi.input": stream},
    )  # fmt: skip
    return WSGIRequest(environ), stream


def _multipart(size: int) -> tuple[bytes, str]:
    boundary = "BoUnDaRy"
    body = encode_multipart(boundary, {"reason": "x", "evidence": SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * size)})
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_body_over_the_limit_is_not_read_at_all(settings):
    settings.REQUEST_BODY_MAX_BYTES = 1 * MB
    body, content_type = _multipart(30 * MB)
    request, stream = _request(body, content_type)

    assert request.FILES == {} and request.POST == {}
    assert body_refused(request) is True
    assert stream.bytes_read == 0, f"read {stream.bytes_read} of {len(body)} bytes"


def test_a_body_under_the_limit_is_read_as_usual(settings):
    settings.REQUEST_BODY_MAX_BYTES = 1 * MB
    body, content_type = _multipart(100_000)
    request, stream = _request(body, content_type)
    assert request.FILES["evidence"].size == 100_005 and stream.bytes_read == len(body)
    assert not body_refused(request)


def test_the_filer_sees_what_happened_and_nothing_is_filed(client, db, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1 * MB
    tenant = factories.TenantFactory()
    page = client.get("/requests/new/admin_left/").content.decode()
    data = {**form_data(tenant), **captcha_answer(page), "evidence": [SimpleUploadedFile("scan.pdf", b"%PDF-" + b"0" * (3 * MB))]}

    response = client.post("/requests/new/admin_left/", data)

    assert response.status_code == 413
    html = response.content.decode()
    assert 'id="upload-too-large"' in html and "1 MB" in html
    assert not ServiceRequest.objects.exists()


def test_a_reply_with_too_large_files_is_refused_the_same_way(client, db, settings):
    sr, raw = factories.tracked_request()
    settings.REQUEST_BODY_MAX_BYTES = 1 * MB
    response = client.post(
        f"/requests/{sr.reference}/?token={raw}",
        {"token": raw, "action": "reply", "body": "Here", "evidence": [SimpleUploadedFile("a.pdf", b"%PDF-" + b"0" * (2 * MB))]},
    )
    assert response.status_code == 413 and not sr.messages.exists()


def test_with_csrf_enforced_the_page_says_too_large_not_csrf(db, settings):
    """As in a real browser: the CSRF check reads the body first, and finds nothing, because nothing was read."""
    from django.test import Client

    settings.REQUEST_BODY_MAX_BYTES = 1 * MB
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/requests/new/admin_left/").content.decode()
    token = browser.cookies["csrftoken"].value
    data = {**form_data(factories.TenantFactory()), **captcha_answer(page), "csrfmiddlewaretoken": token,
            "evidence": [SimpleUploadedFile("scan.pdf", b"%PDF-" + b"0" * (2 * MB))]}  # fmt: skip
    response = browser.post("/requests/new/admin_left/", data)
    assert response.status_code == 413 and 'id="upload-too-large"' in response.content.decode()
