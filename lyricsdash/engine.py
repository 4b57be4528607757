"""The training engine: a plain loop over prepared data that reports through callbacks.

It never knows about files or UIs. Each global batch step produces one plain record (``RECORD_FIELDS``)
passed to every callback's ``on_step``; the run store and the dashboard are just callbacks. The weights the
run keeps are the final ones (``keep=final``) or the validation-chosen ones (``keep=best_val``); the test
split is only measured, it never chooses anything.
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from . import distributed, resume
from .augment import PlainView
from .baselines import fit_baselines
from .batches import bags_of, bucket_batches, collate, drop_from_bags
from .calibrate import fit_temperature
from .config import TrainConfig
from .data import Corpus
from .evaluate import EvalSet, Rolling, confusion_matrix
from .model import LyricsLSTM, ModelSpec, count_parameters, describe
from .nb import init_embedding, lr_log_ratios, nb_log_ratios
from .prepare import Prepared, prepare, tokenize_splits
from .records import RECORD_FIELDS, Callback, Status
from .teacher import teach
from .text import PAD_ID, UNK_ID, Vocab

__all__ = ["RECORD_FIELDS", "Callback", "Checkpoint", "StartInfo", "TrainResult", "TrainingError", "train",
           "train_step", "make_optimizer", "build_model", "EvalClock", "pick_device", "auto_threads"]


class TrainingError(RuntimeError):
    """Training cannot go on (diverged, bad device, ...)."""


@dataclass
class Checkpoint:
    """Weights at one evaluated step and their scores."""

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
class StartInfo:
    """What callbacks learn before the first step."""

    params: int
    architecture: str
    model_spec: dict
    labels: list[str]
    vocab: Vocab
    total_steps: int
    steps_per_epoch: int
    train_sequences: int
    train_tokens_per_epoch: int
    device: str
    corpus: dict
    config: dict
    test_songs: list[str] = field(default_factory=list)  # the test songs' titles, in order
    resumed_step: int = 0  # a resumed run's step before its first new one (0: a fresh run)


@dataclass
class TrainResult:
    status: Status  # FINISHED or STOPPED
    model: LyricsLSTM  # holds the kept weights
    vocab: Vocab
    labels: list[str]
    kept: Checkpoint  # the weights the run keeps (cfg.keep) and their scores
    best: Checkpoint  # the best validation score seen (its state only kept with keep=best_val)
    train_seconds: float
    steps: int
    tokens: int
    confusion: list[list[int]] = field(default_factory=list)  # of the kept weights; rows: true, columns: predicted
    baselines: dict[str, dict] = field(default_factory=dict)
    eval_seconds: float = 0.0  # of train_seconds, spent evaluating validation and test
    test_probs: list[list[float]] = field(default_factory=list)  # (songs, C) of the kept weights; rank 0 only
    test_labels: list[int] = field(default_factory=list)  # the test songs' true class ids

    @property
    def params(self) -> int:
        return count_parameters(self.model)


# ------------------------------------------------------------------ building
def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device=cuda was asked for, but no CUDA GPU is available. Use device=auto or cpu.")
    return torch.device("cuda" if name in ("cuda", "auto") and torch.cuda.is_available() else "cpu")


def build_model(data: Prepared, cfg: TrainConfig) -> LyricsLSTM:
    """A fresh model for ``data``, its embeddings NB-initialised from the training songs when cfg.nb_init > 0."""
    model = LyricsLSTM(ModelSpec.from_config(cfg, len(data.vocab), len(data.labels)))
    if cfg.nb_init > 0 or cfg.nb_channel != "off":
        fit = lr_log_ratios if cfg.init_table == "lr" else nb_log_ratios
        table = fit(data.train, len(data.vocab), len(data.labels))  # (V, C)
        if cfg.nb_init > 0:
            init_embedding(model.embedding, table, cfg.nb_init)
        if model.nb_table is not None:
            model.nb_table.copy_(table)
    return model


def _lr_lambda(cfg: TrainConfig, total: int):
    warm = max(1, min(100, total // 20))
    if cfg.schedule == "constant":
        return lambda s: min(1.0, (s + 1) / warm)
    return lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))


def make_optimizer(model: LyricsLSTM, cfg: TrainConfig, total_steps: int):
    """-> (optimizer, scheduler) as the engine trains with them."""
    # fused: one kernel per step for all tensors; on CPU the per-tensor loop took 15 % of a default step
    opt = (torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam)(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    return opt, torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg, total_steps))


def train_step(model: LyricsLSTM, opt, sched, tokens: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor,
               cfg: TrainConfig, loss_scale: float = 1.0, plain: PlainView | None = None,
               soft: torch.Tensor | None = None, bags: list[torch.Tensor] | None = None) -> tuple[float, float]:
    """One global step: plain view, word dropout, forward, finite-loss check, backward, clipping, optimiser,
    schedule.

    tokens (B, T) right-padded, lengths (B,), y (B,) on the model's device -> (loss, batch accuracy).
    ``loss_scale`` weighs this process's share of a global batch split across ranks (DDP averages gradients).
    ``plain`` reads a ``cfg.plain_share`` of batches as plain text would encode (see ``lyricsdash.augment``).
    ``soft`` (B, C): the teacher's probabilities, weighted ``cfg.distill`` in the loss (see ``lyricsdash.teacher``).
    ``bags``: each row's song as a bag of distinct ids (``batches.song_bag``), read with song context (a
    ``cfg.context_dropout`` of each left out) and ignored with context=off.
    """
    if cfg.context == "off":
        bags = None  # each window alone: no bag, and no random draws for one
    if plain is not None and cfg.plain_share > 0 and torch.rand(()).item() < cfg.plain_share:
        tokens, lengths = plain(tokens, lengths)
        bags = None if bags is None else plain.bags(bags)
    if cfg.word_dropout > 0:
        drop = (torch.rand(tokens.shape, device=tokens.device) < cfg.word_dropout) & (tokens != PAD_ID)
        tokens = tokens.masked_fill(drop, UNK_ID)
    if bags is not None:
        bags = drop_from_bags(bags, cfg.context_dropout)
    logits = model(tokens, lengths, bags)  # (B, C)
    loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
    if soft is not None and cfg.distill > 0:
        loss = (1 - cfg.distill) * loss + cfg.distill * F.cross_entropy(logits, soft)
    if not torch.isfinite(loss):
        raise TrainingError(f"The training loss became {loss.item()}. Lower the learning rate (lr) or set "
                            "grad_clip.")
    opt.zero_grad(set_to_none=True)
    (loss * loss_scale).backward()
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    opt.step()
    sched.step()
    return loss.item(), (logits.argmax(1) == y).float().mean().item()


class EvalClock:
    """When to evaluate validation and test, and how.

    A full evaluation scores every validation and test song with this step's weights: always at the end of
    each epoch and of training, and every ``every`` steps. With ``every=0`` (auto) every other step is a rolling
    one (``evaluate.Rolling``; the loop makes the first one full, as there is nothing to roll yet): it rescores
    one evaluation batch, about as many tokens as the step trained on, so each step carries validation and test
    values for about a fifth of a step's time (forward only). A full evaluation at every step costs twice the
    training time even on the demo corpus (6.6 s of evaluation for 3.3 s of training; bench/results.md, section
    eval-cost), so none is automatic.
    """

    FULL, ROLLING = "full", "rolling"

    def __init__(self, every: int, total_steps: int):
        self.every, self.total = every, total_steps
        self.spent = 0.0  # seconds of every evaluation, full and rolling

    def due(self, step: int, last: bool) -> str | None:
        """``FULL``, ``ROLLING`` or None for ``step`` (``last``: it ends an epoch or the run)."""
        if last or step >= self.total:
            return self.FULL
        if self.every:
            return self.FULL if step % self.every == 0 else None
        return self.ROLLING

    def spend(self, seconds: float) -> None:
        self.spent += seconds


# ------------------------------------------------------------------- the loop
class _Loop:
    """State of one training run over prepared data; ``run()`` drives it."""

    def __init__(self, data: Prepared, cfg: TrainConfig, callbacks, stop: threading.Event | None,
                 world: distributed.World = distributed.World(), soft: np.ndarray | None = None,
                 point: dict | None = None):
        self.cfg, self.data, self.callbacks, self.world = cfg, data, list(callbacks), world
        self.stop = stop or threading.Event()
        self.device = pick_device(cfg.device)
        if world.active:
            self.device = distributed.setup(world, self.device)
            distributed.check_same(data.vocab.to_json() + "|".join(data.labels), "vocabularies", self.device)
        torch.manual_seed(cfg.seed)
        self.rng = random.Random(cfg.seed)  # the same batch order on every rank
        self.val, self.test = (EvalSet(d, self.device, cfg.eval_batch_tokens) for d in (data.val, data.test))
        self.rolling = Rolling([self.val, self.test])
        self.model = build_model(data, cfg).to(self.device)
        self.net = self.model  # what the step runs: the model, or DDP around it
        if world.active:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
            torch.manual_seed(cfg.seed + 1 + world.rank)  # dropout and word-dropout streams differ per rank
        self.steps_per_epoch = math.ceil(len(data.train.seqs) / cfg.batch_size)
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.opt, self.sched = make_optimizer(self.model, cfg, self.total_steps)
        self.clock = EvalClock(cfg.eval_every, self.total_steps)
        self.best, self.latest = Checkpoint(), Checkpoint()
        self.step = self.tokens = 0
        self.seq_labels = torch.as_tensor(data.train.labels[data.train.song])  # (N_seqs,)
        if soft is not None and len(soft) != len(data.train.seqs):
            raise TrainingError(f"{len(soft)} soft targets for {len(data.train.seqs)} training sequences.")
        self.soft = None if soft is None else torch.as_tensor(soft, dtype=torch.float32)  # (N_seqs, C)
        self.plain = PlainView(data.vocab, cfg.tokens) if cfg.plain_share > 0 and cfg.tokens != "words" else None
        self.since_best = self.best_before = 0  # epochs without a better validation score; the best step before
        self.data_key = resume.data_key(data.vocab.to_json(), data.labels, len(data.train.seqs))
        self.resumed = resume.Resumed()
        if point is not None:
            if world.active:
                raise TrainingError("Resuming under torchrun is not supported: resume the run in one process.")
            self.resumed = resume.restore(self, point, Checkpoint)

    def _emit(self, name, *args):
        for cb in self.callbacks:
            getattr(cb, name, lambda *a: None)(*args)

    def info(self, corpus_summary: dict, test_songs: list[str]) -> StartInfo:
        return StartInfo(count_parameters(self.model), describe(self.model), self.model.spec.to_dict(),
                         self.data.labels, self.data.vocab, self.total_steps, self.steps_per_epoch,
                         len(self.data.train.seqs), self.data.train.n_tokens, str(self.device), corpus_summary,
                         self.cfg.to_dict() | {"world_size": self.world.size}, test_songs, self.step)

    def step_once(self, idx: np.ndarray) -> tuple[float, float, int]:
        """One global step; with several ranks each trains its shard and the figures are summed over ranks."""
        part, n = (distributed.shard(idx, self.world), len(idx)) if self.world.active else (idx, len(idx))
        weight = len(part) * self.world.size / n  # this rank's share of the global mean loss
        if len(part) == 0:  # fewer sequences than ranks: take part with no weight
            part = idx[:1]
        tokens, lengths = collate([self.data.train.seqs[i] for i in part])
        try:
            loss, acc = train_step(self.net, self.opt, self.sched, tokens.to(self.device), lengths,
                                   self.seq_labels[part].to(self.device), self.cfg, weight, self.plain,
                                   None if self.soft is None else self.soft[part].to(self.device),
                                   bags_of(self.data.train, part))
        except TrainingError as e:
            raise TrainingError(f"Step {self.step + 1}: {e}") from None
        except RuntimeError as e:  # under DDP, the gradient all-reduce fails when a peer is gone
            if self.world.active:
                raise distributed.lost(e) from None
            raise
        n_tok = int(lengths.sum()) if weight else 0
        if not self.world.active:
            return loss, acc, n_tok
        k = len(part) if weight else 0
        loss_sum, acc_sum, count, n_tok = distributed.sum_all([loss * k, acc * k, k, n_tok], self.device)
        return loss_sum / count, acc_sum / count, int(n_tok)

    def stopping(self, local: bool) -> bool:
        """Whether to stop now: asked here, or (several ranks) on any rank, so that all stop at the same step."""
        return distributed.any_rank(local, self.device) if self.world.active else local

    def evaluate_and_choose(self, rec: dict) -> None:
        """Score every validation and test song into ``rec``; remember the best validation checkpoint."""
        t = time.perf_counter()
        self.rolling.score_all(self.model, self.step)
        self._scores_into(rec)
        scores = (self.step, rec["val_acc"], rec["val_loss"], rec["test_acc"], rec["test_loss"])
        self.latest = Checkpoint(*scores)
        rec["val_best"] = float(self.best.beaten_by(rec["val_acc"], rec["val_loss"], self.cfg.select_by))
        if rec["val_best"]:
            self.best = Checkpoint(*scores, state=self._state() if self.cfg.keep == "best_val" else None)
        self.clock.spend(time.perf_counter() - t)

    def roll(self, rec: dict) -> None:
        """Rescore the next evaluation batch and put the rolling values into ``rec`` (they choose nothing)."""
        t = time.perf_counter()
        self.rolling.score_next(self.model, self.step)
        self._scores_into(rec)
        self.clock.spend(time.perf_counter() - t)

    def _scores_into(self, rec: dict) -> None:
        rec["val_loss"], rec["val_acc"] = self.rolling.measure(0)
        rec["test_loss"], rec["test_acc"] = self.rolling.measure(1)
        rec["eval_lag"] = self.rolling.lag(self.step)

    def _state(self) -> dict:
        return {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}

    def kept(self) -> Checkpoint:
        """What the run keeps if it ends now (the final policy keeps the latest evaluated weights)."""
        if self.cfg.keep == "best_val":
            return self.best
        c = self.latest
        return Checkpoint(c.step, c.val_acc, c.val_loss, c.test_acc, c.test_loss, self._state())

    def run(self, corpus_summary: dict, baselines: Callable[[], Future] | None = None,
            test_songs: list[str] = ()) -> TrainResult:
        """Train; ``baselines`` starts their fit (``fit_baselines``' result, in another thread) and is called
        after the first step, so that the first step shows at once; they are handed to callbacks
        (``on_baselines``) at the first step after the fit is done, or at the end."""
        self.baselines, self._start_baselines, self._pending = {}, baselines, None
        self._emit("on_start", self.info(corpus_summary, list(test_songs)))
        start = self.resumed
        t0, status = time.perf_counter() - start.elapsed_s, Status.FINISHED
        for epoch in range(start.epoch, self.cfg.epochs + 1):
            first = epoch == start.epoch
            if first and start.epoch_rng is not None:
                self.rng.setstate(start.epoch_rng)  # the resumed epoch's batches, drawn again
            epoch_rng, done = self.rng.getstate(), start.done_batches if first else 0
            batches = bucket_batches(self.data.train.lengths, self.cfg.batch_size, self.rng)
            for i in range(done, len(batches)):
                if self.stopping(self.stop.is_set()):
                    status = Status.STOPPED
                    break
                self.train_and_report(batches[i], epoch, i == len(batches) - 1, t0)
                done = i + 1
            if self.latest.step:
                self._emit("on_epoch_end", epoch, self.kept())
            if done == len(batches):  # a whole epoch counts for patience
                self.since_best = 0 if self.best.step != self.best_before else self.since_best + 1
                self.best_before = self.best.step
            self._resume_point(epoch, done, len(batches), epoch_rng, time.perf_counter() - t0)
            patient = bool(self.cfg.patience) and self.since_best >= self.cfg.patience
            if status == Status.STOPPED or self.stopping(patient):
                break
        self._hand_baselines(wait=True)
        return self.finish(status, time.perf_counter() - t0, self.baselines)

    def _hand_baselines(self, wait: bool = False) -> None:
        """Start the baselines' fit, or pass them on once it is done (from this thread, as every callback is
        called)."""
        if self._start_baselines is not None:
            self._pending, self._start_baselines = self._start_baselines(), None
        if self._pending is None or not (wait or self._pending.done()):
            return
        self.baselines, model = self._pending.result()  # a fit that raised fails the run here
        self._pending = None
        self._emit("on_baselines", self.baselines, model)

    def train_and_report(self, idx: np.ndarray, epoch: int, epoch_end: bool, t0: float) -> None:
        """One step, its record (evaluated when the clock says so, at an epoch's end, or where a stop ends the
        run) to every callback."""
        loss, acc, n_tok = self.step_once(idx)
        self.step += 1
        self.tokens += n_tok
        rec = dict.fromkeys(RECORD_FIELDS, math.nan)
        rec.update(step=self.step, epoch=epoch, train_loss=loss, train_acc=acc, tokens=self.tokens,
                   lr=self.opt.param_groups[0]["lr"])
        last = epoch_end or self.stop.is_set()  # a stop evaluates the step it ends on
        due = self.clock.due(self.step, last) if self.world.main else None
        if due == EvalClock.FULL or (due == EvalClock.ROLLING and not self.rolling.ready):  # nothing to roll yet
            self.evaluate_and_choose(rec)
        elif due == EvalClock.ROLLING:
            self.roll(rec)
        rec["elapsed_s"] = time.perf_counter() - t0
        self._emit("on_step", rec)
        self._hand_baselines()

    def _resume_point(self, epoch: int, done: int, n_batches: int, epoch_rng: tuple, elapsed_s: float) -> None:
        """Hand callbacks the state to go on from here (``lyricsdash.resume``): the next epoch after a whole
        one, else the rest of this one."""
        whole = done == n_batches
        point = resume.capture(self, epoch + 1 if whole else epoch, 0 if whole else done,
                               self.rng.getstate() if whole else epoch_rng, elapsed_s)
        self._emit("on_resume_point", point)

    def calibrate(self, kept: Checkpoint) -> tuple[Checkpoint, torch.Tensor]:
        """Fit the temperature on the validation songs (``lyricsdash.calibrate``) into the kept weights and score
        the test songs with it, once -> (the kept checkpoint, its test log-probabilities (songs, C))."""
        t = fit_temperature(self.val.song_scores(self.model), self.val.labels) if self.val.n_songs else 1.0
        self.model.temperature.fill_(t)
        logp = self.test.song_log_probs(self.model)  # (songs, C)
        test_loss, test_acc, _ = self.test.measure(logp)  # the accuracy cannot change, the cross-entropy does
        state = None if kept.state is None else {**kept.state, "temperature": self.model.temperature.detach().cpu()}
        return Checkpoint(kept.step, kept.val_acc, kept.val_loss, test_acc, test_loss, state), logp

    def finish(self, status: str, seconds: float, baselines: dict) -> TrainResult:
        main = self.world.main
        if main and self.step and self.latest.step != self.step and self.cfg.keep == "final":
            self.evaluate_and_choose(dict.fromkeys(RECORD_FIELDS, math.nan))  # stopped mid-epoch: score it
        kept = self.kept() if main else Checkpoint(self.step)
        if kept.state is not None:
            self.model.load_state_dict(kept.state)
        confusion, probs = [], []
        if main:
            kept, logp = self.calibrate(kept)
            confusion = confusion_matrix(self.test.labels, logp.argmax(1), len(self.data.labels))
            probs = logp.exp().tolist()
        if self.world.active:  # rank 0 alone evaluates and fits the temperature: every rank keeps the same model
            t = distributed.sum_all([float(self.model.temperature) if main else 0.0], self.device)[0]
            self.model.temperature.fill_(t)
        result = TrainResult(status, self.model.cpu().eval(), self.data.vocab, self.data.labels, kept, self.best,
                             seconds, self.step, self.tokens, confusion, baselines, self.clock.spent, probs,
                             self.test.labels.tolist())
        self._emit("on_end", result)
        return result


def auto_threads(processes: int = 1) -> int:
    """All cores but one (at least 1), shared by this machine's training processes: keeps a core for the UI,
    the browser and the OS."""
    return max(1, ((os.cpu_count() or 1) - 1) // max(1, processes))


def train(corpus: Corpus, cfg: TrainConfig, callbacks=(), stop: threading.Event | None = None,
          resume_from: dict | None = None) -> TrainResult:
    """Train on ``corpus`` with ``cfg``; every callback hears each step. ``stop.set()`` ends it cleanly.

    ``resume_from``: a resume point (``lyricsdash.resume``) of a run with this corpus and config; training goes
    on from there exactly as if it had never stopped (the baselines, measured before, are not fitted again).

    Under torchrun (``WORLD_SIZE`` > 1) every rank calls this with the same data and config; rank 0 alone
    fits the baselines, evaluates and calls the callbacks (so only it writes the run folder).
    """
    world = distributed.from_env()
    callbacks = list(callbacks) if world.main else []
    torch.set_num_threads(cfg.threads or auto_threads(int(os.environ.get("LOCAL_WORLD_SIZE", world.size))))
    def phase(text: str) -> None:
        for cb in callbacks:
            getattr(cb, "on_phase", lambda *a: None)(text)

    try:
        phase("preparing the data (tokens, vocabulary, windows)")
        tokens = tokenize_splits(corpus, cfg)
        data = prepare(corpus, cfg, tokens)
        soft = teach(tokens["train"], data.train.labels, len(data.labels), cfg, lambda teacher, k, n: phase(
            f"fitting the distillation teacher (TF-IDF {teacher} + logistic regression), fold {k} of {n}"))
        phase("building the model")
        loop = _Loop(data, cfg, callbacks, stop, world, soft, resume_from)
        baselines = None
        if cfg.baselines and world.main and resume_from is None:  # on the core training leaves idle
            def baselines() -> Future:
                pool = ThreadPoolExecutor(1, thread_name_prefix="lyricsdash-baselines")
                future = pool.submit(fit_baselines, corpus, cfg.seed, keep_model=True, tokens=cfg.tokens)
                pool.shutdown(wait=False)
                return future
        return loop.run(corpus.summary(), baselines, corpus.test["song"].astype(str).tolist())
    except BaseException as e:
        for cb in callbacks:
            getattr(cb, "on_fail", lambda *a: None)(e)
        raise
    finally:
        if world.active:
            distributed.teardown()
