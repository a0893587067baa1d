"""Trainers that train a Lean U-Net (one width at every stage) in place of nnU-Net's default PlainConvUNet.

The network: only ``build_network_architecture`` is overridden. nnU-Net's predictor calls the same hook
(``nnUNetv2_predict ... -tr nnUNetTrainerLUnet``), so training and inference build the same network.
The recipe: the lean recipe (Adam lr 1e-3, poly; ``nnunet_lunet.trainers.recipes``), because nnU-Net's SGD with
momentum 0.99 leaves thin networks at "all background". For a LUnet under nnU-Net's own recipe, train the flat plans
with the standard trainer instead: ``-p nnUNetPlans_lunet -c 3d_fullres_lunet16 -tr nnUNetTrainer``.
"""

from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager, PlansManager
from torch import nn

from nnunet_lunet.architecture import architecture_of, require_supported, with_widths
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans_networks import build_network
from nnunet_lunet.trainers.recipes import nnUNetTrainerLeanRecipe
from nnunet_lunet.widths import flat_widths


class nnUNetTrainerLUnet(nnUNetTrainerLeanRecipe):
    """LUnet with nnU-Net's base width, 32 channels at every stage, trained with the lean recipe; subclasses change
    ``lunet_width`` only."""

    lunet_width = 32

    # A classmethod, not nnU-Net's staticmethod, so that width variants only set a class attribute; nnU-Net calls
    # it as self.build_network_architecture(...) in training and trainer_class.build_network_architecture(...) in
    # prediction, and both work with a classmethod.
    @classmethod
    def build_network_architecture(cls, plans_manager: PlansManager, configuration_manager: ConfigurationManager,
                                   num_input_channels: int, num_output_channels: int,
                                   enable_deep_supervision: bool = True) -> nn.Module:
        architecture = architecture_of(configuration_manager)
        try:
            require_supported(architecture, "this configuration")
        except LUnetError as e:
            raise LUnetError(f"{cls.__name__}: {e}") from None
        flat = with_widths(architecture, flat_widths(cls.lunet_width, architecture["arch_kwargs"]["n_stages"]))
        return build_network(flat, num_input_channels, num_output_channels, enable_deep_supervision)


class nnUNetTrainerLUnet16(nnUNetTrainerLUnet):
    """LUnet, 16 channels at every stage (the paper's best trade-off is at 8-16)."""

    lunet_width = 16


class nnUNetTrainerLUnet8(nnUNetTrainerLUnet):
    """LUnet, 8 channels at every stage."""

    lunet_width = 8
