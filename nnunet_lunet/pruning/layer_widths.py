"""A (pruned) PlainConvUNet described as data.

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
"""

import numbers
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence

from dynamic_network_architectures.architectures.unet import PlainConvUNet
from dynamic_network_architectures.building_blocks.simple_conv_blocks import StackedConvBlocks
from torch import nn

LayerWidths = Dict[str, list]

KINDS = ("encoder", "transpconv", "decoder")


@dataclass(frozen=True, eq=False)
class PrunableLayer:
    """One prunable conv: where it sits, its module and (for encoder/decoder convs) its conv-norm-nonlin block."""

    name: str
    kind: str  # one of KINDS
    stage: int  # encoder stage, or decoder stage for "transpconv" and "decoder"
    index: int  # conv index within the stage; 0 for a transposed conv
    conv: nn.Module
    block: Optional[nn.Module]  # ConvDropoutNormReLU; None for a transposed conv

    @property
    def width(self) -> int:
        """The layer's current number of output channels."""
        return int(self.conv.out_channels)

    @property
    def output_module(self) -> nn.Module:
        """The module whose output is what later layers consume (after norm and nonlinearity, where there are any)."""
        return self.block if self.block is not None else self.conv


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
    """Every prunable conv of a PlainConvUNet in forward order: encoder, then per decoder stage: upsampling, convs."""
    net = require_plain_conv_unet(net)
    names = {id(module): name for name, module in net.named_modules()}
    layers = []
    for s, stage in enumerate(net.encoder.stages):
        for j, block in enumerate(stacked_conv_blocks(stage).convs):
            layers.append(PrunableLayer(names[id(block.conv)], "encoder", s, j, block.conv, block))
    for d, (transpconv, stage) in enumerate(zip(net.decoder.transpconvs, net.decoder.stages)):
        layers.append(PrunableLayer(names[id(transpconv)], "transpconv", d, 0, transpconv, None))
        for j, block in enumerate(stage.convs):
            layers.append(PrunableLayer(names[id(block.conv)], "decoder", d, j, block.conv, block))
    return layers


def layer_names(net: nn.Module) -> List[str]:
    """Module paths of every prunable conv, in forward order."""
    return [layer.name for layer in prunable_layers(net)]


def segmentation_layer_names(net: nn.Module) -> List[str]:
    """Module paths of the segmentation (1x1 conv, one output per class) layers; their outputs are never pruned."""
    net = require_plain_conv_unet(net)
    names = {id(module): name for name, module in net.named_modules()}
    return [names[id(m)] for m in net.decoder.seg_layers]


def current_widths(net: nn.Module) -> Dict[str, int]:
    """``{layer name: number of output channels}`` for every prunable conv, in forward order."""
    return {layer.name: layer.width for layer in prunable_layers(net)}


def empty_layer_widths(net: nn.Module) -> LayerWidths:
    """A layer-widths dict of the net's structure with every width set to 0 (a template to fill)."""
    net = require_plain_conv_unet(net)
    return {
        "encoder": [[0] * len(stacked_conv_blocks(stage).convs) for stage in net.encoder.stages],
        "transpconv": [0] * len(net.decoder.transpconvs),
        "decoder": [[0] * len(stage.convs) for stage in net.decoder.stages],
    }


def get_width(widths: LayerWidths, layer: PrunableLayer) -> int:
    """The entry of ``widths`` for ``layer``."""
    if layer.kind == "transpconv":
        return int(widths["transpconv"][layer.stage])
    return int(widths[layer.kind][layer.stage][layer.index])


def set_width(widths: LayerWidths, layer: PrunableLayer, value: int) -> None:
    """Set the entry of ``widths`` for ``layer`` (in place)."""
    if layer.kind == "transpconv":
        widths["transpconv"][layer.stage] = int(value)
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
    template = empty_layer_widths(net)
    return (
        f"'encoder': {len(template['encoder'])} stages with {[len(s) for s in template['encoder']]} convs, "
        f"'transpconv': {len(template['transpconv'])} entries, "
        f"'decoder': {len(template['decoder'])} stages with {[len(s) for s in template['decoder']]} convs"
    )


def validate_layer_widths(widths: LayerWidths, net: nn.Module) -> None:
    """Raise ValueError unless ``widths`` has the net's structure and every width is an integer >= 1."""
    template = empty_layer_widths(net)
    expected = describe_structure(net)
    if not isinstance(widths, dict) or set(widths) != set(KINDS):
        found = sorted(widths) if isinstance(widths, dict) else type(widths).__name__
        raise ValueError(f"layer_widths must be a dict with keys {list(KINDS)}, found {found}; expected {expected}")

    def shape(entry):
        return [len(s) for s in entry] if entry and isinstance(entry[0], (list, tuple)) else len(entry)

    for kind in KINDS:
        entry, want = widths[kind], template[kind]
        ok = isinstance(entry, (list, tuple)) and len(entry) == len(want)
        if ok and kind != "transpconv":
            ok = all(isinstance(s, (list, tuple)) and len(s) == len(w) for s, w in zip(entry, want))
        if not ok:
            raise ValueError(
                f"layer_widths['{kind}'] has shape {shape(entry) if isinstance(entry, (list, tuple)) else entry}, "
                f"which does not fit this network; expected {expected}"
            )
    for layer in prunable_layers(net):
        entry = widths[layer.kind][layer.stage]
        value = entry if layer.kind == "transpconv" else entry[layer.index]
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"layer_widths entry for {layer.name} must be an integer >= 1, found {value!r}")


def count_channels(widths: LayerWidths) -> int:
    """Total number of prunable channels (sum of every width)."""
    return sum(sum(s) for s in widths["encoder"]) + sum(widths["transpconv"]) + sum(sum(s) for s in widths["decoder"])


def decision_size(decision: Mapping[str, Sequence[int]]) -> int:
    """Number of channels a pruning decision (``{layer name: channel indices}``) removes."""
    return sum(len(idxs) for idxs in decision.values())


def count_layers(widths: LayerWidths) -> int:
    """Number of prunable layers (each keeps at least one channel, so this is the fewest channels a net can have)."""
    return sum(len(s) for s in widths["encoder"]) + len(widths["transpconv"]) + sum(len(s) for s in widths["decoder"])


def per_stage_summary(widths: LayerWidths) -> Dict[str, List[Dict[str, float]]]:
    """Min/mean/max width per encoder stage, per transposed conv and per decoder stage (for logs)."""

    def stats(values) -> Dict[str, float]:
        values = list(values)
        return {"min": min(values), "mean": sum(values) / len(values), "max": max(values)}

    return {
        "encoder": [stats(s) for s in widths["encoder"]],
        "transpconv": [stats([w]) for w in widths["transpconv"]],
        "decoder": [stats(s) for s in widths["decoder"]],
    }


def format_layer_widths(widths: LayerWidths) -> str:
    """One log line: ``enc 4,4 | 8,8 || up 8 | 4 || dec 8,8 | 4,4`` (stages separated by ``|``)."""

    def stages(entry) -> str:
        return " | ".join(",".join(str(w) for w in s) for s in entry)

    return (
        f"enc {stages(widths['encoder'])} || up {' | '.join(str(w) for w in widths['transpconv'])} "
        f"|| dec {stages(widths['decoder'])}"
    )


def sync_recorded_widths(net: nn.Module) -> None:
    """Make every recorded channel count agree with the tensors after surgery or resizing.

    dynamic-network-architectures records widths as attributes besides the tensors: ``ConvDropoutNormReLU``'s
    ``input_channels``/``output_channels``, ``StackedConvBlocks.output_channels`` and the encoder's
    ``output_channels`` list (which the decoder and ``compute_conv_feature_map_size`` read). The encoder's list is
    replaced, never edited in place: it may be the plans' own ``features_per_stage`` list.
    """
    net = require_plain_conv_unet(net)
    stacks = [stacked_conv_blocks(stage) for stage in net.encoder.stages] + list(net.decoder.stages)
    for stack in stacks:
        for block in stack.convs:
            block.input_channels = int(block.conv.in_channels)
            block.output_channels = int(block.conv.out_channels)
        stack.output_channels = stack.convs[-1].output_channels
    net.encoder.output_channels = [stacked_conv_blocks(stage).output_channels for stage in net.encoder.stages]
