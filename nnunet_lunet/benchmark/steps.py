"""The two units of work a benchmark measures: a forward pass on one patch and one training step.

Rules:

- Inference: batch 1, ``torch.no_grad``, network in eval mode; on CUDA under ``torch.autocast`` as nnU-Net's
  predictor runs it.
- Training: the plan's batch size, deep supervision on (as nnU-Net trains), network in train mode; loss = sum of the
  mean of every output (the memory and compute of nnU-Net's loss are negligible beside the network's); backward;
  one step of nnU-Net's optimizer (SGD, lr 1e-2, momentum 0.99, Nesterov), so the momentum buffers count too. On
  CUDA under ``torch.autocast`` as nnU-Net trains (no grad scaler: it changes neither memory nor time noticeably).
- Inputs are standard-normal tensors (the network's cost does not depend on the values).
- Deep supervision is switched as nnU-Net's trainer switches it (``trained_run.set_deep_supervision``).
"""

import contextlib
from typing import Callable, Sequence

import torch
from torch import nn

from nnunet_lunet.trained_run import set_deep_supervision


def autocast(device: torch.device):
    """nnU-Net's autocast policy: on for CUDA, off elsewhere."""
    return torch.autocast(device.type, enabled=True) if device.type == "cuda" else contextlib.nullcontext()


def random_input(batch_size: int, in_channels: int, patch_size: Sequence[int], device: torch.device) -> torch.Tensor:
    return torch.randn((batch_size, in_channels, *patch_size), device=device)


def inference_step(network: nn.Module, in_channels: int, patch_size: Sequence[int],
                   device: torch.device) -> Callable[[], None]:
    """A callable that runs one forward pass on one patch (deep supervision off, eval mode)."""
    set_deep_supervision(network, False)
    network.eval()
    x = random_input(1, in_channels, patch_size, device)

    def step() -> None:
        with torch.no_grad(), autocast(device):
            network(x)

    return step


def training_step(network: nn.Module, batch_size: int, in_channels: int, patch_size: Sequence[int],
                  device: torch.device) -> Callable[[], None]:
    """A callable that runs one training step (forward with deep supervision, backward, SGD step).

    It changes the network's weights: give it a network you do not need afterwards, or a copy.
    """
    set_deep_supervision(network, True)
    network.train()
    x = random_input(batch_size, in_channels, patch_size, device)
    optimizer = torch.optim.SGD(network.parameters(), lr=1e-2, momentum=0.99, nesterov=True)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast(device):
            output = network(x)
        outputs = output if isinstance(output, (list, tuple)) else [output]
        loss = sum(o.float().mean() for o in outputs)
        loss.backward()
        optimizer.step()

    return step
