import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, fake_rows, write_csv

TINY = ["--set", "embed_dim=16", "--set", "hidden_size=16", "--set", "epochs=3", "--set", "lr=0.02",
        "--set", "min_freq=1"]


def cli(*args, env=None, timeout=300):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "lyricsdash", *args], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=ROOT)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    p = cli("train", "--demo", "--runs-dir", str(runs), "--json", "--quiet", *TINY)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stdout


def test_train_prints_the_report_and_ends_with_json(demo_run):
    out, stdout = demo_run
    for key in ("run_dir", "params", "train_seconds", "test_accuracy", "best_val_accuracy", "steps"):
        assert key in out
    assert "Architecture: Embedding(" in stdout and f"Parameters: {out['params']:,}" in stdout
    assert "Training time:" in stdout and "Test accuracy of the kept weights" in stdout
    assert out["test_accuracy"] > 0.5


def test_predict_and_report_work_on_the_run(demo_run, tmp_path):
    run_dir = demo_run[0]["run_dir"]
    p = cli("predict", "--run", run_dir, "--json", "dance floor groove mirror ball glitter")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["artist"] == "Demo · Velvet Disco Club"
    text = tmp_path / "song.txt"
    text.write_text("sea wave harbor")
    assert "Demo · Harbor Lights" in cli("predict", "--run", run_dir, "--file", str(text)).stdout
    out = tmp_path / "report.html"
    p = cli("report", "--run", run_dir, "--out", str(out))
    assert p.returncode == 0, p.stderr
    page = out.read_text()
    assert "global batch step" in page and "Parameters" in page and "plotly" in page.lower()


@pytest.mark.parametrize("args,msg", [
    (["train", "--demo", "--set", "hidden_size=big"], "hidden_size must be of type int"),
    (["train", "--demo", "--set", "colour=red"], "Unknown setting"),
    (["train", "--train", "/nonexistent/x.csv"], "no such file"),
    (["predict", "--run", "../../etc", "hello"], "not a valid run id"),
    (["predict", "--run", "nope-run", "hello"], "There is no run nope-run in .*python -m lyricsdash runs"),
])
def test_bad_input_exits_non_zero_with_a_clear_message(args, msg):
    p = cli(*args)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.startswith("error: ")
    import re
    assert re.search(msg, p.stderr), p.stderr


def test_bad_csv_is_reported_without_traceback(tmp_path):
    bad = write_csv(tmp_path / "one_artist.csv", fake_rows(artists=("Solo",)))
    p = cli("train", "--train", str(bad), "--quiet")
    assert p.returncode == 2 and "at least 2 artists" in p.stderr and "Traceback" not in p.stderr


def test_empty_prediction_text_is_refused(demo_run):
    p = cli("predict", "--run", demo_run[0]["run_dir"], "   ")
    assert p.returncode == 2 and "no text to classify" in p.stderr


@pytest.mark.realdata
def test_default_training_on_the_assignment_beats_the_majority_share(real_data, tmp_path):
    p = cli("train", "--train", str(real_data / "songdata_train.csv"), "--test", str(real_data / "songdata_test.csv"),
            "--runs-dir", str(tmp_path), "--json", "--quiet", "--set", "epochs=2", "--set", "eval_every=100000",
            timeout=600)  # the default, shorter and scored at epoch ends only (test_engine covers the cadence)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["test_accuracy"] > 19 / 43 + 0.05  # clearly above the majority artist's share
    assert out["status"] == "finished"


def test_listing_no_runs_says_so(tmp_path):
    p = cli("runs", "--runs-dir", str(tmp_path / "none"))
    assert p.returncode == 0 and "No runs in" in p.stdout and "python -m lyricsdash train" in p.stdout


def test_a_listing_cut_short_by_its_reader_ends_quietly():
    p = subprocess.run(f"'{sys.executable}' -m lyricsdash config | head -1", shell=True, capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert p.stdout.startswith("embed_dim=") and p.stderr == ""


def test_an_unknown_run_id_is_named_with_where_to_look(tmp_path):
    p = cli("predict", "--run", "nosuchrun", "la la", env={"LYRICSDASH_RUNS_DIR": str(tmp_path)})
    assert p.returncode == 2
    assert "There is no run nosuchrun in" in p.stderr and "python -m lyricsdash runs" in p.stderr


def test_top_k_says_which_artists_it_kept(tmp_path):
    rows = fake_rows(artists=("A", "B", "C", "D"), per_artist=8) + fake_rows(artists=("B", "C"), per_artist=4, seed=1)
    data = write_csv(tmp_path / "songs.csv", rows)
    p = cli("train", "--train", str(data), "--top-k", "2", "--runs-dir", str(tmp_path / "runs"), "--quiet",
            *TINY, "--set", "epochs=1")
    assert p.returncode == 0, p.stderr
    kept = next(line for line in p.stderr.splitlines() if line.startswith("note: training on"))
    assert kept.startswith("note: training on 2 artists: B (") and ", C (" in kept and "A (" not in kept


def test_predict_csv_scores_a_runs_own_test_file_as_the_run_did(tmp_path):
    train_csv = write_csv(tmp_path / "train.csv", fake_rows(per_artist=10, words=12))
    test_rows = fake_rows(per_artist=5, words=3, seed=7)  # short songs: some are missed
    test_csv = write_csv(tmp_path / "test.csv", test_rows)
    p = cli("train", "--train", str(train_csv), "--test", str(test_csv), "--runs-dir", str(tmp_path / "runs"),
            "--quiet", "--json", *TINY, "--set", "epochs=1", "--set", "baselines=false")
    assert p.returncode == 0, p.stderr
    run = json.loads(p.stdout.strip().splitlines()[-1])
    p = cli("predict", "--run", run["run_dir"], "--csv", str(test_csv), "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["score"]["accuracy"] == pytest.approx(run["test_accuracy"])
    assert len(out["rows"]) == 15 and sum(map(sum, out["score"]["confusion"])) == 15
    assert [r["song"] for r in out["rows"]] == [r[1] for r in test_rows]

    mixed = write_csv(tmp_path / "mixed.csv", [*test_rows, ("Z", "by another", "a la la"), ("", "no artist", "b")])
    p = cli("predict", "--run", run["run_dir"], "--csv", str(mixed), "--out", str(tmp_path / "pred.csv"))
    assert p.returncode == 0, p.stderr
    assert "accuracy on the 15 songs by artists the model knows" in p.stderr and "(1 by other artists" in p.stderr
    table = pd.read_csv(tmp_path / "pred.csv")
    assert len(table) == 17 and {"predicted", "probability", "p(A)", "p(B)", "p(C)"} <= set(table.columns)


def test_predict_csv_without_a_text_column_is_a_clear_error(demo_run, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [("x", "y")], columns=("artist", "song"))
    p = cli("predict", "--run", demo_run[0]["run_dir"], "--csv", str(bad))
    assert p.returncode == 2 and "text" in p.stderr and "Traceback" not in p.stderr


def test_export_writes_every_runs_scalars_as_one_long_table(demo_run, tmp_path):
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(demo_run[0]["run_dir"], runs / Path(demo_run[0]["run_dir"]).name)  # seed 0
    assert cli("train", "--demo", "--runs-dir", str(runs), "--quiet", *TINY, "--set", "epochs=1", "--set",
               "seed=2").returncode == 0
    p = cli("export", "--runs-dir", str(runs), "--out", str(tmp_path / "all.csv"))
    assert p.returncode == 0, p.stderr
    table = pd.read_csv(tmp_path / "all.csv")
    assert list(table.columns[:6]) == ["run", "run_name", "status", "step", "name", "value"]
    assert table["run"].nunique() == 2 and set(table["seed"]) == {0, 2} and "hidden_size" in table.columns
    for run, rows in table.groupby("run"):
        metrics = pd.read_csv(tmp_path / "runs" / run / "metrics.csv")
        loss = rows[rows["name"] == "train_loss"]
        assert loss["step"].tolist() == metrics["step"].tolist()
        assert loss["value"].tolist() == pytest.approx(metrics["train_loss"].tolist())
        assert len(rows[rows["name"] == "val_acc"]) == metrics["val_acc"].notna().sum()


def test_the_command_line_starts_without_importing_sklearn():
    """sklearn costs 1.5 s of every command's start; only fitting a teacher or a baseline needs it."""
    code = "import sys, lyricsdash.cli, lyricsdash.engine; print('sklearn' in sys.modules)"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert p.returncode == 0 and p.stdout.strip() == "False", p.stderr
