"""The training engine: a plain loop that reports through callbacks.

It never knows about files or UIs. Each global batch step produces one plain
record (``RECORD_FIELDS``) passed to every callback's ``on_step``; the run
store and the dashboard are just callbacks. The validation split alone picks
the best checkpoint; the test split is only measured.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .batches import Samples, bucket_batches, collate, encode, sorted_batches
from .cache import tokenize_many
from .config import TrainConfig
from .data import Corpus
from .model import LyricsLSTM, ModelSpec, count_parameters, describe
from .text import PAD_ID, UNK_ID, Vocab

RECORD_FIELDS = ("step", "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "val_loss", "val_acc",
                 "lr", "tokens", "elapsed_s")


class TrainingError(RuntimeError):
    """Training cannot go on (diverged, bad device, ...)."""


class Callback:
    """Override what you need. Methods run in the training thread."""

    def on_start(self, info: dict) -> None: ...
    def on_step(self, record: dict) -> None: ...
    def on_epoch_end(self, epoch: int, best: Best) -> None: ...
    def on_end(self, result: TrainResult) -> None: ...
    def on_fail(self, error: BaseException) -> None: ...


@dataclass
class Best:
    """The validation-chosen checkpoint so far."""

    step: int = 0
    val_acc: float = -1.0
    val_loss: float = math.inf
    test_acc: float = math.nan
    test_loss: float = math.nan
    state: dict | None = None

    def beaten_by(self, val_acc: float, val_loss: float, by: str = "val_acc") -> bool:
        if by == "val_loss":
            return val_loss < self.val_loss
        return val_acc > self.val_acc or (val_acc == self.val_acc and val_loss < self.val_loss)


@dataclass
class TrainResult:
    status: str  # "finished" or "stopped"
    model: LyricsLSTM  # holds the best checkpoint's weights
    vocab: Vocab
    labels: list[str]
    best: Best
    history: list[dict]
    train_seconds: float
    steps: int
    tokens: int
    confusion: list[list[int]] = field(default_factory=list)  # rows: true artist, columns: predicted

    @property
    def params(self) -> int:
        return count_parameters(self.model)


# ----------------------------------------------------------------- evaluation
class EvalSet:
    """A split encoded and batched once, evaluated many times."""

    def __init__(self, samples: Samples, device: torch.device):
        self.n_songs, self.labels = samples.n_songs, torch.as_tensor(samples.labels)
        self.batches = []
        for idx in sorted_batches(samples.lengths):
            tokens, lengths = collate([samples.seqs[i] for i in idx])
            self.batches.append((tokens.to(device), lengths, torch.as_tensor(samples.song[idx], device=device)))
        self.counts = torch.bincount(torch.as_tensor(samples.song), minlength=self.n_songs).clamp(min=1)

    @torch.inference_mode()
    def song_log_probs(self, model: LyricsLSTM) -> torch.Tensor:
        """(num_songs, C): log-softmax of the mean of each song's sequences' log-probabilities."""
        was_training = model.training
        model.eval()
        total = None
        for tokens, lengths, song in self.batches:
            logp = F.log_softmax(model(tokens, lengths).float(), dim=-1)  # (B, C)
            if total is None:
                total = torch.zeros(self.n_songs, logp.shape[1], device=logp.device)
            total.index_add_(0, song, logp)
        model.train(was_training)
        return F.log_softmax(total.cpu() / self.counts[:, None], dim=-1)

    def evaluate(self, model: LyricsLSTM) -> tuple[float, float, torch.Tensor]:
        """-> (cross-entropy, accuracy, predicted class per song)."""
        logp = self.song_log_probs(model)
        pred = logp.argmax(1)
        return F.nll_loss(logp, self.labels).item(), (pred == self.labels).float().mean().item(), pred


def confusion_matrix(true: torch.Tensor, pred: torch.Tensor, n: int) -> list[list[int]]:
    m = torch.zeros(n, n, dtype=torch.long)
    m.index_put_((true, pred), torch.ones_like(true), accumulate=True)
    return m.tolist()


# ------------------------------------------------------------------- training
def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device=cuda was asked for, but no CUDA GPU is available. Use device=auto or cpu.")
    return torch.device("cuda" if name in ("cuda", "auto") and torch.cuda.is_available() else "cpu")


def model_spec(cfg: TrainConfig, vocab_size: int, num_classes: int) -> ModelSpec:
    return ModelSpec(vocab_size, num_classes, cfg.embed_dim, cfg.hidden_size, cfg.num_layers, cfg.bidirectional,
                     cfg.dropout, cfg.pooling)


def _class_ids(df, labels):
    index = {a: i for i, a in enumerate(labels)}
    return [index[a] for a in df["artist"]]


def _lr_lambda(cfg: TrainConfig, total: int):
    warm = max(1, min(100, total // 20))
    if cfg.schedule == "constant":
        return lambda s: min(1.0, (s + 1) / warm)
    return lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))


class _Loop:
    """State of one training run; ``run()`` drives it."""

    def __init__(self, corpus: Corpus, cfg: TrainConfig, callbacks, stop: threading.Event | None):
        self.cfg, self.corpus, self.callbacks = cfg, corpus, list(callbacks)
        self.stop = stop or threading.Event()
        self.device = pick_device(cfg.device)
        torch.manual_seed(cfg.seed)
        self.rng = random.Random(cfg.seed)
        tokens = {name: tokenize_many(df["text"]) for name, df in
                  (("train", corpus.train), ("val", corpus.val), ("test", corpus.test))}
        self.vocab = Vocab.build(tokens["train"], cfg.min_freq, cfg.max_vocab)  # training songs only
        labels = corpus.labels
        self.train_set = encode(tokens["train"], _class_ids(corpus.train, labels), self.vocab, cfg)
        self.val = EvalSet(encode(tokens["val"], _class_ids(corpus.val, labels), self.vocab, cfg), self.device)
        self.test = EvalSet(encode(tokens["test"], _class_ids(corpus.test, labels), self.vocab, cfg), self.device)
        self.model = LyricsLSTM(model_spec(cfg, len(self.vocab), len(labels))).to(self.device)
        opt = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
        self.opt = opt(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.steps_per_epoch = math.ceil(len(self.train_set.seqs) / cfg.batch_size)
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, _lr_lambda(cfg, self.total_steps))
        self.best, self.history = Best(), []
        self.step = self.tokens = 0
        self.seq_labels = torch.as_tensor(self.train_set.labels[self.train_set.song])

    def _emit(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name, lambda *a: None)(*args)

    def info(self) -> dict:
        return {"params": count_parameters(self.model), "architecture": describe(self.model),
                "model_spec": self.model.spec.to_dict(), "labels": self.corpus.labels, "vocab": self.vocab,
                "total_steps": self.total_steps, "steps_per_epoch": self.steps_per_epoch,
                "train_sequences": len(self.train_set.seqs), "train_tokens_per_epoch": self.train_set.n_tokens,
                "device": str(self.device), "corpus": self.corpus.summary(), "config": self.cfg.to_dict()}

    def train_step(self, idx: np.ndarray) -> tuple[float, float, int]:
        tokens, lengths = collate([self.train_set.seqs[i] for i in idx])
        if self.cfg.word_dropout > 0:
            drop = (torch.rand(tokens.shape) < self.cfg.word_dropout) & (tokens != PAD_ID)
            tokens = tokens.masked_fill(drop, UNK_ID)
        y = self.seq_labels[idx].to(self.device)
        logits = self.model(tokens.to(self.device), lengths)  # (B, C)
        loss = F.cross_entropy(logits, y)
        if not torch.isfinite(loss):
            raise TrainingError(f"The training loss became {loss.item()} at step {self.step + 1}. Lower the "
                                "learning rate (lr) or set grad_clip.")
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        self.sched.step()
        acc = (logits.argmax(1) == y).float().mean().item()
        return loss.item(), acc, int(lengths.sum())

    def record(self, epoch: int, loss: float, acc: float, t0: float) -> dict:
        rec = dict.fromkeys(RECORD_FIELDS, math.nan)
        rec.update(step=self.step, epoch=epoch, train_loss=loss, train_acc=acc, lr=self.opt.param_groups[0]["lr"],
                   tokens=self.tokens)
        if self.step % self.cfg.eval_every == 0 or self.step == self.total_steps:
            rec["val_loss"], rec["val_acc"], _ = self.val.evaluate(self.model)
            rec["test_loss"], rec["test_acc"], _ = self.test.evaluate(self.model)
            if self.best.beaten_by(rec["val_acc"], rec["val_loss"], self.cfg.select_by):
                state = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}
                self.best = Best(self.step, rec["val_acc"], rec["val_loss"], rec["test_acc"], rec["test_loss"], state)
        rec["elapsed_s"] = time.perf_counter() - t0
        return rec

    def run(self) -> TrainResult:
        self._emit("on_start", self.info())
        t0, status, since_best = time.perf_counter(), "finished", 0
        for epoch in range(1, self.cfg.epochs + 1):
            best_before = self.best.step
            for idx in bucket_batches(self.train_set.lengths, self.cfg.batch_size, self.rng):
                if self.stop.is_set():
                    status = "stopped"
                    break
                loss, acc, n_tok = self.train_step(idx)
                self.step += 1
                self.tokens += n_tok
                rec = self.record(epoch, loss, acc, t0)
                self.history.append(rec)
                self._emit("on_step", rec)
            self._emit("on_epoch_end", epoch, self.best)
            since_best = 0 if self.best.step != best_before else since_best + 1
            if status == "stopped" or (self.cfg.patience and since_best >= self.cfg.patience):
                break
        return self.finish(status, time.perf_counter() - t0)

    def finish(self, status: str, seconds: float) -> TrainResult:
        if self.best.state is not None:
            self.model.load_state_dict(self.best.state)
        _, _, pred = self.test.evaluate(self.model)
        result = TrainResult(status, self.model.cpu().eval(), self.vocab, self.corpus.labels, self.best,
                             self.history, seconds, self.step, self.tokens,
                             confusion_matrix(self.test.labels, pred, len(self.corpus.labels)))
        self._emit("on_end", result)
        return result


def auto_threads() -> int:
    """All cores but one (at least 1): keeps a core for the UI, the browser and the OS."""
    return max(1, (os.cpu_count() or 1) - 1)


def train(corpus: Corpus, cfg: TrainConfig, callbacks=(), stop: threading.Event | None = None) -> TrainResult:
    """Train on ``corpus`` with ``cfg``; every callback hears each step. ``stop.set()`` ends it cleanly."""
    torch.set_num_threads(cfg.threads or auto_threads())
    try:
        loop = _Loop(corpus, cfg, callbacks, stop)
        return loop.run()
    except BaseException as e:
        for cb in callbacks:
            getattr(cb, "on_fail", lambda *a: None)(e)
        raise
