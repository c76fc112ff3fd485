"""CAPTCHA challenges that can be read aloud, and their audio version built from shipped clips.

The clips (one per character, English and French) were recorded once with espeak-ng and are
stored in ``clips/<lang>/`` (package data), so the audio works offline with no system binary.

The clips are public (this repository), so a script can look for each of them in the audio by
cross-correlation. Every rendering therefore speaks each character as a new recording: the clip's
pitch and formants moved (resampling), its speed changed without moving the pitch (WSOLA), its
timbre coloured (a random EQ) and its waveform reshaped (a random all-pass: same spectrum, other
phases), at a random loudness, with random pauses; under a bed of babble made of other characters'
clips (mostly backwards, all quieter than the voice), a hum and noise of random spectrum. All of it
is drawn anew per request from the OS's CSPRNG (``dsp`` does the signal processing). The ranges keep
the voice a plain voice, clearly louder than the rest; docs/security.md says how that was checked
and what ``tests/captcha_matcher.py``, the attack it is measured against, still achieves.
"""

import io
import random
import secrets
import wave
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings

from .dsp import RATE, colour, fade, random_curve, random_phase, repitch, rms, stretch

# Letters and digits that sound distinct when spoken. Not F nor S: their clips are the same "eh"
# (the first 0.2 s of S.wav is F.wav, correlation 0.999 in English and French; the fricatives are
# above 4 kHz, which 8 kHz audio cannot carry), so nobody could tell which one was read. Their clips
# stay, for challenges drawn before they left the alphabet.
CHARS = "ACEHKLMNRUXY2345679"
CLIPS = Path(__file__).resolve().parent / "clips"

VOICE_RMS = 2500.0  # each character's loudness before its random gain
PITCH = (1.04, 1.15)  # pitch and formants, times or divided by this (never the clip's own)
TEMPO = (0.87, 1.15)  # speaking rate: a character lasts its clip's length divided by this
WOBBLE = (0.01, 0.04)  # pitch and rate wander by this much within a character
TIMBRE_DB = 6.0  # random EQ: within ±6 dB every 500 Hz
PHASE_SPACING = 125.0  # random all-pass: a new phase every 125 Hz, delays within 4 ms
GAIN_DB = (-3.0, 3.0)  # each character's loudness
LEAD = (0.4, 0.9)  # seconds of babble before the first character
PAUSE = (0.4, 0.9)  # seconds after each character
BABBLE_DB = (-26.0, -18.0)  # each babble clip, relative to the voice (forward ones 4 dB lower still)
BABBLE_STEP = (0.15, 0.4)  # seconds between the starts of babble clips: one to three at a time
NOISE_DB = (-30.0, -24.0)  # noise of random spectrum, relative to the voice
HUM_DB = (-32.0, -24.0)  # a low hum (90-220 Hz), relative to the voice


def challenge():
    """For django-simple-captcha: (text shown, expected answer)."""
    text = "".join(secrets.choice(CHARS) for _ in range(settings.CAPTCHA_LENGTH))
    return text, text.lower()


@lru_cache(maxsize=64)
def _clip(language: str, char: str) -> np.ndarray | None:
    path = CLIPS / (language if (CLIPS / language).is_dir() else "en") / f"{char}.wav"
    if not path.is_file():
        return None
    with wave.open(str(path), "rb") as w:
        clip = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    clip.flags.writeable = False  # shared by every rendering
    return clip


def _level(db: float) -> float:
    return VOICE_RMS * 10 ** (db / 20)


def _fork(rng: random.Random) -> random.Random:
    """The generator for one character: the CSPRNG itself on pages; with a seed, a generator of its own,
    so that a character's draws do not shift the pauses (a test compares two languages' timing)."""
    return rng if isinstance(rng, random.SystemRandom) else random.Random(rng.getrandbits(64))  # noqa: S311


def _timbre(rng: random.Random, frequencies: np.ndarray) -> np.ndarray:
    """A random EQ and a random all-pass: another voice colour, and another waveform for the same sound."""
    return random_curve(rng, frequencies, 500, TIMBRE_DB) * random_phase(rng, frequencies, PHASE_SPACING)


def _speak(clip: np.ndarray, rng: random.Random) -> np.ndarray:
    """One character as a new recording: timbre, speed, pitch and loudness drawn from ``rng``."""
    tempo, pitch = rng.uniform(*TEMPO), rng.uniform(*PITCH) ** rng.choice((-1, 1))
    length = round(len(clip) / tempo)
    # Nothing above what the raised pitch would push past the Nyquist frequency (no aliasing).
    coloured = colour(clip, lambda f: _timbre(rng, f), cutoff=0.95 * RATE / 2 / max(1.0, pitch))
    stretched = stretch(coloured, round(length * pitch), rng, wobble=rng.uniform(*WOBBLE))
    voice = fade(repitch(stretched, length, rng, wobble=rng.uniform(*WOBBLE)))
    return voice * _level(rng.uniform(*GAIN_DB)) / max(rms(voice), 1.0)


def _babble(total: int, language: str, rng: random.Random) -> np.ndarray:
    """Other characters' clips, mostly backwards, resampled and coloured, overlapping all along, well
    under the voice: energy does not cut the recording at the characters, and matching meets decoys."""
    bed = np.zeros(total)
    start = round(rng.uniform(0, BABBLE_STEP[0]) * RATE)
    while start < total:
        at, start = start, start + round(rng.uniform(*BABBLE_STEP) * RATE)
        clip = _clip(language, rng.choice(CHARS))
        if clip is None:
            continue
        backwards = rng.random() < 0.7
        speed = rng.uniform(0.8, 1.25)
        x = colour(clip[::-1] if backwards else clip, lambda f: _timbre(rng, f), cutoff=0.95 * RATE / 2 / speed)
        x = fade(repitch(x, round(len(clip) / speed), rng))
        x *= _level(rng.uniform(*BABBLE_DB) - (0 if backwards else 4)) / max(rms(x), 1.0)
        end = min(total, at + len(x))
        bed[at:end] += x[: end - at]
    return bed


def _noise(total: int, rng: random.Random) -> np.ndarray:
    """Noise of a random spectrum (within ±10 dB every 400 Hz) and a hum of random pitch."""
    white = np.frombuffer(rng.randbytes(2 * total), dtype="<i2").astype(np.float64)
    noise = colour(white, lambda f: random_curve(rng, f, 400, 10.0))
    noise *= _level(rng.uniform(*NOISE_DB)) / max(rms(noise), 1.0)
    hum = np.sin(rng.uniform(0, 2 * np.pi) + 2 * np.pi * rng.uniform(90, 220) / RATE * np.arange(total))
    return noise + hum * np.sqrt(2) * _level(rng.uniform(*HUM_DB))


@dataclass
class Rendering:
    """One rendering: the mix, the voice alone, and where each character is (tests measure them)."""

    samples: np.ndarray
    voice: np.ndarray
    spans: list[tuple[int, int]] = field(default_factory=list)


def render(text: str, language: str, rng: random.Random) -> Rendering:
    """``text`` read in ``language`` (characters with no clip are skipped), every choice from ``rng``."""
    pieces = [np.zeros(round(rng.uniform(*LEAD) * RATE))]
    spans = []
    at = len(pieces[0])
    for char in text.upper():
        clip = _clip(language, char)
        if clip is None:
            continue
        voice = _speak(clip, _fork(rng))
        pause = np.zeros(round(rng.uniform(*PAUSE) * RATE))
        pieces += [voice, pause]
        spans.append((at, at + len(voice)))
        at += len(voice) + len(pause)
    voice = np.concatenate(pieces)
    samples = voice + _babble(len(voice), language, rng) + _noise(len(voice), rng)
    peak = float(np.abs(samples).max())
    if peak > 32000:  # the whole mix quieter: every ratio above stays as it is
        samples *= 32000 / peak
        voice = voice * (32000 / peak)
    return Rendering(samples, voice, spans)


def captcha_wav(text: str, language: str = "en", seed: int | None = None) -> bytes:
    """A WAV reading ``text`` character by character, each time a different recording (see above).

    ``seed`` makes one rendering repeatable (tests); pages never pass it.
    """
    # Pages draw from the OS's CSPRNG; only tests pass a seed, to hear one rendering again.
    rng = secrets.SystemRandom() if seed is None else random.Random(seed)  # noqa: S311
    samples = render(text, language, rng).samples
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.round(samples).astype("<i2").tobytes())
    return buffer.getvalue()
