"""Resume points: everything a stopped training needs to go on exactly as if it had never stopped.

A resume point is taken at the end of every epoch and where a run is stopped, and holds, as plain tensors,
numbers and strings (``torch.load(weights_only=True)`` reads it back):

* the model, optimizer and learning-rate schedule (their ``state_dict``s);
* torch's random state (dropout, word dropout, the plain-text view), CUDA's too where trained on CUDA;
* the position in the batch order: the epoch, how many of its batches are done, and the batch-order random
  state at the start of that epoch (the epoch's batches are drawn again from it and the done ones skipped);
* the loop's running figures: step, tokens, elapsed seconds, the evaluation clock, the best and latest
  evaluations (with the best weights under ``keep=best_val``), epochs without improvement, and the rolling
  evaluation's latest window scores (``evaluate.Rolling``);
* a fingerprint of the prepared data, so that a resume on other songs is refused instead of continuing
  silently on them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch

FORMAT = 1
CHECKPOINT_FIELDS = ("step", "val_acc", "val_loss", "test_acc", "test_loss")


class ResumeError(ValueError):
    """A resume point that cannot continue this training."""


@dataclass
class Resumed:
    """Where the loop starts: a fresh run starts at epoch 1 with nothing done."""

    epoch: int = 1
    done_batches: int = 0  # of that epoch's batches, already trained
    epoch_rng: tuple | None = None  # the batch-order random state at that epoch's start (None: as it is)
    elapsed_s: float = 0.0


def data_key(vocab_json: str, labels: list[str], n_train: int) -> str:
    """A fingerprint of the prepared training data (vocabulary, artists, number of training sequences)."""
    text = f"{vocab_json}|{'|'.join(labels)}|{n_train}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def rng_to_tensor(state: tuple) -> dict:
    """``random.Random.getstate()`` -> plain data."""
    version, internal, gauss = state
    return {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss": gauss}


def rng_from_tensor(d: dict) -> tuple:
    return d["version"], tuple(int(v) for v in d["internal"].tolist()), d["gauss"]


def checkpoint_to_dict(c) -> dict:
    return {**{k: getattr(c, k) for k in CHECKPOINT_FIELDS}, "state": c.state}


def checkpoint_from_dict(cls, d: dict):
    return cls(*(d[k] for k in CHECKPOINT_FIELDS), state=d["state"])


def capture(loop, epoch: int, done_batches: int, epoch_rng: tuple, elapsed_s: float) -> dict:
    """The resume point of ``loop`` (an ``engine._Loop``) with ``done_batches`` of ``epoch`` trained."""
    cuda = torch.cuda.get_rng_state_all() if loop.device.type == "cuda" else []
    return {"format": FORMAT, "data_key": loop.data_key, "world_size": loop.world.size, "epoch": epoch,
            "done_batches": done_batches, "epoch_rng": rng_to_tensor(epoch_rng), "step": loop.step,
            "tokens": loop.tokens, "elapsed_s": elapsed_s, "since_best": loop.since_best,
            "best_before": loop.best_before,
            "clock": {"spent": loop.clock.spent},
            "model": loop.model.state_dict(), "optimizer": loop.opt.state_dict(), "scheduler": loop.sched.state_dict(),
            "torch_rng": torch.get_rng_state(), "cuda_rng": cuda,
            "best": checkpoint_to_dict(loop.best), "latest": checkpoint_to_dict(loop.latest),
            "rolling": loop.rolling.state()}


def restore(loop, point: dict, checkpoint_cls) -> Resumed:
    """Put ``point`` into ``loop`` (an ``engine._Loop``) -> where its loop starts."""
    if point.get("format") != FORMAT:
        raise ResumeError(f"resume point format {point.get('format')!r}, expected {FORMAT}.")
    if point["data_key"] != loop.data_key:
        raise ResumeError("The songs differ from those the run trained on (another vocabulary, artists or number "
                          "of training windows): give the same data and settings as the run.")
    if point["world_size"] != loop.world.size:
        raise ResumeError(f"The run trained in {point['world_size']} process(es); resume it in as many.")
    loop.model.load_state_dict(point["model"])
    loop.opt.load_state_dict(point["optimizer"])
    loop.sched.load_state_dict(point["scheduler"])
    torch.set_rng_state(point["torch_rng"])
    if point["cuda_rng"] and loop.device.type == "cuda":
        torch.cuda.set_rng_state_all(point["cuda_rng"])
    loop.step, loop.tokens = int(point["step"]), int(point["tokens"])
    loop.clock.spent = point["clock"]["spent"]  # points saved before also hold a "cost", no longer read
    loop.best = checkpoint_from_dict(checkpoint_cls, point["best"])
    loop.latest = checkpoint_from_dict(checkpoint_cls, point["latest"])
    loop.since_best, loop.best_before = int(point["since_best"]), int(point["best_before"])
    if "rolling" in point:
        loop.rolling.load(point["rolling"])
    elif loop.step:  # a point saved before rolling evaluations existed: they start again from its weights
        loop.rolling.score_all(loop.model, loop.step)
    return Resumed(int(point["epoch"]), int(point["done_batches"]), rng_from_tensor(point["epoch_rng"]),
                   float(point["elapsed_s"]))
