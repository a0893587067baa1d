"""The benchmark's output folder: where it is by default and what a new run may replace in it.

Rules: the default is ``$nnUNet_results/<dataset>/lunet_benchmark_<configuration>``. A folder that holds anything
is refused unless ``overwrite``; with ``overwrite`` only a previous benchmark's files (``OUTPUT_FILES``,
``widths_*.png``, ``test_predictions/``) are removed, nothing else. Light on purpose: the demo imports it.
"""

import glob
import os
import shutil
from typing import Optional

from nnunet_lunet.datasets import require_env
from nnunet_lunet.errors import LUnetError

OUTPUT_FILES = ("benchmark.md", "benchmark.csv", "benchmark_folds.csv", "claims.md", "dice_vs_params.png",
                "latency_vs_dice.png", "pruning_trajectories.png", "benchmark.log")
TEST_PREDICTIONS = "test_predictions"


def default_output(dataset_name: str, configuration: str, results_root: Optional[str] = None) -> str:
    """``<results_root>/<dataset>/lunet_benchmark_<configuration>``; ``results_root`` defaults to ``nnUNet_results``."""
    return os.path.join(results_root or require_env("nnUNet_results"), dataset_name,
                        f"lunet_benchmark_{configuration}")


def prepare_output(folder: str, overwrite: bool) -> None:
    """Create the output folder; LUnetError if it holds anything and ``overwrite`` is off; with ``overwrite``,
    remove only a previous benchmark's files."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise LUnetError(f"output {folder} is a file: pass a folder with -o")
    if os.path.isdir(folder) and os.listdir(folder):
        if not overwrite:
            raise LUnetError(f"output folder {folder} already exists: pass --overwrite to replace its benchmark "
                             f"files, or choose another folder with -o")
        for name in OUTPUT_FILES:
            if os.path.isfile(os.path.join(folder, name)):
                os.remove(os.path.join(folder, name))
        for path in glob.glob(os.path.join(folder, "widths_*.png")):
            os.remove(path)
        shutil.rmtree(os.path.join(folder, TEST_PREDICTIONS), ignore_errors=True)
    os.makedirs(folder, exist_ok=True)
