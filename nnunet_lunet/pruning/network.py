"""``PrunedPlainConvUNet``: nnU-Net's PlainConvUNet at arbitrary per-layer widths.

The functions here (channels for widths, resizing, checkpoint loading) take either prunable U-Net (what differs
between them is in ``plain_layers`` and ``residual_layers``); the residual encoder's class is
``residual_network.PrunedResidualEncoderUNet``.

Rules:

- Without ``layer_widths`` it is exactly a PlainConvUNet. With them, the PlainConvUNet is built from
  ``features_per_stage`` and every conv, norm, transposed conv and segmentation-layer input is then resized to the
  widths; resized modules are freshly initialised as newly built modules are (``reset_parameters``), so nnU-Net's
  ``get_network_from_plans`` (which applies ``network.initialize`` after construction) initialises it like any
  PlainConvUNet.
- ``load_state_dict`` first resizes the layers to the incoming tensors' widths, then loads (strictly by default). So
  nnU-Net's predictor and ``load_checkpoint``, which build the full-size net from the plans, load pruned checkpoints,
  and a predictor that loads several folds in turn gets each fold's widths. The resize is a load-state-dict pre-hook,
  so it also runs when the state dict is loaded through a DDP or torch.compile wrapper.
- Resizing keeps every ``nn.Parameter`` object (it swaps ``.data``): an optimizer built on the full-size net still
  holds the net's parameters, and loading the checkpoint's optimizer state afterwards (as ``load_checkpoint`` does)
  gives it correctly shaped momentum buffers. Optimizer state for resized parameters is otherwise not touched.
- Only widths come from a state dict. Everything else (stages, convs per stage, kernel sizes, input channels,
  classes) comes from the plans; a state dict that disagrees raises a RuntimeError naming expected and found keys or
  shapes.
- ``compute_conv_feature_map_size`` (nnU-Net's VRAM estimate for planning) is PlainConvUNet's: it is exact for the
  convs and counts each transposed conv's output with its skip's width.
"""

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from dynamic_network_architectures.architectures.unet import PlainConvUNet
from torch import nn
from torch.nn.modules.conv import _ConvNd

from nnunet_lunet.pruning.layer_widths import (
    LayerWidths,
    describe_structure,
    network_layers,
    prunable_layers,
    read_layer_widths,
    set_width,
    sync_recorded_widths,
    validate_layer_widths,
)

_NORM_TENSORS = ("weight", "bias", "running_mean", "running_var")


def conv_channels_for_widths(net: nn.Module, widths: LayerWidths) -> Dict[nn.Module, Tuple[int, int]]:
    """``{conv module: (input channels, output channels)}`` that ``widths`` imply, segmentation layers included
    (``plain_layers`` / ``residual_layers.conv_channels_for_widths``); ValueError if ``widths`` does not fit the net."""
    validate_layer_widths(widths, net)
    return network_layers(net).conv_channels_for_widths(net, widths)


def check_consistent(net: nn.Module) -> None:
    """Raise RuntimeError unless every conv's and norm's channels are what the net's layer widths imply."""
    widths = read_layer_widths(net)
    channels = conv_channels_for_widths(net, widths)
    for conv, (in_ch, out_ch) in channels.items():
        shape = tuple(conv.weight.shape)
        expected = _expected_shape(conv, "weight", shape, channels, {})
        if (conv.in_channels, conv.out_channels) != (in_ch, out_ch) or shape != expected:
            raise RuntimeError(
                f"{conv} has weight {shape}, but the layer widths {widths} imply ({in_ch}, {out_ch}) channels"
            )
    for norm, n_features in _norm_features(net, channels).items():
        if norm.num_features != n_features or (norm.weight is not None and norm.weight.numel() != n_features):
            raise RuntimeError(f"{norm} should have {n_features} features for the layer widths {widths}")


def _norm_features(net: nn.Module, channels: Mapping[nn.Module, Tuple[int, int]]) -> Dict[nn.Module, int]:
    """``{norm module: number of features}``: each block's norm has its conv's output channels."""
    features = {}
    for layer in prunable_layers(net):
        for conv, block in layer.members:
            norm = getattr(block, "norm", None) if block is not None else None
            if norm is not None:
                features[norm] = channels[conv][1]
    return features


def _expected_shape(module: nn.Module, tensor_name: str, current: Sequence[int], channels, features) -> Tuple[int, ...]:
    """The shape tensor ``tensor_name`` of ``module`` has at the given channels (its current shape if not resized)."""
    if module in channels:
        in_ch, out_ch = channels[module]
        if tensor_name == "weight":
            first, second = (in_ch, out_ch) if module.transposed else (out_ch, in_ch)
            return (first, second, *module.kernel_size)
        if tensor_name == "bias":
            return (out_ch,)
    if module in features and tensor_name in _NORM_TENSORS:
        return (features[module],)
    return tuple(current)


def expected_state_shapes(net: nn.Module, widths: LayerWidths) -> Dict[str, Tuple[int, ...]]:
    """``{state-dict key: shape}`` of the net at ``widths`` (every key, aliases such as ``decoder.encoder.*`` too)."""
    channels = conv_channels_for_widths(net, widths)
    features = _norm_features(net, channels)
    shapes = {}
    for prefix, module in net.named_modules(remove_duplicate=False):
        dot = prefix + "." if prefix else ""
        local = list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False))
        for name, tensor in local:
            shapes[dot + name] = _expected_shape(module, name, tensor.shape, channels, features)
    return shapes


def count_parameters_for_widths(net: nn.Module, widths: LayerWidths) -> int:
    """Number of parameters the net would have at ``widths`` (the net itself is not changed)."""
    channels = conv_channels_for_widths(net, widths)
    features = _norm_features(net, channels)
    total = 0
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            total += int(torch.Size(_expected_shape(module, name, p.shape, channels, features)).numel())
    return total


def set_parameter_data(param: nn.Parameter, data: torch.Tensor) -> None:
    """Give ``param`` new data of any shape, keeping the Parameter object, with a fresh gradient accumulator.

    Autograd caches one gradient accumulator per parameter, which remembers the parameter's shape; anything still
    holding the old one (a traced graph, DDP's reducer) would make the next backward pass fail with "invalid
    gradient ... expected shape compatible with ...". Autograd drops the cached accumulator when the data's dtype
    changes, so the data is first set to an empty tensor of another dtype. Set the grad, if any, afterwards.
    """
    other_dtype = torch.float64 if data.dtype != torch.float64 else torch.float32
    param.data = torch.empty(0, dtype=other_dtype, device=data.device)
    param.data = data


def _resize_parameter(param: Optional[nn.Parameter], shape: Sequence[int]) -> None:
    """Give ``param`` uninitialised data of ``shape``, keeping the Parameter object (and dropping its grad)."""
    if param is not None and tuple(param.shape) != tuple(shape):
        param.grad = None
        set_parameter_data(param, param.data.new_empty(shape))


def _resize_conv(conv: _ConvNd, in_ch: int, out_ch: int) -> None:
    conv.in_channels, conv.out_channels = in_ch, out_ch
    first, second = (in_ch, out_ch) if conv.transposed else (out_ch, in_ch)
    _resize_parameter(conv.weight, (first, second, *conv.kernel_size))
    _resize_parameter(conv.bias, (out_ch,))
    conv.reset_parameters()


def _resize_norm(norm: nn.Module, n_features: int) -> None:
    norm.num_features = n_features
    _resize_parameter(getattr(norm, "weight", None), (n_features,))
    _resize_parameter(getattr(norm, "bias", None), (n_features,))
    for name in ("running_mean", "running_var"):
        buffer = getattr(norm, name, None)
        if buffer is not None:
            setattr(norm, name, buffer.new_empty(n_features))
    norm.reset_parameters()


def resize_to_layer_widths(net: nn.Module, widths: LayerWidths) -> None:
    """Resize every conv, norm, transposed conv and segmentation-layer input of ``net`` to ``widths``, in place.

    Modules whose shape changes are freshly initialised (``reset_parameters``); the others keep their values.
    Parameter objects are kept (see the module docstring). Raises ValueError if ``widths`` does not fit the net.
    """
    channels = conv_channels_for_widths(net, widths)
    for conv, (in_ch, out_ch) in channels.items():
        if (conv.in_channels, conv.out_channels) != (in_ch, out_ch):
            if conv.groups != 1:
                raise ValueError(f"cannot resize grouped conv {conv}: nnU-Net's U-Net convs have groups=1")
            _resize_conv(conv, in_ch, out_ch)
    for norm, n_features in _norm_features(net, channels).items():
        if norm.num_features != n_features:
            _resize_norm(norm, n_features)
    sync_recorded_widths(net)


def _architecture_error(net: nn.Module, details: List[str], n_more: int) -> RuntimeError:
    more = f" (and {n_more} more)" if n_more > 0 else ""
    return RuntimeError(
        f"state dict does not fit this {type(net).__name__}: {'; '.join(details)}{more}. Only layer widths are taken "
        f"from a checkpoint; stages, convs per stage, kernel sizes, input channels and classes come from the plans "
        f"(expected {describe_structure(net)}), so the checkpoint comes from another architecture/plans: load it with "
        f"the plans (and dataset) it was trained with"
    )


def layer_widths_from_state_dict(
    net: nn.Module, state_dict: Mapping[str, torch.Tensor], prefix: str = "", strict: bool = True
) -> LayerWidths:
    """The layer widths a state dict's tensors have, and a check that the state dict fits the net at those widths.

    ``prefix`` is the net's own key prefix in ``state_dict`` (as load-state-dict hooks get it). With ``strict``, the
    keys must be exactly the net's; layers whose weights are absent keep their current width. Raises RuntimeError
    (expected vs found) if the state dict comes from another architecture/plans.
    """
    incoming = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if strict:
        own = set(net.state_dict().keys())
        missing, unexpected = sorted(own - set(incoming)), sorted(set(incoming) - own)
        if missing or unexpected:
            details = []
            if missing:
                details.append(f"{len(missing)} keys missing, e.g. {missing[:3]}")
            if unexpected:
                details.append(f"{len(unexpected)} unexpected keys, e.g. {unexpected[:3]}")
            raise _architecture_error(net, details, 0)

    widths = read_layer_widths(net)
    for layer in prunable_layers(net):
        weight = incoming.get(layer.name + ".weight")
        if weight is None:
            continue
        if weight.dim() != layer.conv.weight.dim():
            found = tuple(weight.shape)
            raise _architecture_error(net, [f"{layer.name}.weight has shape {found}, expected a conv weight"], 0)
        set_width(widths, layer, int(weight.shape[1] if layer.conv.transposed else weight.shape[0]))

    expected = expected_state_shapes(net, widths)
    wrong = [
        f"{key}: expected shape {expected[key]} at the checkpoint's widths, found {tuple(value.shape)}"
        for key, value in incoming.items()
        if key in expected and isinstance(value, torch.Tensor) and tuple(value.shape) != expected[key]
    ]
    if wrong:
        raise _architecture_error(net, wrong[:3], len(wrong) - 3)
    return widths


def fit_to_state_dict(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
    """Load-state-dict pre-hook: resize the net to the incoming widths (after checking the state dict fits)."""
    widths = layer_widths_from_state_dict(module, state_dict, prefix=prefix, strict=strict)
    resize_to_layer_widths(module, widths)


class PrunedPlainConvUNet(PlainConvUNet):
    """A PlainConvUNet at per-layer widths ``layer_widths`` (see ``layer_widths``) that loads any-width checkpoints.

    Takes PlainConvUNet's constructor arguments plus ``layer_widths`` (None: exactly a PlainConvUNet). Plans name it
    ``nnunet_lunet.pruning.network.PrunedPlainConvUNet``; ``layer_widths`` may be given in the plans'
    ``arch_kwargs``. See the module docstring for the rules.
    """

    def __init__(self, *args, layer_widths: Optional[LayerWidths] = None, **kwargs):
        super().__init__(*args, **kwargs)
        if layer_widths is not None:
            resize_to_layer_widths(self, layer_widths)
        self.register_load_state_dict_pre_hook(fit_to_state_dict)
