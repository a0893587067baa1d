"""``plans.run_names``: every builder of a run's names and its parser side by side; each parser undoes its builder,
and names of other kinds parse to nothing (no training, milliseconds)."""

import pytest

from nnunet_lunet.plans import run_names as names

TRAINERS = ["nnUNetTrainer", "nnUNetTrainerLeanRecipe_budget", "nnUNetTrainerSTAMP_budget", "nnUNetTrainer_smoke"]
CONFIGURATIONS = ["3d_fullres", "3d_fullres_lunet16", "2d_scaled_as_lunet8",
                  "3d_fullres_pruned_nnUNetTrainerSTAMP_budget_f1_level50"]


@pytest.mark.parametrize("trainer", TRAINERS)
@pytest.mark.parametrize("configuration", CONFIGURATIONS)
@pytest.mark.parametrize("fold", [0, 4, "all"])
def test_model_fold_and_run_names_round_trip(trainer, configuration, fold):
    model = names.model_name(trainer, "nnUNetPlans_compare_b2", configuration)
    assert names.parse_model_name(model) == (trainer, "nnUNetPlans_compare_b2", configuration)
    assert names.parse_fold_name(names.fold_name(fold)) == str(fold)
    path = names.run_path(trainer, "nnUNetPlans", configuration, fold)
    assert names.parse_run_path(path) == (trainer, "nnUNetPlans", configuration, str(fold))
    assert names.parse_run_path("/results/Dataset004_Hippocampus/" + path) == names.parse_run_path(path)


@pytest.mark.parametrize("name", ["lunet_compare_paper_3d_fullres", "a__b", "a____c", "a__b__c__d", ""])
def test_other_folder_names_are_no_models(name):
    assert names.parse_model_name(name) is None
    assert names.parse_fold_name(name) is None and names.parse_fold_name("fold_x") is None


@pytest.mark.parametrize("rule, value, suffix", [("flat", 16, "lunet16"), ("flat", 4, "lunet4"),
                                                 ("scaled", 0.5, "scaled50"), ("scaled", 0.25, "scaled25"),
                                                 ("matched", 8, "scaled_as_lunet8")])
def test_width_suffixes_round_trip(rule, value, suffix):
    assert names.width_suffix(rule, value) == suffix
    assert names.parse_width_suffix(suffix) == (rule, value)
    configuration = names.variant_configuration("3d_fullres", suffix)
    assert names.suffix_of(configuration, "3d_fullres") == suffix
    assert names.variant_configuration("3d_fullres", "") == "3d_fullres" and names.parse_width_suffix("pruned") is None


@pytest.mark.parametrize("base", ["3d_fullres", "2d", "3d_lowres"])
@pytest.mark.parametrize("trainer", ["nnUNetTrainerSTAMP_budget", "nnUNetTrainerPruneWidest"])
@pytest.mark.parametrize("fold, level, step", [(0, 50, None), (3, None, 120), ("all", None, None), ("*", 75, None)])
def test_pruned_configurations_round_trip(base, trainer, fold, level, step):
    configuration = names.pruned_configuration(base, trainer, fold, level=level, step=step)
    if fold != "*":
        expected = names.Pruned(base, trainer, str(fold), level, step)
        assert names.parse_pruned(configuration) == expected
        assert names.parse_pruned(configuration, base) == expected
    assert names.parse_pruned(configuration, "3d_other") is None
    assert names.parse_pruned(base + "_lunet16") is None


@pytest.mark.parametrize("trainer, criterion", [
    ("nnUNetTrainerSTAMP", "STAMP"), ("nnUNetTrainerSTAMP_budget", "STAMP"), ("nnUNetTrainerSTAMP_smoke", "STAMP"),
    ("nnUNetTrainerPruneRandomInLayer_budget", "Random in layer"), ("nnUNetTrainerPruneWidest_smoke", "Widest layer"),
    ("nnUNetTrainerPruneL1Unnormalised", "L1 unnormalised"), ("nnUNetTrainerSTAMPish", None),
    ("nnUNetTrainerLeanRecipe_budget", None)])
def test_trainer_to_criterion_from_the_name_alone(trainer, criterion):
    assert names.criterion_of(trainer) == criterion


def test_every_pruning_trainer_the_package_installs_has_its_criterion():
    from nnunet_lunet import trainers
    pruning = [t for t in trainers.__all__ if "STAMP" in t or "Prune" in t]
    assert pruning and all(names.criterion_of(t) for t in pruning), pruning


def test_trainer_labels_and_compare_files():
    assert names.short_trainer("nnUNetTrainerLeanRecipe_budget") == "LeanRecipe"
    assert names.short_trainer("nnUNetTrainer_smoke") == "nnUNetTrainer"
    assert names.lunet_trainer_width("nnUNetTrainerLUnet16_budget") == 16
    assert names.lunet_trainer_width("nnUNetTrainerLUnet") == 32 and names.lunet_trainer_width("nnUNetTrainer") is None
    assert names.lock_name("T", "P", "C", 2) == "T__P__C__f2"
    assert names.log_name("T", "P", "C", 2) == "T__P__C__fold_2.log"
