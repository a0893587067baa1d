"""``plans.writer``: which existing plans file ``--overwrite`` (and compare, which always extends its own) may
replace. A file with the ``written_by`` entry is the package's; a file without it is the package's only when it is
plainly a width-variant copy of the source plans as an older version wrote it; anything else is refused with one
error that names what differs, and the file is left as it was.

In-process, on a hand-written plans file (no nnU-Net planning needed: the writer reads JSON only).
"""

import copy
import json

import pytest

DATASET = "Dataset990_Writer"
ARCH = {"network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
        "arch_kwargs": {"n_stages": 2, "features_per_stage": [32, 64]}, "_kw_requires_import": []}
SOURCE = {"dataset_name": DATASET, "plans_name": "nnUNetPlans", "original_median_spacing_after_transp": [1, 1, 1],
          "configurations": {"3d_fullres": {"batch_size": 2, "patch_size": [32, 32, 32], "architecture": ARCH},
                             "2d": {"batch_size": 12, "patch_size": [32, 32], "architecture": ARCH}}}
LUNET16 = {"inherits_from": "3d_fullres",
           "architecture": dict(ARCH, arch_kwargs={"n_stages": 2, "features_per_stage": [16, 16]})}
LUNET8 = {"inherits_from": "3d_fullres",
          "architecture": dict(ARCH, arch_kwargs={"n_stages": 2, "features_per_stage": [8, 8]})}


@pytest.fixture
def preprocessed(tmp_path, monkeypatch):
    monkeypatch.setenv("nnUNet_preprocessed", str(tmp_path))
    (tmp_path / DATASET).mkdir()
    (tmp_path / DATASET / "nnUNetPlans.json").write_text(json.dumps(SOURCE))
    return tmp_path / DATASET


def _older_compare_file():
    """What compare wrote before plans files carried ``written_by``: the source at batch size 1, plus LUnet16."""
    plans = copy.deepcopy(SOURCE)
    plans["plans_name"] = "nnUNetPlans_compare_b1"
    plans["configurations"]["3d_fullres"]["batch_size"] = 1
    plans["configurations"]["3d_fullres_lunet16"] = copy.deepcopy(LUNET16)
    return plans


def test_an_older_width_variant_file_without_the_entry_is_extended(preprocessed):
    from nnunet_lunet.plans.writer import write_plans_with

    path = preprocessed / "nnUNetPlans_compare_b1.json"
    path.write_text(json.dumps(_older_compare_file()))
    kept = _older_compare_file()["configurations"]
    write_plans_with(DATASET, "nnUNetPlans", "nnUNetPlans_compare_b1", dict(kept, **{"3d_fullres_lunet8": LUNET8}),
                     overwrite=True, command="compare")
    written = json.loads(path.read_text())
    assert written["configurations"] == dict(kept, **{"3d_fullres_lunet8": LUNET8, "2d": SOURCE["configurations"]["2d"]})
    assert written["written_by"]["package"] == "nnunet-lunet"


@pytest.mark.parametrize("edit, message", [
    (lambda p: p.update(plans_name="nnUNetPlans"), "its plans_name is 'nnUNetPlans', not 'nnUNetPlans_compare_b1'"),
    (lambda p: p.update(original_median_spacing_after_transp=[2, 1, 1]),
     "its entry 'original_median_spacing_after_transp' differs from the source plans'"),
    (lambda p: p["configurations"]["2d"].update(patch_size=[64, 64]),
     "its configuration 2d differs from the source plans' (beyond the batch size)"),
    (lambda p: p["configurations"]["3d_fullres_lunet16"].update(patch_size=[16, 16, 16]),
     "its configuration 3d_fullres_lunet16 is not a width variant"),
    (lambda p: p["configurations"].update(mine={"inherits_from": "3d_lowres", "architecture": ARCH}),
     "its configuration mine is not a width variant"),
])
def test_a_file_without_the_entry_that_is_not_a_variant_copy_is_refused_unchanged(preprocessed, edit, message):
    from nnunet_lunet.errors import LUnetError
    from nnunet_lunet.plans.writer import write_plans_with

    plans = _older_compare_file()
    edit(plans)
    path = preprocessed / "nnUNetPlans_compare_b1.json"
    path.write_text(json.dumps(plans))
    before = path.read_text()
    with pytest.raises(LUnetError) as refused:
        write_plans_with(DATASET, "nnUNetPlans", "nnUNetPlans_compare_b1", {"3d_fullres_lunet8": LUNET8},
                         overwrite=True, command="compare")
    assert "was not written by nnunet-lunet (no 'written_by' entry" in str(refused.value)
    assert message in str(refused.value)
    assert path.read_text() == before
