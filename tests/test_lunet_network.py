"""The LUnet trainers build nnU-Net's PlainConvUNet with one width everywhere, and nothing else changed."""

import pytest
import torch
from torch import nn

from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.trainers import nnUNetTrainerLUnet, nnUNetTrainerLUnet8, nnUNetTrainerLUnet16
from plans_factory import closed_form_parameters, configuration_manager


def _convs(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d))]


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("in_channels", [1, 2])
@pytest.mark.parametrize("n_stages", [3, 5, 7])
@pytest.mark.parametrize("trainer", [nnUNetTrainerLUnet, nnUNetTrainerLUnet16, nnUNetTrainerLUnet8])
def test_every_conv_has_the_lunet_width(dims, in_channels, n_stages, trainer):
    classes = 3
    net = trainer.build_network_architecture(None, configuration_manager(dims, n_stages), in_channels, classes, True)
    width = trainer.lunet_width
    seg_layers = set(net.decoder.seg_layers)
    for conv in _convs(net):
        if conv in seg_layers:
            assert (conv.in_channels, conv.out_channels) == (width, classes)
        else:
            assert conv.out_channels == width, conv
            assert conv.in_channels in (in_channels, width, 2 * width), conv  # stem, conv, skip concat
    assert net.encoder.output_channels == [width] * n_stages
    assert count_parameters(net) == closed_form_parameters([width] * n_stages, dims, in_channels, classes)


def test_four_stage_3d_count_matches_default_formula_for_default_widths():
    # The closed form itself is checked against nnU-Net's own default network.
    from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer
    cm = configuration_manager(3, 4)
    net = nnUNetTrainer.build_network_architecture(None, cm, 1, 3, True)
    assert count_parameters(net) == closed_form_parameters([32, 64, 128, 256], 3, 1, 3)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("deep_supervision", [True, False])
def test_lunet_forward_shapes(dims, deep_supervision):
    net = nnUNetTrainerLUnet16.build_network_architecture(None, configuration_manager(dims, 4), 2, 3,
                                                          deep_supervision)
    out = net(torch.zeros((1, 2) + (16,) * dims))
    first = out[0] if deep_supervision else out
    assert first.shape == (1, 3) + (16,) * dims
    if deep_supervision:
        assert len(out) == 3  # one output per decoder stage


def test_lunet_refuses_other_networks():
    from nnunet_lunet.errors import LUnetError
    from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager
    from plans_factory import plain_conv_unet_configuration
    cfg = plain_conv_unet_configuration(3, 4)
    cfg["architecture"]["network_class_name"] = "dynamic_network_architectures.architectures.unet.ResidualUNet"
    with pytest.raises(LUnetError, match="supports only .*PlainConvUNet.*ResidualEncoderUNet"):
        nnUNetTrainerLUnet.build_network_architecture(None, ConfigurationManager(cfg), 1, 3, True)
