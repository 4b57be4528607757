"""Scoring songs with a model: a split encoded and batched once, evaluated many times.

Used by the training loop (validation and test curves) and by the predictor; it knows nothing of training.
A song's score is the mean of its sequences' log-probabilities, so it can be kept current a batch at a time
(``Rolling``): that is how the loop gives a test value at every global step for about a fifth of a step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .batches import Samples, bags_of, collate, sorted_batches
from .model import LyricsLSTM


class EvalSet:
    """A split's sequences, batched by length once, scored per song many times.

    ``max_tokens``: padded tokens per batch. Small batches are also quicker on a CPU (measured on the
    assignment's validation + test windows, one thread: 250 ms at 4,096 tokens against 380 ms at 32,768).
    """

    def __init__(self, samples: Samples, device: torch.device, max_tokens: int = 4096):
        self.n_songs, self.labels = samples.n_songs, torch.as_tensor(samples.labels)
        self.batches = []
        for idx in sorted_batches(samples.lengths, max_tokens):
            tokens, lengths = collate([samples.seqs[i] for i in idx])
            bags = [b.to(device) for b in bags_of(samples, idx)]  # each sequence's song, read as a bag
            self.batches.append((tokens.to(device), lengths, torch.as_tensor(samples.song[idx], device=device), bags))
        self.counts = torch.bincount(torch.as_tensor(samples.song), minlength=self.n_songs).clamp(min=1)

    def song_log_probs(self, model: LyricsLSTM) -> torch.Tensor:
        """(num_songs, C): log-softmax of the mean of each song's sequences' log-probabilities, divided by the
        model's temperature."""
        return F.log_softmax(self.song_scores(model) / model.temperature.cpu(), dim=-1)

    def song_scores(self, model: LyricsLSTM) -> torch.Tensor:
        """(num_songs, C): the mean of each song's sequences' log-probabilities, renormalised (T = 1)."""
        return self.combine([self.batch_log_probs(model, i) for i in range(len(self.batches))])

    @torch.inference_mode()
    def batch_log_probs(self, model: LyricsLSTM, i: int) -> torch.Tensor:
        """(B, C): the log-probabilities of batch ``i``'s sequences, the model in eval mode (T = 1)."""
        tokens, lengths, _, bags = self.batches[i]
        was_training = model.training
        model.eval()
        logp = F.log_softmax(model(tokens, lengths, bags).float(), dim=-1)  # (B, C)
        model.train(was_training)
        return logp

    def combine(self, logps: list[torch.Tensor]) -> torch.Tensor:
        """Every batch's (B, C) log-probabilities, in batch order -> (num_songs, C) song scores (T = 1)."""
        total = torch.zeros(self.n_songs, logps[0].shape[1], device=logps[0].device)
        for (_, _, song, _), logp in zip(self.batches, logps, strict=True):
            total.index_add_(0, song, logp)
        return F.log_softmax(total.cpu() / self.counts[:, None], dim=-1)

    def evaluate(self, model: LyricsLSTM) -> tuple[float, float, torch.Tensor]:
        """-> (cross-entropy, accuracy, predicted class per song)."""
        return self.measure(self.song_log_probs(model))

    def measure(self, logp: torch.Tensor) -> tuple[float, float, torch.Tensor]:
        """Song log-probabilities (num_songs, C) from ``song_log_probs`` -> (cross-entropy, accuracy, predicted)."""
        pred = logp.argmax(1)
        return F.nll_loss(logp, self.labels).item(), (pred == self.labels).float().mean().item(), pred


class Rolling:
    """Scores of several sets kept current one batch per training step.

    ``score_all`` scores every batch with the current weights (a full evaluation). ``score_next`` rescores
    the next batch in turn, across the sets, so a cycle of ``cycle`` steps rescores them all. A song's score
    is the mean of its sequences' latest log-probabilities: between full evaluations it mixes weights of the
    last ``cycle`` steps, and ``lag`` says how many steps its oldest part is behind.
    """

    def __init__(self, sets: list[EvalSet]):
        self.sets = sets
        self.order = [(k, i) for k, s in enumerate(sets) for i in range(len(s.batches))]
        self.logps: list[list[torch.Tensor | None]] = [[None] * len(s.batches) for s in sets]  # each (B, C)
        self.at = [-1] * len(self.order)  # the step each batch of ``order`` was last scored at
        self.cursor = 0

    @property
    def cycle(self) -> int:
        return len(self.order)

    @property
    def ready(self) -> bool:
        """Whether every batch holds a score (after a first ``score_all``)."""
        return min(self.at, default=0) >= 0

    def score_all(self, model: LyricsLSTM, step: int) -> None:
        for j in range(len(self.order)):
            self._score(model, j, step)
        self.cursor = 0

    def score_next(self, model: LyricsLSTM, step: int) -> None:
        if self.order:
            self._score(model, self.cursor, step)
            self.cursor = (self.cursor + 1) % len(self.order)

    def _score(self, model: LyricsLSTM, j: int, step: int) -> None:
        k, i = self.order[j]
        self.logps[k][i] = self.sets[k].batch_log_probs(model, i)
        self.at[j] = step

    def measure(self, k: int) -> tuple[float, float]:
        """Set ``k``'s (cross-entropy, accuracy) from its latest scores (T = 1)."""
        loss, acc, _ = self.sets[k].measure(self.sets[k].combine(self.logps[k]))
        return loss, acc

    def lag(self, step: int) -> int:
        """Steps between ``step`` and the oldest score behind the values (0 after a full evaluation)."""
        return step - min(self.at, default=step)

    def state(self) -> dict:
        """Plain tensors, for a resume point: the resumed values go on exactly as they would have."""
        return {"logps": [[torch.empty(0) if t is None else t.cpu() for t in s] for s in self.logps],
                "at": torch.tensor(self.at, dtype=torch.long), "cursor": self.cursor}

    def load(self, state: dict) -> None:
        for (k, i) in self.order:
            t = state["logps"][k][i]
            self.logps[k][i] = None if t.numel() == 0 else t.to(self.sets[k].batches[i][0].device)
        self.at, self.cursor = [int(v) for v in state["at"].tolist()], int(state["cursor"])


def confusion_matrix(true: torch.Tensor, pred: torch.Tensor, n: int) -> list[list[int]]:
    """Rows: true class, columns: predicted class."""
    m = torch.zeros(n, n, dtype=torch.long)
    m.index_put_((true, pred), torch.ones_like(true), accumulate=True)
    return m.tolist()
