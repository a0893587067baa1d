"""A (pruned) PlainConvUNet or ResidualEncoderUNet described as data.

The prunable layers of a PlainConvUNet are the convolutions whose output channels can be removed:

- every conv of every encoder stage (``encoder.stages.<s>.0.convs.<j>.conv``),
- every transposed conv of the decoder (``decoder.transpconvs.<d>``),
- every conv of every decoder stage (``decoder.stages.<d>.convs.<j>.conv``).

The segmentation layers (``decoder.seg_layers.<d>``) are not prunable: their outputs are the classes.

Their widths (output channels) form a JSON-serialisable dict::

    {"encoder": [[w_s0c0, w_s0c1], [w_s1c0, w_s1c1], ...],   # encoder stage s, conv j
     "transpconv": [w_d0, w_d1, ...],                         # decoder transposed conv d
     "decoder": [[w_d0c0, w_d0c1], ...]}                      # decoder stage d, conv j

Decoder stage d runs at the resolution of encoder stage S-2-d (S = number of stages), as in
dynamic-network-architectures.
Layer names are module paths as ``net.named_modules()`` gives them (the encoder's own path, not the
``decoder.encoder`` alias), listed in the order the forward pass runs them.

A ResidualEncoderUNet's layers and widths dict (residual groups, each block's inner conv, the same decoder) are
described in ``residual_layers``; every function here takes either net (``require_prunable_net``), and the functions
of a widths dict alone (counts, summaries, formatting) take either dict. A dict's structure entry
(``residual_stages``) is not a width and is left out of counts.
"""

import numbers
from typing import Dict, List, Mapping, Sequence

from dynamic_network_architectures.architectures.unet import PlainConvUNet, ResidualEncoderUNet
from dynamic_network_architectures.building_blocks.simple_conv_blocks import StackedConvBlocks
from torch import nn

from nnunet_lunet.pruning import residual_layers
from nnunet_lunet.pruning.prunable_layer import (
    PrunableLayer,
    decoder_layers,
    decoder_template,
    module_names,
    sync_decoder_recorded_widths,
    sync_stack_recorded_widths,
)

LayerWidths = Dict[str, list]

KINDS = ("encoder", "transpconv", "decoder")  # a PlainConvUNet's; a ResidualEncoderUNet's: residual_layers
FLAT_KINDS = ("transpconv", "residual")  # one width per entry; the other kinds hold a list per stage
STRUCTURE_KEYS = (residual_layers.STRUCTURE_KEY,)


def require_prunable_net(net: nn.Module) -> nn.Module:
    """Return ``net`` if pruning supports it (a PlainConvUNet, or a ResidualEncoderUNet of basic blocks), else raise
    a TypeError that says how to unwrap it."""
    if isinstance(net, ResidualEncoderUNet):
        return residual_layers.require_residual_encoder_unet(net)
    return require_plain_conv_unet(net)


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
    """Every prunable layer in forward order; of a PlainConvUNet: encoder convs, then per decoder stage: upsampling,
    convs (a ResidualEncoderUNet's: ``residual_layers.prunable_layers``)."""
    if isinstance(require_prunable_net(net), ResidualEncoderUNet):
        return residual_layers.prunable_layers(net)
    names = module_names(net)
    layers = []
    for s, stage in enumerate(net.encoder.stages):
        for j, block in enumerate(stacked_conv_blocks(stage).convs):
            layers.append(PrunableLayer(names[id(block.conv)], "encoder", s, j, block.conv, block))
    return layers + decoder_layers(net, names)


def layer_names(net: nn.Module) -> List[str]:
    """Module paths of every prunable conv, in forward order."""
    return [layer.name for layer in prunable_layers(net)]


def segmentation_layer_names(net: nn.Module) -> List[str]:
    """Module paths of the segmentation (1x1 conv, one output per class) layers; their outputs are never pruned."""
    names = module_names(require_prunable_net(net))
    return [names[id(m)] for m in net.decoder.seg_layers]


def current_widths(net: nn.Module) -> Dict[str, int]:
    """``{layer name: number of output channels}`` for every prunable conv, in forward order."""
    return {layer.name: layer.width for layer in prunable_layers(net)}


def empty_layer_widths(net: nn.Module) -> LayerWidths:
    """A layer-widths dict of the net's structure with every width set to 0 (a template to fill)."""
    if isinstance(require_prunable_net(net), ResidualEncoderUNet):
        return residual_layers.empty_layer_widths(net)
    return {"encoder": [[0] * len(stacked_conv_blocks(stage).convs) for stage in net.encoder.stages],
            **decoder_template(net)}


def get_width(widths: LayerWidths, layer: PrunableLayer) -> int:
    """The entry of ``widths`` for ``layer``."""
    if layer.kind in FLAT_KINDS:
        return int(widths[layer.kind][layer.stage])
    return int(widths[layer.kind][layer.stage][layer.index])


def set_width(widths: LayerWidths, layer: PrunableLayer, value: int) -> None:
    """Set the entry of ``widths`` for ``layer`` (in place)."""
    if layer.kind in FLAT_KINDS:
        widths[layer.kind][layer.stage] = int(value)
    else:
        widths[layer.kind][layer.stage][layer.index] = int(value)


def read_layer_widths(net: nn.Module) -> LayerWidths:
    """The net's current widths as a layer-widths dict (JSON-serialisable, a fresh copy)."""
    widths = empty_layer_widths(net)
    for layer in prunable_layers(net):
        set_width(widths, layer, layer.width)
    return widths


def describe_structure(net: nn.Module) -> str:
    """The shape a layer-widths dict for ``net`` must have, in words (for error messages)."""
    if isinstance(require_prunable_net(net), ResidualEncoderUNet):
        return residual_layers.describe_structure(net)
    template = empty_layer_widths(net)
    return (
        f"'encoder': {len(template['encoder'])} stages with {[len(s) for s in template['encoder']]} convs, "
        f"'transpconv': {len(template['transpconv'])} entries, "
        f"'decoder': {len(template['decoder'])} stages with {[len(s) for s in template['decoder']]} convs"
    )


def _shape(entry):
    return [len(s) for s in entry] if entry and isinstance(entry[0], (list, tuple)) else len(entry)


def validate_layer_widths(widths: LayerWidths, net: nn.Module) -> None:
    """Raise ValueError unless ``widths`` has the net's structure and every width is an integer >= 1."""
    template = empty_layer_widths(net)
    expected = describe_structure(net)
    if not isinstance(widths, dict) or set(widths) != set(template):
        found = sorted(widths) if isinstance(widths, dict) else type(widths).__name__
        raise ValueError(f"layer_widths must be a dict with keys {list(template)}, found {found}; expected {expected}")
    for key in STRUCTURE_KEYS:
        if key in template and [list(g) for g in widths[key]] != template[key]:
            raise ValueError(f"layer_widths['{key}'] is {widths[key]}, but this network's residual groups are "
                             f"{template[key]}: the widths come from another network; expected {expected}")
    for kind in (k for k in template if k not in STRUCTURE_KEYS):
        entry, want = widths[kind], template[kind]
        ok = isinstance(entry, (list, tuple)) and len(entry) == len(want)
        if ok and kind not in FLAT_KINDS:
            ok = all(isinstance(s, (list, tuple)) and len(s) == len(w) for s, w in zip(entry, want))
        if not ok:
            raise ValueError(
                f"layer_widths['{kind}'] has shape {_shape(entry) if isinstance(entry, (list, tuple)) else entry}, "
                f"which does not fit this network; expected {expected}"
            )
    for layer in prunable_layers(net):
        entry = widths[layer.kind][layer.stage]
        value = entry if layer.kind in FLAT_KINDS else entry[layer.index]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"layer_widths entry for {layer.name} must be an integer >= 1, found {value!r}")


def _width_entries(widths: LayerWidths):
    """``(kind, [widths of one stage])`` for every stage of every kind (a flat kind's entries one by one)."""
    for kind, entry in widths.items():
        if kind in STRUCTURE_KEYS:
            continue
        for stage in entry:
            yield kind, (list(stage) if isinstance(stage, (list, tuple)) else [stage])


def count_channels(widths: LayerWidths) -> int:
    """Total number of prunable channels (sum of every width; a residual group counts once)."""
    return sum(sum(values) for _, values in _width_entries(widths))


def decision_size(decision: Mapping[str, Sequence[int]]) -> int:
    """Number of channels a pruning decision (``{layer name: channel indices}``) removes."""
    return sum(len(idxs) for idxs in decision.values())


def count_layers(widths: LayerWidths) -> int:
    """Number of prunable layers (each keeps at least one channel, so this is the fewest channels a net can have)."""
    return sum(len(values) for _, values in _width_entries(widths))


def ones_like_widths(widths: LayerWidths) -> LayerWidths:
    """``widths`` with every layer at 1 channel (the narrowest net of that structure)."""
    return {kind: (entry if kind in STRUCTURE_KEYS
                   else [[1] * len(s) if isinstance(s, (list, tuple)) else 1 for s in entry])
            for kind, entry in widths.items()}


def encoder_stage_convs(widths: LayerWidths) -> List[List[int]]:
    """The output widths of each encoder stage's convs: a PlainConvUNet's stage convs; a residual stage's blocks'
    ``conv1`` then ``conv2`` widths (each ``conv2`` has its group's width)."""
    if "encoder" in widths:
        return [list(s) for s in widths["encoder"]]
    outputs = residual_layers.stage_widths(widths)
    return [list(inner) + [out] * len(inner) for inner, out in zip(widths["blocks"], outputs)]


def per_stage_summary(widths: LayerWidths) -> Dict[str, List[Dict[str, float]]]:
    """Min/mean/max width per stage of every kind: per encoder stage (or residual group and stage of blocks), per
    transposed conv and per decoder stage (for logs)."""

    def stats(values) -> Dict[str, float]:
        return {"min": min(values), "mean": sum(values) / len(values), "max": max(values)}

    summary: Dict[str, List[Dict[str, float]]] = {}
    for kind, values in _width_entries(widths):
        summary.setdefault(kind, []).append(stats(values))
    return summary


_ABBREVIATIONS = {"encoder": "enc", "residual": "res", "blocks": "blk", "transpconv": "up", "decoder": "dec"}


def format_layer_widths(widths: LayerWidths) -> str:
    """One log line: ``enc 4,4 | 8,8 || up 8 | 4 || dec 8,8 | 4,4`` (stages separated by ``|``; a residual net's
    starts ``res 4 | 8 || blk 4 | 8,8 || ...``: group widths, then each stage's blocks' inner widths)."""
    parts: Dict[str, List[str]] = {}
    for kind, values in _width_entries(widths):
        parts.setdefault(kind, []).append(",".join(str(w) for w in values))
    return " || ".join(f"{_ABBREVIATIONS.get(kind, kind)} {' | '.join(stages)}" for kind, stages in parts.items())


def sync_recorded_widths(net: nn.Module) -> None:
    """Make every recorded channel count agree with the tensors after surgery or resizing.

    dynamic-network-architectures records widths as attributes besides the tensors: ``ConvDropoutNormReLU``'s
    ``input_channels``/``output_channels``, ``StackedConvBlocks.output_channels`` and the encoder's
    ``output_channels`` list (which the decoder and ``compute_conv_feature_map_size`` read). The encoder's list is
    replaced, never edited in place: it may be the plans' own ``features_per_stage`` list. (A ResidualEncoderUNet's:
    ``residual_layers.sync_recorded_widths``.)
    """
    if isinstance(require_prunable_net(net), ResidualEncoderUNet):
        residual_layers.sync_recorded_widths(net)
        return
    for stage in net.encoder.stages:
        sync_stack_recorded_widths(stacked_conv_blocks(stage))
    sync_decoder_recorded_widths(net)
    net.encoder.output_channels = [stacked_conv_blocks(stage).output_channels for stage in net.encoder.stages]
