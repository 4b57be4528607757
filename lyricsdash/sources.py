"""Choosing the songs to train on: explicit files, uploaded bytes, the assignment files, or the demo corpus.

The one place where the CLI and the dashboard turn "which data" into a ``Corpus`` and a description.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .data import Corpus, assignment_files, make_corpus
from .demo import DEMO_LABEL, demo_corpus


class NamedBytes(bytes):
    """Uploaded bytes that remember their file name (for error messages)."""

    def __new__(cls, data: bytes, name: str):
        obj = super().__new__(cls, data)
        obj.name = name
        return obj


@dataclass(frozen=True)
class DataSource:
    """Which songs: ``kind`` is 'files' (paths), 'upload' (bytes), 'assignment' (found files) or 'demo'."""

    kind: str
    train: str | None = None  # a path, or an uploaded file's name
    test: str | None = None
    train_bytes: bytes | None = field(default=None, repr=False)
    test_bytes: bytes | None = field(default=None, repr=False)

    @classmethod
    def assignment(cls) -> DataSource | None:
        found = assignment_files()
        return cls("assignment", str(found[0]), str(found[1])) if found else None

    def describe(self) -> str:
        if self.kind == "demo":
            return DEMO_LABEL
        if self.kind == "assignment":
            return "assignment files"
        if self.kind == "upload":
            return f"upload: {self.train}" + (f" + {self.test}" if self.test else "")
        return f"{self.train} | {self.test or 'split from train'}"

    def load(self, val_fraction: float, seed: int, artists: list[str] | None = None,
             top_k: int | None = None) -> Corpus:
        if self.kind == "demo":
            return demo_corpus(val_fraction, seed)
        if self.kind == "upload":
            train = NamedBytes(self.train_bytes, self.train)
            test = NamedBytes(self.test_bytes, self.test) if self.test_bytes is not None else None
            return make_corpus(train, test, val_fraction=val_fraction, seed=seed, artists=artists, top_k=top_k,
                               name=self.train)
        return make_corpus(self.train, self.test, val_fraction=val_fraction, seed=seed, artists=artists,
                           top_k=top_k)
