"""A (pruned) ResidualEncoderUNet described as data: its residual groups, prunable layers and widths.

nnU-Net's residual encoder (``nnUNetPlannerResEncM/L/XL``) is a stem conv, then per stage a stack of ResNet-D basic
blocks (``out = nonlin(conv2(conv1(x)) + skip(x))``); the decoder is the PlainConvUNet's. A block's ``skip`` is the
identity, an average pool (strided block) and/or a 1x1 projection conv (built where the block's input and output
widths differed).

Residual groups. Channels summed by a residual add are one set of channels: the stage's blocks' ``conv2`` outputs,
its projection convs' outputs, the stream they add to, the next stage's input and the skip into the decoder. Where a
stage's first block has no projection conv, its input channels ARE its output channels, so that stage belongs to the
same group as the stage (or stem) before it. A group is therefore a maximal run of the stem (written ``-1``) and
stages joined by projection-free first blocks: nnU-Net's default widths 32-64-128-256-320-320 give
``[[-1, 0], [1], [2], [3], [4, 5]]``, a LUnet (one width everywhere) a single group. Groups come from the modules,
so they are fixed when the net is built (from the plans' ``features_per_stage``) and never change with pruning.

The prunable layers, in forward order: each group (named by its first member in forward order: the stem conv, or the
projection conv of the group's first block) right before the first block it feeds, each block's ``conv1`` (free width),
then the decoder's (``prunable_layer.decoder_layers``). A group's members are the stem conv (if in the group), every
block's ``conv2`` and every projection conv of its stages.

Widths, a JSON-serialisable dict::

    {"residual": [w_g0, w_g1, ...],                 # one width per residual group
     "residual_stages": [[-1, 0], [1], ...],        # which stem/stages each group spans (structure, checked)
     "blocks": [[w_s0b0, ...], [w_s1b0, w_s1b1], ...],  # conv1 of block b of stage s
     "transpconv": [w_d0, ...],
     "decoder": [[w_d0c0, ...], ...]}

Only ``BasicBlockD`` blocks (what nnU-Net's presets build) with the default stem are supported.
"""

from typing import Dict, List, Mapping, Tuple

from dynamic_network_architectures.architectures.unet import ResidualEncoderUNet
from dynamic_network_architectures.building_blocks.residual import BasicBlockD
from dynamic_network_architectures.building_blocks.simple_conv_blocks import ConvDropoutNormReLU
from torch import nn

from nnunet_lunet.pruning.prunable_layer import (
    Member,
    PrunableLayer,
    decoder_channels,
    decoder_layers,
    decoder_template,
    module_names,
    sync_decoder_recorded_widths,
    sync_stack_recorded_widths,
)

STEM = -1
STRUCTURE_KEY = "residual_stages"


def require_residual_encoder_unet(net: nn.Module) -> ResidualEncoderUNet:
    """Return ``net`` if it is a ResidualEncoderUNet of basic blocks with a stem, else raise a TypeError saying why."""
    if not isinstance(net, ResidualEncoderUNet):
        raise TypeError(f"expected a dynamic_network_architectures ResidualEncoderUNet, got {type(net).__name__}; "
                        f"unwrap DDP (.module) and torch.compile (._orig_mod) first")
    if net.encoder.stem is None:
        raise TypeError("pruning a ResidualEncoderUNet needs its default stem (the encoder has none)")
    blocks = [block for stage in net.encoder.stages for block in residual_blocks(stage)]
    odd = {type(block).__name__ for block in blocks if type(block) is not BasicBlockD}
    if odd:
        raise TypeError(f"pruning a ResidualEncoderUNet supports BasicBlockD blocks (nnU-Net's ResEnc presets), found "
                        f"{sorted(odd)}: plan with nnUNetPlannerResEncM/L/XL")
    return net


def residual_stack(stage: nn.Module) -> nn.Module:
    """The StackedResidualBlocks of one encoder stage (the stage itself, or after a pooling op)."""
    return stage if hasattr(stage, "blocks") else next(m for m in stage.children() if hasattr(m, "blocks"))


def residual_blocks(stage: nn.Module) -> nn.Sequential:
    """The blocks of one encoder stage."""
    return residual_stack(stage).blocks


def projection(block: BasicBlockD):
    """The block's 1x1 projection (a ConvDropoutNormReLU in its skip), or None where the skip keeps the channels."""
    if not isinstance(block.skip, nn.Sequential):
        return None
    return next((m for m in block.skip if isinstance(m, ConvDropoutNormReLU)), None)


def residual_groups(net: nn.Module) -> List[List[int]]:
    """The stem (-1) and stages each residual group spans, in order (see the module docstring)."""
    net = require_residual_encoder_unet(net)
    groups = [[STEM]]
    for s, stage in enumerate(net.encoder.stages):
        if projection(residual_blocks(stage)[0]) is None:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def _group_of_stage(groups: List[List[int]]) -> Dict[int, int]:
    return {s: g for g, stages in enumerate(groups) for s in stages}


def prunable_layers(net: nn.Module) -> List[PrunableLayer]:
    """Every prunable layer of a ResidualEncoderUNet in forward order (see the module docstring)."""
    net = require_residual_encoder_unet(net)
    names = module_names(net)
    groups = residual_groups(net)
    members: List[List[Member]] = [[] for _ in groups]
    stem_block = net.encoder.stem.convs[0]
    members[0].append((stem_block.conv, stem_block))
    conv1_layers: List[Tuple[int, PrunableLayer]] = []  # (group that the block belongs to, layer)
    group_of = _group_of_stage(groups)
    for s, stage in enumerate(net.encoder.stages):
        for b, block in enumerate(residual_blocks(stage)):
            proj = projection(block)
            if proj is not None:
                members[group_of[s]].append((proj.conv, proj))  # the skip runs before conv1 and conv2
            members[group_of[s]].append((block.conv2.conv, block.conv2))
            conv1 = PrunableLayer(names[id(block.conv1.conv)], "blocks", s, b, block.conv1.conv, block.conv1)
            conv1_layers.append((group_of[s], conv1))
    layers, emitted = [], set()
    group_layers = [PrunableLayer(names[id(m[0][0])], "residual", g, 0, m[0][0], m[0][1], tuple(m[1:]))
                    for g, m in enumerate(members)]
    layers.append(group_layers[0])
    emitted.add(0)
    for g, conv1 in conv1_layers:
        if g not in emitted:
            layers.append(group_layers[g])
            emitted.add(g)
        layers.append(conv1)
    return layers + decoder_layers(net, names)


def empty_layer_widths(net: nn.Module) -> dict:
    """A layer-widths dict of the net's structure with every width set to 0 (a template to fill)."""
    net = require_residual_encoder_unet(net)
    groups = residual_groups(net)
    return {"residual": [0] * len(groups), STRUCTURE_KEY: groups,
            "blocks": [[0] * len(residual_blocks(stage)) for stage in net.encoder.stages], **decoder_template(net)}


def describe_structure(net: nn.Module) -> str:
    """The shape a layer-widths dict for ``net`` must have, in words (for error messages)."""
    template = empty_layer_widths(net)
    return (f"'residual': {len(template['residual'])} groups, '{STRUCTURE_KEY}': {template[STRUCTURE_KEY]}, "
            f"'blocks': {len(template['blocks'])} stages with {[len(s) for s in template['blocks']]} blocks, "
            f"'transpconv': {len(template['transpconv'])} entries, "
            f"'decoder': {len(template['decoder'])} stages with {[len(s) for s in template['decoder']]} convs")


def stage_widths(widths: Mapping[str, list]) -> List[int]:
    """The width of each encoder stage's output (its residual group's width)."""
    group_of = _group_of_stage(widths[STRUCTURE_KEY])
    return [int(widths["residual"][group_of[s]]) for s in range(len(widths["blocks"]))]


def conv_channels_for_widths(net: nn.Module, widths: Mapping[str, list]) -> Dict[nn.Module, Tuple[int, int]]:
    """``{conv: (input channels, output channels)}`` that ``widths`` imply, projections and segmentation layers
    included (validate ``widths`` first)."""
    net = require_residual_encoder_unet(net)
    stem = net.encoder.stem.convs[0].conv
    group_of = _group_of_stage(widths[STRUCTURE_KEY])
    in_ch = int(widths["residual"][group_of[STEM]])
    channels = {stem: (int(stem.in_channels), in_ch)}
    out_widths = stage_widths(widths)
    for s, stage in enumerate(net.encoder.stages):
        for b, block in enumerate(residual_blocks(stage)):
            inner, out = int(widths["blocks"][s][b]), out_widths[s]
            channels[block.conv1.conv] = (in_ch, inner)
            channels[block.conv2.conv] = (inner, out)
            proj = projection(block)
            if proj is not None:
                channels[proj.conv] = (in_ch, out)
            in_ch = out
    channels.update(decoder_channels(net, widths, out_widths))
    return channels


def sync_recorded_widths(net: nn.Module) -> None:
    """Set the widths dynamic-network-architectures records as attributes to the tensors' (see
    ``layer_widths.sync_recorded_widths``): the stem's, each block's and conv block's, each stack's and the encoder's
    ``output_channels`` list (replaced, never edited in place: it may be the plans' own list), and the decoder's."""
    net = require_residual_encoder_unet(net)
    sync_stack_recorded_widths(net.encoder.stem)
    for stage in net.encoder.stages:
        blocks = residual_blocks(stage)
        for block in blocks:
            for part in (block.conv1, block.conv2, projection(block)):
                if part is not None:
                    part.input_channels, part.output_channels = int(part.conv.in_channels), int(part.conv.out_channels)
            block.input_channels, block.output_channels = block.conv1.input_channels, block.conv2.output_channels
        residual_stack(stage).output_channels = blocks[-1].output_channels
    net.encoder.output_channels = [int(residual_blocks(stage)[-1].output_channels) for stage in net.encoder.stages]
    sync_decoder_recorded_widths(net)
