"""Scoring songs with a model: a split encoded and batched once, evaluated many times.

Used by the training loop (validation and test curves) and by the predictor; it knows nothing of training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .batches import Samples, bags_of, collate, sorted_batches
from .model import LyricsLSTM


class EvalSet:
    """A split's sequences, batched by length once, scored per song many times."""

    def __init__(self, samples: Samples, device: torch.device):
        self.n_songs, self.labels = samples.n_songs, torch.as_tensor(samples.labels)
        self.batches = []
        for idx in sorted_batches(samples.lengths):
            tokens, lengths = collate([samples.seqs[i] for i in idx])
            bags = [b.to(device) for b in bags_of(samples, idx)]  # each sequence's song, read as a bag
            self.batches.append((tokens.to(device), lengths, torch.as_tensor(samples.song[idx], device=device), bags))
        self.counts = torch.bincount(torch.as_tensor(samples.song), minlength=self.n_songs).clamp(min=1)

    def song_log_probs(self, model: LyricsLSTM) -> torch.Tensor:
        """(num_songs, C): log-softmax of the mean of each song's sequences' log-probabilities, divided by the
        model's temperature."""
        return F.log_softmax(self.song_scores(model) / model.temperature.cpu(), dim=-1)

    @torch.inference_mode()
    def song_scores(self, model: LyricsLSTM) -> torch.Tensor:
        """(num_songs, C): the mean of each song's sequences' log-probabilities, renormalised (T = 1)."""
        was_training = model.training
        model.eval()
        total = None
        for tokens, lengths, song, bags in self.batches:
            logp = F.log_softmax(model(tokens, lengths, bags).float(), dim=-1)  # (B, C)
            if total is None:
                total = torch.zeros(self.n_songs, logp.shape[1], device=logp.device)
            total.index_add_(0, song, logp)
        model.train(was_training)
        return F.log_softmax(total.cpu() / self.counts[:, None], dim=-1)

    def evaluate(self, model: LyricsLSTM) -> tuple[float, float, torch.Tensor]:
        """-> (cross-entropy, accuracy, predicted class per song)."""
        return self.measure(self.song_log_probs(model))

    def measure(self, logp: torch.Tensor) -> tuple[float, float, torch.Tensor]:
        """Song log-probabilities (num_songs, C) from ``song_log_probs`` -> (cross-entropy, accuracy, predicted)."""
        pred = logp.argmax(1)
        return F.nll_loss(logp, self.labels).item(), (pred == self.labels).float().mean().item(), pred


def confusion_matrix(true: torch.Tensor, pred: torch.Tensor, n: int) -> list[list[int]]:
    """Rows: true class, columns: predicted class."""
    m = torch.zeros(n, n, dtype=torch.long)
    m.index_put_((true, pred), torch.ones_like(true), accumulate=True)
    return m.tolist()
