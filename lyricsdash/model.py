"""The classifier: Embedding -> stacked LSTM over real positions only -> pooling -> Linear.

No pad ever reaches the answer. Each LSTM layer reads only real positions:

* a batch without padding (the usual case with windows) runs as a plain tensor;
* on CUDA, a padded batch is packed (``pack_padded_sequence`` with the true lengths; cuDNN is fast at it);
* on CPU, where the PackedSequence path is about 15x slower than the fused kernel, a padded batch runs
  twice through the fused kernel: right-aligned for the forward direction (pads come after every real
  word, so they cannot reach it) and left-aligned for the backward direction (pads come after it too).
  This computes exactly what packing computes (tests/test_model.py checks it against packing).

Pooling (last real hidden state, mean or max over real tokens) also looks only at real positions, so a
song's logits are the same alone, in a batch with a much longer song, or with extra pad columns.

Song context (``context``, on by default). A window is short (64 words), and a linear model over whole songs
beats the same model read through windows by several points (``bench/results.md``, section teacher-windows):
a song's vocabulary says more about its artist than any stretch of it. So each window may also read its
whole song as a bag: the mean embedding of the song's distinct words (``batches.Samples.bags``), through a
linear layer added to the window's logits. The bag shares the embedding, so the naive-Bayes start and every
update serve both readings; the words' order still reaches the answer through the LSTM alone. The bag term is
the same for all windows of a song, so a song's score still is the mean of its windows' scores, and its
explanation is exact (linear in the bag: ``lyricsdash.explain``).

With ``char_buckets`` (context=bag+chars) the bag also holds the song's character 2-5-grams, hashed
(``text.char_grams``; their ids follow the vocabulary's), and their mean embedding in a table of their own goes
through a second linear layer. That is what the character TF-IDF baseline reads, and what a word id cannot
carry: spelling ("lovin'", "gonna"), affixes, and the words too rare for the vocabulary, which are ``<unk>`` to
the LSTM. On kaggle_dev20 it gained 2.9 points over the words' bag alone (56.3 against 53.4 %, 3 seeds;
bench/results.md, section chars-dev20). The table starts at zero, so the n-grams add nothing until training
finds a use for them.

The bag's mean vectors have a dropout of their own (``bag_dropout``), lighter than the LSTM's: a bag sums up a
whole song, and the LSTM's 0.5 on it cost points in 5-fold CV and on kaggle_dev20 once it held n-grams
(bench/results.md, section bag-dropout).

``temperature`` (a buffer, 1 until ``lyricsdash.calibrate`` fits it after training) divides song-level scores;
it never changes which artist wins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .text import PAD_ID

CHAR_DIM = 32  # the character n-grams' embedding width (a linear bag: more buys little, and costs each step)


@dataclass
class ModelSpec:
    """Everything needed to rebuild the module from a state_dict."""

    vocab_size: int
    num_classes: int
    embed_dim: int
    hidden_size: int
    num_layers: int
    bidirectional: bool
    dropout: float
    pooling: str
    nb_channel: int = 0  # width of a frozen NB channel beside the embedding (0 = none); older runs lack it
    nb_logits: bool = False  # add the mean frozen NB score of the real words to the logits (learned scale)
    context: bool = False  # each window also reads its song's bag of distinct words; older runs lack it
    char_buckets: int = 0  # the bag's hashed character n-grams (0 = none); older runs lack it
    char_dim: int = 0  # width of their embedding
    bag_dropout: float | None = None  # dropout on the bag's mean vectors; None (older runs): ``dropout``

    @classmethod
    def from_config(cls, cfg, vocab_size: int, num_classes: int) -> ModelSpec:
        """The model part of a ``TrainConfig`` (its defaults are the only defaults)."""
        return cls(vocab_size, num_classes, cfg.embed_dim, cfg.hidden_size, cfg.num_layers, cfg.bidirectional,
                   cfg.dropout, cfg.pooling, num_classes if cfg.nb_channel == "input" else 0,
                   cfg.nb_channel == "logits", cfg.context != "off",
                   cfg.char_buckets_read, CHAR_DIM if cfg.char_buckets_read else 0, cfg.bag_dropout)

    def to_dict(self) -> dict:
        return asdict(self)


class LyricsLSTM(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        if spec.pooling not in ("last", "mean", "max"):
            raise ValueError(f"unknown pooling {spec.pooling!r}")
        self.spec = spec
        self.dirs = 2 if spec.bidirectional else 1
        self.embedding = nn.Embedding(spec.vocab_size, spec.embed_dim, padding_idx=PAD_ID)
        # a frozen (V, C) naive-Bayes table; saved in the state_dict, never trained
        width = spec.nb_channel or (spec.num_classes if spec.nb_logits else 0)
        self.register_buffer("nb_table", torch.zeros(spec.vocab_size, width) if width else None)
        self.nb_scale = nn.Parameter(torch.ones(())) if spec.nb_logits else None
        sizes = [spec.embed_dim + spec.nb_channel] + [spec.hidden_size * self.dirs] * (spec.num_layers - 1)
        self.layers = nn.ModuleList(nn.LSTM(n, spec.hidden_size, batch_first=True,
                                            bidirectional=spec.bidirectional) for n in sizes)
        self.dropout = nn.Dropout(spec.dropout)
        self.bag_dropout = nn.Dropout(spec.dropout if spec.bag_dropout is None else spec.bag_dropout)
        self.head = nn.Linear(spec.hidden_size * self.dirs, spec.num_classes)
        self.context_head = nn.Linear(spec.embed_dim, spec.num_classes) if spec.context else None
        self.char_table = nn.Embedding(spec.char_buckets, spec.char_dim) if spec.char_buckets else None
        self.char_head = nn.Linear(spec.char_dim, spec.num_classes) if spec.char_buckets else None
        if self.char_table is not None:
            nn.init.zeros_(self.char_table.weight)  # silent at the start: the NB-started words lead
        self.use_packing: bool | None = None  # None: pack on CUDA only; tests force either path
        # song scores are divided by this before the softmax (lyricsdash.calibrate fits it on validation songs)
        self.register_buffer("temperature", torch.ones(()))

    @property
    def reads_spelling(self) -> bool:
        """Whether the song context reads character n-grams: unknown words still count through their spelling."""
        return self.char_table is not None

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor,
                bags: list[torch.Tensor] | None = None) -> torch.Tensor:
        """tokens (B, T) int64, right-padded with 0; lengths (B,) true lengths >= 1; ``bags``: B 1-D id tensors,
        the distinct words of each row's song (needed when ``spec.context``) -> logits (B, C)."""
        logits = self.from_inputs(self.inputs(tokens), lengths)
        if self.context_head is None:
            return logits
        if bags is None or len(bags) != tokens.shape[0]:
            raise ValueError("this model reads each window's song as a bag of words: pass one bag per row")
        return logits + self.context_logits(bags)

    def context_logits(self, bags: list[torch.Tensor]) -> torch.Tensor:
        """B 1-D id tensors (each a song's bag, ``batches.song_bag``: its distinct word ids, then its n-gram ids
        offset by the vocabulary size) -> the bag's logits (B, C). An empty part of a bag reads as zeros."""
        dev = self.embedding.weight.device
        flat = torch.cat(bags).to(dev)  # (N,)
        sizes = torch.tensor([len(b) for b in bags], device=dev)  # (B,)
        is_word = flat < self.spec.vocab_size  # (N,)
        song = torch.repeat_interleave(torch.arange(len(bags), device=dev), sizes)  # (N,) each id's bag
        n_words = torch.bincount(song[is_word], minlength=len(bags))  # (B,)
        logits = self.context_head(self.bag_dropout(_bag_mean(self.embedding.weight, flat[is_word], n_words)))  # (B, C)
        if self.char_table is None:
            return logits
        grams = flat[~is_word] - self.spec.vocab_size  # (N - words,)
        return logits + self.char_head(self.bag_dropout(_bag_mean(self.char_table.weight, grams, sizes - n_words)))

    def inputs(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) -> each word's input vector (B, T, D): its embedding, then its frozen NB row if any.

        A pad's vector is all zeros (the pad embedding and the pad NB row): explanations start from there.
        """
        x = self.embedding(tokens)  # (B, T, E)
        if self.nb_table is not None:
            x = torch.cat([x, self.nb_table[tokens]], dim=-1)  # (B, T, E + C)
        return x

    def from_inputs(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Word input vectors (B, T, D) from ``inputs``, lengths (B,) -> logits (B, C)."""
        lengths = lengths.to(x.device)
        e = self.spec.embed_dim
        h = self.dropout(x if self.spec.nb_channel else x[..., :e])  # (B, T, E [+ C]) what the LSTM reads
        for i, layer in enumerate(self.layers):
            if i > 0:
                h = self.dropout(h)  # between stacked layers
            h = self._layer(layer, h, lengths)  # (B, T, H * dirs), real positions exact
        mask = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]).unsqueeze(-1)
        logits = self.head(self.dropout(self._pool(h, mask, lengths)))  # (B, C)
        if self.spec.nb_logits:  # the NB score of the real words, averaged: naive Bayes up to scale
            nb = (x[..., e:] * mask).sum(1) / lengths[:, None].to(logits.dtype)  # (B, C)
            logits = logits + self.nb_scale * nb
        return logits

    def _layer(self, layer: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if int(lengths.min()) == x.shape[1]:  # no padding at all
            return layer(x)[0]
        if self.use_packing or (self.use_packing is None and x.is_cuda):
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            return pad_packed_sequence(layer(packed)[0], batch_first=True, total_length=x.shape[1])[0]
        out = layer(x)[0]  # right-aligned: the forward direction is exact at real positions
        if self.dirs == 1:
            return out
        shift = x.shape[1] - lengths  # (B,) pads per row
        backward = _roll(layer(_roll(x, shift))[0], -shift)  # left-aligned: the backward direction is exact
        h = self.spec.hidden_size
        return torch.cat([out[..., :h], backward[..., h:]], dim=-1)  # (B, T, 2H)

    def _pool(self, out: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.spec.pooling == "last":
            h = self.spec.hidden_size
            last = out[torch.arange(out.shape[0], device=out.device), lengths - 1]  # (B, H * dirs)
            # forward: the state after the real last word; backward: its state after reading back to word 0
            return last if self.dirs == 1 else torch.cat([last[:, :h], out[:, 0, h:]], dim=-1)
        if self.spec.pooling == "mean":
            return (out * mask).sum(1) / lengths[:, None].to(out.dtype)  # (B, H * dirs)
        return out.masked_fill(~mask, float("-inf")).max(1).values  # (B, H * dirs)


def _bag_mean(table: torch.Tensor, ids: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
    """Rows of ``table`` (V, D) at ``ids`` (N,), bag after bag of ``counts`` (B,) ids -> each bag's mean (B, D);
    an empty bag's is zero."""
    return F.embedding_bag(ids, table, counts.cumsum(0) - counts, mode="mean")


def _roll(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate each row of x (B, T, D) right by shift[b] positions along T."""
    t = torch.arange(x.shape[1], device=x.device)
    idx = (t[None, :] - shift[:, None]) % x.shape[1]  # (B, T)
    return x.gather(1, idx.unsqueeze(-1).expand(-1, -1, x.shape[2]))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def describe(model: LyricsLSTM) -> str:
    """One-line architecture, as the assignment's report asks."""
    s = model.spec
    lstm = f"{s.num_layers} x {'Bi' if s.bidirectional else ''}LSTM({s.hidden_size})"
    emb = f"Embedding({s.vocab_size}, {s.embed_dim})" + (f" + frozen NB({s.nb_channel})" if s.nb_channel else "")
    head = f"Linear({s.hidden_size * (2 if s.bidirectional else 1)}, {s.num_classes})"
    return (f"{emb} -> {lstm} over real positions only -> {s.pooling}-pool -> Dropout({s.dropout}) -> {head}"
            + (" + scale x mean frozen NB score" if s.nb_logits else "")
            + (f" + Linear({s.embed_dim}, {s.num_classes}) of the song's mean word embedding" if s.context else "")
            + (f" + Linear({s.char_dim}, {s.num_classes}) of its mean character n-gram embedding "
               f"({s.char_buckets} buckets)" if s.char_buckets else ""))
