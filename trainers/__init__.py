"""nnU-Net trainer classes shipped by nnunet-lunet (installed as ``nnunet_lunet.trainers``).

nnU-Net finds them by name (``-tr``) through ``nnunet_lunet/ext_trainers``; see ``nnunet_lunet.ext_trainer_path``.
The pruning trainers (every criterion, with its ``_budget`` and ``_smoke`` variants) come from one table in
``pruning_trainers``.
"""

from nnunet_lunet.trainers import pruning_trainers
from nnunet_lunet.trainers.budgeted import (nnUNetTrainer_budget, nnUNetTrainerLeanRecipe_budget,
                                            nnUNetTrainerLUnet16_budget, nnUNetTrainerLUnet8_budget,
                                            nnUNetTrainerLUnet_budget)
from nnunet_lunet.trainers.lunet import nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8
from nnunet_lunet.trainers.pruning_trainers import TRAINERS as _PRUNING_TRAINERS
from nnunet_lunet.trainers.recipes import nnUNetTrainerLeanRecipe, nnUNetTrainerMomentum095
from nnunet_lunet.trainers.smoke import (nnUNetTrainer_smoke, nnUNetTrainerLeanRecipe_smoke, nnUNetTrainerLUnet16_smoke,
                                         nnUNetTrainerLUnet8_smoke, nnUNetTrainerLUnet_smoke,
                                         nnUNetTrainerMomentum095_smoke)

globals().update(_PRUNING_TRAINERS)

__all__ = [
    "nnUNetTrainerLeanRecipe", "nnUNetTrainerMomentum095", "nnUNetTrainerLeanRecipe_smoke",
    "nnUNetTrainerMomentum095_smoke",
    "nnUNetTrainerLUnet", "nnUNetTrainerLUnet16", "nnUNetTrainerLUnet8",
    "nnUNetTrainer_smoke", "nnUNetTrainerLUnet_smoke", "nnUNetTrainerLUnet16_smoke", "nnUNetTrainerLUnet8_smoke",
    "nnUNetTrainer_budget", "nnUNetTrainerLeanRecipe_budget", "nnUNetTrainerLUnet_budget",
    "nnUNetTrainerLUnet16_budget", "nnUNetTrainerLUnet8_budget",
    *pruning_trainers.__all__,
]
