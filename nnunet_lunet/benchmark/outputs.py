"""The benchmark's output folder: where it is by default and what a new run may replace in it.

Rules: the default is ``$nnUNet_results/<dataset>/lunet_benchmark_<configuration>``. A folder that holds anything
is refused unless ``overwrite``, and with ``overwrite`` unless an earlier benchmark wrote it (its
``safe_output.MARKER``); then only that benchmark's files (``OUTPUTS``: ``OUTPUT_FILES``, ``widths_*.png``,
``test_predictions/``) are removed, nothing else. The benchmark fills the folder in place: the marker says
``complete: false`` from ``prepare_output`` until ``finish_output`` (``is_finished``), so a benchmark that died
part-way is recognisable. Light on purpose: the demo imports it.
"""

import os
from typing import Optional

from nnunet_lunet.datasets import require_env
from nnunet_lunet.safe_output import finish_in_place, is_complete, start_in_place

OUTPUT_FILES = ("benchmark.md", "benchmark.csv", "benchmark_folds.csv", "claims.md", "dice_vs_params.png",
                "latency_vs_dice.png", "pruning_trajectories.png", "benchmark.log")
TEST_PREDICTIONS = "test_predictions"
OUTPUTS = list(OUTPUT_FILES) + ["widths_*.png", TEST_PREDICTIONS]
COMMAND = "benchmark"


def default_output(dataset_name: str, configuration: str, results_root: Optional[str] = None) -> str:
    """``<results_root>/<dataset>/lunet_benchmark_<configuration>``; ``results_root`` defaults to ``nnUNet_results``."""
    return os.path.join(results_root or require_env("nnUNet_results"), dataset_name,
                        f"lunet_benchmark_{configuration}")


def prepare_output(folder: str, overwrite: bool) -> None:
    """Create the output folder, after the checks of the module rules; remove an earlier benchmark's files and mark
    the folder unfinished."""
    start_in_place(folder, COMMAND, overwrite, OUTPUTS)


def finish_output(folder: str) -> None:
    """Mark the folder as a finished benchmark."""
    finish_in_place(folder, COMMAND, OUTPUTS)


def is_finished(folder: str) -> bool:
    """Whether ``folder`` holds a finished benchmark."""
    return is_complete(folder, COMMAND)
