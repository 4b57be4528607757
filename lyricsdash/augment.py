"""Training batches read as plain text: what a model of cased words and punctuation meets in lyrics pasted
from sites that write them lower-case and without punctuation.

``PlainView`` maps a batch of token ids to the ids the same text gets once it is lower-cased and its
punctuation removed: each word goes to its case-folded form's id (``<unk>`` where the training songs never
had that form, exactly as for a pasted plain text) and each punctuation mark is dropped. The engine reads
a share of its training batches this way (``TrainConfig.plain_share``). Whole batches, not rows: a plain
sequence is shorter than its window, and only the batches that hold one pay for padding.
"""

from __future__ import annotations

import torch

from .text import PAD_ID, UNK_ID, Vocab, is_mark


class PlainView:
    def __init__(self, vocab: Vocab, kind: str):
        fold = str.casefold if kind == "cased+punct" else (lambda w: w)
        plain = [vocab.stoi.get(fold(w), UNK_ID) for w in vocab.itos]
        plain[PAD_ID] = PAD_ID
        self.plain = torch.tensor(plain, dtype=torch.long)  # (V,) id -> its plain form's id
        self.mark = torch.tensor([i > UNK_ID and is_mark(w) for i, w in enumerate(vocab.itos)])  # (V,) bool

    def __call__(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (B, T) right-padded, lengths (B,) -> the plain batch (B, T') right-padded, its lengths (B,).

        A sequence of punctuation alone becomes one ``<unk>`` (every sequence keeps a real position).
        """
        dev = tokens.device
        b, t = tokens.shape
        real = torch.arange(t, device=dev)[None, :] < lengths.to(dev)[:, None]  # (B, T)
        keep = real & ~self.mark.to(dev)[tokens]  # (B, T)
        ids = self.plain.to(dev)[tokens]  # (B, T)
        empty = ~keep.any(1)
        keep[empty, 0], ids[empty, 0] = True, UNK_ID
        new_len = keep.sum(1)  # (B,)
        pos = keep.long().cumsum(1) - 1  # (B, T) where each kept token lands
        rows = torch.arange(b, device=dev)[:, None].expand(b, t)
        out = torch.full((b, int(new_len.max())), PAD_ID, dtype=tokens.dtype, device=dev)
        out[rows[keep], pos[keep]] = ids[keep]
        return out, new_len.to(lengths.device)

    def bags(self, bags: list[torch.Tensor]) -> list[torch.Tensor]:
        """Songs' bags (``batches.song_bag``) -> the bags of their plain texts, each sorted (a bag whose words are
        all punctuation: ``<unk>`` for them). N-gram ids stay: ``text.char_grams`` folds case and reads no marks.
        One pass over all bags: it runs in half of the training steps."""
        dev = bags[0].device
        flat = torch.cat(bags)  # (N,)
        song = torch.repeat_interleave(torch.arange(len(bags), device=dev),
                                       torch.tensor([len(b) for b in bags], device=dev))  # (N,)
        v = len(self.plain)
        word, w = flat < v, flat.clamp(max=v - 1)  # (N,) each; ids from v on are n-grams
        keep = ~(word & self.mark.to(dev)[w])
        ids, song = torch.where(word, self.plain.to(dev)[w], flat)[keep], song[keep]
        has_word = torch.zeros(len(bags), dtype=torch.bool, device=dev)
        has_word[song[ids < v]] = True
        lone = torch.nonzero(~has_word).flatten()
        song, ids = torch.cat([song, lone]), torch.cat([ids, torch.full_like(lone, UNK_ID)])
        n = max(v, int(flat.max()) + 1)
        key = torch.unique(song * n + ids)  # sorted by song, then by plain id
        return list(torch.split(key % n, torch.bincount(key // n, minlength=len(bags)).tolist()))
