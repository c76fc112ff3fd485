"""CAPTCHA challenges that can be read aloud, and their audio version built from shipped clips.

The clips (one per character, English and French) were recorded once with espeak-ng and are
stored in ``clips/<lang>/`` (package data), so the audio works offline with no system binary.
"""

import array
import io
import math
import random
import secrets
import wave
from functools import lru_cache
from pathlib import Path

from django.conf import settings

# Letters and digits that sound distinct when spoken. Not F nor S: their clips are the same "eh"
# (the first 0.2 s of S.wav is F.wav, correlation 0.999 in English and French; the fricatives are
# above 4 kHz, which 8 kHz audio cannot carry), so nobody could tell which one was read.
CHARS = "ACEHKLMNRUXY2345679"
CLIPS = Path(__file__).resolve().parent / "clips"
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


def captcha_wav(text: str, language: str = "en", seed: int | None = None) -> bytes:
    """A WAV reading ``text`` character by character.

    Each clip gets a random loudness and the pauses a random length, over a wandering hum and
    noise, so that the clips cannot simply be found at fixed places by matching. ``seed`` makes
    one rendering repeatable (tests); pages never pass it.
    """
    # Pages draw from the OS's CSPRNG; only tests pass a seed, to hear one rendering again.
    rng = secrets.SystemRandom() if seed is None else random.Random(seed)  # noqa: S311
    samples = array.array("h", _silence(rng.uniform(0.4, 0.9)))
    for char in text.upper():
        if char not in CHARS:
            continue
        gain = rng.uniform(0.6, 1.3)
        clip = array.array("h", _clip(language, char))
        samples.extend(max(-32768, min(32767, int(v * gain))) for v in clip)
        samples.extend(array.array("h", _silence(rng.uniform(0.45, 0.95))))
    hum_step = 2 * math.pi * rng.uniform(90, 220) / RATE
    hum_level = rng.uniform(300, 900)
    phase = rng.uniform(0, 2 * math.pi)
    for i in range(len(samples)):
        noise = hum_level * math.sin(phase + i * hum_step) + rng.randint(-450, 450)
        samples[i] = max(-32768, min(32767, int(samples[i] + noise)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return buffer.getvalue()
