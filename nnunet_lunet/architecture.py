"""The network side of a plans configuration: which ones we support and how widths are swapped in.

Width variants (LUnet, scaled, equal-size) support nnU-Net's two U-Nets from dynamic-network-architectures:
``PlainConvUNet`` (the default planner, ``nnUNetPlans``) and ``ResidualEncoderUNet`` (the residual encoder presets,
``nnUNetPlannerResEncM/L/XL`` -> ``nnUNetResEncUNet{M,L,XL}Plans``). A variant keeps the network's blocks (plain
convs or residual blocks, stem, strided downsampling, transposed-conv upsampling, deep supervision) and changes
nothing but ``features_per_stage`` (the residual stem follows the first stage's width). Everything else comes from the
plans, so 2D/3D, any number of stages, input channels and classes work as they do in nnU-Net.

Pruning supports both (``pruned_network_class``): a PlainConvUNet is pruned as ``PrunedPlainConvUNet``, a
ResidualEncoderUNet (of basic blocks, as the presets build) as ``PrunedResidualEncoderUNet``; any other network gets a
clear refusal (``require_supported``).
"""

import copy
from typing import List, Sequence

from nnunet_lunet.errors import LUnetError

PLAIN_CONV_UNET = "dynamic_network_architectures.architectures.unet.PlainConvUNet"
PRUNED_PLAIN_CONV_UNET = "nnunet_lunet.pruning.network.PrunedPlainConvUNet"
RESIDUAL_ENCODER_UNET = "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet"
PRUNED_RESIDUAL_ENCODER_UNET = "nnunet_lunet.pruning.residual_network.PrunedResidualEncoderUNet"
# {network class in plans: the class that prunes it}
PRUNED_CLASSES = {PLAIN_CONV_UNET: PRUNED_PLAIN_CONV_UNET, PRUNED_PLAIN_CONV_UNET: PRUNED_PLAIN_CONV_UNET,
                  RESIDUAL_ENCODER_UNET: PRUNED_RESIDUAL_ENCODER_UNET,
                  PRUNED_RESIDUAL_ENCODER_UNET: PRUNED_RESIDUAL_ENCODER_UNET}
SUPPORTED_NETWORKS = tuple(PRUNED_CLASSES)  # every network nnunet-lunet varies the widths of can also be pruned


def require_supported(architecture: dict, where: str, feature: str = "nnunet-lunet") -> None:
    """Raise LUnetError unless the plans ``architecture`` dict describes a PlainConvUNet or ResidualEncoderUNet
    (pruned or not): the one check of a plans network, for width variants and for pruning. ``where`` names it in the
    message (``configuration 3d_fullres``), ``feature`` says what needs it (``pruning``)."""
    name = architecture.get("network_class_name")
    if name not in SUPPORTED_NETWORKS:
        raise LUnetError(
            f"{where} uses network {name}, but {feature} supports only {PLAIN_CONV_UNET} "
            f"(nnU-Net's default planner, nnUNetPlans) and {RESIDUAL_ENCODER_UNET} (nnUNetPlannerResEncM/L/XL): "
            f"plan the dataset with one of those planners or pick a configuration that uses one of those networks"
        )


def pruned_network_class(architecture: dict, where: str) -> str:
    """The import path of the class that prunes the plans ``architecture``'s network (LUnetError naming ``where`` if
    none does)."""
    require_supported(architecture, where, "pruning")
    return PRUNED_CLASSES[architecture["network_class_name"]]


def default_widths(architecture: dict) -> List[int]:
    """The per-stage widths a configuration's network has, as a list (an int in the plans means every stage)."""
    kwargs = architecture["arch_kwargs"]
    features = kwargs["features_per_stage"]
    if isinstance(features, int):
        return [features] * kwargs["n_stages"]
    return list(features)


def with_widths(architecture: dict, widths: Sequence[int]) -> dict:
    """A deep copy of a plans ``architecture`` dict whose network has ``widths`` per stage; nothing else changes
    (a residual encoder's explicit stem width follows the first stage)."""
    n_stages = architecture["arch_kwargs"]["n_stages"]
    assert len(widths) == n_stages, f"expected one width per stage ({n_stages}), got {list(widths)}"
    new = copy.deepcopy(architecture)
    new["arch_kwargs"]["features_per_stage"] = [int(w) for w in widths]
    if new["arch_kwargs"].get("stem_channels") is not None:
        new["arch_kwargs"]["stem_channels"] = int(widths[0])
    return new


def architecture_of(configuration_manager) -> dict:
    """The plans ``architecture`` dict of an nnU-Net ``ConfigurationManager`` (its cached kwargs are not copied:
    copy before editing, as ``with_widths`` does)."""
    return {"network_class_name": configuration_manager.network_arch_class_name,
            "arch_kwargs": configuration_manager.network_arch_init_kwargs,
            "_kw_requires_import": configuration_manager.network_arch_init_kwargs_req_import}
