"""The records the package keeps beside a run (``pruning_log.json`` / ``.csv``, compare's ``compare.json``) are
written through ``safe_output``'s atomic writer: a write that fails part-way leaves the previous record as it was and
no temporary file behind. (A value JSON cannot hold makes ``json.dump`` fail after it has written part of the file.)
"""

import os

import pytest


def _pruning_log():
    from nnunet_lunet.pruning.pruning_log import new_log, step_record

    widths = {"encoder": [[4, 4], [8, 8]], "decoder": [[4, 4]], "transpconv": [4]}
    log = new_log("stamp", {}, widths, 1000)
    log["steps"] = [step_record(1, 1, {"encoder.stages.1.0.convs.0.conv": [0, 3]}, widths, 900, 1.5)]
    return log


def test_a_failed_pruning_log_write_keeps_the_previous_log_and_leaves_no_temporary(tmp_path):
    from nnunet_lunet.pruning.pruning_log import LOG_CSV, LOG_JSON, read_log, write_log

    log = _pruning_log()
    write_log(str(tmp_path), log)
    csv_before = (tmp_path / LOG_CSV).read_text()
    with pytest.raises(TypeError):
        write_log(str(tmp_path), dict(log, schedule={"not JSON": object()}))
    assert read_log(str(tmp_path)) == log
    assert (tmp_path / LOG_CSV).read_text() == csv_before
    assert sorted(os.listdir(tmp_path)) == sorted([LOG_CSV, LOG_JSON])


def test_a_failed_compare_record_write_keeps_the_previous_record_and_leaves_no_temporary(tmp_path):
    from nnunet_lunet.compare.runner import CompareSettings, Plan, _write_record

    plan = Plan(dataset="Dataset990_X", rows=[], plans="nnUNetPlans_compare", missing=[], folds=[0], jobs=[],
                output=str(tmp_path))
    _write_record(plan, CompareSettings(dataset="990", configuration="2d", preset="p", folds=[0]))
    before = (tmp_path / "compare.json").read_text()
    with pytest.raises(TypeError):
        _write_record(plan, CompareSettings(dataset="990", configuration="2d", preset="p", folds=[0],
                                            device=object()))
    assert (tmp_path / "compare.json").read_text() == before
    assert os.listdir(tmp_path) == ["compare.json"]
