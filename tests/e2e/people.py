"""What a person does in the browser: tab to a field, type, press Enter; read a code off their phone."""

import base64
import re
import time

from captcha.models import CaptchaStore
from django_otp.oath import totp
from playwright.sync_api import Page

# The focused element, whether it shows a focus indicator (outline or box shadow), and a description.
_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  const r = el.getBoundingClientRect();
  return {name: el.getAttribute('name') || '', id: el.id || '', tag: el.tagName.toLowerCase(), type: el.type || '',
          text: (el.innerText || el.value || '').trim().slice(0, 40), visible: outline || shadow,
          onscreen: r.width > 0 && r.height > 0};
}"""


def focused(page: Page):
    return page.evaluate(_FOCUS)


def tab_to(page: Page, matches, limit=120, visited=None):
    """Press Tab until the focused element satisfies ``matches(info)``. Every element reached on the way
    must show that it has focus; reaching the end of the page and wrapping is fine, staying put is a trap."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = focused(page)
        if info is None:  # focus went to the browser's own UI (past the end of the page)
            seen.append(None)
            continue
        assert info["visible"], f"no visible focus indicator on {info}"
        assert info["onscreen"], f"focus went to an element that is not shown: {info}"
        seen.append((info["tag"], info["name"], info["id"], info["text"]))
        if visited is not None:
            visited.append(info)
        if matches(info):
            return info
        # A trap: the last ten presses kept focus within two elements.
        recent = seen[-10:]
        assert len(recent) < 10 or len(set(recent)) > 2, f"keyboard trap: focus cycles within {set(recent)}"
    raise AssertionError(f"Tab never reached the element; focus went through {seen}")


def by_name(name):
    return lambda info: info["name"] == name


def by_text(text):
    return lambda info: text.lower() in info["text"].lower()


def type_into(page: Page, name: str, value: str):
    tab_to(page, by_name(name))
    page.keyboard.type(value)


def captcha_answer(page: Page) -> str:
    """The characters in the CAPTCHA image: the test reads the server's store by the key in the page (a
    test-only look; no setting exposes the answer)."""
    key = page.locator("input[name=captcha_0]").input_value()
    return CaptchaStore.objects.get(hashkey=key).response


def code_from_secret(secret: str, step_offset: int = 0) -> str:
    """The 6 digits an authenticator app shows for the key typed from the enrolment page."""
    key = base64.b32decode(re.sub(r"\s", "", secret))
    return f"{totp(key, 30, 0, 6, step_offset):06d}"


def fresh_code(secret: str, used: set) -> str:
    """A code for a time step not used yet (TOTP refuses a replay). The app's next code is accepted too
    (the device's tolerance of one step), so a second sign-in within 30 seconds need not wait."""
    for _ in range(40):
        now_step = int(time.time()) // 30
        for offset in (0, 1):
            if now_step + offset > max(used, default=-1):
                used.add(now_step + offset)
                return code_from_secret(secret, offset)
        time.sleep(1)
    raise AssertionError("no fresh TOTP step")
