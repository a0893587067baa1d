"""Dataset naming and plans reading (``nnunet_lunet.datasets``): the id of a name, configuration inheritance and its
cycle guard, and the errors for missing plans and dataset.json."""

import json

import pytest

from nnunet_lunet.datasets import dataset_id, load_dataset_json, load_plans, resolved_configuration
from nnunet_lunet.errors import LUnetError


def test_dataset_id_of_a_name():
    assert dataset_id("Dataset004_Hippocampus") == 4
    assert dataset_id("Dataset123_A_B") == 123
    with pytest.raises(ValueError, match="not an nnU-Net dataset name"):
        dataset_id("Task04_Hippocampus")


PLANS = {"plans_name": "p", "configurations": {
    "3d_fullres": {"patch_size": [8, 8, 8], "batch_size": 2, "data_identifier": "d"},
    "3d_fullres_lunet16": {"inherits_from": "3d_fullres", "batch_size": 4},
    "deeper": {"inherits_from": "3d_fullres_lunet16", "patch_size": [4, 4, 4]},
    "a": {"inherits_from": "b"}, "b": {"inherits_from": "c"}, "c": {"inherits_from": "a"},
    "orphan": {"inherits_from": "missing"}}}


def test_inheritance_is_merged_nearest_first():
    assert resolved_configuration(PLANS, "3d_fullres") == PLANS["configurations"]["3d_fullres"]
    assert resolved_configuration(PLANS, "3d_fullres_lunet16") == {"patch_size": [8, 8, 8], "batch_size": 4,
                                                                   "data_identifier": "d"}
    assert resolved_configuration(PLANS, "deeper") == {"patch_size": [4, 4, 4], "batch_size": 4,
                                                       "data_identifier": "d"}


def test_an_inheritance_cycle_or_missing_parent_is_refused():
    with pytest.raises(LUnetError, match=r"inherits from itself \(a -> b -> c -> a\)"):
        resolved_configuration(PLANS, "a")
    with pytest.raises(LUnetError, match="unknown configuration 'missing'"):
        resolved_configuration(PLANS, "orphan")
    with pytest.raises(LUnetError, match="unknown configuration 'nope'.*available are"):
        resolved_configuration(PLANS, "nope")


def test_missing_files_name_the_command_that_writes_them(tmp_path, monkeypatch):
    monkeypatch.setenv("nnUNet_preprocessed", str(tmp_path))
    (tmp_path / "Dataset007_X").mkdir()
    with pytest.raises(LUnetError, match=r"no plans 'nnUNetResEncUNetMPlans'.*nnUNetv2_plan_experiment -d 7 -pl "
                                         r"nnUNetPlannerResEncM"):
        load_plans("Dataset007_X", "nnUNetResEncUNetMPlans")
    with pytest.raises(LUnetError, match=r"dataset.json is missing: run nnUNetv2_plan_and_preprocess -d 7"):
        load_dataset_json("Dataset007_X")
    (tmp_path / "Dataset007_X" / "nnUNetPlans.json").write_text(json.dumps(PLANS))
    (tmp_path / "Dataset007_X" / "dataset.json").write_text(json.dumps({"file_ending": ".nii.gz"}))
    assert load_plans("Dataset007_X", "nnUNetPlans") == PLANS
    assert load_dataset_json("Dataset007_X") == {"file_ending": ".nii.gz"}
