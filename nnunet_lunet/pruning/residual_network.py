"""``PrunedResidualEncoderUNet``: nnU-Net's ResidualEncoderUNet at arbitrary widths (``residual_layers``).

Rules (those of ``network.PrunedPlainConvUNet``, with the residual encoder's widths):

- Without ``layer_widths`` it is exactly a ResidualEncoderUNet. With them, it is built from the plans'
  ``features_per_stage`` (which fix its residual groups: where projection convs exist) and then resized to the widths;
  resized modules are freshly initialised, and ``get_network_from_plans`` then applies ``initialize`` as for any
  ResidualEncoderUNet.
- ``load_state_dict`` first resizes the layers to the incoming tensors' widths (a load-state-dict pre-hook, so also
  through DDP or torch.compile wrappers), keeping every ``nn.Parameter`` object, then loads strictly. Everything but
  widths comes from the plans; a state dict of another structure is refused naming expected and found shapes.
- Only ``BasicBlockD`` blocks and the default stem (nnU-Net's ResEnc presets) are supported: others raise a TypeError
  at construction.
- ``compute_conv_feature_map_size`` (only nnU-Net's planner calls it) is ResidualEncoderUNet's; after pruning a block
  whose input and output widths became equal while it has a projection, it fails on dynamic-network-architectures'
  own assertion.
"""

from typing import Optional

from dynamic_network_architectures.architectures.unet import ResidualEncoderUNet

from nnunet_lunet.pruning.layer_widths import LayerWidths
from nnunet_lunet.pruning.network import fit_to_state_dict, resize_to_layer_widths
from nnunet_lunet.pruning.residual_layers import require_residual_encoder_unet


class PrunedResidualEncoderUNet(ResidualEncoderUNet):
    """A ResidualEncoderUNet at widths ``layer_widths`` (see ``residual_layers``) that loads any-width checkpoints.

    Takes ResidualEncoderUNet's arguments plus ``layer_widths`` (None: exactly a ResidualEncoderUNet). Plans name it
    ``nnunet_lunet.pruning.residual_network.PrunedResidualEncoderUNet``; ``layer_widths`` may be given in the plans'
    ``arch_kwargs``. See the module docstring for the rules.
    """

    def __init__(self, *args, layer_widths: Optional[LayerWidths] = None, **kwargs):
        super().__init__(*args, **kwargs)
        require_residual_encoder_unet(self)
        if layer_widths is not None:
            resize_to_layer_widths(self, layer_widths)
        self.register_load_state_dict_pre_hook(fit_to_state_dict)
