"""What a person does on the portal's pages, over HTTP: file a request (CSRF token and CAPTCHA read from
the page, the CAPTCHA's answer from the store the portal keeps it in, by its key), sign in
as an agent with a password and an authenticator code."""

import asyncio
import html
import re
import threading

import psycopg
from django_otp.oath import totp

from tests.sample_filing import sample_filing

from .client import Client, Response

FORM = "/requests/new/admin_left/"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CAPTCHA_KEY = re.compile(r'name="captcha_0" value="([0-9a-f]+)"')


class CaptchaStore:
    """django-simple-captcha's table, read by key: what the image shows the person who loaded the page.

    One connection shared by every client, used from a thread: the event loops of the phases come and go."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.lock = threading.Lock()
        self.connection: psycopg.Connection | None = None

    def _read(self, key: str) -> str:
        with self.lock:
            if self.connection is None:
                self.connection = psycopg.connect(self.dsn, autocommit=True)
            row = self.connection.execute("SELECT response FROM captcha_captchastore WHERE hashkey = %s", [key]).fetchone()
        if row is None:
            raise RuntimeError(f"no CAPTCHA {key} in the store")
        return row[0]

    async def answer(self, key: str) -> str:
        return await asyncio.to_thread(self._read, key)


def csrf_of(page: Response) -> str:
    match = CSRF.search(page.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on the page (HTTP {page.status})")
    return html.unescape(match.group(1))


async def solved(page: Response, captchas: CaptchaStore) -> dict:
    key = CAPTCHA_KEY.search(page.text)
    if key is None:
        raise RuntimeError(f"no CAPTCHA on the page (HTTP {page.status})")
    return {"csrfmiddlewaretoken": csrf_of(page), "captcha_0": key.group(1), "captcha_1": await captchas.answer(key.group(1))}


def filing(domain: str, name: str) -> dict:
    return sample_filing(domain, company_legal_name=f"{name} SAS")


async def file_request(client: Client, captchas: CaptchaStore, domain: str) -> tuple[Response, Response]:
    """GET the form, solve its CAPTCHA, POST it: the form page and the POST's answer (a redirect when filed)."""
    page = await client.get(FORM)
    answer = await client.post(FORM, {**filing(domain, domain.split(".")[0].title()), **await solved(page, captchas)})
    return page, answer


async def sign_in(client: Client, email: str, password: str, totp_key: str) -> None:
    """The staff sign-in: password, then the authenticator's current code (RFC 6238, as the phone computes it)."""
    page = await client.get("/login/")
    answer = await client.post("/login/", {"csrfmiddlewaretoken": csrf_of(page), "email": email, "password": password})
    if answer.status != 302 or "verify" not in (answer.header("location") or ""):
        raise RuntimeError(f"sign-in: the password step answered {answer.status} {answer.header('location')}")
    page = await client.get("/login/verify/")
    code = f"{totp(bytes.fromhex(totp_key)):06d}"
    answer = await client.post("/login/verify/", {"csrfmiddlewaretoken": csrf_of(page), "token": code})
    if answer.status != 302:
        raise RuntimeError(f"sign-in: the authenticator step answered {answer.status}")
