"""``<trainer>_budget``: the shipped trainers with a budget set by environment variables (``budget.Budget``).

What real CPU comparisons train (``nnunet-lunet compare`` sets the budget for every run); unset, the budget is
nnU-Net's own. ``_smoke`` (``smoke.py``) is the 2 x 5 setup check.

The pruning trainers prune gradually through 75%, 50% and 25% of the original channels, laid out over the budget
(``pruning.GradualPruning``, ``nnunet_lunet.pruning.schedule.GradualSchedule``), recording each level's network,
checkpoint and nnU-Net validation. All four criteria train WITHOUT targeted dropout: the comparison's other rows
(LUnets, scaled U-Nets, the pruned widths retrained from scratch, the default network) train without it, so each
pruning row differs from them, and from the other criteria, only in how its channels were chosen; widest-layer has
no activation scores to set the dropout from without an extra scoring pass; and at these budgets (hundreds of steps)
dropout's regularising effect is not what is measured. STAMP's targeted dropout stays in ``nnUNetTrainerSTAMP``.
"""

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer

from nnunet_lunet.trainers.budget import Budget
from nnunet_lunet.trainers.lunet import nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8
from nnunet_lunet.trainers.pruning import (GradualPruning, nnUNetTrainerPruneL1Unnormalised,
                                           nnUNetTrainerPruneRandomInLayer, nnUNetTrainerPruneWidest, nnUNetTrainerSTAMP)
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


class GradualPruningWithoutDropout(GradualPruning):
    """The pruning rows' setting: the gradual schedule, no targeted dropout (see the module docstring)."""

    pruning_targeted_dropout = False


class nnUNetTrainerSTAMP_budget(Budget, GradualPruningWithoutDropout, nnUNetTrainerSTAMP):
    """STAMP's activation criterion, pruned gradually to 25% at a set budget."""


class nnUNetTrainerPruneRandomInLayer_budget(Budget, GradualPruningWithoutDropout, nnUNetTrainerPruneRandomInLayer):
    """A random channel of the layer STAMP would prune, pruned gradually to 25% at a set budget."""


class nnUNetTrainerPruneWidest_budget(Budget, GradualPruningWithoutDropout, nnUNetTrainerPruneWidest):
    """A random channel of the widest layer, pruned gradually to 25% at a set budget."""


class nnUNetTrainerPruneL1Unnormalised_budget(Budget, GradualPruningWithoutDropout, nnUNetTrainerPruneL1Unnormalised):
    """The smallest filter L1 norms across layers, not normalised per layer, pruned gradually to 25% at a set
    budget (claim (d)'s control)."""
