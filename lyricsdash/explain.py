"""Why this artist: Integrated Gradients over the words' input vectors, through the song-level score.

The score explained. A song is predicted from the mean of its windows' log-probabilities (``EvalSet``). For
artist c against the others the score is ``log p(c|song) - mean_d log p(d|song)``; for "c rather than d" it is
``log p(c|song) - log p(d|song)``. Both are contrasts ``w . log p`` with ``sum(w) = 0``, so every normaliser
cancels and the score is the mean over windows of ``w . logits(window)``: a sum of terms that each depend on
one window's words only. A song's attribution is the mean of its windows' attributions, and each window is
integrated on its own (a word in two overlapping windows gets both shares).

Baseline: the same song with every word unknown (each position reads the ``<unk>`` vector), so a word's
contribution is what knowing it adds; through the windows an unknown word contributes exactly 0 (its spelling
still counts through the song context's character n-grams, below). Why not the pad (all zeros): the
model never reads zeros, and on the straight path from them a trained LSTM's score swings (on a default model's
test songs: total variation 6-39 times the net change, jumps of 2 nats within 1/2048 of the path); word dropout
trains the model on ``<unk>`` mixed with words, and from there the path is calm (1.3-4.8 times).

Integrated Gradients gives word i of window k  ``a_i = (x_i - u) . integral_0^1 grad_i s_k(u + t (x - u)) dt``
and completeness, ``sum_i a_i = s(x) - s(u)``, holds for the exact integral. The integral is taken by adaptive
Simpson panels per window (a panel is an interval with its midpoint; Simpson's error shrinks as h^4 where the
path is smooth, so calm stretches need few points): while the song's misfit (the windows' mean gap between
their panels' estimates and their score changes) exceeds ``tol`` nats (or half a percent of the song's score
change, if larger: ``allowed_gap``), the panels that hold half of it are halved (down to ``2**-max_depth`` of
the path, within ``max_points`` gradient points a song). The song's completeness gap is then under that; any gap
that remains is reported (``Explanation.gap``), never hidden.

Song context (``LyricsLSTM.context_logits``): every window's logits also hold ``A . mean_v e_v + b`` over the
song's n distinct words v, the same for all windows. It is linear in the words' vectors, so its share needs no
integral: word v adds ``w . A (e_v - e_unk) / n`` (the baseline's bag is ``<unk>`` alone), split evenly over v's
places in the song. With character n-grams (context=bag+chars) the bag also holds ``A' . mean_g c_g + b'`` over the
song's m distinct n-grams g (the baseline has none: ``b'`` alone); n-gram g adds ``w . A' c_g / m``, split evenly
over the places whose word holds g. These shares sum exactly to the context's part of the score change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .batches import song_bag, song_grams, split_ids, window_starts
from .model import LyricsLSTM
from .text import UNK, UNK_ID, Vocab

TOL = 0.01  # nats: the completeness gap allowed per song, or REL_TOL of its score change if that is larger
REL_TOL = 0.005
SHARE = 0.5  # of the misfit whose panels are halved each round


@dataclass
class Explanation:
    words: list[str]  # the words the model read, in order (unknown words as written)
    known: list[bool]  # whether each word is in the vocabulary (else the model read <unk>)
    contributions: np.ndarray  # (T,) each word's share of score - baseline_score, in nats
    artist: str
    against: str | None  # None: against the average artist
    score: float  # the contrast for the song: log p(artist) - log p(against), or minus the mean log p
    baseline_score: float  # the same contrast with every word unknown (and no n-grams in the song's bag)
    gradient_points: int  # forward+backward passes of one window, all windows together
    windows: list[int] = field(default_factory=list)  # the first word of each window read (index into words)
    text: str = ""  # the normalized text the words were read from (text.Reading), set by the predictor
    spans: list[tuple[int, int]] | None = None  # where each word lies in ``text``: highlighting only renders
    spelled: bool = False  # the model reads character n-grams: unknown words count through their spelling

    @property
    def gap(self) -> float:
        """Completeness error: |sum of contributions - (score - baseline_score)|, in nats."""
        return abs(float(self.contributions.sum()) - (self.score - self.baseline_score))

    def top_words(self, n: int = 10) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The words (summed over their occurrences) that pushed most for and most against the artist."""
        total: dict[str, float] = {}
        for w, c in zip(self.words, self.contributions.tolist(), strict=True):
            total[w] = total.get(w, 0.0) + c
        ranked = sorted(total.items(), key=lambda kv: kv[1])
        return [kv for kv in reversed(ranked[-n:]) if kv[1] > 0], [kv for kv in ranked[:n] if kv[1] < 0]


def allowed_gap(delta: float, tol: float = TOL) -> float:
    """The completeness gap allowed for a song whose score changes by ``delta``: ``tol`` nats or REL_TOL of
    the change, whichever is larger."""
    return max(tol, REL_TOL * abs(delta))


def contrast(labels: list[str], artist: str, against: str | None) -> torch.Tensor:
    """(C,) weights w with sum 0: w . log p is the explained score."""
    c = len(labels)
    w = torch.full((c,), -1.0 / c)
    w[labels.index(artist)] += 1.0
    if against is not None:
        w = torch.zeros(c)
        w[labels.index(artist)], w[labels.index(against)] = 1.0, -1.0
    return w


class _Window:
    """Adaptive Simpson panels along alpha in [0, 1] for one window: each panel (a, c) has its midpoint
    evaluated too; ``pts`` holds every point's score and IG integrand (T,)."""

    def __init__(self, alphas, scores, integrands):
        self.pts = dict(zip(alphas, zip(scores, integrands, strict=True), strict=True))
        self.panels = list(zip(alphas[:-2:2], alphas[2::2], strict=True))  # (a, c): an even grid's pairs

    def estimate(self, a: float, c: float) -> np.ndarray:
        """Simpson's rule for the panel's attribution (T,)."""
        return (c - a) / 6 * (self.pts[a][1] + 4 * self.pts[(a + c) / 2][1] + self.pts[c][1])

    def misfit(self, a: float, c: float) -> float:
        return abs(float(self.estimate(a, c).sum()) - (self.pts[c][0] - self.pts[a][0]))

    def split(self, a: float, c: float) -> None:
        b = (a + c) / 2
        i = self.panels.index((a, c))
        self.panels[i:i + 1] = [(a, b), (b, c)]

    def attribution(self) -> np.ndarray:
        return sum(self.estimate(a, c) for a, c in self.panels)


def _to_split(windows: list[_Window], tol: float, narrowest: float) -> list[tuple[int, float, float]]:
    """(window, a, c) of the worst panels, which together hold half of the song's misfit (the windows' mean);
    none once that is under ``tol``."""
    misfits = sorted(((win.misfit(a, c) / len(windows), r, a, c) for r, win in enumerate(windows)
                      for a, c in win.panels if c - a > narrowest), reverse=True)
    total, out, acc = sum(m[0] for m in misfits), [], 0.0
    if total <= tol:
        return out
    for m, r, a, c in misfits:
        out.append((r, a, c))
        acc += m
        if acc >= total * SHARE:
            break
    return out


def _points(model: LyricsLSTM, x0: torch.Tensor, x: torch.Tensor, lengths: torch.Tensor, w: torch.Tensor,
            rows: list[int], alphas: list[float]) -> tuple[list[float], list[np.ndarray]]:
    """Scores and IG integrands (grad . (x - x0) per word) on the path at ``alphas[j]`` for window ``rows[j]``."""
    idx = torch.as_tensor(rows)
    a = torch.as_tensor(alphas, dtype=x.dtype)[:, None, None]
    xs = (x0[idx] + a * (x[idx] - x0[idx])).requires_grad_(True)  # (P, T, D)
    with torch.backends.cudnn.flags(enabled=False):  # cuDNN's RNN backward refuses eval mode
        s = model.from_inputs(xs, lengths[idx]) @ w  # (P,)
        (grad,) = torch.autograd.grad(s.sum(), xs)
    integrand = (grad * (x[idx] - x0[idx])).sum(-1).detach().cpu().numpy()  # (P, T)
    return s.detach().cpu().tolist(), list(integrand)


def integrated_gradients(model: LyricsLSTM, x0: torch.Tensor, x: torch.Tensor, lengths: torch.Tensor,
                         w: torch.Tensor, tol: float = TOL, start: int = 16, max_depth: int = 24,
                         max_points: int = 20000):
    """Per-window IG of ``w . logits`` from the baseline inputs ``x0`` to ``x`` (K, T, D), lengths (K,).

    -> (attributions (K, T), scores at x (K,), scores at x0 (K,), gradient points used).
    """
    if start % 2:
        raise ValueError("start must be even: the grid's intervals pair up into Simpson panels")
    k = x.shape[0]
    grid = [i / start for i in range(start + 1)]
    s, g = _points(model, x0, x, lengths, w, [r for r in range(k) for _ in grid], grid * k)
    n = start + 1
    windows = [_Window(grid, s[r * n:(r + 1) * n], g[r * n:(r + 1) * n]) for r in range(k)]
    used = k * n
    delta = float(np.mean([win.pts[1.0][0] - win.pts[0.0][0] for win in windows]))  # the song's score change
    tol = allowed_gap(delta, tol)
    while used < max_points:
        todo = _to_split(windows, tol, 2.0 ** -max_depth)[: (max_points - used) // 2]
        if not todo:
            break
        rows = [r for r, _, _ in todo for _ in range(2)]
        alphas = [m for _, a, c in todo for m in ((3 * a + c) / 4, (a + 3 * c) / 4)]  # the halves' midpoints
        for r, m, score, integ in zip(rows, alphas, *_points(model, x0, x, lengths, w, rows, alphas), strict=True):
            windows[r].pts[m] = (score, integ)
        for r, a, c in todo:
            windows[r].split(a, c)
        used += len(rows)
    attr = np.stack([win.attribution() for win in windows])  # (K, T)
    return attr, np.array([win.pts[1.0][0] for win in windows]), np.array([win.pts[0.0][0] for win in windows]), used


def explain(model: LyricsLSTM, vocab: Vocab, labels: list[str], cfg, tokens: list[str], artist: str,
            against: str | None = None, tol: float = TOL) -> Explanation:
    """Each read word's contribution to ``artist``'s score (against ``against``, or the average artist)."""
    if artist not in labels or (against is not None and (against not in labels or against == artist)):
        raise ValueError(f"choose two different artists of {labels}")
    words = tokens[: cfg.max_len] or [UNK]  # no words at all: the model reads one <unk>
    ids = vocab.encode(words)
    seqs = split_ids(ids, cfg.length_strategy, cfg.max_len, cfg.window, cfg.stride)  # what the predictor reads
    starts = window_starts(len(ids), cfg.length_strategy, cfg.window, cfg.stride)  # where each one begins
    size = len(seqs[0])
    device = next(model.parameters()).device
    batch = torch.tensor(seqs, device=device)  # (K, T): a song's sequences all have one length
    model.eval()
    with torch.no_grad():
        x, x0 = model.inputs(batch), model.inputs(torch.full_like(batch, UNK_ID))  # (K, T, D) each
    lengths = torch.full((len(starts),), size, dtype=torch.long)
    w = contrast(labels, artist, against).to(device) / model.temperature  # the calibrated song score's contrast
    attr, s1, s0, used = integrated_gradients(model, x0, x, lengths, w, tol)
    per_word = np.zeros(len(ids))
    for row, s in enumerate(starts):
        per_word[s:s + size] += attr[row] / len(starts)  # the song's score is the windows' mean
    score, base = float(s1.mean()), float(s0.mean())
    if model.context_head is not None:
        shares, bag_score, bag_base = context_shares(model, ids, words, w)
        per_word += shares
        score, base = score + bag_score, base + bag_base
    return Explanation(words, [i != UNK_ID for i in ids], per_word, artist, against, score, base, used, list(starts),
                       spelled=model.reads_spelling)


@torch.no_grad()
def context_shares(model: LyricsLSTM, ids: list[int], words: list[str],
                   w: torch.Tensor) -> tuple[np.ndarray, float, float]:
    """The song context's part of the contrast ``w`` (C,) for a song of ``words`` (their ``ids``) -> (each place's
    share (T,), the part with the song's bag, with the baseline's bag ``<unk>``)."""
    device = w.device
    grams = song_grams(words, model.spec.vocab_size, model.spec.char_buckets)
    bag = song_bag(ids).to(device)  # (n,) the words alone
    emb, head = model.embedding.weight, model.context_head
    per_distinct = (emb[bag] - emb[UNK_ID]) @ head.weight.T @ w / len(bag)  # (n,) w . A (e_v - e_unk) / n
    place = torch.searchsorted(bag, torch.tensor(ids, device=device))  # (T,) each place's distinct word
    counts = torch.bincount(place, minlength=len(bag))  # (n,)
    shares = (per_distinct / counts)[place].cpu().numpy()  # (T,)
    if grams:
        shares += _gram_shares(model, grams, w, words)
    bag_score = float(model.context_logits([song_bag(ids, grams).to(device)]) @ w)
    bag_base = float(model.context_logits([torch.tensor([UNK_ID], device=device)]) @ w)
    return shares, bag_score, bag_base


def _gram_shares(model: LyricsLSTM, grams: list[int], w: torch.Tensor, words: list[str]) -> np.ndarray:
    """Each place's share of the n-gram part of the contrast ``w``: w . A' c_g / m for each of the song's m
    n-grams g, split evenly over the places whose word holds g -> (T,)."""
    v, buckets = model.spec.vocab_size, model.spec.char_buckets
    per_gram = model.char_table.weight[torch.tensor(grams, device=w.device) - v] @ model.char_head.weight.T @ w
    per_gram = dict(zip(grams, (per_gram / len(grams)).tolist(), strict=True))  # bag id -> w . A' c_g / m
    held = [song_grams([word], v, buckets) for word in words]  # each place's n-gram bag ids
    places = {}
    for gs in held:
        for g in gs:
            places[g] = places.get(g, 0) + 1
    return np.array([sum(per_gram[g] / places[g] for g in gs) for gs in held])
