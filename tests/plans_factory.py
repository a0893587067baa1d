"""Hand-made nnU-Net configurations (no preprocessing needed) for unit tests of network building."""

from typing import List

from nnunetv2.utilities.plans_handling.plans_handler import ConfigurationManager


def plain_conv_unet_configuration(dims: int, n_stages: int, base: int = 32, max_features: int = 320,
                                  n_conv: int = 2, n_conv_decoder: int = 2) -> dict:
    """A configuration dict as nnU-Net's default planner writes it (widths min(max, base * 2**s))."""
    k = [3] * dims
    return {
        "data_identifier": f"test_{dims}d", "preprocessor_name": "DefaultPreprocessor", "batch_size": 2,
        "patch_size": [2 ** (n_stages - 1) * 2] * dims, "spacing": [1.0] * dims,
        "normalization_schemes": ["ZScoreNormalization"], "use_mask_for_norm": [False],
        "architecture": {
            "network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
            "arch_kwargs": {
                "n_stages": n_stages,
                "features_per_stage": [min(max_features, base * 2 ** s) for s in range(n_stages)],
                "conv_op": f"torch.nn.modules.conv.Conv{dims}d",
                "kernel_sizes": [k] * n_stages,
                "strides": [[1] * dims] + [[2] * dims] * (n_stages - 1),
                "n_conv_per_stage": [n_conv] * n_stages,
                "n_conv_per_stage_decoder": [n_conv_decoder] * (n_stages - 1),
                "conv_bias": True,
                "norm_op": f"torch.nn.modules.instancenorm.InstanceNorm{dims}d",
                "norm_op_kwargs": {"eps": 1e-05, "affine": True},
                "dropout_op": None, "dropout_op_kwargs": None,
                "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": True},
            },
            "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"],
        },
        "batch_dice": True,
    }


def residual_encoder_unet_configuration(dims: int, n_stages: int, base: int = 32, max_features: int = 320,
                                        n_blocks=(1, 3, 4, 6, 6, 6, 6)) -> dict:
    """A configuration dict as nnUNetPlannerResEncM writes it: a ResidualEncoderUNet with ``n_blocks`` (the
    preset's 1, 3, 4, 6, ... by default) basic blocks per stage, one conv per decoder stage, widths as above."""
    configuration = plain_conv_unet_configuration(dims, n_stages, base, max_features)
    kwargs = configuration["architecture"]["arch_kwargs"]
    del kwargs["n_conv_per_stage"]
    kwargs.update(n_blocks_per_stage=list(n_blocks[:n_stages]), n_conv_per_stage_decoder=[1] * (n_stages - 1))
    configuration["architecture"]["network_class_name"] = (
        "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet")
    return configuration


def configuration_manager(dims: int, n_stages: int, **kwargs) -> ConfigurationManager:
    return ConfigurationManager(plain_conv_unet_configuration(dims, n_stages, **kwargs))


def closed_form_parameters(widths: List[int], dims: int, in_channels: int, classes: int, n_conv: int = 2,
                           n_conv_decoder: int = 2, kernel_sizes=None, strides=None) -> int:
    """Parameters of a PlainConvUNet with conv bias and affine norm, counted by hand: kernels ``kernel_sizes[s]`` at
    stage s (default 3^d), transposed convs whose kernel is the stride of the stage below (default 2^d)."""
    n = len(widths)
    kernel_sizes = kernel_sizes or [[3] * dims] * n
    strides = strides or [[1] * dims] + [[2] * dims] * (n - 1)

    def volume(sizes) -> int:
        total = 1
        for size in sizes:
            total *= int(size)
        return total

    def conv_block(cin: int, cout: int, stage: int) -> int:  # conv weight + bias + norm weight + bias
        return volume(kernel_sizes[stage]) * cin * cout + cout + 2 * cout

    total, cin = 0, in_channels
    for s, w in enumerate(widths):  # encoder
        total += conv_block(cin, w, s) + (n_conv - 1) * conv_block(w, w, s)
        cin = w
    for s in range(n - 2, -1, -1):  # decoder, deepest first: up from stage s + 1, convs at stage s's resolution
        below, skip = widths[s + 1], widths[s]
        total += volume(strides[s + 1]) * below * skip + skip  # transposed conv, kernel = stride
        total += conv_block(2 * skip, skip, s) + (n_conv_decoder - 1) * conv_block(skip, skip, s)
        total += skip * classes + classes  # segmentation head (1x1 conv with bias), one per decoder stage
    return total
