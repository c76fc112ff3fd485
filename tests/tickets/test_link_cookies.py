"""A secret link's token leaves the URL at once: it becomes a short-lived signed cookie for that request's
pages, and the browser lands on the clean URL, so that the address bar, logs and Referer never hold it."""

from django.conf import settings
from django.test import Client

from tests import factories
from tickets.link_cookies import COOKIE


def test_opening_the_tracking_link_sets_a_scoped_cookie_and_lands_on_the_clean_url(db):
    sr, raw = factories.tracked_request(status="new")
    browser = Client()

    response = browser.get(f"/requests/{sr.reference}/?token={raw}")

    assert response.status_code == 302 and response["Location"] == f"/requests/{sr.reference}/"
    assert response["Referrer-Policy"] == "no-referrer"
    cookie = response.cookies[COOKIE["track"]]
    assert cookie["path"] == f"/requests/{sr.reference}/" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == settings.LINK_COOKIE_MAX_AGE
    assert cookie.value.startswith(raw + ":") and cookie.value != raw, "signed (not encrypted: HttpOnly keeps it from scripts)"
    page = browser.get(response["Location"])
    assert page.status_code == 200 and raw not in page.content.decode()


def test_a_cookie_for_one_request_opens_no_other(db):
    a, raw_a = factories.tracked_request(status="new")
    b, _ = factories.tracked_request(status="new")
    browser = Client()
    browser.get(f"/requests/{a.reference}/?token={raw_a}")
    stolen = browser.cookies[COOKIE["track"]].value

    thief = Client()
    thief.cookies[COOKIE["track"]] = stolen
    assert thief.get(f"/requests/{b.reference}/").status_code == 404
    assert thief.get(f"/requests/{a.reference}/").status_code == 200, "the cookie is the bearer of that one link"


def test_a_wrong_or_junk_token_gets_no_cookie(db):
    sr, _ = factories.tracked_request(status="new")
    browser = Client()
    for junk in ("not-the-token-at-all-xxxxxxx", "%ff", "x" * 500):
        response = browser.get(f"/requests/{sr.reference}/?token={junk}")
        assert response.status_code == 404 and COOKIE["track"] not in response.cookies


def test_confirming_lands_on_the_clean_tracking_page(db):
    sr, raw = factories.confirmable_request()
    browser = Client()
    opened = browser.get(f"/requests/{sr.reference}/confirm/?token={raw}")
    assert opened["Location"] == f"/requests/{sr.reference}/confirm/"
    confirmed = browser.post(opened["Location"])
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/requests/{sr.reference}/"
    assert COOKIE["track"] in confirmed.cookies and confirmed.cookies[COOKIE["confirm"]].value == ""
    assert browser.get(confirmed["Location"]).status_code == 200
