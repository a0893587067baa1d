"""The network side of a plans configuration: which ones we support and how widths are swapped in.

Only nnU-Net's default network, ``PlainConvUNet`` from dynamic-network-architectures, is supported: LUnet keeps its
blocks (conv, InstanceNorm, LeakyReLU, strided-conv downsampling, transposed-conv upsampling, deep supervision) and
changes nothing but ``features_per_stage``. Everything else comes from the plans, so 2D/3D, any number of stages,
input channels and classes work as they do in nnU-Net.
"""

import copy
from typing import List, Sequence

from nnunet_lunet.errors import LUnetError

PLAIN_CONV_UNET = "dynamic_network_architectures.architectures.unet.PlainConvUNet"
PRUNED_PLAIN_CONV_UNET = "nnunet_lunet.pruning.network.PrunedPlainConvUNet"
SUPPORTED_NETWORKS = (PLAIN_CONV_UNET, PRUNED_PLAIN_CONV_UNET)


def require_supported(architecture: dict, configuration: str) -> None:
    """Raise LUnetError unless the plans ``architecture`` dict describes a PlainConvUNet."""
    name = architecture.get("network_class_name")
    if name not in SUPPORTED_NETWORKS:
        raise LUnetError(
            f"configuration '{configuration}' uses network {name}, but nnunet-lunet supports only {PLAIN_CONV_UNET} "
            f"(nnU-Net's default planner, nnUNetPlans / ExperimentPlanner): plan the dataset with the default "
            f"planner or pick a configuration that uses PlainConvUNet"
        )


def default_widths(architecture: dict) -> List[int]:
    """The per-stage widths a configuration's network has, as a list (an int in the plans means every stage)."""
    kwargs = architecture["arch_kwargs"]
    features = kwargs["features_per_stage"]
    if isinstance(features, int):
        return [features] * kwargs["n_stages"]
    return list(features)


def with_widths(architecture: dict, widths: Sequence[int]) -> dict:
    """A deep copy of a plans ``architecture`` dict whose network has ``widths`` per stage; nothing else changes."""
    n_stages = architecture["arch_kwargs"]["n_stages"]
    assert len(widths) == n_stages, f"expected one width per stage ({n_stages}), got {list(widths)}"
    new = copy.deepcopy(architecture)
    new["arch_kwargs"]["features_per_stage"] = [int(w) for w in widths]
    return new
