"""The sound changes the audio CAPTCHA makes to each clip, in numpy, at 8 kHz.

Each takes the random numbers it needs from a ``random.Random`` (``secrets.SystemRandom`` on pages),
so that one rendering can be repeated in tests and none can be predicted on a page.
"""

import random

import numpy as np

RATE = 8000
_FRAME, _HOP, _TOLERANCE, _JITTER = 256, 128, 48, 24  # WSOLA: 32 ms frames, 16 ms apart, ±6 ms search


def fast_length(n: int) -> int:
    """The smallest 2^a·3^b·5^c ≥ ``n``: a size numpy's FFT handles quickly."""
    best = 1 << max(0, n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            best = min(best, p35 * (1 << max(0, -(-n // p35) - 1).bit_length()))
            p35 *= 3
        p5 *= 5
    return best


def random_curve(rng: random.Random, frequencies: np.ndarray, spacing: float, spread_db: float) -> np.ndarray:
    """A smooth random gain (linear) over ``frequencies``: points ``spacing`` Hz apart, each within
    ±``spread_db``, joined by straight lines in dB."""
    anchors = np.arange(0.0, RATE / 2 + spacing, spacing)
    gains_db = np.array([rng.uniform(-spread_db, spread_db) for _ in anchors])
    return 10 ** (np.interp(frequencies, anchors, gains_db) / 20)


def random_phase(rng: random.Random, frequencies: np.ndarray, spacing: float) -> np.ndarray:
    """An all-pass response (unit gain) with a random phase at points ``spacing`` Hz apart, joined
    by straight lines: the harmonics' relative phases change, hence the waveform's shape, while the
    spectrum the ear hears stays. Its delay varies by at most 1 / (2 ``spacing``) s across frequencies."""
    anchors = np.arange(0.0, RATE / 2 + spacing, spacing)
    phases = np.array([rng.uniform(-np.pi / 2, np.pi / 2) for _ in anchors])
    return np.exp(1j * np.interp(frequencies, anchors, phases))


def colour(x: np.ndarray, gain: np.ndarray | None = None, cutoff: float = RATE / 2) -> np.ndarray:
    """``x`` through a zero-phase filter: the gain curve ``gain`` over ``np.fft.rfftfreq`` of the padded
    length, or ``gain(frequencies)`` if callable, and nothing above ``cutoff`` Hz."""
    size = fast_length(len(x) + 2 * _FRAME)  # padding: the filter's short response does not wrap round
    spectrum = np.fft.rfft(x, size)
    frequencies = np.fft.rfftfreq(size, 1 / RATE)
    if gain is not None:
        spectrum *= gain(frequencies) if callable(gain) else gain
    spectrum[frequencies > cutoff] = 0
    return np.fft.irfft(spectrum, size)[: len(x)]


def stretch(x: np.ndarray, length: int, rng: random.Random, wobble: float = 0.0) -> np.ndarray:
    """``x`` made ``length`` samples long without changing its pitch (WSOLA: overlap-add of frames
    taken where they best continue the previous one). The reading speed wanders by ±``wobble`` and
    each frame is looked for around a randomly shifted place, so the splices fall at random points."""
    count = -(-length // _HOP) + 1
    speed = (len(x) - _FRAME / 2) / max(1, length - _FRAME / 2)
    phase, period = rng.uniform(0, 2 * np.pi), rng.uniform(4, 12)  # wander over 4-12 frames
    pad = _TOLERANCE + _JITTER + _FRAME
    padded = np.pad(x, (pad, pad + 2 * _FRAME + int(count * _HOP * speed * (1 + wobble))))
    window = np.hanning(_FRAME + 1)[:_FRAME]  # periodic Hann: frames half a frame apart sum to one
    out = np.zeros(count * _HOP + _FRAME)
    weight = np.zeros_like(out)
    nominal, previous = 0.0, 0
    for k in range(count):
        centre = int(nominal) + rng.randint(-_JITTER, _JITTER)
        if k == 0:
            position = max(0, centre)
        else:
            natural = padded[pad + previous + _HOP : pad + previous + _HOP + _FRAME]
            low = centre - _TOLERANCE
            region = padded[pad + low : pad + low + 2 * _TOLERANCE + _FRAME]
            position = low + int(np.argmax(np.correlate(region, natural, mode="valid")))
        out[k * _HOP : k * _HOP + _FRAME] += padded[pad + position : pad + position + _FRAME] * window
        weight[k * _HOP : k * _HOP + _FRAME] += window
        previous = position
        nominal += _HOP * speed * (1 + wobble * np.sin(phase + 2 * np.pi * k / period))
    return (out / np.maximum(weight, 1e-3))[:length]


def repitch(x: np.ndarray, length: int, rng: random.Random, wobble: float = 0.0) -> np.ndarray:
    """``x`` read at a varying speed so that it lasts ``length`` samples: pitch and formants rise by
    about ``len(x) / length``, wandering by ±``wobble`` along the way (as intonation does)."""
    steps = np.arange(length)
    rate = 1 + wobble * np.sin(rng.uniform(0, 2 * np.pi) + 2 * np.pi * steps / (RATE * rng.uniform(0.2, 0.5)))
    positions = np.cumsum(rate) - rate[0]
    positions *= (len(x) - 1) / positions[-1]
    return np.interp(positions, np.arange(len(x)), x)


def fade(x: np.ndarray, samples: int = 40) -> np.ndarray:
    """Short fades in and out (5 ms), so that a cut never clicks."""
    ramp = np.linspace(0.0, 1.0, min(samples, len(x) // 2))
    x = x.copy()
    x[: len(ramp)] *= ramp
    x[len(x) - len(ramp) :] *= ramp[::-1]
    return x


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2))) if len(x) else 0.0
