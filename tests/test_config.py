import pytest

from lyricsdash.config import ConfigError, TrainConfig, field_names, field_spec, parse_overrides


def test_defaults_are_valid_and_every_field_is_documented():
    cfg = TrainConfig()
    for name in field_names():
        spec = field_spec(name)
        assert spec["help"], name
        assert spec["type"] in (int, float, bool, str)
        if spec["choices"]:
            assert getattr(cfg, name) in spec["choices"]
        elif spec["type"] in (int, float):
            assert spec["min"] is not None and spec["max"] is not None, name
            assert spec["min"] <= getattr(cfg, name) <= spec["max"]


def test_every_field_is_placed_once_with_a_label_and_its_slider_steps_in_range():
    from lyricsdash.config import GROUPS, groups

    placed = [name for names in groups().values() for name in names]
    assert sorted(placed) == sorted(field_names()) and list(groups()) == list(GROUPS)
    assert all(groups().values())  # no empty group on the Train page
    labels = [field_spec(n)["label"] for n in field_names()]
    assert all(labels) and len(set(labels)) == len(labels)
    for name in field_names():
        spec = field_spec(name)
        if spec["steps"]:
            assert spec["min"] <= min(spec["steps"]) and max(spec["steps"]) <= spec["max"], name
            assert spec["default"] in spec["steps"], name


def test_unknown_key_is_an_error_that_lists_known_keys():
    with pytest.raises(ConfigError, match="Unknown setting.*hiden_size.*Known settings.*hidden_size"):
        TrainConfig.from_dict({"hiden_size": 3})


@pytest.mark.parametrize("key,value,msg", [
    ("hidden_size", "abc", "type int"),
    ("hidden_size", 0, "out of range"),
    ("lr", "1e9", "out of range"),
    ("lr", "nan", "finite"),
    ("pooling", "sum", "not one of"),
    ("bidirectional", "maybe", "type bool"),
    ("epochs", 2.5, "type int"),
    ("dropout", True, "type float"),
])
def test_bad_values_are_refused(key, value, msg):
    with pytest.raises(ConfigError, match=msg):
        TrainConfig.from_dict({key: value})


def test_string_values_from_the_command_line_are_parsed():
    cfg = TrainConfig.from_dict(parse_overrides(["lr=0.01", "bidirectional=false", "epochs=3", "pooling=mean"]))
    assert (cfg.lr, cfg.bidirectional, cfg.epochs, cfg.pooling) == (0.01, False, 3, "mean")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_override_without_equals_sign_is_an_error():
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["lr"])


def test_only_context_bag_chars_reads_character_n_gram_buckets():
    assert TrainConfig().char_buckets_read == TrainConfig().char_buckets == 32768
    assert TrainConfig(context="bag").char_buckets_read == TrainConfig(context="off").char_buckets_read == 0
    assert TrainConfig(char_buckets=1024).char_buckets_read == 1024


def test_a_run_saved_before_bag_dropout_reads_its_own_dropout_there():
    assert TrainConfig.from_saved({"dropout": 0.3}).bag_dropout == 0.3  # the bag shared it: resumed, it still does
    assert TrainConfig.from_saved({"dropout": 0.3, "bag_dropout": 0.2}).bag_dropout == 0.2
