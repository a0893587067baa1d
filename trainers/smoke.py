"""``<trainer>_smoke``: every shipped trainer with the short budget of ``budget.SmokeBudget`` (CPU checks, tests, demo)."""

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_lunet.trainers.budget import SmokeBudget
from nnunet_lunet.trainers.lunet import nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8
from nnunet_lunet.trainers.pruning import (nnUNetTrainerPruneL1Unnormalised, nnUNetTrainerPruneRandomInLayer,
                                           nnUNetTrainerPruneWidest, nnUNetTrainerSTAMP)
from nnunet_lunet.trainers.recipes import nnUNetTrainerLeanRecipe, nnUNetTrainerMomentum095


class nnUNetTrainer_smoke(SmokeBudget, nnUNetTrainer):
    """nnU-Net's own recipe (SGD, momentum 0.99) with the smoke budget: what nnU-Net users train today."""


class nnUNetTrainerLeanRecipe_smoke(SmokeBudget, nnUNetTrainerLeanRecipe):
    """The LUnet trainers' recipe on the plans' own network: the equal-recipe baseline for LUnet and pruning."""


class nnUNetTrainerMomentum095_smoke(SmokeBudget, nnUNetTrainerMomentum095):
    pass


class nnUNetTrainerLUnet_smoke(SmokeBudget, nnUNetTrainerLUnet):
    pass


class nnUNetTrainerLUnet16_smoke(SmokeBudget, nnUNetTrainerLUnet16):
    pass


class nnUNetTrainerLUnet8_smoke(SmokeBudget, nnUNetTrainerLUnet8):
    pass


class SmokePruningSchedule:
    """A pruning schedule that fits the smoke budget: one step per epoch from epoch 1, 25% of the channels per
    step, down to 50% (one step in the default 2 epochs, the second when a run is continued or given more epochs)."""

    pruning_warmup_epochs = 1
    pruning_every_n_epochs = 1
    pruning_fraction_per_step = 0.25
    pruning_target_fraction = 0.5
    pruning_score_batches = 2


class nnUNetTrainerSTAMP_smoke(SmokePruningSchedule, SmokeBudget, nnUNetTrainerSTAMP):
    pass


class nnUNetTrainerPruneRandomInLayer_smoke(SmokePruningSchedule, SmokeBudget, nnUNetTrainerPruneRandomInLayer):
    pass


class nnUNetTrainerPruneWidest_smoke(SmokePruningSchedule, SmokeBudget, nnUNetTrainerPruneWidest):
    pass


class nnUNetTrainerPruneL1Unnormalised_smoke(SmokePruningSchedule, SmokeBudget, nnUNetTrainerPruneL1Unnormalised):
    pass
