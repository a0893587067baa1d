"""nnU-Net trainer classes shipped by nnunet-lunet (installed as ``nnunet_lunet.trainers``).

nnU-Net finds them by name (``-tr``) through ``nnunet_lunet/ext_trainers``; see ``nnunet_lunet.ext_trainer_path``.
"""

from nnunet_lunet.trainers.lunet import nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8
from nnunet_lunet.trainers.pruning import nnUNetTrainerPruneRandomInLayer, nnUNetTrainerPruneWidest, nnUNetTrainerSTAMP
from nnunet_lunet.trainers.smoke import (nnUNetTrainer_smoke, nnUNetTrainerLUnet16_smoke, nnUNetTrainerLUnet8_smoke,
                                         nnUNetTrainerLUnet_smoke, nnUNetTrainerPruneRandomInLayer_smoke,
                                         nnUNetTrainerPruneWidest_smoke, nnUNetTrainerSTAMP_smoke)

__all__ = [
    "nnUNetTrainerLUnet", "nnUNetTrainerLUnet16", "nnUNetTrainerLUnet8",
    "nnUNetTrainer_smoke", "nnUNetTrainerLUnet_smoke", "nnUNetTrainerLUnet16_smoke", "nnUNetTrainerLUnet8_smoke",
    "nnUNetTrainerSTAMP", "nnUNetTrainerPruneRandomInLayer", "nnUNetTrainerPruneWidest",
    "nnUNetTrainerSTAMP_smoke", "nnUNetTrainerPruneRandomInLayer_smoke", "nnUNetTrainerPruneWidest_smoke",
]
