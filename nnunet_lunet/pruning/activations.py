"""STAMP's activation scores, collected with forward hooks.

Rule: the score of output channel c of a prunable conv is the L2 norm over space of the conv's output (before norm and
nonlinearity, as in STAMP) for channel c, averaged over every item of every batch. Batches are run under
``torch.no_grad`` in eval mode (no weight update, no dropout or targeted-dropout noise; nnU-Net's instance norm
behaves the same in both modes); the net's mode is restored afterwards. Scores are float32 on the net's device; the
per-layer normalisation STAMP applies is the criterion's job (``criteria.base.normalise_within_layer``).

A residual group (``residual_layers``: convs whose outputs are summed into one stream) scores each channel with the
MEAN of its members' scores (stem conv, each block's ``conv2``, projection convs; each measured at its own output as
above). Every score is normalised within its layer before use, so sum and mean rank channels alike; the mean keeps a
group's scores on the scale of one conv's.
"""

import itertools
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence

import torch
from torch import nn

from nnunet_lunet.pruning.layer_widths import prunable_layers


def _as_input(batch: Any) -> torch.Tensor:
    """An nnU-Net batch (a dict with 'data') or a tensor, as the network's input tensor."""
    if isinstance(batch, Mapping):
        if "data" not in batch:
            raise ValueError(f"a batch given as a dict must hold the input under 'data', found keys {list(batch)}")
        batch = batch["data"]
    if not isinstance(batch, torch.Tensor):
        raise TypeError(f"expected a batch tensor (or a dict with a 'data' tensor), got {type(batch).__name__}")
    return batch


def collect_activation_scores(
    net: nn.Module, batches: Iterable[Any], max_batches: Optional[int] = None
) -> Dict[str, torch.Tensor]:
    """``{layer name: tensor[C]}``: per-channel L2 norms of each prunable conv's output, averaged over batch items.

    ``batches`` yields input tensors or nnU-Net batch dicts (``{'data': ..., 'target': ...}``); at most
    ``max_batches`` are drawn (so an endless nnU-Net data loader is fine). Raises ValueError if there is no batch.
    """
    layers = prunable_layers(net)
    device = layers[0].conv.weight.device
    sums: Dict[str, torch.Tensor] = {}
    n_items = 0

    def hook_for(name: str):
        def hook(module, inputs, output):
            norms = output.detach().float().flatten(2).norm(p=2, dim=2)  # [B, C]
            total = norms.sum(dim=0)
            sums[name] = total if name not in sums else sums[name] + total

        return hook

    handles = [conv.register_forward_hook(hook_for(layer.name)) for layer in layers for conv in layer.convs]
    training = net.training
    try:
        net.eval()
        with torch.no_grad():
            for batch in itertools.islice(batches, max_batches):
                x = _as_input(batch).to(device, non_blocking=True)
                net(x)
                n_items += x.shape[0]
    finally:
        for handle in handles:
            handle.remove()
        net.train(training)
    if n_items == 0:
        raise ValueError("no batches to collect activation scores from")
    return {layer.name: sums[layer.name] / (n_items * len(layer.convs)) for layer in layers}


def remaining_scores(
    scores: Mapping[str, torch.Tensor], decision: Mapping[str, Sequence[int]]
) -> Dict[str, torch.Tensor]:
    """The scores of the channels a decision keeps (what the pruned net's layers have), e.g. for targeted dropout."""
    kept = {}
    for name, values in scores.items():
        keep = torch.ones(len(values), dtype=torch.bool)
        keep[list(decision.get(name, []))] = False
        kept[name] = values[keep.to(values.device)]
    return kept
