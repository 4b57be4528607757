"""Honest probabilities: one temperature fitted on the validation songs, and how to judge calibration.

A song's score is the mean of its windows' log-probabilities (``lyricsdash.evaluate``). Averaging many
confident windows makes the song-level answer sharper than its accuracy warrants (a default run on the
assignment split said 99.6 % for songs it got wrong, and its test cross-entropy rose above ln 3). Temperature
scaling (Guo et al. 2017) divides the song scores by one number T before the softmax: the argmax, and so the
accuracy, never changes, and T is chosen to minimise the cross-entropy of the *validation* songs (the test set
never chooses anything). T lives in the model's state_dict (``LyricsLSTM.temperature``), so every reader of a
run (Classify, the explorer, the test metrics) applies it the same way.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

T_MIN, T_MAX = 0.05, 50.0
MIN_SONGS = 2  # fewer validation songs than this: keep T = 1 (nothing to fit on)


def fit_temperature(scores: torch.Tensor, labels: torch.Tensor, iters: int = 80) -> float:
    """scores (N, C) song-level log-probabilities at T = 1, labels (N,) -> the T that minimises their
    cross-entropy, by golden-section search over log T in [T_MIN, T_MAX] (the loss is unimodal in log T)."""
    if len(labels) < MIN_SONGS:
        return 1.0

    def loss(log_t: float) -> float:
        return F.cross_entropy(scores / math.exp(log_t), labels).item()

    a, b = math.log(T_MIN), math.log(T_MAX)
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(iters):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = loss(d)
    return math.exp((a + b) / 2)


def reliability(probs: torch.Tensor, labels: torch.Tensor, bins: int = 10) -> list[dict]:
    """probs (N, C), labels (N,) -> per confidence bin: its range, songs, mean confidence and accuracy
    (bins without songs are left out)."""
    conf, pred = probs.max(1)  # (N,), (N,)
    right = (pred == labels).float()
    out = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        inside = (conf > lo) & (conf <= hi) if i else (conf >= lo) & (conf <= hi)
        n = int(inside.sum())
        if n:
            out.append({"lo": lo, "hi": hi, "songs": n, "confidence": conf[inside].mean().item(),
                        "accuracy": right[inside].mean().item()})
    return out


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = 10) -> float:
    """The songs' mean |accuracy - confidence| over equal-width confidence bins, weighted by songs (0 = ideal)."""
    n = max(1, len(labels))
    return sum(b["songs"] / n * abs(b["accuracy"] - b["confidence"]) for b in reliability(probs, labels, bins))
