import json
import os
import subprocess
import sys

import pytest
import torch

from lyricsdash.engine import train
from lyricsdash.predictor import Predictor
from lyricsdash.recorder import RunRecorder
from lyricsdash.report import report_text
from lyricsdash.runs import RunError, RunFolder, delete_run, list_runs, run_path


@pytest.fixture
def finished_run(corpus, tiny_cfg, runs_dir):
    rec = RunRecorder(runs_dir, data="demo")
    result = train(corpus, tiny_cfg, [rec])
    return rec.dir, result


def test_a_run_folder_holds_plain_data(finished_run):
    d, result = finished_run
    names = sorted(p.name for p in d.iterdir())
    assert [n for n in names if not n.startswith("events.out.tfevents.")] == [
        "baseline.pt", "config.json", "labels.json", "metrics.csv", "model.pt", "summary.json", "system.csv",
        "test_predictions.csv", "vocab.json"]
    assert len(names) == 10  # and one TensorBoard event file (tests/test_events.py reads it)
    s = RunFolder(d).summary()
    assert s.status == "finished" and s.params == result.params and s.steps == result.steps
    assert s.test_accuracy == pytest.approx(result.kept.test_acc) and s.kept_step == result.kept.step
    assert s.best_step == result.best.step and len(s.confusion_matrix) == 3
    assert s.train_seconds > 0
    metrics = RunFolder(d).metrics()
    assert len(metrics) == result.steps and metrics["step"].tolist() == list(range(1, result.steps + 1))
    blob = torch.load(d / "model.pt", weights_only=True)  # no pickle of code
    assert set(blob) == {"format", "model_spec", "step", "state_dict"}
    assert "Parameters" in report_text(s) and "Test accuracy" in report_text(s)
    assert set(s.baselines) == {"majority", "tfidf_words", "tfidf_tokens", "tfidf_chars"}
    text = report_text(s)
    assert "TF-IDF lower-case words + LR" in text and "TF-IDF cased words + punctuation + LR" in text


def test_round_trip_gives_the_same_predictions(finished_run):
    d, result = finished_run
    model, vocab, labels, cfg = RunFolder(d).load()
    assert labels == result.labels and vocab.itos == result.vocab.itos
    for k, v in result.model.state_dict().items():
        assert torch.equal(v, model.state_dict()[k])


def test_a_run_saved_before_runs_chose_their_tokens_reads_and_predicts_lower_case_words(finished_run):
    d, _ = finished_run
    config = json.loads((d / "config.json").read_text())
    config["tokens"] = "words"
    (d / "config.json").write_text(json.dumps(config))
    words = Predictor.from_run(d).predict("Sea, WAVE harbor!").probabilities
    del config["tokens"]
    (d / "config.json").write_text(json.dumps(config))
    assert RunFolder(d).load()[3].tokens == "words"
    assert Predictor.from_run(d).predict("Sea, WAVE harbor!").probabilities == words


def test_a_run_saved_before_runs_chose_their_repeats_reads_every_line(finished_run):
    d, _ = finished_run
    chorus = "Sea wave harbor\nsea wave harbor\nSEA WAVE HARBOR\ntide"
    config = json.loads((d / "config.json").read_text())
    config["repeats"] = "all"
    (d / "config.json").write_text(json.dumps(config))
    every_line = Predictor.from_run(d).predict(chorus)
    del config["repeats"]
    (d / "config.json").write_text(json.dumps(config))
    assert RunFolder(d).load()[3].repeats == "all"
    assert Predictor.from_run(d).predict(chorus).probabilities == every_line.probabilities
    assert every_line.words == 10


def test_a_run_saved_before_song_context_loads_reads_windows_alone_and_resumes_so(finished_run):
    d, _ = finished_run
    blob = torch.load(d / "model.pt", weights_only=True)
    assert blob["model_spec"]["context"]  # the default reads song context
    lone = {k: v for k, v in blob["state_dict"].items() if not k.startswith("context_head.")}
    spec = {k: v for k, v in blob["model_spec"].items() if k != "context"}
    torch.save({**blob, "model_spec": spec, "state_dict": lone}, d / "model.pt")
    config = json.loads((d / "config.json").read_text())
    del config["context"], config["context_dropout"]
    (d / "config.json").write_text(json.dumps(config))
    model, _, _, cfg = RunFolder(d).load()
    assert model.context_head is None and cfg.context == "off"  # a resumed training rebuilds the same model
    assert Predictor.from_run(d).predict("Sea, WAVE harbor!").probabilities


def test_a_killed_run_lists_as_interrupted_with_its_metrics(finished_run, runs_dir):
    d, _ = finished_run
    s = json.loads((d / "summary.json").read_text())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    s.update(status="running", pid=int(dead.stdout))
    (d / "summary.json").write_text(json.dumps(s))
    with open(d / "metrics.csv", "a") as f:
        f.write("999,1,0.5")  # a torn row, as a kill mid-write leaves
    runs, warnings = list_runs(runs_dir)
    assert runs[0].status == "interrupted" and warnings == []
    assert RunFolder(d).metrics()["step"].max() == s["steps"]
    RunFolder(d).load()  # its checkpoint still loads


def test_broken_folders_are_skipped_with_a_warning(finished_run, runs_dir):
    (runs_dir / "junk").mkdir()
    (runs_dir / "half").mkdir()
    (runs_dir / "half" / "summary.json").write_text("{not json")
    runs, warnings = list_runs(runs_dir)
    assert len(runs) == 1 and len(warnings) == 2
    assert any("half" in w and "not valid JSON" in w for w in warnings)


def test_mismatched_or_missing_weights_are_clear_errors(finished_run):
    d, _ = finished_run
    blob = torch.load(d / "model.pt", weights_only=True)
    blob["model_spec"]["hidden_size"] += 1
    torch.save(blob, d / "model.pt")
    with pytest.raises(RunError, match="does not match its config"):
        RunFolder(d).load()
    os.remove(d / "model.pt")
    with pytest.raises(RunError, match="no checkpoint"):
        RunFolder(d).load()


def test_a_pickled_module_is_refused(finished_run):
    d, result = finished_run
    torch.save(result.model, d / "model.pt")  # what the project never writes
    with pytest.raises(RunError, match="model.pt"):
        RunFolder(d).load()


@pytest.mark.parametrize("bad", ["../x", "/etc", "a/b", "..", "", ".hidden", "a" * 200])
def test_run_ids_cannot_leave_the_runs_folder(bad, runs_dir):
    with pytest.raises(RunError, match="not a valid run id"):
        run_path(runs_dir, bad)
    with pytest.raises(RunError):
        delete_run(runs_dir, bad)


def test_delete_refuses_a_running_run_and_removes_a_finished_one(finished_run, runs_dir):
    d, _ = finished_run
    s = json.loads((d / "summary.json").read_text())
    (d / "summary.json").write_text(json.dumps({**s, "status": "running", "pid": os.getpid()}))
    with pytest.raises(RunError, match="still training"):
        delete_run(runs_dir, d.name)
    (d / "summary.json").write_text(json.dumps(s))
    delete_run(runs_dir, d.name)
    assert not d.exists()


def test_a_run_keeps_the_name_and_note_its_user_gives_it(finished_run, runs_dir):
    from lyricsdash.runs import RunFolder

    d, _ = finished_run
    folder = RunFolder(d)
    assert folder.annotations() == {"name": "", "note": ""}
    folder.annotate("  small model ", "tried lr 0.02")
    (run,), _ = list_runs(runs_dir)
    assert run.annotations == {"name": "small model", "note": "tried lr 0.02"}
    folder.annotations_path.write_text("not json")
    assert folder.annotations() == {"name": "", "note": ""}  # a damaged file never breaks the listing


def test_differing_settings_name_only_what_differs():
    from lyricsdash.runs import differing_settings

    diff = differing_settings({"a": {"lr": 0.1, "seed": 0, "epochs": 8}, "b": {"lr": 0.2, "seed": 0, "epochs": 8}})
    assert diff == {"lr": {"a": 0.1, "b": 0.2}}


def test_the_test_explorer_table_agrees_with_the_confusion_matrix(finished_run, corpus):
    from lyricsdash.runs import RunFolder
    from lyricsdash.stats import per_artist_scores

    d, result = finished_run
    table = RunFolder(d).test_predictions()
    assert table["song"].tolist() == corpus.test["song"].tolist()
    labels = result.labels
    counts = [[int(((table["artist"] == t) & (table["predicted"] == p)).sum()) for p in labels] for t in labels]
    assert counts == RunFolder(d).summary().confusion_matrix
    assert table["correct"].mean() == pytest.approx(RunFolder(d).summary().test_accuracy)
    scores = per_artist_scores(table, labels)
    assert scores["songs"].tolist() == [sum(row) for row in counts]
    assert scores.loc[labels[0], "recall"] == pytest.approx(counts[0][0] / sum(counts[0]))


def test_a_run_saved_before_runs_had_a_teacher_by_default_reads_as_without_one(finished_run):
    d, _ = finished_run
    config = json.loads((d / "config.json").read_text())
    del config["distill"], config["teacher"]
    (d / "config.json").write_text(json.dumps(config))
    cfg = RunFolder(d).config()
    assert (cfg.distill, cfg.teacher) == (0.0, "tokens")
