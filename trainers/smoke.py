"""``<trainer>_smoke``: every shipped trainer with the short budget of ``budget.SmokeBudget`` (CPU checks, tests, demo)."""

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_lunet.trainers.budget import SmokeBudget
from nnunet_lunet.trainers.lunet import nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8


class nnUNetTrainer_smoke(SmokeBudget, nnUNetTrainer):
    """nnU-Net's default network with the smoke budget: the baseline for LUnet and pruning at equal budget."""


class nnUNetTrainerLUnet_smoke(SmokeBudget, nnUNetTrainerLUnet):
    pass


class nnUNetTrainerLUnet16_smoke(SmokeBudget, nnUNetTrainerLUnet16):
    pass


class nnUNetTrainerLUnet8_smoke(SmokeBudget, nnUNetTrainerLUnet8):
    pass
