"""TrainConfig: the single source of hyperparameters.

Every field carries its range, help text, label, group and slider steps in ``metadata`` so that the CLI
(``--set key=value``) and the dashboard's widgets are both drawn from here: adding a setting is one line.
Unknown keys and out-of-range values are errors (``ConfigError``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .text import LEGACY_KIND, LEGACY_REPEATS, REPEATS, TOKEN_KINDS


class ConfigError(ValueError):
    """A hyperparameter key or value that cannot be used."""


AUTO_TEACHER_MIN_ARTISTS = 10  # teacher=auto distils from this many artists on: with few, a window's soft target
# says little its label does not (3 artists: -2.5 to -5.1 points; 20: +3.8; bench/results.md section ideas14)
# what runs saved before a setting existed did: plain words, every line, and (distillation being off by
# default then) no teacher, or one of their tokens; each window read alone
LEGACY = {"tokens": LEGACY_KIND, "repeats": LEGACY_REPEATS, "distill": 0.0, "teacher": "tokens", "context": "off"}
GROUPS = ("Essentials", "Model", "Varied length", "Tokens and vocabulary", "Optimiser", "Evaluation and runtime")
POW2 = [2**i for i in range(0, 11)]
POW2_8_512 = [v for v in POW2 if 8 <= v <= 512]


def _f(default, help: str, *, lo=None, hi=None, choices=None, log=False, label: str, group: str, steps=None):
    """A dataclass field with everything a UI needs as metadata: range, help, its label, its group on the Train
    page (one of GROUPS) and, for a slider, the values people pick (``steps``) instead of every integer."""
    meta = {"help": help, "min": lo, "max": hi, "choices": choices, "log": log, "label": label, "group": group,
            "steps": steps}
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    # --- model -------------------------------------------------------------
    embed_dim: int = _f(64, "Size of each word's embedding vector.", lo=8, hi=512,
                        label="Embedding size", group="Essentials", steps=POW2_8_512)
    hidden_size: int = _f(64, "LSTM hidden units per direction.", lo=8, hi=512,
                          label="Hidden units per direction", group="Essentials", steps=POW2_8_512)
    num_layers: int = _f(1, "Stacked LSTM layers.", lo=1, hi=4, label="LSTM layers", group="Model")
    bidirectional: bool = _f(True, "Read each song forwards and backwards.", label="Bidirectional", group="Model")
    nb_init: float = _f(1.0, "Start the first C embedding dimensions (C = artists) as each word's class-centred "
                        "naive-Bayes log-probability per artist from the training songs, times this scale "
                        "(0 = off: random embeddings). With more artists than embed_dim, the table's best "
                        "rank-embed_dim approximation fills the embedding.", lo=0.0, hi=10.0,
                        label="Word-table init scale", group="Model")
    nb_channel: str = _f("off", "Keep the naive-Bayes table as a frozen signal training cannot wash out: 'input' "
                         "feeds it to the LSTM beside the trainable embedding (C extra inputs); 'logits' adds the "
                         "mean NB score of the real words to the logits, with a learned scale.",
                         choices=("off", "input", "logits"), label="Frozen naive-Bayes channel", group="Model")
    init_table: str = _f("nb", "Where the word-by-artist table of nb_init comes from: 'nb', naive Bayes over "
                         "per-song word presence, or 'lr', a logistic regression over the same (discriminative: "
                         "each word's weight accounts for the others).", choices=("nb", "lr"),
                         label="Word table (nb / lr)", group="Model")
    dropout: float = _f(0.5, "Dropout on embeddings, between LSTM layers and before the classifier.", lo=0.0, hi=0.9,
                        label="Dropout", group="Model")
    pooling: str = _f("mean", "How the LSTM outputs become one song vector: hidden state at the last real "
                      "token, mean or max over real tokens (pads never count).",
                      choices=("last", "mean", "max"), label="Pooling", group="Model")
    # --- varied length -----------------------------------------------------
    length_strategy: str = _f("windows", "'whole': one sequence per song (first max_len words); 'windows': "
                              "train on fixed windows, predict a song by averaging its windows' log-probabilities.",
                              choices=("whole", "windows"), label="Length handling", group="Varied length")
    max_len: int = _f(1000, "Words read per song at most (longer songs are truncated).", lo=16, hi=20000,
                      label="Words read per song", group="Varied length",
                      steps=[16, 32, 64, 128, 256, 500, 1000, 2000, 5000, 10000, 20000])
    window: int = _f(64, "Window length in words (windows strategy).", lo=8, hi=2000,
                     label="Window (words)", group="Varied length",
                     steps=[8, 16, 32, 48, 64, 96, 128, 256, 512, 1024, 2000])
    stride: int = _f(16, "Step between window starts in words (windows strategy): each word is read in about "
                     "window/stride windows.", lo=1, hi=2000,
                     label="Window stride (words)", group="Varied length",
                     steps=[1, 2, 4, 8, 16, 24, 32, 48, 64, 128, 256, 512, 1024, 2000])
    context: str = _f("bag+chars", "'bag': each window also reads its whole song as a bag of its distinct words "
                      "(the mean of their embeddings, through a linear layer added to the window's logits), so "
                      "that words outside the window count too; 'bag+chars': that, and the mean of the song's "
                      "character 2-5-grams (hashed into char_buckets), which carry spelling, affixes and rare "
                      "words; 'off': each window alone.", choices=("off", "bag", "bag+chars"),
                      label="Song context", group="Varied length")
    context_dropout: float = _f(0.2, "Share of a training song's distinct words left out of its bag at each step "
                                "(regulariser: every window of a training song sees the same bag).", lo=0.0, hi=0.9,
                                label="Song-context word dropout", group="Varied length")
    bag_dropout: float = _f(0.1, "Dropout on the song bag's mean vectors (its words, its character n-grams) before "
                            "their linear layers. Lighter than 'dropout': a bag sums up a whole song, and halving it "
                            "at random cost the 5-fold CV and kaggle_dev20 points (bench/results.md, section "
                            "bag-dropout).", lo=0.0, hi=0.9, label="Song-context dropout", group="Varied length")
    char_buckets: int = _f(32768, "Hash buckets of the song context's character n-grams (context=bag+chars): "
                           "fewer share more n-grams per bucket; more cost memory and time.", lo=1024, hi=1 << 20,
                           label="Character n-gram buckets", group="Varied length",
                           steps=[1 << i for i in range(10, 21)])
    # --- vocabulary --------------------------------------------------------
    tokens: str = _f("cased+punct", "What the model reads: 'words' (lower-case words, punctuation dropped), "
                     "'words+punct' (lower-case words and each punctuation mark) or 'cased+punct' (words as "
                     "written and each punctuation mark). Style lives in punctuation and case too.",
                     choices=TOKEN_KINDS, label="Tokens", group="Tokens and vocabulary")
    repeats: str = _f("once", "Repeated lines: 'once' reads a line whose words the song already sang (a chorus "
                      "sung four times) only once, 'all' reads every line. Lyrics repeat whole lines, and counting "
                      "each repeat lets the chorus outweigh the verses.", choices=REPEATS,
                      label="Repeated lines", group="Tokens and vocabulary")
    min_freq: int = _f(2, "Words seen fewer times in the training songs map to <unk>.", lo=1, hi=100,
                       label="Min. word count", group="Tokens and vocabulary", steps=[1, 2, 3, 5, 10, 20, 50, 100])
    max_vocab: int = _f(30000, "Largest vocabulary size, most frequent words first.", lo=100, hi=500000,
                        label="Max. vocabulary size", group="Tokens and vocabulary")
    plain_share: float = _f(0.5, "Share of training batches read as plain text (lower-cased, punctuation "
                            "dropped), as many lyrics sites write them, so that a model of cased tokens and "
                            "punctuation still reads such pastes (no effect with tokens=words).", lo=0.0, hi=1.0,
                            label="Plain-text share of batches", group="Tokens and vocabulary")
    word_dropout: float = _f(0.1, "Share of training words replaced by <unk> each step (regulariser).", lo=0.0, hi=0.5,
                             label="Word dropout", group="Tokens and vocabulary")
    # --- optimisation ------------------------------------------------------
    optimizer: str = _f("adamw", "Optimiser.", choices=("adam", "adamw"), label="Optimiser", group="Optimiser")
    lr: float = _f(3e-3, "Peak learning rate.", lo=1e-5, hi=1e-1, log=True, label="Learning rate", group="Essentials")
    weight_decay: float = _f(1e-2, "Weight decay (decoupled for AdamW).", lo=0.0, hi=1.0,
                             label="Weight decay", group="Optimiser")
    schedule: str = _f("cosine", "Learning-rate schedule over all steps.", choices=("constant", "cosine"),
                       label="Learning-rate schedule", group="Optimiser")
    batch_size: int = _f(32, "Training sequences per batch (one global step).", lo=1, hi=1024,
                         label="Batch size", group="Essentials", steps=POW2)
    epochs: int = _f(6, "Passes over the training songs.", lo=1, hi=500,
                     label="Epochs", group="Essentials",
                     steps=[1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 500])
    distill: float = _f(0.5, "Weight of the teacher's soft targets in the training loss (0 = no teacher; see "
                        "teacher).", lo=0.0, hi=1.0, label="Distillation weight", group="Optimiser")
    teacher: str = _f("auto", "Distillation teacher, fitted out of fold on the training songs (lyricsdash/teacher.py): "
                      "TF-IDF + logistic regression over 'chars' (character 2-5-grams of the words) or 'tokens' "
                      "(the run's own tokens), its probabilities of each training window. 'auto': chars with "
                      f"{AUTO_TEACHER_MIN_ARTISTS} or more artists, else none (with 3 artists the targets carry "
                      "little beyond the label: they cost the assignment split points; with 20 they gained).",
                      choices=("auto", "chars", "tokens"), label="Distillation teacher", group="Optimiser")
    label_smoothing: float = _f(0.0, "Label smoothing of the training loss (0 = off).", lo=0.0, hi=0.5,
                                label="Label smoothing", group="Optimiser")
    grad_clip: float = _f(1.0, "Clip the gradient norm to this (0 = off).", lo=0.0, hi=100.0,
                          label="Gradient clip", group="Optimiser")
    patience: int = _f(0, "Stop after this many epochs without a better validation score (0 = never).", lo=0, hi=100,
                       label="Early-stop patience (epochs)", group="Evaluation and runtime")
    # --- evaluation and splits ---------------------------------------------
    eval_every: int = _f(0, "Evaluate on validation and test every N global steps, and at every epoch's end. "
                         "0 = auto: a value at every step. Every song is scored at the first step and each "
                         "epoch's end; in between, each step rescores the next "
                         "batch of evaluation windows, so a value mixes the weights of the last few dozen steps "
                         "(eval_lag in metrics.csv says how many) for about a fifth of a step's time.",
                         lo=0, hi=100000, label="Evaluate every N steps (0 = auto)", group="Evaluation and runtime")
    keep: str = _f("final", "Which weights the run keeps: 'final', after the whole fixed schedule, or 'best_val', "
                   "the evaluation with the best validation score (select_by). The test set never chooses.",
                   choices=("final", "best_val"), label="Weights kept", group="Evaluation and runtime")
    select_by: str = _f("val_acc", "With keep=best_val: which validation score picks the checkpoint: accuracy "
                         "(ties broken by cross-entropy) or cross-entropy alone.", choices=("val_acc", "val_loss"),
                        label="Best-validation score", group="Evaluation and runtime")
    val_fraction: float = _f(0.1, "Share of training songs held out (per artist) for the validation curve, "
                             "early stopping and keep=best_val.",
                             lo=0.02, hi=0.5, label="Validation share", group="Evaluation and runtime")
    baselines: bool = _f(True, "Fit the majority class and TF-IDF + logistic regression (words; characters 2-5) "
                         "on the same training songs at the start and score them on the same test set: the "
                         "bar the LSTM has to clear (seconds; large sets are subsampled).",
                         label="Fit baselines", group="Evaluation and runtime")
    # --- runtime -----------------------------------------------------------
    seed: int = _f(0, "Random seed for splits, initialisation and batch order.", lo=0, hi=2**31 - 1,
                   label="Seed", group="Essentials")
    threads: int = _f(0, "CPU threads for torch (0 = auto: all cores but one, at least 1; an LSTM's small parallel "
                      "steps stall when a thread shares its core with a browser or other work).", lo=0, hi=256,
                      label="CPU threads (0 = auto)", group="Evaluation and runtime")
    device: str = _f("auto", "Where to train: 'auto' takes CUDA when present.", choices=("auto", "cpu", "cuda"),
                     label="Device", group="Evaluation and runtime")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            setattr(self, f.name, _check(f, getattr(self, f.name)))

    # ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        unknown = sorted(set(d) - set(field_names()))
        if unknown:
            raise ConfigError(f"Unknown setting(s): {', '.join(unknown)}. Known settings: {', '.join(field_names())}.")
        return cls(**d)

    @property
    def char_buckets_read(self) -> int:
        """The character n-gram buckets the model's song context reads: char_buckets with context=bag+chars,
        else 0 (none)."""
        return self.char_buckets if self.context == "bag+chars" else 0

    @property
    def eval_batch_tokens(self) -> int:
        """Padded tokens per evaluation batch: a training step's worth, so that rescoring one batch (a rolling
        evaluation, ``evaluate.Rolling``) costs a fraction of a step."""
        return self.batch_size * (self.window if self.length_strategy == "windows" else self.max_len)

    @classmethod
    def from_saved(cls, values: dict[str, Any]) -> TrainConfig:
        """A run's config.json: its fields, plus the number of processes that trained (world_size). A setting
        the run was saved without reads as the behaviour it had before the setting existed."""
        values = {**LEGACY, **values}
        values.setdefault("bag_dropout", values.get("dropout", cls.dropout))  # the bag shared the dropout
        values.pop("world_size", None)
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> TrainConfig:
        return TrainConfig.from_dict({**self.to_dict(), **changes})

    def teacher_for(self, n_classes: int) -> str | None:
        """The teacher a run on ``n_classes`` artists distils from ('chars', 'tokens'), or None."""
        if self.distill == 0:
            return None
        if self.teacher == "auto":
            return "chars" if n_classes >= AUTO_TEACHER_MIN_ARTISTS else None
        return self.teacher


def field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(TrainConfig)]


def groups() -> dict[str, list[str]]:
    """{group: its fields' names, in declaration order}, groups in GROUPS' order."""
    out = {g: [] for g in GROUPS}
    for f in dataclasses.fields(TrainConfig):
        out[f.metadata["group"]].append(f.name)
    return out


def field_spec(name: str) -> dict[str, Any]:
    """Type, default, range, choices and help of one field (for UIs)."""
    f = {f.name: f for f in dataclasses.fields(TrainConfig)}[name]
    return {"name": name, "type": _type_of(f), "default": f.default, **f.metadata}


def _type_of(f) -> type:
    name = f.type if isinstance(f.type, str) else f.type.__name__
    return {"int": int, "float": float, "bool": bool, "str": str}[name]


def _check(f, value):
    """Coerce ``value`` to the field's type and check its range."""
    kind, meta = _type_of(f), f.metadata
    value = _coerce(f.name, kind, value)
    if meta["choices"] and value not in meta["choices"]:
        raise ConfigError(f"{f.name}={value!r} is not one of: {', '.join(meta['choices'])}.")
    if kind in (int, float):
        if kind is float and not math.isfinite(value):
            raise ConfigError(f"{f.name} must be a finite number, got {value!r}.")
        if (meta["min"] is not None and value < meta["min"]) or (meta["max"] is not None and value > meta["max"]):
            raise ConfigError(f"{f.name}={value!r} is out of range [{meta['min']}, {meta['max']}].")
    return value


def _coerce(name: str, kind: type, value):
    if isinstance(value, str):
        return parse_value(name, kind, value)
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(f"{name} must be of type {kind.__name__}, got {value!r}.")


def parse_value(name: str, kind: type, text: str):
    """Parse the text of a ``key=value`` setting into the field's type."""
    text = text.strip()
    try:
        if kind is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind is int:
            return int(float(text)) if float(text).is_integer() else int(text)
        return kind(text)
    except (ValueError, OverflowError):
        raise ConfigError(f"{name} must be of type {kind.__name__}, got {text!r}.") from None


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    """``["lr=0.01", "pooling=mean"]`` -> ``{"lr": "0.01", "pooling": "mean"}`` (checked by TrainConfig)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"Setting {pair!r} is not of the form key=value.")
        out[key.strip()] = value
    return out
