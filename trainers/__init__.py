"""nnU-Net trainer classes shipped by nnunet-lunet (installed as ``nnunet_lunet.trainers``).

nnU-Net finds them by name (``-tr``) through ``nnunet_lunet/ext_trainers``; see ``nnunet_lunet.ext_trainer_path``.
"""

from nnunet_lunet.trainers.budgeted import (nnUNetTrainer_budget, nnUNetTrainerLeanRecipe_budget,
                                            nnUNetTrainerLUnet16_budget, nnUNetTrainerLUnet8_budget,
                                            nnUNetTrainerLUnet_budget, nnUNetTrainerPruneL1Unnormalised_budget,
                                            nnUNetTrainerPruneRandomInLayer_budget, nnUNetTrainerPruneWidest_budget,
                                            nnUNetTrainerSTAMP_budget)
from nnunet_lunet.trainers.lunet import nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8
from nnunet_lunet.trainers.pruning import (nnUNetTrainerPruneL1Unnormalised, nnUNetTrainerPruneRandomInLayer,
                                           nnUNetTrainerPruneWidest, nnUNetTrainerSTAMP)
from nnunet_lunet.trainers.recipes import nnUNetTrainerLeanRecipe, nnUNetTrainerMomentum095
from nnunet_lunet.trainers.smoke import (nnUNetTrainer_smoke, nnUNetTrainerLeanRecipe_smoke, nnUNetTrainerLUnet16_smoke,
                                         nnUNetTrainerLUnet8_smoke, nnUNetTrainerLUnet_smoke,
                                         nnUNetTrainerMomentum095_smoke, nnUNetTrainerPruneL1Unnormalised_smoke,
                                         nnUNetTrainerPruneRandomInLayer_smoke, nnUNetTrainerPruneWidest_smoke,
                                         nnUNetTrainerSTAMP_smoke)

__all__ = [
    "nnUNetTrainerLeanRecipe", "nnUNetTrainerMomentum095", "nnUNetTrainerLeanRecipe_smoke",
    "nnUNetTrainerMomentum095_smoke",
    "nnUNetTrainerLUnet", "nnUNetTrainerLUnet16", "nnUNetTrainerLUnet8",
    "nnUNetTrainer_smoke", "nnUNetTrainerLUnet_smoke", "nnUNetTrainerLUnet16_smoke", "nnUNetTrainerLUnet8_smoke",
    "nnUNetTrainerSTAMP", "nnUNetTrainerPruneRandomInLayer", "nnUNetTrainerPruneWidest",
    "nnUNetTrainerPruneL1Unnormalised",
    "nnUNetTrainer_budget", "nnUNetTrainerLeanRecipe_budget", "nnUNetTrainerLUnet_budget",
    "nnUNetTrainerLUnet16_budget", "nnUNetTrainerLUnet8_budget",
    "nnUNetTrainerSTAMP_budget", "nnUNetTrainerPruneRandomInLayer_budget", "nnUNetTrainerPruneWidest_budget",
    "nnUNetTrainerPruneL1Unnormalised_budget",
    "nnUNetTrainerSTAMP_smoke", "nnUNetTrainerPruneRandomInLayer_smoke", "nnUNetTrainerPruneWidest_smoke",
    "nnUNetTrainerPruneL1Unnormalised_smoke",
]
