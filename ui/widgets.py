"""Widgets drawn from TrainConfig: human labels, the values people pick, values kept across pages."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lyricsdash.config import TrainConfig, field_names, field_spec

LABELS = {
    "embed_dim": "Embedding size", "hidden_size": "Hidden units per direction", "num_layers": "LSTM layers",
    "bidirectional": "Bidirectional", "dropout": "Dropout", "pooling": "Pooling",
    "nb_init": "Word-table init scale", "nb_channel": "Frozen naive-Bayes channel",
    "init_table": "Word table (nb / lr)", "tokens": "Tokens", "plain_share": "Plain-text share of batches",
    "distill": "Distillation weight (TF-IDF teacher)",
    "length_strategy": "Length handling", "max_len": "Words read per song", "window": "Window (words)",
    "stride": "Window stride (words)", "min_freq": "Min. word count", "max_vocab": "Max. vocabulary size",
    "word_dropout": "Word dropout", "optimizer": "Optimiser", "lr": "Learning rate", "weight_decay": "Weight decay",
    "schedule": "Learning-rate schedule", "batch_size": "Batch size", "epochs": "Epochs",
    "grad_clip": "Gradient clip", "label_smoothing": "Label smoothing", "patience": "Early-stop patience (epochs)",
    "eval_every": "Evaluate every N steps (0 = auto)", "keep": "Weights kept", "select_by": "Best-validation score",
    "val_fraction": "Validation share", "baselines": "Fit baselines", "seed": "Seed",
    "threads": "CPU threads (0 = auto)", "device": "Device",
}
_POW2 = [2**i for i in range(0, 11)]
STEPS = {  # the values people pick, instead of every integer on a 200-pixel track
    "embed_dim": [v for v in _POW2 if 8 <= v <= 512], "hidden_size": [v for v in _POW2 if 8 <= v <= 512],
    "batch_size": _POW2,
    "epochs": [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 300, 500],
    "window": [8, 16, 32, 48, 64, 96, 128, 256, 512, 1024, 2000],
    "stride": [1, 2, 4, 8, 16, 24, 32, 48, 64, 128, 256, 512, 1024, 2000],
    "max_len": [16, 32, 64, 128, 256, 500, 1000, 2000, 5000, 10000, 20000],
    "min_freq": [1, 2, 3, 5, 10, 20, 50, 100],
}


def remember(key: str, default) -> dict:
    """Widget kwargs that keep its value across page switches.

    A keyed widget's value belongs to its widget id, which differs per page, so Streamlit would reset it on
    another page. The value lives in a plain session dict instead: written to the key before each draw,
    updated by ``on_change`` before the rerun that follows a change.
    """
    store = st.session_state.setdefault("saved_widgets", {})
    store.setdefault(key, default)
    st.session_state[key] = store[key]
    return {"key": key, "on_change": save, "args": (key,)}


def save(key: str) -> None:
    st.session_state["saved_widgets"][key] = st.session_state[key]


def saved(key: str, default=None):
    return st.session_state.get("saved_widgets", {}).get(key, default)


def config_from_state() -> TrainConfig:
    """The config the Train page's widgets hold (defaults for those never drawn)."""
    values = st.session_state.get("saved_widgets", {})
    return TrainConfig.from_dict({n: values[f"cfg_{n}"] for n in field_names() if f"cfg_{n}" in values})


def reset_config() -> None:
    """Forget every changed setting: the widgets show TrainConfig's defaults again."""
    store = st.session_state.get("saved_widgets", {})
    for name in field_names():
        store.pop(f"cfg_{name}", None)
        st.session_state.pop(f"cfg_{name}", None)


def config_widget(name: str, running: TrainConfig | None = None):
    """One input drawn from TrainConfig's metadata (type, range, choices, log scale, help).

    With ``running``, it shows that running run's value, disabled, and leaves the user's own settings alone.
    """
    s = field_spec(name)
    if running is None:
        kw = remember(f"cfg_{name}", s["default"])
        value = st.session_state[f"cfg_{name}"]
    else:
        value = getattr(running, name)
        st.session_state[f"run_cfg_{name}"] = value
        kw = {"key": f"run_cfg_{name}", "disabled": True}
    label, kw = LABELS.get(name, name.replace("_", " ")), {**kw, "help": f"`{name}`: {s['help']}"}
    if s["type"] is bool:
        st.toggle(label, **kw)
    elif s["choices"]:
        st.selectbox(label, s["choices"], **kw)
    elif s["log"]:
        st.select_slider(label, options=_with(log_grid(s["min"], s["max"], s["default"]), value),
                         format_func=lambda v: f"{v:g}", **kw)
    elif name in STEPS:
        st.select_slider(label, options=_with(STEPS[name], value), **kw)
    elif s["type"] is int and s["max"] - s["min"] <= 16:
        st.slider(label, s["min"], s["max"], **kw)
    elif s["type"] is int:
        st.number_input(label, s["min"], s["max"], step=1, **kw)
    else:
        st.slider(label, float(s["min"]), float(s["max"]), step=_float_step(s), **kw)


def _with(options: list, value) -> list:
    """The options, with a value that is not among them (set by --set or an older run) put in its place."""
    return options if value in options else sorted({*options, value})


def log_grid(lo: float, hi: float, default: float) -> list[float]:
    """1-2-3-5 steps per decade between lo and hi, with the default included."""
    values = {default}
    for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1):
        values |= {m * 10.0**e for m in (1, 2, 3, 5) if lo <= m * 10.0**e <= hi}
    return sorted(float(f"{v:.6g}") for v in values)


def _float_step(s) -> float:
    return 0.01 if s["max"] - s["min"] <= 1 else 0.1
