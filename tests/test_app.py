"""Every page through streamlit's AppTest: no data, demo data, real data, a finished run, uploads."""

import time

import pytest
import streamlit as st
from conftest import ROOT, fake_rows, kaggle_like_bytes, write_csv
from streamlit.testing.v1 import AppTest

from lyricsdash.data import DATA_ENV
from lyricsdash.engine import train
from lyricsdash.jobs import JobBusy
from lyricsdash.recorder import RunRecorder

PAGES = ["pages/home.py", "pages/data.py", "pages/train.py", "pages/classify.py", "pages/runs.py"]


@pytest.fixture
def app(runs_dir, monkeypatch, tmp_path):
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.setenv("LYRICSDASH_WARM", "0")  # no training process started ahead per test (tests/test_jobs.py)
    monkeypatch.chdir(ROOT)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield lambda: AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    from ui.common import registry

    job = registry().current
    if job is not None:  # never leave a training thread behind
        job.stop()
        job.thread.join(60)
    st.cache_resource.clear()


@pytest.fixture
def finished_run(runs_dir, corpus, tiny_cfg):
    rec = RunRecorder(runs_dir, data="demo")
    train(corpus, tiny_cfg, [rec])
    return rec.run_id


def open_page(at, path: str):
    """Switch to a page as a user's first visit does. Under AppTest, when a page's first run ends without
    st.stop(), the next interaction (a click, an input) is lost to the deep-link workaround's bookkeeping
    (ui.common.page_setup); a browser keeps it (the Playwright tests click right after a deep link), so
    the page is run once more before the test interacts."""
    return at.switch_page(path).run().run()


def visit_all(at):
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
    return at


def test_every_page_renders_with_no_data_and_no_runs(app):
    at = app()
    assert "synthetic" in " ".join(m.value for m in [*at.markdown, *at.caption])
    visit_all(at)
    at.switch_page("pages/classify.py").run()
    assert "No trained model yet" in at.info[0].value


def test_every_page_renders_with_a_finished_run(app, finished_run):
    at = visit_all(app())
    at.switch_page("pages/runs.py").run()
    assert finished_run in at.dataframe[0].value["run"].tolist()


@pytest.mark.realdata
def test_every_page_renders_with_the_real_data(app, real_data, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(real_data))
    at = app()
    assert at.radio(key="data_source").value == "assignment"
    visit_all(at)


def test_config_widgets_come_from_train_config(app):
    at = open_page(app(), "pages/train.py")
    at.select_slider(key="cfg_hidden_size").set_value(32).run()
    at.selectbox(key="cfg_pooling").set_value("mean").run()
    text = " ".join(m.value for m in [*at.markdown, *at.caption])
    assert "BiLSTM(32)" in text and "mean-pool" in text and "parameters" in text
    at.switch_page("pages/home.py").run().switch_page("pages/train.py").run()
    assert at.select_slider(key="cfg_hidden_size").value == 32  # kept across pages


def test_every_setting_has_its_widget_on_the_train_page(app):
    from lyricsdash.config import field_names

    at = open_page(app(), "pages/train.py")
    missing = [name for name in field_names() if f"cfg_{name}" not in at.session_state]
    assert not missing, missing


def test_a_page_reloaded_during_a_run_keeps_that_runs_settings_after_it_stops(app):
    from streamlit.testing.v1 import AppTest

    first = open_page(app(), "pages/train.py")
    job = start_a_long_run(first)  # 500 epochs
    reloaded = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()  # a fresh session
    reloaded = open_page(reloaded, "pages/train.py")
    shown = reloaded.select_slider(key="run_cfg_epochs")
    assert shown.value == 500 and shown.disabled
    job.stop()
    job.thread.join(60)
    reloaded.run()
    assert reloaded.select_slider(key="cfg_epochs").value == 500  # not the default 6
    assert not reloaded.select_slider(key="cfg_epochs").disabled


def test_classify_flow(app, finished_run):
    at = open_page(app(), "pages/classify.py")
    at.button(key="classify").click().run()
    assert "no text to classify" in at.warning[0].value
    at.text_area(key="ui_lyrics").input("desert highway boots gravel zzqx").run()
    at.button(key="classify").click().run()
    assert not at.exception
    assert "Dust Road Prophets" in at.subheader[0].value
    caption = next(c.value for c in at.caption if "words read" in c.value)
    assert "zzqx" in caption and "1 of them (1 different) the model never saw" in caption
    assert "Second opinion, **TF-IDF" in " ".join(m.value for m in at.markdown)


def test_training_runs_in_the_background_and_a_second_start_is_refused(app):
    at = open_page(app(), "pages/train.py")
    at.select_slider(key="cfg_epochs").set_value(40).run()
    at.button(key="start").click().run()
    assert not at.exception and not at.error
    from ui.common import registry

    job = registry().current
    assert job is not None and job.thread.is_alive()
    with pytest.raises(JobBusy, match="already training"):
        registry().start(job.corpus, job.cfg)
    at2 = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()  # a second tab
    at2.switch_page("pages/train.py").run()
    assert f"Run {job.run_id}" in at2.subheader[0].value
    assert at2.button(key="start").disabled
    at.button(key="stop").click().run()
    job.thread.join(60)
    assert job.snapshot().status == "stopped"


def test_bad_upload_shows_a_message_not_a_traceback(app, tmp_path):
    at = app()
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="upload_train").upload("one.csv", b"name,words\nx,y\n", "text/csv").run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert "one.csv has no 'artist' column" in at.error[0].value


def test_good_upload_is_used(app, tmp_path):
    data = write_csv(tmp_path / "mine.csv", fake_rows(per_artist=10)).read_bytes()
    at = app()
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="upload_train").upload("mine.csv", data, "text/csv").run()
    assert not at.exception and not at.error
    assert "upload: mine.csv" in " ".join(m.value for m in at.markdown)


@pytest.mark.slow
def test_a_kaggle_sized_upload_trains_on_the_artists_chosen_after_reading_it(app):
    data = kaggle_like_bytes()
    assert len(data) > 70e6
    at = app()
    at.radio(key="data_source").set_value("upload").run()
    at.file_uploader(key="upload_train").upload("songdata.csv", data, "text/csv").run(timeout=120)
    assert not at.exception and "643 artists and 57,650 songs" in at.radio(key="upload_how").help
    at.radio(key="upload_how").set_value("top").run(timeout=120)
    at.number_input(key="upload_top_k").set_value(10).run(timeout=120)
    at.switch_page("pages/data.py").run(timeout=120)
    assert not at.exception and not at.error
    assert "upload: songdata.csv, the 10 artists with most songs" in " ".join(m.value for m in at.markdown)
    at.radio(key="upload_how").set_value("pick").run(timeout=120)
    at.multiselect(key="upload_artists").set_value(["Artist 000", "Artist 001"]).run(timeout=120)
    at.switch_page("pages/train.py").run(timeout=120)
    assert not at.exception and not at.error
    assert "2 chosen artists" in " ".join(m.value for m in at.markdown)


def test_the_upload_limit_the_page_states_is_the_servers():
    import tomllib

    from ui.source import UPLOAD_MB

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["maxUploadSize"] == UPLOAD_MB == 200


def test_deleting_a_run_asks_and_removes_it(app, finished_run, runs_dir):
    at = open_page(app(), "pages/runs.py")
    assert any(e.label.startswith("System: the training process's CPU") for e in at.expander)  # system.csv
    at.button(key="ask_delete").click().run()
    assert at.button(key="confirm_delete").label == f"Yes, delete {finished_run}"
    at.button(key="confirm_delete").click().run()
    assert not at.exception
    assert at.success[0].value == f"Deleted run {finished_run}."
    deadline = time.time() + 5
    while (runs_dir / finished_run).exists() and time.time() < deadline:
        time.sleep(0.05)
    assert not (runs_dir / finished_run).exists()


def test_a_run_deleted_while_another_tab_views_it(app, finished_run, runs_dir):
    from lyricsdash.runs import delete_run

    viewer = open_page(app(), "pages/classify.py")
    assert viewer.selectbox(key="ui_classify_run").value == finished_run
    delete_run(runs_dir, finished_run)  # another tab deletes it
    viewer.text_area(key="ui_lyrics").input("sea wave harbor").run()  # the viewer's next interaction
    assert not viewer.exception
    assert "No trained model yet" in viewer.info[0].value


def test_naming_a_run_and_comparing_settings(app, runs_dir, corpus, tiny_cfg):
    for hidden in (8, 16):
        train(corpus, tiny_cfg.replace(hidden_size=hidden, epochs=1, baselines=False), [RunRecorder(runs_dir)])
    at = open_page(app(), "pages/runs.py")
    at.text_input[0].input("my first try").run()
    at.button[next(i for i, b in enumerate(at.button) if b.label == "Save")].click().run()
    assert not at.exception
    assert "my first try" in at.dataframe[0].value["name"].tolist()
    diff = next(d.value for d in at.dataframe if "hidden_size" in d.value.index)
    assert sorted(diff.loc["hidden_size"].tolist()) == ["16", "8"]


def test_classifying_a_csv_of_songs_keeps_the_good_rows_of_a_file_with_bad_ones(app, finished_run):
    csv = ("song,artist,text\n"
           "one,Demo · Harbor Lights,sea wave harbor sail anchor tide\n"
           "two,Demo · Dust Road Prophets,desert highway boots gravel dust road\n"
           "three,Demo · Velvet Disco Club,dance floor groove mirror ball glitter,EXTRA,FIELDS\n"
           "four,Demo · Velvet Disco Club,\n"
           "five,Nobody We Know,disco disco glitter\n").encode()
    at = open_page(app(), "pages/classify.py")
    at.file_uploader(key="ui_classify_csv").upload("songs.csv", csv, "text/csv").run()
    assert not at.exception and not at.error
    warnings = " ".join(w.value for w in at.warning)
    assert "1 malformed line" in warnings and "1 row(s) without lyrics" in warnings
    table = at.dataframe[0].value
    assert table["song"].tolist() == ["one", "two", "five"]
    assert table.loc[table["song"] == "one", "predicted"].item() == "Demo · Harbor Lights"
    assert "Accuracy on the 2 songs by artists the model knows" in at.subheader[0].value


def test_the_test_explorer_lists_the_songs_of_a_confusion_cell(app, finished_run, runs_dir):
    from lyricsdash.runs import RunFolder

    at = open_page(app(), "pages/runs.py")
    assert not at.exception
    table = RunFolder(runs_dir / finished_run).test_predictions()
    songs = next(d.value for d in at.dataframe if "p_true" in d.value.columns)
    assert len(songs) == len(table)
    per_artist = next(d.value for d in at.dataframe if "recall" in d.value.columns)
    assert per_artist["songs"].sum() == len(table)
    at.selectbox(key="runs_explorer_cell").set_value("wrong only").run()
    wrong = next(d.value for d in at.dataframe if "p_true" in d.value.columns)
    assert len(wrong) == int((~table["correct"]).sum())


def test_the_runs_page_offers_the_report_as_html(app, finished_run, runs_dir):
    at = open_page(app(), "pages/runs.py")
    assert any(b.label == "Download the report (HTML)" for b in at.get("download_button"))


def test_the_test_explorer_shows_calibration_and_the_runs_temperature(app, finished_run, runs_dir):
    import json

    from lyricsdash.runs import RunFolder

    at = open_page(app(), "pages/runs.py")
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text") or "" for c in at.get("plotly_chart")]
    assert any(t.startswith("Calibration on the test set (expected calibration error") for t in titles), titles
    t = RunFolder(runs_dir / finished_run).summary().temperature
    assert any(f"temperature of {t:.2f}" in c.value for c in at.caption)


def test_a_sweep_of_two_values_by_two_seeds_runs_through_the_registry(app, runs_dir):
    from lyricsdash.experiments import list_experiments
    from lyricsdash.runs import RunFolder
    from ui.common import registry

    at = open_page(app(), "pages/train.py")
    for key, value in (("cfg_epochs", 1), ("cfg_embed_dim", 8), ("cfg_hidden_size", 8)):
        at.select_slider(key=key).set_value(value).run()
    at.radio(key="ui_exp_mode").set_value("sweep").run()
    at.selectbox(key="ui_exp_setting").set_value("hidden_size").run()
    at.text_input(key="ui_exp_values_hidden_size").input("8, 16").run()
    at.number_input(key="ui_exp_seeds_sweep").set_value(2).run()
    assert "4 runs" in " ".join(c.value for c in at.caption)
    at.button(key="start_experiment").click().run()
    assert not at.exception and not at.error
    keys = [b.key for b in at.button]
    assert "cancel_experiment" in keys and "stop" not in keys  # one way to stop an experiment, not two
    job = registry().experiment
    job.thread.join(300)
    (exp,) = list_experiments(runs_dir)
    from lyricsdash.experiments import describe

    label = describe(exp)  # the settings that differ from the defaults, not all thirty
    assert "epochs=1" in label and "embed_dim=8" in label and "seed=" not in label and "lr=" not in label, label
    assert exp.status == "finished" and [r.status for r in exp.runs] == ["finished"] * 4
    results = exp.results()
    for r in results.values():
        assert r["accuracies"] == [RunFolder(runs_dir / rid).summary().test_accuracy for rid in r["runs"]]
        assert len({RunFolder(runs_dir / rid).summary().params for rid in r["runs"]}) == 1
    at.switch_page("pages/runs.py").run()
    table = next(d.value for d in at.dataframe if "mean test acc" in d.value.columns)
    assert table["setting"].tolist() == ["8", "16"]
    assert table["mean test acc"].tolist() == pytest.approx([results["8"]["mean"], results["16"]["mean"]])


def test_the_server_settings_keep_the_log_quiet_and_refreshes_light():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["fileWatcherType"] == "none"  # a .venv in the project folder flooded inotify
    assert cfg["runner"]["postScriptGC"] is False and cfg["server"]["address"] == "localhost"


def test_the_runs_page_shows_a_running_run_live_and_a_stopped_one_without_an_eta(app, runs_dir):
    at = open_page(app(), "pages/train.py")
    job = start_a_long_run(at)
    at.switch_page("pages/runs.py").run()
    row = at.dataframe[0].value.iloc[0]
    assert row["status"] == "running" and row["steps"] >= 3
    assert row["seconds"] > 0  # the time so far, not an empty cell
    assert "Training now: step" in at.code[0].value and "No checkpoint was saved" not in at.code[0].value
    job.stop()
    job.thread.join(60)
    at.switch_page("pages/train.py").run()
    progress = " ".join(str(p.proto.text) for p in at.get("progress"))
    assert progress.startswith("stopped: step") and "ETA" not in progress


def test_the_data_page_states_padding_as_a_saving_never_a_red_zero(app):
    at = open_page(app(), "pages/data.py")
    padding = next(m for m in at.metric if m.label == "Padding per batch")
    delta = padding.proto.delta
    assert not delta or (delta.endswith("pts less than unsorted batches") and not delta.startswith("0.0"))


def test_classify_explains_why_and_keeps_the_answer_while_the_question_changes(app, finished_run):
    at = open_page(app(), "pages/classify.py")
    at.text_area(key="ui_lyrics").input("desert highway boots gravel sea wave night").run()
    at.button(key="classify").click().run()
    assert at.selectbox(key="why_artist").value == "Demo · Dust Road Prophets"  # the predicted artist first
    why = next(c.value for c in at.caption if "add up to" in c.value)
    assert "mean log p" in why and "Unknown words count through their spelling alone" in why  # the default
    words = next(m.value for m in at.markdown if m.value.startswith("**Words for"))
    assert "desert" in words or "highway" in words or "boots" in words
    at.selectbox(key="why_against").set_value("Demo · Harbor Lights").run()  # a widget rerun, no new click
    assert not at.exception
    assert "Dust Road Prophets" in at.subheader[0].value
    why = next(c.value for c in at.caption if "add up to" in c.value)
    assert "log p(Demo · Harbor Lights)" in why
    at.text_area(key="ui_lyrics").input("sea wave harbor").run()
    assert any("press Classify" in c.value for c in at.caption)
    at.button(key="classify").click().run()
    at.text_area(key="ui_lyrics").input("dance floor groove mirror ball glitter disco")
    at.button(key="classify").click().run()  # pasted and classified in one go, as a user does
    assert "Velvet Disco Club" in at.subheader[0].value
    assert at.selectbox(key="why_artist").value == "Demo · Velvet Disco Club"  # the new answer, not the old pick
    assert at.selectbox(key="why_against").value.startswith("the other artists")
    assert next(m.value for m in at.markdown if m.value.startswith("**Words for")).startswith("**Words for Demo · Velv")


def start_a_long_run(at):
    """Start 500 epochs from the Train page; return the job once it has made a few steps."""
    from ui.common import registry

    at.select_slider(key="cfg_epochs").set_value(500).run()
    at.button(key="start").click().run()
    job = registry().current
    deadline = time.time() + 120
    while job.progress().steps < 3 and time.time() < deadline:
        time.sleep(0.1)
    return job


def test_the_status_of_a_training_run_is_read_from_its_folder_and_nothing_is_written_in_the_checkout(app):
    at = open_page(app(), "pages/train.py")
    job = start_a_long_run(at)
    at.run()
    assert " ".join(str(p.proto.text) for p in at.get("progress")).startswith("running: step")
    assert not (ROOT / "static" / "live" / f"{job.run_id}.json").exists()  # no status file beside the code
    job.stop()
    job.thread.join(60)
    at.run()
    assert not at.exception
    assert " ".join(str(p.proto.text) for p in at.get("progress")).startswith("stopped: step")


def test_classify_first_shows_the_finished_run_best_on_validation_not_the_newest(app, runs_dir, corpus, tiny_cfg):
    good = RunRecorder(runs_dir, run_id="a-good", data="demo")
    train(corpus, tiny_cfg, [good])
    weak = RunRecorder(runs_dir, run_id="b-weak", data="demo")  # newer (listed first), one tiny step of learning
    train(corpus, tiny_cfg.replace(epochs=1, lr=1e-5, nb_init=0.0), [weak])
    from lyricsdash.runs import RunFolder

    assert RunFolder(weak.dir).summary().kept_val_accuracy < RunFolder(good.dir).summary().kept_val_accuracy
    at = open_page(app(), "pages/classify.py")
    assert at.selectbox(key="ui_classify_run").value == "a-good"


def test_a_stopped_run_resumes_from_the_runs_page_and_finishes_in_its_folder(app, runs_dir, corpus, tiny_cfg):
    import threading

    from test_resume import StopAt

    from lyricsdash.runs import RunFolder
    from lyricsdash.sources import DataSource
    from ui.common import registry

    stop = threading.Event()
    rec = RunRecorder(runs_dir, data="demo", source=DataSource("demo").to_record())
    train(corpus, tiny_cfg, [rec, StopAt(5, stop)], stop)
    at = open_page(app(), "pages/runs.py")
    at.button(key=f"resume_{rec.run_id}").click().run()
    assert not at.exception and not at.error
    job = registry().current
    assert job is not None and job.run_id == rec.run_id
    job.thread.join(120)
    summary = RunFolder(rec.dir).summary()
    assert summary.status == "finished" and summary.resumed_at == [5], job.error
    assert RunFolder(rec.dir).metrics()["step"].tolist() == list(range(1, summary.total_steps + 1))
    assert job.snapshot().metrics["step"].tolist()[:5] == [1, 2, 3, 4, 5]  # the curves before the stop too
    at = open_page(app(), "pages/runs.py")
    assert not any(b.key == f"resume_{rec.run_id}" for b in at.button)  # finished: nothing to resume


def test_an_optuna_search_runs_from_the_train_page_and_shows_its_study_on_runs(app):
    from ui.common import registry

    at = open_page(app(), "pages/train.py")
    at.select_slider(key="cfg_epochs").set_value(2).run()
    at.radio(key="ui_exp_mode").set_value("search").run()
    at.text_input(key="ui_search_range_hidden_size").set_value("8:16").run()
    at.number_input(key="ui_search_trials").set_value(2).run()
    at.button(key="start_search").click().run()
    assert not at.exception and not at.error
    job = registry().experiment
    job.thread.join(300)
    runs = job.exp.runs
    assert len(runs) == 2 and all(8 <= r.params["hidden_size"] <= 16 for r in runs)
    at = open_page(app(), "pages/runs.py")
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "validation acc (objective)" in d.value.columns)
    assert len(table) == 2 and set(table["status"]) <= {"finished", "pruned"}
    charts = len(at.get("plotly_chart"))  # Optuna's history, parallel coordinates and importances, unless the
    same = "Parameter importances: not available: every finished trial scored the same"  # trials tied
    assert charts >= 3 or (charts == 2 and same in [c.value for c in at.caption])


def test_a_training_started_from_the_cli_is_followed_on_the_train_page(app, runs_dir):
    import os
    import signal
    import subprocess
    import sys

    from lyricsdash.runs import list_runs

    cli = subprocess.Popen([sys.executable, "-m", "lyricsdash", "train", "--demo", "--quiet", "--runs-dir",
                            str(runs_dir), "--set", "epochs=200", "--set", "baselines=false"], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (list_runs(runs_dir)[0] and (runs_dir / list_runs(runs_dir)[0][0].run_id
                                                                          / "metrics.csv").stat().st_size > 200):
            time.sleep(0.2)
        (run,), _ = list_runs(runs_dir)
        at = open_page(app(), "pages/train.py")
        assert not at.exception and not at.error
        assert f"Run {run.run_id}, training in another process" in [h.value for h in at.subheader]
        status = at.get("progress")[0].proto.text
        assert status.startswith("running: step ") and "/ " in status, status
        assert len(at.get("plotly_chart")) >= 2  # the curves, from its metrics.csv
        at.switch_page("pages/runs.py").run()
        row = at.dataframe[0].value.iloc[0]  # the Runs page reads its live step from its folder too
        assert row["status"] == "running" and row["steps"] >= 1 and row["seconds"] > 0
    finally:
        cli.send_signal(signal.SIGINT)  # the CLI stops cleanly
        cli.wait(60)
    assert list_runs(runs_dir)[0][0].status == "stopped"


def test_a_run_named_before_it_starts_keeps_its_name(app, runs_dir):
    from lyricsdash.runs import RunFolder
    from ui.common import registry

    at = open_page(app(), "pages/train.py")
    at.select_slider(key="cfg_epochs").set_value(1).run()
    at.text_input(key="ui_run_name").input("first try, 1 epoch").run()
    at.button(key="start").click().run()
    assert not at.exception and not at.error
    job = registry().current
    job.thread.join(120)
    assert RunFolder(runs_dir / job.run_id).annotations()["name"] == "first try, 1 epoch"
    at = open_page(app(), "pages/runs.py")
    assert "first try, 1 epoch" in at.dataframe[0].value["name"].tolist()
