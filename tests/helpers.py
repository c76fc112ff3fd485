"""Helpers that act as a person would: fill the public form, solve the CAPTCHA, read emails."""

import re

from captcha.models import CaptchaStore
from django.core.files.uploadedfile import SimpleUploadedFile

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
    domain = tenant.primary_domain if tenant else "fabrikam.example"
    data = {
        "company_legal_name": tenant.legal_name if tenant else "Fabrikam SARL",
        "company_partner_id": tenant.partner_id if tenant else "",
        "company_domain": domain,
        "company_country": str(tenant.country) if tenant else "FR",
        "company_address": tenant.postal_address if tenant else "12 rue de la Paix\n75002 Paris",
        "company_phone": tenant.phone_on_record if tenant else "+33 1 70 00 00 01",
        "requester_name": "Claire Martin",
        "requester_email": f"claire@{domain}",
        "requester_phone": "+33 6 00 00 00 01",
        "requester_job_title": "Office manager",
        "former_admin_name": "Marc Ancien",
        "former_admin_email": f"marc@{domain}",
        "former_admin_reason": "left_company",
        "former_admin_details": "Left in September.",
        "elevate_email": f"luc@{domain}",
        "elevate_name": "Luc Bernard",
        "reason": "Nobody can manage our users since Marc left.",
        "consent": "on",
    }
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
