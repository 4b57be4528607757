"""Killed processes and untrusted files: nothing saved is lost, nothing half-written is read, no code runs."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import ROOT

from lyricsdash.runs import RunError, RunFolder, list_runs


def _start_cli(runs_dir, *sets):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "lyricsdash", "train", "--demo", "--quiet", "--runs-dir", str(runs_dir),
            "--set", "embed_dim=16", "--set", "hidden_size=16", "--set", "epochs=500", *sets]
    return subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(predicate, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)  # polling the run folder that the other process writes


def _only_run(runs_dir):
    dirs = [d for d in runs_dir.iterdir() if d.is_dir()] if runs_dir.exists() else []
    return dirs[0] if len(dirs) == 1 else None


def test_sigkill_mid_training_keeps_metrics_and_checkpoint(tmp_path):
    runs = tmp_path / "runs"
    proc = _start_cli(runs)
    _wait_for(lambda: _only_run(runs) and (_only_run(runs) / "model.pt").exists()
              and len(RunFolder(_only_run(runs)).metrics()) > 30, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    run = _only_run(runs)
    summaries, warnings = list_runs(runs)
    assert warnings == [] and summaries[0].status == "interrupted"
    steps = RunFolder(run).metrics()["step"]
    assert steps.tolist() == list(range(1, len(steps) + 1)) and len(steps) > 30
    assert summaries[0].checkpoint is True
    RunFolder(run).load()  # the checkpoint written before the kill loads
    assert not list(run.glob(".*.tmp"))  # or, if a kill ever leaves one, it is never read


def test_sigkill_before_the_first_checkpoint_says_so(tmp_path):
    runs = tmp_path / "runs"
    proc = _start_cli(runs, "--set", "eval_every=100000", "--set", "batch_size=1")
    _wait_for(lambda: _only_run(runs) and len(RunFolder(_only_run(runs)).metrics()) > 3, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    summary = list_runs(runs)[0][0]
    assert summary.status == "interrupted" and "No checkpoint was saved" in summary.note
    with pytest.raises(RunError, match="no checkpoint"):
        RunFolder(_only_run(runs)).load()


def test_sigterm_stops_cleanly_and_saves(tmp_path):
    runs = tmp_path / "runs"
    proc = _start_cli(runs)
    _wait_for(lambda: _only_run(runs) and len(RunFolder(_only_run(runs)).metrics()) > 5, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0
    summary = RunFolder(_only_run(runs)).summary()
    assert summary.status == "stopped" and summary.checkpoint


class Payload:
    def __reduce__(self):
        return (os.system, (f"touch {PWNED}",))


PWNED = "/tmp/lyricsdash-pwned-marker"


def test_a_malicious_model_file_never_runs_code(tmp_path, corpus, tiny_cfg):
    from lyricsdash.engine import train
    from lyricsdash.recorder import RunRecorder

    rec = RunRecorder(tmp_path / "runs")
    train(corpus, tiny_cfg.replace(epochs=1), [rec])
    if os.path.exists(PWNED):
        os.remove(PWNED)
    torch.save({"format": 1, "model_spec": Payload(), "state_dict": {}, "step": 0}, rec.dir / "model.pt")
    with pytest.raises(RunError, match="model.pt"):
        RunFolder(rec.dir).load()
    assert not os.path.exists(PWNED)


def test_server_defaults_are_safe():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["address"] == "localhost"
    assert 1 <= cfg["server"]["maxUploadSize"] <= 200
    assert cfg["client"]["showErrorDetails"] == "none"  # no tracebacks or machine paths in the browser
