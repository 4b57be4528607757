"""Turning songs into padded batches.

Two ways to deal with varied length (``TrainConfig.length_strategy``):

* ``whole``: one sequence per song, its first ``max_len`` words.
* ``windows``: each song's first ``max_len`` words are cut into windows of
  ``window`` words every ``stride`` words; a song is predicted by averaging
  its windows' log-probabilities.

Either way batches are length-bucketed (similar lengths together) so that
little padding is computed, and the model packs what padding remains.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch

from .text import PAD_ID, UNK, UNK_ID, Vocab, char_grams


@dataclass
class Samples:
    """Encoded sequences of a set of songs."""

    seqs: list[torch.Tensor]  # each (L_i,) int64, L_i >= 1
    song: np.ndarray  # (N,) index of the song each sequence comes from
    labels: np.ndarray  # (num_songs,) class id per song, -1 when unknown
    n_songs: int
    bags: list[torch.Tensor]  # (num_songs,) each song's bag, sorted (the model's song context; see song_bag)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(s) for s in self.seqs), dtype=np.int64, count=len(self.seqs))

    @property
    def n_tokens(self) -> int:
        return int(self.lengths.sum())


def window_starts(n: int, strategy: str, window: int, stride: int) -> list[int]:
    """Where a song of ``n`` words (already cut to max_len, n >= 1) is cut into its sequences."""
    if strategy == "whole" or n <= window:
        return [0]
    starts = list(range(0, n - window + 1, stride))
    if starts[-1] + window < n:
        starts.append(n - window)  # cover the tail too
    return starts


def split_ids(ids: list, strategy: str, max_len: int, window: int, stride: int) -> list[list]:
    """One song's ids (or tokens) -> its sequences (never empty: a wordless song becomes one <unk>)."""
    ids = ids[:max_len] or [UNK_ID]
    if strategy == "whole":
        return [ids]
    return [ids[s:s + window] for s in window_starts(len(ids), strategy, window, stride)]


def split_tokens(tokens: list[str], cfg) -> list[list[str]]:
    """One song's tokens -> the sequences ``encode`` cuts from it, as words (what a distillation teacher reads)."""
    return split_ids(list(tokens) or [UNK], cfg.length_strategy, cfg.max_len, cfg.window, cfg.stride)


def encode(token_lists: list[list[str]], labels, vocab: Vocab, cfg) -> Samples:
    """Tokenized songs (and class ids or None) -> Samples under the config's length strategy."""
    seqs, song, bags = [], [], []
    for i, tokens in enumerate(token_lists):
        parts = split_ids(vocab.encode(tokens), cfg.length_strategy, cfg.max_len, cfg.window, cfg.stride)
        seqs += [torch.tensor(part, dtype=torch.long) for part in parts]
        song += [i] * len(parts)
        grams = song_grams(tokens[:cfg.max_len], len(vocab), cfg.char_buckets_read)
        bags.append(song_bag(torch.cat(seqs[-len(parts):]), grams))
    n = len(token_lists)
    lab = np.asarray(labels if labels is not None else [-1] * n, dtype=np.int64)
    return Samples(seqs, np.asarray(song, dtype=np.int64), lab, n, bags)


def song_bag(ids, grams=()) -> torch.Tensor:
    """The ids a song's sequences read (and its ``song_grams``) -> its bag: the distinct ids, sorted (what song
    context reads). Word ids come first, then n-gram ids, which start after the vocabulary's."""
    return torch.unique(torch.cat([torch.as_tensor(ids, dtype=torch.long), torch.as_tensor(grams, dtype=torch.long)]))


def song_grams(tokens: list[str], vocab_size: int, buckets: int) -> list[int]:
    """A song's tokens read -> the bag ids of their character n-grams (``text.char_grams`` + vocab_size); none
    with 0 buckets (a model without them)."""
    return [vocab_size + g for g in char_grams(tokens, buckets)] if buckets else []


def bags_of(samples: Samples, idx) -> list[torch.Tensor]:
    """The song bag of each sequence in ``idx`` (what a model with song context reads beside it)."""
    return [samples.bags[s] for s in samples.song[np.asarray(idx)]]


def drop_from_bags(bags: list[torch.Tensor], share: float) -> list[torch.Tensor]:
    """Each bag with a random ``share`` of its words left out (at least one word stays)."""
    if share <= 0:
        return bags
    out = []
    for bag in bags:
        kept = bag[torch.rand(len(bag)) >= share]
        out.append(kept if len(kept) else bag[torch.randint(len(bag), (1,))])
    return out


def collate(seqs: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences -> tokens (B, T) right-padded with 0, lengths (B,)."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    tokens = torch.full((len(seqs), int(lengths.max())), PAD_ID, dtype=torch.long)
    for row, s in enumerate(seqs):
        tokens[row, : len(s)] = s
    return tokens, lengths


def bucket_batches(lengths: np.ndarray, batch_size: int, rng: random.Random, pool: int = 50) -> list[np.ndarray]:
    """Shuffled batches of indices with similar lengths.

    Indices are shuffled, cut into pools of ``pool`` batches, sorted by length
    inside each pool, batched, and the batch order shuffled again.
    """
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches = []
    for p in range(0, len(order), batch_size * pool):
        chunk = sorted(order[p:p + batch_size * pool], key=lambda i: lengths[i])
        batches += [np.asarray(chunk[b:b + batch_size]) for b in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def sorted_batches(lengths: np.ndarray, max_tokens: int = 32768) -> list[np.ndarray]:
    """Evaluation batches: sorted by length, each holding about ``max_tokens`` padded tokens."""
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    while start < len(order):
        longest = int(lengths[order[min(len(order) - 1, start)]])
        size = max(1, max_tokens // max(1, longest))
        # lengths grow within the batch: shrink it until the longest member fits
        while size > 1 and int(lengths[order[min(len(order), start + size) - 1]]) * size > max_tokens:
            size //= 2
        batches.append(order[start:start + size])
        start += size
    return batches
