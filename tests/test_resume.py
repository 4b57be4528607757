"""Resume: a run stopped anywhere and resumed ends exactly as the same run never stopped (CPU)."""

import threading

import pandas as pd
import pytest
import torch

from lyricsdash.config import TrainConfig
from lyricsdash.engine import train
from lyricsdash.recorder import RunRecorder
from lyricsdash.records import Callback
from lyricsdash.resume import ResumeError
from lyricsdash.runs import RunError, RunFolder


class StopAt(Callback):
    def __init__(self, step: int, stop: threading.Event):
        self.step, self.stop = step, stop

    def on_step(self, record):
        if record["step"] == self.step:
            self.stop.set()


class DieAt(Callback):
    """A crash mid-epoch: the folder keeps the last epoch-end resume point and steps past it."""

    def __init__(self, step: int):
        self.step = step

    def on_step(self, record):
        if record["step"] == self.step:
            raise RuntimeError("simulated crash")


def cfg(**kw) -> TrainConfig:  # 476 training windows of the demo corpus -> 15 steps an epoch, 30 in all
    return TrainConfig(**{"embed_dim": 8, "hidden_size": 8, "epochs": 2, "batch_size": 32, "min_freq": 1,
                          "eval_every": 4, "baselines": False, "threads": 1, **kw})


def run_through(corpus, config, root, stop_step=None):
    stop = threading.Event()
    rec = RunRecorder(root)
    train(corpus, config, [rec] + ([StopAt(stop_step, stop)] if stop_step else []), stop)
    return rec.dir


def resume(corpus, config, run_dir, stop_step=None):
    stop = threading.Event()
    point = RunFolder(run_dir).resume_point()
    train(corpus, config, [RunRecorder.resuming(run_dir)] + ([StopAt(stop_step, stop)] if stop_step else []),
          stop, resume_from=point)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory):
    """The same run, never stopped: its weights and its metrics."""
    d = run_through(corpus, cfg(), tmp_path_factory.mktemp("ref"))
    return RunFolder(d).load()[0].state_dict(), RunFolder(d).metrics()


def assert_same_run(run_dir, reference):
    state, metrics = reference
    got = RunFolder(run_dir).load()[0].state_dict()
    assert set(got) == set(state)
    for k in state:
        assert torch.equal(got[k], state[k]), k
    mine = RunFolder(run_dir).metrics()
    assert mine["step"].tolist() == metrics["step"].tolist()  # no gap, no repeated step
    assert mine["train_loss"].tolist() == metrics["train_loss"].tolist()
    pd.testing.assert_series_equal(mine["val_acc"], metrics["val_acc"])
    assert RunFolder(run_dir).summary().status == "finished"
    assert not RunFolder(run_dir).resume_path.exists()  # nothing left to resume


@pytest.mark.parametrize("stops", [[1], [7], [15], [9, 20], [29]])  # mid-epoch, at an epoch's end, twice, near the end
def test_a_run_stopped_anywhere_and_resumed_ends_as_if_never_stopped(corpus, tmp_path, reference, stops):
    d = run_through(corpus, cfg(), tmp_path, stops[0])
    assert RunFolder(d).summary().status == "stopped"
    for later in [*stops[1:], None]:
        resume(corpus, cfg(), d, later)
    assert_same_run(d, reference)
    assert RunFolder(d).summary().resumed_at == stops


def test_rolling_evaluations_resume_exactly(corpus, tmp_path):
    rolling = cfg(eval_every=0, batch_size=8)
    ref = RunFolder(run_through(corpus, rolling, tmp_path / "ref")).metrics()
    assert (ref["eval_lag"] > 1).any()
    d = run_through(corpus, rolling, tmp_path / "stopped", 10)  # mid-epoch, mid-cycle
    resume(corpus, rolling, d)
    got = RunFolder(d).metrics()
    for col in ("val_acc", "test_loss", "eval_lag"):
        pd.testing.assert_series_equal(got[col], ref[col])


def test_a_crashed_run_resumes_from_its_last_epoch_and_trains_the_lost_steps_again(corpus, tmp_path, reference):
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(corpus, cfg(), [rec := RunRecorder(tmp_path), DieAt(20)])
    assert RunFolder(rec.dir).metrics()["step"].max() == 20 and RunFolder(rec.dir).summary().status == "failed"
    resume(corpus, cfg(), rec.dir)
    assert_same_run(rec.dir, reference)
    assert RunFolder(rec.dir).summary().resumed_at == [15]  # the end of epoch 1


def test_other_songs_or_a_finished_run_are_refused(corpus, tmp_path):
    from lyricsdash.demo import demo_corpus

    d = run_through(corpus, cfg(), tmp_path, 3)
    other = demo_corpus(seed=5)  # another validation carving: other training windows
    with pytest.raises(ResumeError, match="songs differ"):
        train(other, cfg(), [RunRecorder.resuming(d)], resume_from=RunFolder(d).resume_point())
    assert RunFolder(d).summary().status == "stopped"  # a refused resume leaves the run as it was
    resume(corpus, cfg(), d)
    with pytest.raises(RunError, match="finished: there is nothing to resume"):
        RunFolder(d).resume_point()


def test_the_resume_point_is_plain_data(corpus, tmp_path):
    d = run_through(corpus, cfg(), tmp_path, 3)
    point = torch.load(RunFolder(d).resume_path, weights_only=True)
    assert point["step"] == 3 and point["epoch"] == 1 and point["done_batches"] == 3
    assert set(point) >= {"model", "optimizer", "scheduler", "torch_rng", "epoch_rng", "best", "latest"}


def test_the_cli_resumes_a_stopped_run_on_the_songs_it_recorded(tmp_path):
    from test_cli import cli

    from lyricsdash.demo import demo_corpus
    from lyricsdash.sources import DataSource

    config = cfg(val_fraction=0.1)
    stop = threading.Event()
    rec = RunRecorder(tmp_path, data="demo", source=DataSource("demo").to_record())
    train(demo_corpus(config.val_fraction, config.seed), config, [rec, StopAt(5, stop)], stop)
    p = cli("train", "--resume", rec.run_id, "--runs-dir", str(tmp_path), "--set", "epochs=9")
    assert p.returncode == 2 and "keeps its own settings" in p.stderr
    p = cli("train", "--resume", rec.run_id, "--runs-dir", str(tmp_path), "--quiet", "--json")
    assert p.returncode == 0, p.stderr
    assert "resuming" in p.stderr and "from step 5 of 30" in p.stderr
    assert RunFolder(rec.dir).metrics()["step"].tolist() == list(range(1, 31))
    assert RunFolder(rec.dir).summary().status == "finished"  # nothing to resume: test_other_songs_or_a_finished_run...


def test_a_run_trained_on_an_upload_needs_its_file_again(corpus, tmp_path):
    from test_cli import cli

    d = run_through(corpus, cfg(), tmp_path, 3)  # recorded without a source, as an upload is
    p = cli("train", "--resume", d.name, "--runs-dir", str(tmp_path))
    assert p.returncode == 2 and "give the training file again with --train" in p.stderr
