"""An attacker's solver for the audio CAPTCHA, to measure how well the mixing resists it.

The attacker has what the public repository has: the clips in ``portal/captcha/clips/`` and the code
that mixes them, so the alphabet, the number of characters and the range of every random change.

- ``solve_ncc``: normalised cross-correlation (NCC) of the waveform with every shipped clip, each
  also resampled over a grid of pitch factors wider than the mixer's. This is the attack that solved
  the first version of the audio (one fixed recording per character) almost every time. Two ways to
  place the characters, and the better one counts: everywhere in the recording (the best
  non-overlapping detections), or only at the loudest places (``segments``).
- ``solve_mfcc``: a small speaker-dependent word recogniser. Mel cepstra of each loud place against
  every clip at a few pitch factors, with the background measured on the quietest frames added to
  each clip first, compared by dynamic time warping (which absorbs changes of tempo).

``python -m tests.captcha_matcher [N]`` prints their success over N renderings (default 200) per
language. ``tests/test_captcha_audio.py`` keeps NCC's under a bound.
"""

import io
import random
import sys
import time
import wave
from functools import lru_cache

import numpy as np

from portal.captcha.audio import CHARS, CLIPS, captcha_wav

RATE = 8000
NCC_FACTORS = (0.80, 0.84, 0.88, 0.92, 0.96, 1.0, 1.04, 1.08, 1.12, 1.16, 1.20, 1.25)
MFCC_FACTORS = (0.85, 1.0, 1.18)
FINE = (0.84, 0.88, 0.92, 0.96, 1.0, 1.04, 1.08, 1.12, 1.16)


def read_wav(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)


@lru_cache(maxsize=4)
def shipped_clips(language: str) -> dict[str, np.ndarray]:
    clips = {}
    for char in CHARS:
        with wave.open(str(CLIPS / language / f"{char}.wav"), "rb") as w:
            clips[char] = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    return clips


def resample(x: np.ndarray, factor: float) -> np.ndarray:
    """Read ``x`` ``factor`` times faster (pitch and speed up by ``factor``), as the attacker guesses it."""
    positions = np.arange(0, len(x) - 1, factor)
    return np.interp(positions, np.arange(len(x)), x)


def _pick(candidates, n):
    """The ``n`` best non-overlapping (score, start, length, char) detections, in time order."""
    chosen: list[tuple[float, int, int, str]] = []
    for score, start, length, char in sorted(candidates, reverse=True):
        end = start + length
        if all(min(end, s + ln) - max(start, s) < 0.3 * min(length, ln) for _, s, ln, _ in chosen):
            chosen.append((score, start, length, char))
            if len(chosen) == n:
                break
    return "".join(c for _, _, _, c in sorted(chosen, key=lambda d: d[1]))


def _peaks(curve: np.ndarray, width: int, count: int) -> list[int]:
    """Up to ``count`` local maxima of ``curve`` at least ``width`` apart, best first."""
    width = max(1, width)
    blocks = -(-len(curve) // width)
    padded = np.full(blocks * width, -np.inf)
    padded[: len(curve)] = curve
    tops = padded.reshape(blocks, width).argmax(axis=1) + np.arange(blocks) * width  # best of each block
    taken: list[int] = []
    for i in tops[np.argsort(padded[tops])[::-1]]:
        if all(abs(int(i) - t) >= width for t in taken):
            taken.append(int(i))
            if len(taken) == count:
                break
    return taken


# --- waveform: normalised cross-correlation -------------------------------------------------


@lru_cache(maxsize=8)
def _ncc_templates(language: str, factors: tuple[float, ...]):
    templates = []
    for char, clip in shipped_clips(language).items():
        for factor in factors:
            t = resample(clip, factor)
            t = t - t.mean()
            templates.append((char, t / np.linalg.norm(t)))
    return templates


@lru_cache(maxsize=4)
def _ncc_spectra(language: str, factors: tuple[float, ...], nfft: int) -> np.ndarray:
    """The templates' conjugate spectra at ``nfft`` points (complex64: half the memory)."""
    return np.array([np.conj(np.fft.rfft(t, nfft)) for _, t in _ncc_templates(language, factors)], dtype=np.complex64)


def ncc_curves(signal: np.ndarray, language: str, factors: tuple[float, ...]):
    """(char, template length, NCC at every offset) for every template: FFT correlation divided by the
    norm of each window of ``signal`` (running sums)."""
    templates = _ncc_templates(language, factors)
    nfft = 1 << (len(signal) + max(len(t) for _, t in templates)).bit_length()  # 2^16 or 2^17: cached
    spectra = _ncc_spectra(language, factors, nfft)
    spectrum = np.fft.rfft(signal, nfft)
    s1, s2 = np.concatenate(([0.0], np.cumsum(signal))), np.concatenate(([0.0], np.cumsum(signal**2)))
    curves = []
    for first in range(0, len(templates), 16):  # 16 inverse transforms at a time
        numerators = np.fft.irfft(spectra[first : first + 16] * spectrum, nfft)
        for (char, template), numerator in zip(templates[first : first + 16], numerators, strict=True):
            length = len(template)
            count = len(signal) - length + 1
            if count < 1:
                continue
            window_sum = s1[length:] - s1[:count]
            window_energy = s2[length:] - s2[:count] - window_sum**2 / length
            curves.append((char, length, numerator[:count] / np.sqrt(np.maximum(window_energy, 1e-9))))
    return curves


def solve_ncc(data: bytes, language: str, length: int = 6, factors: tuple[float, ...] = NCC_FACTORS) -> str:
    """The characters read by NCC, placed anywhere or at the loud places, whichever fits better."""
    signal = read_wav(data)
    curves = ncc_curves(signal, language, factors)

    # A short clip may match the start of a longer one: rank by NCC squared times length, the share
    # of the recording explained, so that the whole character wins.
    anywhere = []
    for char, size, curve in curves:
        for start in _peaks(curve, size // 2, length):
            anywhere.append((float(curve[start]) ** 2 * size, start, size, char))
    everywhere = _pick(anywhere, length)

    loud = segments(mel_power(signal).sum(axis=1), length)
    at_loud, total = "", 0.0
    for low, _, _, high in loud:
        best = (-1.0, "?")
        for char, size, curve in curves:
            # The clip's middle in the window.
            first, last = max(0, low * HOP + FRAME // 2 - size // 2), min(len(curve), high * HOP + FRAME // 2 - size // 2)
            if first < last:
                best = max(best, (float(curve[first:last].max()) ** 2 * size, char))
        at_loud += best[1]
        total += best[0]
    explained = sum(score for score, *_ in sorted(anywhere, reverse=True)[:length])
    return at_loud if total >= 0.9 * explained else everywhere


# --- spectrum: MFCC and subsequence DTW -----------------------------------------------------

FRAME, HOP, NFFT, BANDS, CEPSTRA = 200, 80, 256, 24, 13


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    def mel(f):
        return 2595 * np.log10(1 + f / 700)

    edges = 700 * (10 ** (np.linspace(mel(250), mel(3800), BANDS + 2) / 2595) - 1)
    bins = np.fft.rfftfreq(NFFT, 1 / RATE)
    filters = np.zeros((BANDS, len(bins)))
    for b in range(BANDS):
        lo, mid, hi = edges[b : b + 3]
        filters[b] = np.clip(np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid)), 0, None)
    return filters


@lru_cache(maxsize=1)
def _dct() -> np.ndarray:
    n = np.arange(BANDS)
    return np.cos(np.pi / BANDS * (n + 0.5)[None, :] * np.arange(1, CEPSTRA)[:, None])


def mel_power(x: np.ndarray) -> np.ndarray:
    """Power in each mel band (250-3800 Hz, above the hum) of each 25 ms frame, every 10 ms."""
    if len(x) < FRAME:
        x = np.pad(x, (0, FRAME - len(x)))
    count = 1 + (len(x) - FRAME) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, FRAME)[::HOP][:count] * np.hamming(FRAME)
    return (np.abs(np.fft.rfft(frames, NFFT)) ** 2) @ _mel_filters().T


def cepstra(power: np.ndarray) -> np.ndarray:
    """Cepstra 1-12 of mel powers, with a floor 50 dB under the loudest frame (empty bands are not
    noise). No mean removal: for a short vowel ("E", "A") the mean is the character itself."""
    total = power.sum(axis=1)
    return np.log(power + total.max() * 1e-5) @ _dct().T


@lru_cache(maxsize=8)
def _mfcc_templates(language: str, factors: tuple[float, ...]) -> list[tuple[str, np.ndarray]]:
    """Mel powers of every clip at every pitch factor, without silent edges."""
    templates = []
    for char, clip in shipped_clips(language).items():
        for factor in factors:
            power = mel_power(resample(clip, factor))
            total = power.sum(axis=1)
            voiced = total > total.max() * 1e-3
            templates.append((char, power[np.argmax(voiced) : len(voiced) - np.argmax(voiced[::-1])]))
    return templates


def subsequence_dtw(template: np.ndarray, signal: np.ndarray, latest_start: int | None = None) -> np.ndarray:
    """Per end frame of ``signal``: the average cost of the best warp of all of ``template`` ending
    there, starting anywhere up to ``latest_start``. Steps (1,1), (1,2), (2,1): tempo from half to double."""
    cost = np.sqrt(((template[:, None, :] - signal[None, :, :]) ** 2).sum(axis=2))
    rows, cols = cost.shape
    big = np.inf
    total = np.full((rows, cols), big)
    total[0] = cost[0]
    if latest_start is not None:
        total[0, latest_start + 1 :] = big
    never = np.full(2, big)
    for i in range(1, rows):
        step = np.minimum(
            np.concatenate((never[:1], total[i - 1, :-1])),  # one frame each
            np.concatenate((never, total[i - 1, :-2])),  # the recording twice as slow
        )
        if i >= 2:
            step = np.minimum(step, np.concatenate((never[:1], total[i - 2, :-1])))  # twice as fast
        total[i] = cost[i] + step
    return total[-1] / rows


def segments(energy: np.ndarray, count: int) -> list[tuple[int, int, int, int]]:
    """Where the ``count`` characters are: (window start, core start, core end, window end) in frames.

    The attacker knows from the code that the voice is louder than the rest and that characters are
    at least 0.4 s apart: the ``count`` highest peaks of the energy smoothed over 50 ms, 0.45 s apart
    at least. The core (within 10 dB of the peak) is surely the character; its edges are somewhere in
    the window (up to 0.45 s each side, short of halfway to the next peak)."""
    level = 10 * np.log10(np.convolve(energy, np.ones(5) / 5, mode="same") + 1.0)
    free = np.ones(len(level), dtype=bool)
    peaks: list[int] = []
    while len(peaks) < count and free.any():
        peak = int(np.argmax(np.where(free, level, -np.inf)))
        peaks.append(peak)
        free[max(0, peak - 45) : peak + 45] = False
    peaks.sort()
    found = []
    for i, peak in enumerate(peaks):
        low = max((peaks[i - 1] + peak) // 2 if i else 0, peak - 45)
        high = min((peak + peaks[i + 1]) // 2 if i + 1 < len(peaks) else len(level), peak + 45)
        start, end = peak, peak + 1
        while start > low and level[start - 1] > level[peak] - 10:
            start -= 1
        while end < high and level[end] > level[peak] - 10:
            end += 1
        found.append((low, start, end, high))
    return found


def background_of(power: np.ndarray) -> np.ndarray:
    """The background's mel powers (noise and babble), measured on the quietest frames."""
    total = power.sum(axis=1)
    return power[total <= np.percentile(total, 15)].mean(axis=0)


def recognise(power: np.ndarray, window: tuple[int, int, int, int], language: str, factors=MFCC_FACTORS, background=None) -> str:
    """The character in ``window`` (start, core start, core end, end, in frames of ``power``): the clip
    whose mel cepstra, with the background added at the character's level, warp best onto it."""
    low, start, end, high = window
    background = np.zeros(power.shape[1]) if background is None else background
    piece = cepstra(power[low:high])
    voice = max(float(power[start:end].sum(axis=1).mean() - background.sum()), 1.0)
    best = (np.inf, "?")
    for char, template in _mfcc_templates(language, factors):
        noisy = template * (voice / template.sum(axis=1).mean()) + background
        # The whole template, over at least the core: a short one cannot win on a part of a long one.
        scores = subsequence_dtw(cepstra(noisy), piece, latest_start=start - low)
        best = min(best, (float(scores[end - 1 - low :].min()), char))
    return best[1]


def solve_mfcc(data: bytes, language: str, length: int = 6, factors: tuple[float, ...] = MFCC_FACTORS) -> str:
    power = mel_power(read_wav(data))
    background = background_of(power)
    return "".join(recognise(power, window, language, factors, background) for window in segments(power.sum(axis=1), length))


# --- measuring ------------------------------------------------------------------------------


def success(solver, count: int, seed: int, language: str = "en", length: int = 6) -> tuple[float, float]:
    """(whole CAPTCHA, per character) success rates of ``solver`` over ``count`` seeded renderings."""
    draw = random.Random(seed)
    whole = chars = 0
    for _ in range(count):
        text = "".join(draw.choice(CHARS) for _ in range(length))
        heard = solver(captcha_wav(text, language, seed=draw.getrandbits(64)), language, length)
        whole += heard == text
        chars += sum(a == b for a, b in zip(heard, text, strict=False)) if len(heard) == length else 0
    return whole / count, chars / (count * length)


def main(count: int) -> None:
    attacks = (("ncc", solve_ncc), ("mfcc+dtw", solve_mfcc), ("mfcc+dtw, 9 factors", lambda d, lang, n: solve_mfcc(d, lang, n, FINE)))
    for language in ("en", "fr"):
        for name, solver in attacks:
            start = time.perf_counter()
            whole, per_char = success(solver, count, seed=2024, language=language)
            print(
                f"{language} {name:20} whole {whole:6.1%}  per character {per_char:6.1%}  "
                f"({count} challenges, {time.perf_counter() - start:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
