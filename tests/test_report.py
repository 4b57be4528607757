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
