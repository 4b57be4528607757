"""Run by tests/test_distributed.py, alone or under torch.distributed.run: train on the demo corpus and save
this rank's final weights and (rank 0) the per-step training losses to the folder given as argv[1]."""

import json
import os
import sys

import torch

from lyricsdash.config import TrainConfig, parse_overrides
from lyricsdash.demo import demo_corpus
from lyricsdash.engine import train
from lyricsdash.records import Callback


class Losses(Callback):
    def __init__(self):
        self.losses = []

    def on_step(self, record):
        self.losses.append(record["train_loss"])


if __name__ == "__main__":
    out, rank = sys.argv[1], int(os.environ.get("RANK", 0))
    cfg = TrainConfig.from_dict(parse_overrides(sys.argv[2:]))
    losses = Losses()
    result = train(demo_corpus(), cfg, [losses])
    torch.save(result.model.state_dict(), os.path.join(out, f"rank{rank}.pt"))
    if rank == 0:
        with open(os.path.join(out, "losses.json"), "w") as f:
            json.dump(losses.losses, f)
