"""``<trainer>_smoke``: every shipped trainer with the short budget of ``budget.SmokeBudget`` (CPU checks, tests, demo);
the pruning trainers' are made in ``pruning_trainers``."""

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_lunet.trainers.budget import SmokeBudget
from nnunet_lunet.trainers.lunet import nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8
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
