"""Schedule variants of nnUNetTrainerSTAMP_budget for the fold-0 sweep (one knob each)."""
from nnunet_lunet.trainers import nnUNetTrainerSTAMP_budget


class nnUNetTrainerSTAMPNoReset_budget(nnUNetTrainerSTAMP_budget):
    """Adam's moments are sliced along with the channels instead of cleared after every step."""
    pruning_reset_optimizer = False


class nnUNetTrainerSTAMPSteps4_budget(nnUNetTrainerSTAMP_budget):
    """4 steps a level instead of 8: twice the recovery iterations between steps."""
    pruning_steps_per_level = 4


class nnUNetTrainerSTAMPGuard25_budget(nnUNetTrainerSTAMP_budget):
    """The guard fails below a quarter of the level's reference pseudo-Dice instead of half."""
    pruning_guard_fraction = 0.25
