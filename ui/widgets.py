"""Widgets drawn from TrainConfig's metadata (label, range, slider steps, help), and values kept across pages."""

from __future__ import annotations

import numpy as np
import streamlit as st

from lyricsdash.config import TrainConfig, field_names, field_spec


def label(name: str) -> str:
    """A setting's label on every page (TrainConfig's metadata)."""
    return field_spec(name)["label"]


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
    label, kw = s["label"], {**kw, "help": f"`{name}`: {s['help']}"}
    if s["type"] is bool:
        st.toggle(label, **kw)
    elif s["choices"]:
        st.selectbox(label, s["choices"], **kw)
    elif s["log"]:
        st.select_slider(label, options=_with(log_grid(s["min"], s["max"], s["default"]), value),
                         format_func=lambda v: f"{v:g}", **kw)
    elif s["steps"]:
        st.select_slider(label, options=_with(s["steps"], value), **kw)
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
