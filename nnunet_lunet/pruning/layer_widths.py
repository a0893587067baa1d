"""A (pruned) PlainConvUNet or ResidualEncoderUNet described as data: its prunable layers and their widths.

The prunable layers are the convolutions whose output channels can be removed; the segmentation layers
(``decoder.seg_layers.<d>``) are not prunable: their outputs are the classes. Their widths (output channels) form a
JSON-serialisable dict whose keys depend on the network: ``plain_layers`` describes a PlainConvUNet's (``encoder``,
``transpconv``, ``decoder``), ``residual_layers`` a ResidualEncoderUNet's (residual groups, each block's inner conv,
the same decoder). Decoder stage d runs at the resolution of encoder stage S-2-d (S = number of stages), as in
dynamic-network-architectures. Layer names are module paths as ``net.named_modules()`` gives them (the encoder's own
path, not the ``decoder.encoder`` alias), listed in the order the forward pass runs them.

Rules: every function here takes either net and branches on the network type in one place only
(``network_layers``); the functions of a widths dict alone (counts, summaries, formatting) take either dict. A dict's
structure entry (``residual_stages``) is not a width and is left out of counts.
"""

import numbers
from types import ModuleType
from typing import Dict, List, Mapping, Sequence

from dynamic_network_architectures.architectures.unet import ResidualEncoderUNet
from torch import nn

from nnunet_lunet.pruning import plain_layers, residual_layers
from nnunet_lunet.pruning.prunable_layer import PrunableLayer, module_names

LayerWidths = Dict[str, list]

FLAT_KINDS = ("transpconv", "residual")  # one width per entry; the other kinds hold a list per stage
STRUCTURE_KEYS = (residual_layers.STRUCTURE_KEY,)


def network_layers(net: nn.Module) -> ModuleType:
    """The module that describes ``net``'s layers and widths: ``residual_layers`` for a ResidualEncoderUNet of basic
    blocks, ``plain_layers`` for a PlainConvUNet. The one place that branches on the network type; any other network
    (or a DDP / torch.compile wrapper) gets a TypeError that says how to unwrap it."""
    if isinstance(net, ResidualEncoderUNet):
        residual_layers.require_residual_encoder_unet(net)
        return residual_layers
    plain_layers.require_plain_conv_unet(net)
    return plain_layers


def require_prunable_net(net: nn.Module) -> nn.Module:
    """Return ``net`` if pruning supports it (a PlainConvUNet, or a ResidualEncoderUNet of basic blocks), else raise
    a TypeError that says how to unwrap it."""
    network_layers(net)
    return net


def prunable_layers(net: nn.Module) -> List[PrunableLayer]:
    """Every prunable layer in forward order (``plain_layers.prunable_layers``, ``residual_layers.prunable_layers``)."""
    return network_layers(net).prunable_layers(net)


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
    return network_layers(net).empty_layer_widths(net)


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
    return network_layers(net).describe_structure(net)


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
    """Make every width dynamic-network-architectures records as an attribute besides the tensors agree with the
    tensors after surgery or resizing (``plain_layers.sync_recorded_widths``, ``residual_layers.sync_recorded_widths``).
    """
    network_layers(net).sync_recorded_widths(net)
