"""The run store: one folder of plain data per training.

``runs/<run_id>/`` holds ``config.json``, ``metrics.csv`` (one row per global
step, flushed as it is written), ``vocab.json``, ``labels.json``,
``model.pt`` (a state_dict and the model's hyperparameters, loaded with
``torch.load(weights_only=True)``) and ``summary.json``. JSON and weights are
written atomically (``store``), so no half-written file is ever read as valid.
No pickle anywhere: loading a run executes no code.

``RunFolder`` is the one API of a run folder: its paths, summary, metrics, config, model and baseline. The
folder is written by ``recorder.RunRecorder``; live runs are read through ``watch.FolderWatch``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import shutil
import socket
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path

import pandas as pd
import torch

from .config import ConfigError, TrainConfig, field_spec
from .model import LyricsLSTM, ModelSpec
from .records import RECORD_FIELDS, Status
from .store import write_json
from .system import FIELDS as SYSTEM_FIELDS
from .text import Vocab

RUNS_ENV = "LYRICSDASH_RUNS_DIR"
EXPERIMENTS = "experiments"  # the folder of experiments inside the runs folder (lyricsdash.experiments)
FORMAT = 1
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
log = logging.getLogger(__name__)


class RunError(ValueError):
    """A run folder that cannot be used, explained."""


# ------------------------------------------------------------------ locations
def runs_root(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$LYRICSDASH_RUNS_DIR``, else ``./runs``."""
    return Path(path or os.environ.get(RUNS_ENV) or "runs")


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def run_path(root: str | os.PathLike, run_id: str) -> Path:
    """The folder of ``run_id`` inside ``root``; ids that could leave ``root`` are refused."""
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id) or ".." in run_id:
        raise RunError(f"{run_id!r} is not a valid run id (letters, digits, '-', '_' and '.'; no path).")
    return Path(root) / run_id


def resolve_run(ref: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """A run given as a folder path (CLI) or as an id inside the runs folder."""
    p = Path(ref)
    if (p / RunFolder.SUMMARY).is_file() or (p / RunFolder.CONFIG).is_file():
        return p
    found = run_path(runs_root(root), str(ref))
    if not found.is_dir():
        raise RunError(f"There is no run {ref} in {found.parent} (see: python -m lyricsdash runs).")
    return found


@dataclass
class Summary:
    """summary.json: one name per measure. Written as training goes; read back by every page and the CLI."""

    run_id: str
    status: str = Status.RUNNING  # a records.Status (interrupted: read back, a running run whose process is gone)
    pid: int | None = None  # the training process (a dead one on this host means interrupted)
    host: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    data: str = ""  # where the songs came from, in words
    corpus: dict = field(default_factory=dict)  # Corpus.summary(): labels, split sizes, notes
    params: int = 0
    architecture: str = ""
    device: str = ""
    keep: str = field_spec("keep")["default"]  # which weights the run keeps (TrainConfig.keep)
    total_steps: int = 0
    steps: int = 0
    checkpoint: bool = False  # whether model.pt holds weights yet
    kept_step: int | None = None
    kept_val_accuracy: float | None = None
    test_accuracy: float | None = None  # of the kept weights
    test_loss: float | None = None  # cross-entropy of the kept weights, temperature applied once fitted
    temperature: float | None = None  # fitted on the validation songs at the end (lyricsdash.calibrate)
    test_ece: float | None = None  # expected calibration error on the test songs, temperature applied
    best_val_accuracy: float | None = None  # the best validation accuracy seen, and when
    best_step: int | None = None
    baselines: dict = field(default_factory=dict)  # name -> {"label", "val_acc", "test_acc", "seconds"}
    train_seconds: float | None = None
    eval_seconds: float | None = None
    tokens: int | None = None
    tokens_per_second: float | None = None
    confusion_matrix: list = field(default_factory=list)  # of the kept weights on the test songs
    error: str | None = None
    note: str | None = None  # why a run reads as interrupted
    source: dict | None = None  # the data source to resume from (sources.DataSource.to_record; None: an upload)
    resumed_at: list = field(default_factory=list)  # the global steps it was resumed from, in order
    # filled on reading, never written to summary.json:
    config: dict = field(default_factory=dict, compare=False)
    annotations: dict = field(default_factory=lambda: {"name": "", "note": ""}, compare=False)

    @classmethod
    def from_dict(cls, d: dict) -> Summary:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})  # keys of other versions are left out

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("config", "annotations")}

    @property
    def labels(self) -> list[str]:
        return list(self.corpus.get("labels", []))


class RunFolder:
    """One run's folder: the one place that names its files, and the reads the pages need."""

    CONFIG, METRICS, VOCAB, LABELS = "config.json", "metrics.csv", "vocab.json", "labels.json"
    MODEL, SUMMARY, BASELINE = "model.pt", "summary.json", "baseline.pt"
    ANNOTATIONS = "annotations.json"  # what the user wrote about the run: {"name", "note"}
    TEST = "test_predictions.csv"  # one row per test song: title, true and predicted artist, probabilities
    RESUME = "resume.pt"  # what a stopped run needs to go on exactly (lyricsdash.resume); gone once finished
    SYSTEM = "system.csv"  # the training process's CPU, memory (and GPU) every few seconds (lyricsdash.system)

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    config_path = property(lambda self: self.path / self.CONFIG)
    metrics_path = property(lambda self: self.path / self.METRICS)
    vocab_path = property(lambda self: self.path / self.VOCAB)
    labels_path = property(lambda self: self.path / self.LABELS)
    model_path = property(lambda self: self.path / self.MODEL)
    summary_path = property(lambda self: self.path / self.SUMMARY)
    baseline_path = property(lambda self: self.path / self.BASELINE)
    annotations_path = property(lambda self: self.path / self.ANNOTATIONS)
    test_path = property(lambda self: self.path / self.TEST)
    system_path = property(lambda self: self.path / self.SYSTEM)
    resume_path = property(lambda self: self.path / self.RESUME)

    def test_predictions(self) -> pd.DataFrame | None:
        """The kept weights' answer for every test song (None for runs without the file)."""
        try:
            return pd.read_csv(self.test_path, keep_default_na=False, dtype={"song": str, "artist": str,
                                                                              "predicted": str})
        except (OSError, ValueError, pd.errors.ParserError):
            return None

    def system(self) -> pd.DataFrame:
        """system.csv as numbers (empty for runs without it); a last line without its newline (torn by a kill
        mid-write) is dropped."""
        try:
            text = self.system_path.read_text(encoding="utf-8")
            df = pd.read_csv(io.StringIO(text[: text.rfind("\n") + 1]), engine="python", on_bad_lines="skip")
        except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
            df = pd.DataFrame()
        return df.reindex(columns=list(SYSTEM_FIELDS)).apply(pd.to_numeric, errors="coerce")

    def annotations(self) -> dict:
        """{"name": str, "note": str}: empty strings when the user wrote nothing (or the file is unreadable)."""
        try:
            data = json.loads(self.annotations_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data = data if isinstance(data, dict) else {}
        return {k: str(data.get(k) or "")[:2000] for k in ("name", "note")}

    def annotate(self, name: str, note: str) -> None:
        """Save the run's name and note (atomically; the rest of the folder is never touched)."""
        if not self.path.is_dir():
            raise RunError(f"No run {self.run_id!r}.")
        write_json(self.annotations_path, {"name": name.strip()[:200], "note": note.strip()[:2000]})

    def summary(self) -> Summary:
        """summary.json; a 'running' run whose process is gone reads as 'interrupted'."""
        return _read_summary(self.path)

    def metrics(self) -> pd.DataFrame:
        """metrics.csv as numbers; a torn last line (killed mid-write) is dropped."""
        return _read_metrics(self.path)

    def config(self) -> TrainConfig:
        """config.json as a TrainConfig (runs saved before a setting existed read its old behaviour)."""
        return _load_config(self.path)

    def load(self) -> tuple[LyricsLSTM, Vocab, list[str], TrainConfig]:
        """The kept weights as a model, with the vocabulary, labels and config. Executes no code from the folder."""
        return _load_model(self.path)

    def baseline(self):
        """The run's best baseline (TF-IDF + LR as plain tensors), or None when it has none or it is unreadable."""
        return _load_baseline(self.path)

    def resume_point(self) -> dict:
        """The resume point of a stopped, failed or interrupted run (``lyricsdash.resume``; plain tensors,
        loaded with ``weights_only=True``); a RunError says why a run cannot be resumed."""
        s = self.summary()
        if s.status == Status.FINISHED:
            raise RunError(f"Run {self.run_id} is finished: there is nothing to resume.")
        if s.status == Status.RUNNING:
            raise RunError(f"Run {self.run_id} is still training.")
        if not self.resume_path.is_file():
            raise RunError(f"Run {self.run_id} has no resume point: it ended before its first epoch did (or was "
                           "saved by a version without resume points). Train it again.")
        try:
            return torch.load(self.resume_path, weights_only=True, map_location="cpu")
        except Exception as e:  # noqa: BLE001 - torn, truncated or foreign: one clear message
            raise RunError(f"Run {self.run_id}: {self.RESUME} cannot be read ({_one_line(e)}).") from None

    def checkpoint_time(self) -> float | None:
        """model.pt's modification time (a cache key: a newer checkpoint loads afresh), None without one."""
        try:
            return self.model_path.stat().st_mtime
        except OSError:
            return None


def _one_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__


# ---------------------------------------------------------------------- reads
def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path.parent.name}: {path.name} is missing.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RunError(f"{path.parent.name}: {path.name} is not valid JSON ({e}).") from None


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, TypeError, ValueError, OverflowError):
        return True
    return True


def _read_summary(run_dir: Path) -> Summary:
    """summary.json; a 'running' run whose process is gone reads as 'interrupted'."""
    d = _read_json(Path(run_dir) / RunFolder.SUMMARY)
    if not isinstance(d, dict):
        raise RunError(f"{Path(run_dir).name}: summary.json is not an object.")
    try:
        s = Summary.from_dict({**d, "run_id": Path(run_dir).name})
    except TypeError as e:
        raise RunError(f"{Path(run_dir).name}: summary.json is not a run summary ({e}).") from None
    if s.status == Status.RUNNING and s.host == socket.gethostname() and not _pid_alive(s.pid):
        s.status = Status.INTERRUPTED
        s.note = s.note or ("The training process ended without finishing (killed or crashed)." +
                            ("" if s.checkpoint else " No checkpoint was saved."))
    return s


def _read_metrics(run_dir: Path) -> pd.DataFrame:
    """metrics.csv as numbers; a torn last line (killed mid-write) is dropped."""
    path = run_dir / RunFolder.METRICS
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame(columns=list(RECORD_FIELDS), dtype=float)
    df = pd.read_csv(path, on_bad_lines="skip", engine="python")
    df = df.reindex(columns=list(RECORD_FIELDS)).apply(pd.to_numeric, errors="coerce")
    complete = df["step"].notna() & df["elapsed_s"].notna()
    return df[complete].reset_index(drop=True)


def run_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    """The run folders in ``root``, newest first (the experiments' folder and hidden ones left out)."""
    root = runs_root(root)
    return [d for d in sorted(root.iterdir() if root.is_dir() else [], reverse=True)
            if d.is_dir() and not d.name.startswith(".") and d.name != EXPERIMENTS]


def list_runs(root: str | os.PathLike | None = None) -> tuple[list[Summary], list[str]]:
    """Summaries of all runs, newest first, and warnings for folders skipped as broken."""
    runs, warnings = [], []
    for d in run_dirs(root):
        try:
            s = _read_summary(d)
            s.config = _read_json(d / RunFolder.CONFIG)
            s.annotations = RunFolder(d).annotations()
            runs.append(s)
        except RunError as e:
            warnings.append(f"Skipped {d.name}: {e}")
            log.warning("skipped run folder %s: %s", d.name, e)
    return runs, warnings


def best_run(runs: list[Summary]) -> Summary:
    """Of runs with weights (newest first, as ``list_runs`` gives them): the finished one whose kept weights
    scored best on validation, the newest among equals; without a finished one, the newest."""
    finished = [r for r in runs if r.status == Status.FINISHED and r.checkpoint]
    if not finished:
        return runs[0]
    # max keeps the first of equals, and the list is newest first
    return max(finished, key=lambda r: r.kept_val_accuracy if r.kept_val_accuracy is not None else -1.0)


def _load_config(run_dir: Path) -> TrainConfig:
    """config.json: the TrainConfig fields, plus the number of processes that trained (world_size)."""
    try:
        return TrainConfig.from_saved(_read_json(run_dir / RunFolder.CONFIG))
    except (ConfigError, TypeError, AttributeError) as e:
        raise RunError(f"{run_dir.name}: config.json is not a valid configuration ({e}).") from None


def _load_model(run_dir: str | os.PathLike) -> tuple[LyricsLSTM, Vocab, list[str], TrainConfig]:
    """Rebuild the best checkpoint of a run. Executes no code from the folder."""
    run_dir = Path(run_dir)
    cfg = _load_config(run_dir)
    try:
        vocab = Vocab.from_json((run_dir / RunFolder.VOCAB).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RunError(f"{run_dir.name}: vocab.json cannot be read ({e}).") from None
    labels = _read_json(run_dir / RunFolder.LABELS)
    if not (isinstance(labels, list) and all(isinstance(x, str) for x in labels)):
        raise RunError(f"{run_dir.name}: labels.json must be a list of artist names.")
    model = _load_weights(run_dir, len(vocab), len(labels))
    return model, vocab, labels, cfg


def _load_weights(run_dir: Path, vocab_size: int, num_classes: int) -> LyricsLSTM:
    path = run_dir / RunFolder.MODEL
    if not path.is_file():
        raise RunError(f"{run_dir.name} has no checkpoint (model.pt) yet: it stopped before its first evaluation.")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if blob.get("format") != FORMAT:
            raise ValueError(f"checkpoint format {blob.get('format')!r}, this version reads format {FORMAT}")
        spec = ModelSpec(**blob["model_spec"])
        if (spec.vocab_size, spec.num_classes) != (vocab_size, num_classes):
            raise ValueError(f"model is for {spec.vocab_size} words and {spec.num_classes} artists, the folder "
                             f"has {vocab_size} and {num_classes}")
        model = LyricsLSTM(spec)
        state = blob["state_dict"]
        state.setdefault("temperature", torch.ones(()))  # saved before calibration existed: T = 1
        model.load_state_dict(state)
    except Exception as e:  # noqa: BLE001 - any failure here means an unusable file
        raise RunError(f"{run_dir.name}: model.pt does not match its config or is damaged "
                       f"({' '.join(str(e).split())[:300]}).") from None
    return model.eval()


def delete_run(root: str | os.PathLike | None, run_id: str) -> None:
    """Delete a run folder; a run still training is refused."""
    d = run_path(runs_root(root), run_id)
    if not d.is_dir():
        raise RunError(f"No run {run_id!r} to delete.")
    try:
        status = _read_summary(d).status
    except RunError:
        status = None
    if status == Status.RUNNING:
        raise RunError(f"Run {run_id} is still training; stop it before deleting it.")
    shutil.rmtree(d)


def differing_settings(configs: dict[str, dict]) -> dict[str, dict]:
    """{setting: {run id: value}} for the settings whose values differ between the given runs' configs."""
    keys = sorted({k for c in configs.values() for k in c})
    return {k: {rid: c.get(k) for rid, c in configs.items()} for k in keys
            if len({repr(c.get(k)) for c in configs.values()}) > 1}


def _load_baseline(run_dir: str | os.PathLike):
    """The run's best baseline (TF-IDF + LR as plain tensors), or None when it has none or it is unreadable."""
    from .baselines import BaselineModel

    path = RunFolder(run_dir).baseline_path
    if not path.is_file():
        return None
    try:
        return BaselineModel.from_blob(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as e:  # noqa: BLE001 - a second opinion is optional; the LSTM's answer still stands
        log.warning("unreadable baseline in %s: %s", run_dir, e)
        return None
