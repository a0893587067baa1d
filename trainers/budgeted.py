"""``<trainer>_budget``: the shipped trainers with a budget set by environment variables (``budget.Budget``).

What real CPU comparisons train (``nnunet-lunet compare`` sets the budget for every run); unset, the budget is
nnU-Net's own. ``_smoke`` (``smoke.py``) is the 2 x 5 setup check.

The pruning trainers' ``_budget`` variants (gradual pruning through 75%, 50% and 25% of the original channels, laid
out over the budget) are made with the other pruning trainers from one table: ``pruning_trainers``.
"""

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_lunet.trainers.budget import Budget
from nnunet_lunet.trainers.lunet import nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8
from nnunet_lunet.trainers.recipes import nnUNetTrainerLeanRecipe


class nnUNetTrainer_budget(Budget, nnUNetTrainer):
    """nnU-Net's own recipe (SGD, momentum 0.99) at a set budget."""


class nnUNetTrainerLeanRecipe_budget(Budget, nnUNetTrainerLeanRecipe):
    """The lean recipe on the plans' own network at a set budget: with width-variant plans
    (``-c 3d_fullres_lunet16``, ``3d_fullres_scaled50``, ...) it trains every row of a comparison."""


class nnUNetTrainerLUnet_budget(Budget, nnUNetTrainerLUnet):
    pass


class nnUNetTrainerLUnet16_budget(Budget, nnUNetTrainerLUnet16):
    pass


class nnUNetTrainerLUnet8_budget(Budget, nnUNetTrainerLUnet8):
    pass
