import numpy as np
import pandas as pd

from lyricsdash.charts import MAX_POINTS, accuracy_figure, compare_figure, downsample, loss_figure, smooth
from lyricsdash.records import RECORD_FIELDS, MetricsBuffer
from lyricsdash.report import report_html
from lyricsdash.runs import Summary


def frame(n=50):
    rows = [{k: 0.5 for k in RECORD_FIELDS} | {"step": s, "elapsed_s": s / 10, "train_acc": s % 2} for s in
            range(1, n + 1)]
    return pd.DataFrame(rows, columns=list(RECORD_FIELDS))


def test_long_histories_draw_at_most_max_points_per_curve():
    buf = MetricsBuffer(cap=5000)
    for step in range(1, 100_001):
        buf.append({k: 0.5 for k in RECORD_FIELDS} | {"step": step})
    f = buf.frame()
    assert len(downsample(f)) <= MAX_POINTS + 1
    assert all(len(trace.x) <= MAX_POINTS + 1 for trace in accuracy_figure(f).data)


def test_baselines_are_labelled_dashed_lines_on_the_accuracy_chart():
    fig = accuracy_figure(frame(), baselines={"tfidf_words": {"label": "TF-IDF words + LR", "test_acc": 0.744},
                                              "majority": {"label": "majority class", "test_acc": 0.442}})
    lines = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert sorted(round(s.y0, 3) for s in lines) == [0.442, 0.744]
    texts = [a.text for a in fig.layout.annotations]
    assert "TF-IDF words + LR (test) 74.4 %" in texts and "majority class (test) 44.2 %" in texts


def test_titles_follow_the_x_axis():
    assert accuracy_figure(frame(), x="elapsed_s").layout.title.text == "Accuracy over wall time"
    assert loss_figure(frame()).layout.title.text == "Error (cross-entropy) per global step"


def test_smoothing_shows_the_trend_of_a_noisy_batch_curve():
    noisy = np.tile([0.0, 1.0], 200)
    assert np.nanstd(smooth(noisy, 0.8)[50:]) < 0.2 < np.std(noisy)


def test_compare_gives_each_run_its_own_hue():
    fig = compare_figure({"hidden_size=32": frame(), "hidden_size=64": frame()}, "train_acc", smoothing=0.6)
    named = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in named] == ["hidden_size=32", "hidden_size=64"]
    assert named[0].line.color != named[1].line.color


def test_compare_labels_a_flat_float32_curve_with_a_few_digits():
    flat = frame().assign(test_acc=np.float32(1 / 3))
    fig = compare_figure({"a": flat}, "test_acc")
    assert f"{float(np.float32(1 / 3)):{fig.layout.yaxis.tickformat.replace('~', '')}}" == "0.3333"


def test_the_html_report_has_curves_axis_titles_markers_and_the_confusion_matrix():
    summary = Summary("r1", "finished", best_step=10, confusion_matrix=[[3, 1], [0, 4]],
                      corpus={"labels": ["A", "B"]}, baselines={"majority": {"label": "majority class",
                                                                            "test_acc": 0.5}})
    page = report_html(summary, frame())
    for text in ("global batch step", "cross-entropy", "best validation", "Confusion matrix", "majority class"):
        assert text in page


def test_a_band_over_runs_evaluated_at_different_steps_is_a_band_not_a_zigzag():
    import numpy as np
    import pandas as pd

    from lyricsdash.charts import band_figure

    even = pd.DataFrame({"step": np.arange(0, 101, 2), "test_acc": np.arange(0, 101, 2) / 200})
    odd = pd.DataFrame({"step": np.arange(1, 100, 2), "test_acc": np.arange(1, 100, 2) / 200 + 0.1})
    fig = band_figure({"seeds": [even, odd]})
    band, mean = fig.data[0], fig.data[1]
    assert np.all(np.diff(np.asarray(mean.y)) > 0)  # it zigzagged between the two seeds
    n = len(mean.x)
    width = np.asarray(band.y[:n]) - np.asarray(band.y[n:])[::-1]
    assert np.allclose(width, 0.1)  # max - min: the seeds' offset everywhere
    assert mean.x[0] == 1 and mean.x[-1] == 99  # only where both runs have values


def test_the_system_chart_draws_a_panel_per_recorded_quantity():
    from lyricsdash.charts import system_figure

    cpu = pd.DataFrame({"elapsed_s": [5.0, 10.0], "step": [3, 9], "cpu_percent": [98.0, 101.0],
                        "rss_mb": [400.0, 410.0], "gpu_percent": [np.nan] * 2, "gpu_memory_mb": [np.nan] * 2})
    assert [t.text for t in system_figure(cpu).layout.annotations] == ["CPU % (100 = one core)",
                                                                      "memory (MB resident)"]
    gpu = cpu.assign(gpu_percent=[50.0, 60.0], gpu_memory_mb=[900.0, 950.0])
    fig = system_figure(gpu)
    assert len(fig.data) == 4 and list(fig.data[2].y) == [50.0, 60.0]


def test_full_evaluations_are_dots_on_a_rolling_curve_and_survive_downsampling():
    f = frame(5000)
    f["eval_lag"] = (f["step"] - 1) % 1000  # full at steps 1, 1001, ...; rolling between
    f["val_best"] = np.where(f["eval_lag"] == 0, 0.0, np.nan)  # the engine flags its full evaluations
    fig = accuracy_figure(f, max_points=200)
    dots = [t for t in fig.data if t.mode == "markers" and t.legendgroup == "test"]
    assert len(dots) == 1 and list(dots[0].x) == [1, 1001, 2001, 3001, 4001]
    line = next(t for t in fig.data if t.name == "test acc")
    assert {1, 1001, 2001, 3001, 4001} <= set(line.x) and len(line.x) <= 200 + 6
    f["eval_lag"], f["val_best"] = 0, 0.0  # every step in full (eval_every=1): nothing to tell apart, no dots
    assert not [t for t in accuracy_figure(f).data if t.mode == "markers"]
