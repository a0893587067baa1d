"""Training recipes (optimizer and learning-rate schedule) as trainers, apart from the network.

nnU-Net's way: the plans choose the network (``-p nnUNetPlans_lunet -c 3d_fullres_lunet16``), the trainer chooses
the recipe (``-tr ...``). These trainers change nothing but ``configure_optimizers``/``initial_lr``, so they train any
network of any plans; the LUnet and pruning trainers inherit the lean recipe.

Why a recipe of its own: nnU-Net's SGD (lr 1e-2, Nesterov momentum 0.99, poly decay) leaves thin networks at "all
background". Measured on MSD Hippocampus fold 0, 3d_fullres, batch 2, 12 epochs x 25 iterations, one run each
(``benchmarks/hippocampus/recipes``): LUnet16 reaches validation Dice 0.000 with momentum 0.99, 0.593 with 0.95 and
0.805 with Adam lr 1e-3; nnU-Net's default network 0.455, 0.832 and 0.823. nnU-Net v1 had a guard for this stall
(momentum 0.99 -> 0.95 and re-initialisation when the Dice estimate is 0 at epoch 100), v2 dropped it; the LUnet
authors train with Adam. Adam lr 1e-3 is the only recipe under which both the thin and the default network learn
fast, so it is the lean recipe. It is nnU-Net's own ``nnUNetTrainerVanillaAdam1en3`` (Adam, lr 1e-3, weight decay
3e-5, nnU-Net's poly decay over the run), kept under a name of ours so that the LUnet trainers, the pruning trainers
and the recipe trainer change together if the recipe ever does.

Every trainer here (and so every trainer the package ships) is ``seeding.Seeded``: ``NNUNET_LUNET_SEED`` makes its
training repeatable; and ``safe_checkpoints.SafeCheckpoints``: it reads checkpoints with ``weights_only=True``.
"""

import torch
from nnunetv2.training.lr_scheduler.polylr import PolyLRScheduler
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
from nnunetv2.training.nnUNetTrainer.variants.optimizer.nnUNetTrainerAdam import nnUNetTrainerVanillaAdam1en3

from nnunet_lunet.trainers.safe_checkpoints import SafeCheckpoints
from nnunet_lunet.trainers.seeding import Seeded


class nnUNetTrainerLeanRecipe(SafeCheckpoints, Seeded, nnUNetTrainerVanillaAdam1en3):
    """The lean recipe (Adam lr 1e-3, poly) on whatever network the plans give: train nnU-Net's default network
    exactly as the LUnet trainers train theirs."""


class nnUNetTrainerMomentum095(SafeCheckpoints, Seeded, nnUNetTrainer):
    """nnU-Net's SGD with momentum 0.95 instead of 0.99: the value nnU-Net v1 fell back to when training stalled."""

    sgd_momentum = 0.95

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.network.parameters(), self.initial_lr, weight_decay=self.weight_decay,
                                    momentum=self.sgd_momentum, nesterov=True)
        return optimizer, PolyLRScheduler(optimizer, self.initial_lr, self.num_epochs)
