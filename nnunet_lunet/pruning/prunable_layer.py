"""What one prunable layer is, and the decoder that both prunable U-Nets share.

A prunable layer is a set of output channels that can be removed together. Mostly it is one conv's outputs. A
residual group (``residual_layers``) is several convs whose outputs are summed into one residual stream, so their
channels are the same channels: the layer's ``conv`` is the member that runs first and ``tied`` holds the others
(each with its conv-norm-nonlin block). Removing channel k of the layer removes channel k of every member.

PlainConvUNet and ResidualEncoderUNet use the same decoder (dynamic-network-architectures' ``UNetDecoder``):
transposed conv d upsamples what is below (the bottleneck for d = 0, else decoder stage d-1), decoder stage d's first
conv reads ``cat(transposed-conv output, skip from encoder stage S-2-d)``, and segmentation layer d reads decoder stage
d's last conv. ``decoder_layers`` and ``decoder_channels`` describe it for both.
"""

from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from torch import nn

Member = Tuple[nn.Module, Optional[nn.Module]]  # (conv, its ConvDropoutNormReLU block or None)


@dataclass(frozen=True, eq=False)
class PrunableLayer:
    """One prunable layer: where it sits, its (first) conv and block, and the members tied to it."""

    name: str
    kind: str  # "encoder", "transpconv", "decoder" (PlainConvUNet); "residual", "blocks" (ResidualEncoderUNet)
    stage: int  # encoder stage, decoder stage, or residual group index (kind "residual")
    index: int  # conv index within the stage (block index for "blocks"); 0 for a transposed conv or a group
    conv: nn.Module
    block: Optional[nn.Module]  # ConvDropoutNormReLU; None for a transposed conv
    tied: Tuple[Member, ...] = ()  # the other members of a residual group, in forward order

    @property
    def width(self) -> int:
        """The layer's current number of output channels."""
        return int(self.conv.out_channels)

    @property
    def output_module(self) -> nn.Module:
        """The module whose output is what later layers consume (after norm and nonlinearity, where there are any)."""
        return self.block if self.block is not None else self.conv

    @property
    def members(self) -> Tuple[Member, ...]:
        """Every (conv, block) whose output channels are this layer's channels: the layer's own first."""
        return ((self.conv, self.block),) + self.tied

    @property
    def convs(self) -> Tuple[nn.Module, ...]:
        return tuple(conv for conv, _ in self.members)

    @property
    def output_modules(self) -> Tuple[nn.Module, ...]:
        """Each member's output module (see ``output_module``)."""
        return tuple(block if block is not None else conv for conv, block in self.members)


def module_names(net: nn.Module) -> Dict[int, str]:
    """``{id(module): path}``: the first path ``named_modules`` gives (the encoder's own, not ``decoder.encoder``)."""
    return {id(module): name for name, module in net.named_modules()}


def decoder_layers(net: nn.Module, names: Mapping[int, str]) -> List[PrunableLayer]:
    """The decoder's prunable layers in forward order: per decoder stage its transposed conv, then its convs."""
    layers = []
    for d, (transpconv, stage) in enumerate(zip(net.decoder.transpconvs, net.decoder.stages)):
        layers.append(PrunableLayer(names[id(transpconv)], "transpconv", d, 0, transpconv, None))
        for j, block in enumerate(stage.convs):
            layers.append(PrunableLayer(names[id(block.conv)], "decoder", d, j, block.conv, block))
    return layers


def decoder_template(net: nn.Module) -> dict:
    """The decoder's part of a layer-widths dict, every width 0."""
    return {"transpconv": [0] * len(net.decoder.transpconvs),
            "decoder": [[0] * len(stage.convs) for stage in net.decoder.stages]}


def decoder_channels(net: nn.Module, widths: Mapping[str, list], skip_widths: Sequence[int]
                     ) -> Dict[nn.Module, Tuple[int, int]]:
    """``{conv: (input channels, output channels)}`` of the decoder (segmentation layers included) at ``widths``;
    ``skip_widths[s]`` is the width of encoder stage s's output (the last one is the bottleneck)."""
    channels: Dict[nn.Module, Tuple[int, int]] = {}
    n_stages = len(skip_widths)
    below = int(skip_widths[-1])
    for d, (transpconv, stage) in enumerate(zip(net.decoder.transpconvs, net.decoder.stages)):
        up = int(widths["transpconv"][d])
        channels[transpconv] = (below, up)
        in_ch = up + int(skip_widths[n_stages - 2 - d])
        for j, block in enumerate(stage.convs):
            channels[block.conv] = (in_ch, int(widths["decoder"][d][j]))
            in_ch = int(widths["decoder"][d][j])
        channels[net.decoder.seg_layers[d]] = (in_ch, int(net.decoder.num_classes))
        below = in_ch
    return channels


def sync_decoder_recorded_widths(net: nn.Module) -> None:
    """Set the widths the decoder's StackedConvBlocks record as attributes to their convs' channels."""
    for stack in net.decoder.stages:
        sync_stack_recorded_widths(stack)


def sync_stack_recorded_widths(stack: nn.Module) -> None:
    """A StackedConvBlocks' recorded widths (each block's ``input_channels``/``output_channels``, the stack's
    ``output_channels``) set to its convs' channels."""
    for block in stack.convs:
        block.input_channels = int(block.conv.in_channels)
        block.output_channels = int(block.conv.out_channels)
    stack.output_channels = stack.convs[-1].output_channels
