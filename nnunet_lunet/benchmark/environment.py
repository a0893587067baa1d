"""The machine and software a benchmark ran on, recorded with its results."""

import os
import platform
import sys
from typing import Dict

from nnunet_lunet.deploy.graph_runtimes import openvino_installed


def device_name(device) -> str:
    """``'cuda:0 (NVIDIA H100 ...)'`` or ``'cpu (<model name>, N logical cores)'``."""
    import torch

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    return f"cpu ({model}, {os.cpu_count()} logical cores)"


def describe_environment(device, repeats: int, warmup: int, checkpoint_name: str, mirroring: bool) -> Dict[str, str]:
    """Key -> value, in the order the report shows them."""
    import torch
    from importlib.metadata import version

    return {
        "device": device_name(device),
        "torch threads": str(torch.get_num_threads()),
        "torch": torch.__version__,
        "onnxruntime": version("onnxruntime") + (f", {torch.get_num_threads()} intra-op threads (as torch)"
                                                 if device.type == "cpu" else " (not timed on CUDA)"),
        "openvino": (version("openvino") + (f", {torch.get_num_threads()} threads (as torch)" if device.type == "cpu"
                                            else " (not timed on CUDA)")) if openvino_installed() else
                    'not installed (pip install "nnunet-lunet[openvino]" adds its columns)',
        "nnunetv2": version("nnunetv2"),
        "dynamic-network-architectures": version("dynamic-network-architectures"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "repeats": f"{repeats} timed runs per latency (median, min, max), all models and runtimes interleaved round "
                   f"by round; {warmup} untimed warm-up runs of each first",
        "checkpoint": checkpoint_name,
        "whole-case prediction": "nnUNetPredictor.predict_sliding_window_return_logits, tile step 0.5, Gaussian "
                                 "weighting, " + ("test-time mirroring (nnUNetv2_predict's default)" if mirroring else
                                                  "no test-time mirroring (--disable-tta)"),
    }
