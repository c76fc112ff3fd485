"""CAPTCHA challenges that can be read aloud, and their audio version built from shipped clips.

The clips (one per character, English and French) were recorded once with espeak-ng and are
stored in ``captcha_audio/<lang>/``, so the audio works offline with no system binary.
"""

import array
import io
import random
import secrets
import wave
from functools import lru_cache
from pathlib import Path

from django.conf import settings

CHARS = "ACEFHKLMNRSUXY2345679"  # letters and digits that sound distinct when spoken
CLIPS = Path(__file__).resolve().parent / "captcha_audio"
RATE = 8000


def challenge():
    """For django-simple-captcha: (text shown, expected answer)."""
    text = "".join(secrets.choice(CHARS) for _ in range(settings.CAPTCHA_LENGTH))
    return text, text.lower()


@lru_cache(maxsize=64)
def _clip(language: str, char: str) -> bytes:
    folder = CLIPS / (language if (CLIPS / language).is_dir() else "en")
    with wave.open(str(folder / f"{char}.wav"), "rb") as w:
        return w.readframes(w.getnframes())


def _silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(RATE * seconds)


def captcha_wav(text: str, language: str = "en") -> bytes:
    """A WAV reading ``text`` character by character, with pauses and a little noise."""
    frames = bytearray(_silence(0.6))
    for char in text.upper():
        if char in CHARS:
            frames += _clip(language, char) + _silence(0.7)
    samples = array.array("h", bytes(frames))
    rng = random.Random(secrets.randbits(32))
    for i in range(len(samples)):
        samples[i] = max(-32768, min(32767, samples[i] + rng.randint(-300, 300)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return buffer.getvalue()
