"""A (pruned) PlainConvUNet described as data: its prunable layers and widths (the plain counterpart of
``residual_layers``; ``layer_widths`` dispatches to one or the other).

The prunable layers of a PlainConvUNet are the convolutions whose output channels can be removed: every conv of every
encoder stage (``encoder.stages.<s>.0.convs.<j>.conv``), every transposed conv of the decoder
(``decoder.transpconvs.<d>``) and every conv of every decoder stage (``decoder.stages.<d>.convs.<j>.conv``). Their
widths::

    {"encoder": [[w_s0c0, w_s0c1], [w_s1c0, w_s1c1], ...],   # encoder stage s, conv j
     "transpconv": [w_d0, w_d1, ...],                         # decoder transposed conv d
     "decoder": [[w_d0c0, w_d0c1], ...]}                      # decoder stage d, conv j
"""

from typing import Dict, List, Mapping, Tuple

from dynamic_network_architectures.architectures.unet import PlainConvUNet
from dynamic_network_architectures.building_blocks.simple_conv_blocks import StackedConvBlocks
from torch import nn

from nnunet_lunet.pruning import prunable_layer
from nnunet_lunet.pruning.prunable_layer import PrunableLayer


def require_plain_conv_unet(net: nn.Module) -> PlainConvUNet:
    """Return ``net`` if it is a PlainConvUNet, else raise a TypeError that says how to unwrap it."""
    if not isinstance(net, PlainConvUNet):
        raise TypeError(
            f"expected a dynamic_network_architectures PlainConvUNet (or PrunedPlainConvUNet), got "
            f"{type(net).__name__}; unwrap DDP (.module) and torch.compile (._orig_mod) first"
        )
    return net


def stacked_conv_blocks(stage: nn.Module) -> StackedConvBlocks:
    """The StackedConvBlocks of one encoder stage (an nn.Sequential that may also hold a pooling op)."""
    if isinstance(stage, StackedConvBlocks):
        return stage
    found = [m for m in stage.children() if isinstance(m, StackedConvBlocks)]
    if len(found) != 1:
        raise TypeError(f"expected exactly one StackedConvBlocks in an encoder stage, found {len(found)}: {stage}")
    return found[0]


def prunable_layers(net: nn.Module) -> List[PrunableLayer]:
    """Every prunable layer in forward order: encoder convs, then per decoder stage: upsampling, convs."""
    names = prunable_layer.module_names(net)
    layers = []
    for s, stage in enumerate(net.encoder.stages):
        for j, block in enumerate(stacked_conv_blocks(stage).convs):
            layers.append(PrunableLayer(names[id(block.conv)], "encoder", s, j, block.conv, block))
    return layers + prunable_layer.decoder_layers(net, names)


def empty_layer_widths(net: nn.Module) -> dict:
    """A layer-widths dict of the net's structure with every width set to 0 (a template to fill)."""
    return {"encoder": [[0] * len(stacked_conv_blocks(stage).convs) for stage in net.encoder.stages],
            **prunable_layer.decoder_template(net)}


def describe_structure(net: nn.Module) -> str:
    """The shape a layer-widths dict for ``net`` must have, in words (for error messages)."""
    template = empty_layer_widths(net)
    return (
        f"'encoder': {len(template['encoder'])} stages with {[len(s) for s in template['encoder']]} convs, "
        f"'transpconv': {len(template['transpconv'])} entries, "
        f"'decoder': {len(template['decoder'])} stages with {[len(s) for s in template['decoder']]} convs"
    )


def conv_channels_for_widths(net: nn.Module, widths: Mapping[str, list]) -> Dict[nn.Module, Tuple[int, int]]:
    """``{conv module: (input channels, output channels)}`` that ``widths`` imply, segmentation layers included
    (validate ``widths`` first). Encoder conv j of stage s reads conv j-1 (or the previous stage's last conv, or the
    image); the decoder as ``prunable_layer.decoder_channels`` says."""
    channels: Dict[nn.Module, Tuple[int, int]] = {}
    encoder = widths["encoder"]
    in_ch = int(stacked_conv_blocks(net.encoder.stages[0]).convs[0].conv.in_channels)  # the image's channels
    for s, stage in enumerate(net.encoder.stages):
        for j, block in enumerate(stacked_conv_blocks(stage).convs):
            channels[block.conv] = (in_ch, int(encoder[s][j]))
            in_ch = int(encoder[s][j])
    channels.update(prunable_layer.decoder_channels(net, widths, [int(stage[-1]) for stage in encoder]))
    return channels


def sync_recorded_widths(net: nn.Module) -> None:
    """Make every recorded channel count agree with the tensors after surgery or resizing.

    dynamic-network-architectures records widths as attributes besides the tensors: ``ConvDropoutNormReLU``'s
    ``input_channels``/``output_channels``, ``StackedConvBlocks.output_channels`` and the encoder's
    ``output_channels`` list (which the decoder and ``compute_conv_feature_map_size`` read). The encoder's list is
    replaced, never edited in place: it may be the plans' own ``features_per_stage`` list.
    """
    for stage in net.encoder.stages:
        prunable_layer.sync_stack_recorded_widths(stacked_conv_blocks(stage))
    prunable_layer.sync_decoder_recorded_widths(net)
    net.encoder.output_channels = [stacked_conv_blocks(stage).output_channels for stage in net.encoder.stages]
