"""French readers read French: every catalogue entry translated, and no English left on the pages or in the emails."""

import re
from html import unescape
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from tests import factories
from tests.helpers import captcha_answer

PO = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"
EMAILS = Path(settings.BASE_DIR) / "templates" / "notifications" / "email"

# Words no French sentence has: a page or an email in French that shows one holds a string never marked for
# translation (or frozen in English). Names, addresses and links are taken out first.
ENGLISH_WORDS = {
    "the", "your", "you", "please", "with", "this", "that", "is", "are", "was", "were", "will", "have", "has",
    "and", "of", "to", "for", "from", "request", "link", "password", "sign", "here", "what", "who", "when",
}  # fmt: skip


def catalogue() -> polib.POFile:
    return polib.pofile(str(PO))


def test_every_french_entry_is_translated_and_none_is_fuzzy():
    po = catalogue()
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:10]}"
    assert po.percent_translated() == 100


def english_phrases() -> list[str]:
    """The English msgids of three words or more whose French differs (a shorter one may read the same)."""
    phrases = []
    for entry in catalogue().translated_entries():
        text = re.split(r"%\(|\{", entry.msgid)[0].strip()  # up to the first placeholder
        if len(text.split()) >= 3 and text not in entry.msgstr:
            phrases.append(text)
    return phrases


def visible_text(html: str) -> str:
    """What a reader sees or hears: the text, and the alt, title, placeholder, aria-label and button values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    attributes = re.findall(r'\b(?:alt|title|placeholder|aria-label)="([^"]*)"', html)
    attributes += re.findall(r'<input[^>]*type="submit"[^>]*value="([^"]*)"', html)
    text = re.sub(r"<[^>]+>", " ", html)
    return " ".join(unescape(" ".join([text, *attributes])).split())


def english_left(text: str, phrases: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    for value in allowed:
        text = text.replace(value, " ")
    text = re.sub(r"\S+@\S+|https?://\S+|/\S*", " ", text)  # addresses and links
    found = [p for p in phrases if p in text]
    found += sorted({w for w in re.findall(r"[^\W\d_]+", text) if w.lower() in ENGLISH_WORDS})
    return found


# What the fixtures typed: the requester's own words, not the portal's.
TYPED = ("Fabrikam SARL", "Claire Martin", "Luc Bernard", "Marc Ancien", "Office manager")


@pytest.fixture
def french_pages(client, db, deliver):
    """Each public page, fetched in French, as a requester meets them."""
    fr = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    pages = {}
    for path in ("/", "/requests/new/", "/requests/access/", "/login/", "/password-reset/", "/password-reset/work/"):
        pages[path] = client.get(path, **fr)
    for category, _label in factories.ServiceRequest._meta.get_field("category").choices:
        pages[f"/requests/new/{category}/"] = client.get(f"/requests/new/{category}/", **fr)
    page = client.get("/requests/access/", **fr)
    bad = {**captcha_answer(page.content.decode()), "captcha_1": "wrong!", "reference": "", "email": "x"}
    pages["/requests/access/ (errors)"] = client.post("/requests/access/", bad, **fr)
    page = client.get("/password-reset/work/", **fr)
    pages["/password-reset/work/ (errors)"] = client.post(
        "/password-reset/work/", {**captcha_answer(page.content.decode()), "captcha_1": "wrong!", "email": "x"}, **fr
    )
    sr, confirm = factories.confirmable_request(company_legal_name="Fabrikam SARL", reason="Marc est parti.")
    pages["confirm"] = client.get(f"/requests/{sr.reference}/confirm/?token={confirm}", follow=True, **fr)
    client.post(f"/requests/{sr.reference}/confirm/", {"token": confirm}, **fr)
    pages["confirmed again"] = client.post(f"/requests/{sr.reference}/confirm/", {"token": confirm}, **fr)
    pages["link not valid"] = client.post(f"/requests/{sr.reference}/confirm/", {"token": "nope"}, **fr)
    tracked, raw = factories.tracked_request(company_legal_name="Fabrikam SARL", reason="Marc est parti.", status="in_review")
    pages["tracking"] = client.get(factories.tracking_path(tracked, raw), follow=True, **fr)
    return pages


def test_the_public_pages_in_french_have_no_english_left(french_pages):
    phrases = english_phrases()
    problems = {}
    for name, response in french_pages.items():
        assert response.status_code in (200, 400, 429), (name, response.status_code)
        html = response.content.decode()
        assert '<html lang="fr">' in html, name
        left = english_left(visible_text(html), phrases, allowed=TYPED)
        if left:
            problems[name] = left
    assert not problems, problems


EMAIL_CONTEXTS = [{"mode": mode} for mode in ("link", "temporary", "notice")]


@pytest.mark.parametrize("template", sorted(p.name.removesuffix(".txt") for p in EMAILS.glob("*.txt") if ".subject." not in p.name))
def test_every_email_in_french_has_no_english_left(template):
    phrases = english_phrases()
    for extra in EMAIL_CONTEXTS:
        context = {"reference": "SR-AAAA-BBBB", "requester_name": "Claire", "recipient_name": "Claire", "status": "in_review"}
        context.update(extra, notice_of=extra["mode"] == "notice" and "link")
        with translation.override("fr"):
            subject = render_to_string(f"notifications/email/{template}.subject.txt", context, using="text")
            body = render_to_string(f"notifications/email/{template}.txt", context, using="text")
        left = english_left(" ".join(f"{subject} {body}".split()), phrases)
        assert not left, (template, extra, left)
