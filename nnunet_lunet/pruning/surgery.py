"""Physical removal of output channels from a PlainConvUNet or ResidualEncoderUNet, with every coupled tensor.

Removing output channel k of a prunable conv (see ``layer_widths``) removes:

- the conv's filter k (weight and bias; ``weight[:, k]`` and ``bias[k]`` for a transposed conv),
- entry k of the block's norm (affine weight/bias, running statistics if tracked),
- input channel k of every consumer: the next conv, the next stage's first conv, a transposed conv's input, a
  segmentation layer's input, and the decoder conv that reads the skip concat. The concat is ``cat(transposed-conv
  output, skip)``: skip channel k sits at ``transpconv.out_channels + k`` of the *current* (possibly already pruned)
  transposed conv, not at C/2 as in STAMP's released code.

In a ResidualEncoderUNet a prunable layer may be a residual group (``residual_layers``): removing its channel k
removes output k of every member (stem conv, every block's ``conv2``, projection convs) and input k of everything the
stream feeds (the next blocks' ``conv1`` and projections, the decoder's skip and the transposed conv). torch-pruning
finds all of them from the first member through the residual adds.

Coupling is found by torch-pruning's ``DependencyGraph``, traced once per call on a small input with deep supervision
on (so every segmentation layer is in the graph) and in-place nonlinearities off (torch-pruning's concat index mapping
fails on them); both, and the training mode, are restored afterwards, and the traced graph is freed before returning.
torch-pruning's bookkeeping ops (concat offsets) are run through its own handlers, but the tensors are
sliced here rather than by torch-pruning's pruning functions, for one concrete reason: those replace every
``nn.Parameter`` with a new object, which detaches the parameters from the optimizer, from anything else holding them,
and from nnU-Net's ``load_checkpoint`` flow (optimizer built on the full-size net, then network and optimizer state
loaded). Here every Parameter object is kept and only its ``.data`` (and ``.grad``) is sliced, with a fresh
gradient accumulator (``network.set_parameter_data``), so nothing that still holds the old one (the traced graph,
the old DDP wrapper's reducer) can break the next backward pass.

Optimizer rule: the optimizer's ``param_groups`` stay valid as they are. Per-parameter state tensors shaped like the
parameter (the momentum buffer of nnU-Net's SGD, momentum 0.99 + Nesterov; Adam's moments) are sliced with the same
indices along the same dimension, so each kept channel keeps its momentum at its new index; scalar state (Adam's step)
is left alone. Wrappers that captured parameter shapes must be rebuilt by the caller (DDP: its gradient buckets); a
compiled module recompiles by itself.

Rules: segmentation-layer outputs (the classes) are never pruned, no layer goes below one channel, and indices refer to
the layer's current channels. Errors are raised before anything is changed.
"""

import contextlib
import numbers
from typing import Dict, Iterator, Mapping, Optional, Sequence

import torch
import torch_pruning as tp
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd
from torch.nn.modules.instancenorm import _InstanceNorm

from nnunet_lunet.pruning.layer_widths import (
    LayerWidths,
    PrunableLayer,
    prunable_layers,
    read_layer_widths,
    require_prunable_net,
    segmentation_layer_names,
    sync_recorded_widths,
)
from nnunet_lunet.pruning.network import check_consistent, set_parameter_data

# torch-pruning's placeholder nodes (concat, split, reshape, element-wise ops, the net's outputs): no tensors of their
# own, but torch-pruning keeps channel bookkeeping (concat offsets) on them, which its handlers update.
_BOOKKEEPING_OPS = (
    tp.ops._ConcatOp,
    tp.ops._SplitOp,
    tp.ops._ReshapeOp,
    tp.ops._ElementWiseOp,
    tp.ops._SliceOp,
    tp.ops._ExpandOp,
    tp.ops._UnbindOp,
    tp.ops._OutputOp,
)


def minimal_example_input(net: nn.Module) -> torch.Tensor:
    """The smallest input the net runs on: one item, each axis the product of its strides (the bottleneck's one voxel
    doubled along the last axis, because instance norm needs more than one voxel)."""
    net = require_prunable_net(net)
    first_conv = prunable_layers(net)[0].conv
    size = [1] * len(net.encoder.strides[0])
    for stride in net.encoder.strides:
        size = [n * int(s) for n, s in zip(size, stride)]
    size[-1] *= 2
    weight = first_conv.weight
    return torch.zeros((1, first_conv.in_channels, *size), device=weight.device, dtype=weight.dtype)


@contextlib.contextmanager
def _traceable(net: nn.Module) -> Iterator[None]:
    """Deep supervision on and in-place ops off while torch-pruning traces; training mode and both flags restored."""
    inplace = [m for m in net.modules() if getattr(m, "inplace", False) is True]
    deep_supervision, training = net.decoder.deep_supervision, net.training
    try:
        for m in inplace:
            m.inplace = False
        net.decoder.deep_supervision = True
        yield
    finally:
        for m in inplace:
            m.inplace = True
        net.decoder.deep_supervision = deep_supervision
        net.train(training)


def build_dependency_graph(net: nn.Module, example_input: Optional[torch.Tensor] = None) -> tp.DependencyGraph:
    """torch-pruning's DependencyGraph of the net (see the module docstring for how it is traced)."""
    net = require_prunable_net(net)
    if example_input is None:
        example_input = minimal_example_input(net)
    with _traceable(net), torch.enable_grad():
        return tp.DependencyGraph().build_dependency(net, example_input, verbose=False)


def _release(graph: tp.DependencyGraph) -> None:
    """Free the traced autograd graph (activations of the trace) now rather than at the next garbage collection.

    The dependency graph is full of reference cycles, so it is taken apart here instead of waiting for the collector.
    """
    for node in graph.module2node.values():
        node.grad_fn = None
        node.inputs.clear()
        node.outputs.clear()
        node.dependencies.clear()
    graph.module2node.clear()


def _check_decision(net: nn.Module, layers: Mapping[str, PrunableLayer], decision: Mapping[str, Sequence[int]]) -> None:
    """Raise ValueError for unknown or segmentation layers, bad indices, or a layer that would go below 1 channel."""
    seg_layers = set(segmentation_layer_names(net))
    for name, idxs in decision.items():
        if name in seg_layers:
            raise ValueError(
                f"cannot prune the outputs of segmentation layer {name}: they are the classes (prune the decoder conv "
                f"that feeds it instead)"
            )
        if name not in layers:
            raise ValueError(f"{name!r} is not a prunable layer; prunable layers are {list(layers)}")
        width = layers[name].width
        if any(isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < width for i in idxs):
            raise ValueError(f"channel indices for {name} must be integers in [0, {width}), got {list(idxs)}")
        if len(set(idxs)) != len(idxs):
            raise ValueError(f"channel indices for {name} must be distinct, got {list(idxs)}")
        if len(idxs) >= width:
            raise ValueError(
                f"{name} has {width} channels: cannot remove {len(idxs)} of them, every layer keeps at least 1 channel"
            )


def _slice_parameter(
    param: Optional[nn.Parameter], dim: int, keep: torch.Tensor, optimizer: Optional[torch.optim.Optimizer]
) -> None:
    """Keep entries ``keep`` of ``param`` along ``dim``: data, grad and parameter-shaped optimizer state."""
    if param is None:
        return
    old_shape = param.shape
    keep = keep.to(param.device)
    grad = param.grad.index_select(dim, keep) if param.grad is not None else None
    param.grad = None
    set_parameter_data(param, param.data.index_select(dim, keep))
    param.grad = grad
    state = optimizer.state.get(param) if optimizer is not None else None
    for key, value in (state or {}).items():
        if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape == old_shape:
            state[key] = value.index_select(dim, keep.to(value.device))


def _keep_indices(n: int, removed: Sequence[int]) -> torch.Tensor:
    removed = set(removed)
    return torch.tensor([i for i in range(n) if i not in removed], dtype=torch.long)


def _cut_conv(conv: _ConvNd, idxs: Sequence[int], outputs: bool, optimizer) -> None:
    """Remove output (``outputs``) or input channels ``idxs`` of a conv or transposed conv (groups == 1)."""
    if conv.groups != 1:
        raise NotImplementedError(f"cannot prune grouped conv {conv}: nnU-Net's U-Net convs have groups=1")
    n = conv.out_channels if outputs else conv.in_channels
    keep = _keep_indices(n, idxs)
    # weight is [out, in, k...] for a conv and [in, out, k...] for a transposed conv
    dim = int(outputs == conv.transposed)
    _slice_parameter(conv.weight, dim, keep, optimizer)
    if outputs:
        _slice_parameter(conv.bias, 0, keep, optimizer)
        conv.out_channels = len(keep)
    else:
        conv.in_channels = len(keep)


def _cut_norm(norm: nn.Module, idxs: Sequence[int], optimizer) -> None:
    """Remove channels ``idxs`` of an instance or batch norm: affine parameters and tracked running statistics."""
    keep = _keep_indices(norm.num_features, idxs)
    _slice_parameter(norm.weight, 0, keep, optimizer)
    _slice_parameter(norm.bias, 0, keep, optimizer)
    for name in ("running_mean", "running_var"):
        buffer = getattr(norm, name)
        if buffer is not None:
            setattr(norm, name, buffer.index_select(0, keep.to(buffer.device)))
    norm.num_features = len(keep)


def _conv_norms(net: nn.Module) -> Dict[nn.Module, nn.Module]:
    """``{conv: the norm of its conv-norm-nonlin block}`` for every prunable layer's members."""
    return {conv: block.norm for layer in prunable_layers(net) for conv, block in layer.members
            if block is not None and getattr(block, "norm", None) is not None}


def _apply_group(graph: tp.DependencyGraph, group, optimizer, norms: Mapping[nn.Module, nn.Module]) -> None:
    """Slice every tensor in a torch-pruning group; run torch-pruning's handlers for its bookkeeping ops.

    A conv's norm follows it (``norms``) even where the group lacks it: torch-pruning loses a norm whose output a
    residual block adds to in place (``out += residual``), as the group then maps that output to the add.
    """
    cut_outputs, cut_norms = {}, set()
    for dep, idxs in group:
        module = dep.target.module
        if isinstance(module, _BOOKKEEPING_OPS):
            dep(idxs)
        elif isinstance(module, _ConvNd):
            outputs = graph.is_out_channel_pruning_fn(dep.handler)
            _cut_conv(module, idxs, outputs, optimizer)
            if outputs:
                cut_outputs[module] = idxs
        elif isinstance(module, (_InstanceNorm, _BatchNorm)):
            _cut_norm(module, idxs, optimizer)
            cut_norms.add(module)
        elif any(True for _ in module.parameters(recurse=False)) or any(True for _ in module.buffers(recurse=False)):
            raise NotImplementedError(
                f"channel pruning reached {type(module).__name__} ({module}), whose tensors this module cannot slice; "
                f"supported: convs, transposed convs, instance and batch norms"
            )
    for conv, idxs in cut_outputs.items():
        norm = norms.get(conv)
        if norm is not None and norm not in cut_norms:
            _cut_norm(norm, idxs, optimizer)


def prune_many(
    net: nn.Module,
    decision: Mapping[str, Sequence[int]],
    optimizer: Optional[torch.optim.Optimizer] = None,
    example_input: Optional[torch.Tensor] = None,
) -> LayerWidths:
    """Remove output channels ``decision[layer name]`` (current indices) of each named prunable conv, in place.

    Every coupled tensor and ``optimizer``'s state follow (see the module docstring). Layers with an empty index list
    are skipped; an empty decision changes nothing. ``example_input`` is only used to trace the net (default: the
    smallest input it runs on). Returns the new layer widths. Raises ValueError (before changing anything) for a
    segmentation layer, an unknown layer, bad indices, or a layer that would go below 1 channel.
    """
    net = require_prunable_net(net)
    layers = {layer.name: layer for layer in prunable_layers(net)}
    _check_decision(net, layers, decision)
    decision = {name: [int(i) for i in idxs] for name, idxs in decision.items() if len(idxs) > 0}
    if decision:
        graph = build_dependency_graph(net, example_input)
        norms = _conv_norms(net)
        try:
            for name in (name for name in layers if name in decision):  # forward order
                conv = layers[name].conv
                prune_outputs = graph.get_pruner_of_module(conv).prune_out_channels
                _apply_group(graph, graph.get_pruning_group(conv, prune_outputs, decision[name]), optimizer, norms)
        finally:
            _release(graph)
        sync_recorded_widths(net)
        check_consistent(net)  # a coupling torch-pruning missed would show here, not at the next forward pass
    return read_layer_widths(net)


def prune_channels(
    net: nn.Module,
    layer_name: str,
    idxs: Sequence[int],
    optimizer: Optional[torch.optim.Optimizer] = None,
    example_input: Optional[torch.Tensor] = None,
) -> LayerWidths:
    """Remove output channels ``idxs`` of one prunable conv; ``prune_many`` with a one-layer decision."""
    return prune_many(net, {layer_name: list(idxs)}, optimizer=optimizer, example_input=example_input)

