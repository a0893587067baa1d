"""``python -m nnunet_lunet.benchmark.memory_probe MODEL_FOLDER FOLD [--checkpoint C] [--device cpu|cuda]
[--threads N]``: peak memory of one inference patch and one training step of a trained model, as one JSON line.

Run in a fresh process by ``memory.measure_memory``; the rules are in ``nnunet_lunet.benchmark.memory``. Keys:
``device``, ``method``, ``after_imports_mib``, ``model_ready_mib``, ``inference_peak_mib``, ``train_peak_mib``,
``batch_size``, ``patch_size``.
"""

import argparse
import json
import sys


def _import_trainer(model_folder: str) -> None:
    """Import nnU-Net's predictor and the model's trainer class (nnU-Net imports its whole trainer tree to find it),
    so that the baseline after imports holds everything any model needs."""
    import contextlib
    import os

    import nnunetv2.inference.predict_from_raw_data  # noqa: F401
    from nnunetv2.utilities.find_objects import recursive_find_trainer_class_by_name

    from nnunet_lunet.benchmark.discovery import parse_model_folder

    parsed = parse_model_folder(os.path.basename(os.path.normpath(model_folder)))
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        try:
            recursive_find_trainer_class_by_name(parsed[0] if parsed else "nnUNetTrainer")
        except Exception:  # noqa: BLE001 - the predictor reports a missing trainer properly below
            pass


def _probe(model_folder: str, fold: str, checkpoint_name: str, device_name: str, threads: int) -> dict:
    import torch

    from nnunet_lunet.benchmark.memory import current_rss_mib, peak_rss_mib, reset_peak_rss
    from nnunet_lunet.benchmark.steps import inference_step, training_step
    from nnunet_lunet.benchmark.trained_network import load_predictor, network_input, trained_network

    torch.set_num_threads(threads)
    _import_trainer(model_folder)
    device = torch.device(device_name)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.init()
    after_imports = 0.0 if cuda else current_rss_mib()

    predictor = load_predictor(model_folder, fold, checkpoint_name, device)
    network = trained_network(predictor, device)
    shape = network_input(predictor)
    predictor.list_of_parameters = None  # the predictor's copy of the weights; the network holds its own
    del predictor  # current_rss_mib collects it
    model_ready = torch.cuda.memory_allocated(device) / 2 ** 20 if cuda else current_rss_mib()

    def measure(step) -> tuple:
        if cuda:
            step()  # warm-up, as on the CPU
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
            step()
            torch.cuda.synchronize(device)
            return torch.cuda.max_memory_allocated(device) / 2 ** 20, True
        step()  # warm-up: one-off allocations (thread pools, oneDNN caches, grads, momentum) are live below
        reset = reset_peak_rss()
        step()
        return peak_rss_mib(reset), reset

    inference_peak, reset_a = measure(inference_step(network, shape.in_channels, shape.patch_size, device))
    train_peak, reset_b = measure(training_step(network, shape.batch_size, shape.in_channels, shape.patch_size,
                                                device))
    if cuda:
        method = "torch.cuda.max_memory_allocated"
    elif reset_a and reset_b:
        method = "peak RSS (VmHWM) of a fresh process, reset before each step, minus its RSS after imports"
    else:
        method = ("ru_maxrss of a fresh process, cumulative (no peak reset here: includes loading the checkpoint), "
                  "minus its RSS after imports")
    return {"device": str(device), "method": method, "after_imports_mib": after_imports,
            "model_ready_mib": model_ready, "inference_peak_mib": inference_peak, "train_peak_mib": train_peak,
            "batch_size": shape.batch_size, "patch_size": list(shape.patch_size)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnunet_lunet.benchmark.memory_probe", description=__doc__)
    parser.add_argument("model_folder")
    parser.add_argument("fold")
    parser.add_argument("--checkpoint", default="checkpoint_final.pth")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(_probe(args.model_folder, args.fold, args.checkpoint, args.device, args.threads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
