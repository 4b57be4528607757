"""Choosing the songs to train on: explicit files, uploaded bytes, the assignment files, or the demo corpus.

The one place where the CLI and the dashboard turn "which data" into a ``Corpus`` and a description.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .data import Corpus, assignment_files, make_corpus, read_songs
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
    artists: tuple[str, ...] = ()  # keep only these artists (empty: all) ...
    top_k: int = 0  # ... or the top_k artists with most songs (0: all)

    @classmethod
    def assignment(cls) -> DataSource | None:
        found = assignment_files()
        return cls("assignment", str(found[0]), str(found[1])) if found else None

    def to_record(self) -> dict | None:
        """What a run folder keeps to load these songs again (a resume); None for an upload, whose bytes are
        not kept."""
        if self.kind == "upload":
            return None
        return {"kind": self.kind, "train": self.train, "test": self.test, "artists": list(self.artists),
                "top_k": self.top_k}

    @classmethod
    def from_record(cls, record: dict) -> DataSource:
        artists = tuple(record.get("artists") or ())
        return cls(record["kind"], record.get("train"), record.get("test"), artists=artists,
                   top_k=int(record.get("top_k") or 0))

    def describe(self) -> str:
        if self.kind == "demo":
            return DEMO_LABEL
        if self.kind == "assignment":
            return "assignment files"
        chosen = (f", {len(self.artists)} chosen artists" if self.artists else
                  f", the {self.top_k} artists with most songs" if self.top_k else "")
        if self.kind == "upload":
            return f"upload: {self.train}" + (f" + {self.test}" if self.test else "") + chosen
        return f"{self.train} | {self.test or 'split from train'}" + chosen

    def artist_counts(self) -> dict[str, int]:
        """Songs per artist in the training file, most first (ties alphabetical): what an artist choice offers."""
        if self.kind == "demo":
            counts = demo_corpus().train["artist"].value_counts()
        else:
            source = NamedBytes(self.train_bytes, self.train) if self.kind == "upload" else self.train
            counts = read_songs(source)[0]["artist"].value_counts()
        return dict(sorted(((str(a), int(n)) for a, n in counts.items()), key=lambda kv: (-kv[1], kv[0])))

    def load(self, val_fraction: float, seed: int, artists: list[str] | None = None,
             top_k: int | None = None) -> Corpus:
        """The corpus; ``artists``/``top_k`` (the CLI's) else this source's own choice restrict the artists."""
        artists, top_k = artists or list(self.artists) or None, top_k or self.top_k or None
        if self.kind == "demo":
            return demo_corpus(val_fraction, seed)
        if self.kind == "upload":
            train = NamedBytes(self.train_bytes, self.train)
            test = NamedBytes(self.test_bytes, self.test) if self.test_bytes is not None else None
            return make_corpus(train, test, val_fraction=val_fraction, seed=seed, artists=artists, top_k=top_k,
                               name=self.train)
        return make_corpus(self.train, self.test, val_fraction=val_fraction, seed=seed, artists=artists,
                           top_k=top_k)
