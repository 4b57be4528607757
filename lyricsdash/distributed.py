"""Training over several processes and machines with torchrun and DistributedDataParallel.

``torchrun`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; the engine reads them here and, with more
than one process, joins the process group (gloo on CPU, NCCL on CUDA with one GPU per local rank). Every
rank builds the same vocabulary, batches and model from the same data and seed (checked equal through the
vocabulary's hash); each global batch is split across the ranks, so a global step means what it means in
one process. Rank 0 alone fits the baselines, evaluates, writes the run folder and prints.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

from .config import ConfigError

TIMEOUT_ENV = "LYRICSDASH_DIST_TIMEOUT_S"  # how long a rank waits for the others before giving up


class PeerLost(RuntimeError):
    """Another process of this job ended (or stopped answering); this one ends too."""

    interrupted = True  # the run folder lists the run as interrupted


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1


def from_env() -> World:
    """The process's place in a torchrun job (one process alone when the variables are absent)."""
    try:
        return World(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                     int(os.environ.get("LOCAL_RANK", 0)))
    except ValueError as e:
        raise ConfigError(f"RANK, WORLD_SIZE and LOCAL_RANK must be integers ({e}).") from None


def timeout_s() -> float:
    return float(os.environ.get(TIMEOUT_ENV, 120))


def setup(world: World, device: torch.device) -> torch.device:
    """Join the process group; on CUDA each local rank takes its own GPU. -> the device to train on."""
    if device.type == "cuda":
        torch.cuda.set_device(world.local_rank)
        device = torch.device("cuda", world.local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=world.rank,
                                world_size=world.size, timeout=timedelta(seconds=timeout_s()))
    return device


def teardown() -> None:
    """Leave the process group together (a rank that tears down alone can abort a peer still using it)."""
    if dist.is_initialized():
        try:
            dist.barrier()
        except (RuntimeError, dist.DistError):
            pass  # a peer is already gone: nothing to wait for
        dist.destroy_process_group()


def shard(idx: np.ndarray, world: World) -> np.ndarray:
    """This rank's part of a global batch (contiguous, sizes differ by at most one)."""
    return np.array_split(idx, world.size)[world.rank]


def _collective(fn, *args):
    try:
        return fn(*args)
    except (RuntimeError, dist.DistError) as e:  # gloo/NCCL raise when a peer's connection closes or times out
        raise lost(e) from None


def lost(error: BaseException) -> PeerLost:
    detail = " ".join(str(error).split())[:200]
    return PeerLost(f"Another process of this torchrun job ended or stopped answering ({detail}); this one "
                    "stops too.")


def sum_all(values: list[float], device: torch.device) -> list[float]:
    """Element-wise sum over all ranks."""
    t = torch.tensor(values, dtype=torch.float64, device=device)
    _collective(dist.all_reduce, t)
    return t.tolist()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when it is true on any (a stop asked for anywhere stops all, at the same step)."""
    t = torch.tensor([int(flag)], device=device)
    _collective(dist.all_reduce, t, dist.ReduceOp.MAX)
    return bool(t.item())


def check_same(text: str, what: str, device: torch.device) -> None:
    """All ranks built the same ``what`` (compared by hash)."""
    digest = int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)
    t = torch.tensor([digest, -digest], dtype=torch.float64, device=device)
    _collective(dist.all_reduce, t, dist.ReduceOp.MAX)
    if int(t[0].item()) != digest or int(-t[1].item()) != digest:
        raise ConfigError(f"The ranks built different {what}: give every rank the same data files and settings.")
