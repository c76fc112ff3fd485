"""Helpers that act as a person would: fill the public form, solve the CAPTCHA, read emails."""

import re

from captcha.models import CaptchaStore
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.sample_filing import sample_filing

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def pdf(name="id-card.pdf", size=None):
    body = PDF_BYTES if size is None else PDF_BYTES + b"0" * (size - len(PDF_BYTES))
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def captcha_answer(html: str) -> dict:
    """Read the CAPTCHA's key from the page and its answer from the store (what a person reads in the image)."""
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


def form_data(tenant=None, **overrides):
    if tenant is None:
        data = sample_filing()
    else:
        data = sample_filing(
            tenant.primary_domain,
            company_legal_name=tenant.legal_name,
            company_partner_id=tenant.partner_id,
            company_country=str(tenant.country),
            company_address=tenant.postal_address,
            company_phone=tenant.phone_on_record,
        )
    data.update(overrides)
    return data


def submit(client, tenant=None, files=None, category="admin_left", **overrides):
    """GET the form, solve its CAPTCHA, POST it. Returns the POST response."""
    url = f"/requests/new/{category}/"
    page = client.get(url)
    data = {**form_data(tenant, **overrides), **captcha_answer(page.content.decode())}
    if files is not None:
        data["evidence"] = files
    else:
        data["evidence"] = [pdf()]
    return client.post(url, data)


def open_link(client, url, **extra):
    """Open an emailed link as a browser does: the token is exchanged for a cookie and the browser lands
    on the clean URL (asserted), which the returned response shows."""
    response = client.get(url, follow=True, **extra)
    if response.redirect_chain:
        landed = response.redirect_chain[-1][0]
        assert "token=" not in landed, f"the link landed on {landed}, with its token"
    return response
