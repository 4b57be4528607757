from lyricsdash.report import kept_label, report_text
from lyricsdash.runs import Summary


def _summary(status, **kw):
    return Summary("r1", status=status, keep="final", total_steps=2100, kept_step=677, checkpoint=True,
                   steps=677, test_accuracy=0.5, test_loss=1.0, **kw)


def test_only_a_finished_run_claims_the_whole_schedule():
    assert "after the whole schedule" in kept_label(_summary("finished", ))
    for status in ("stopped", "running", "interrupted", "failed"):
        label = kept_label(_summary(status))
        assert "after the whole schedule" not in label and "677 of 2,100" in label, label


def test_the_report_states_the_temperature_and_calibration_error_once_fitted():
    assert "temperature" not in report_text(_summary("running"))
    text = report_text(_summary("finished", temperature=2.5, test_ece=0.031))
    assert "temperature of 2.50" in text and "3.1 %" in text


def test_the_report_says_whether_and_from_what_the_run_distilled():
    from lyricsdash.config import TrainConfig

    def report(n_artists, **settings):
        config = TrainConfig(**settings).to_dict() | {"world_size": 1}
        corpus = {"labels": [f"artist {i}" for i in range(n_artists)]}
        return report_text(_summary("finished", config=config, corpus=corpus))

    assert "Distillation: 0.5 of the training loss from a TF-IDF chars + LR teacher" in report(20)
    assert "Distillation: none (teacher=auto: under 10 artists)" in report(3)
    assert "TF-IDF tokens + LR teacher" in report(3, teacher="tokens")
    assert "Distillation: none\n" in report(20, distill=0.0) + "\n"
    assert "Distillation" not in report_text(_summary("finished"))  # settings unknown: nothing claimed
