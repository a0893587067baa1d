"""The benchmark's output folder: where it is by default and what a new run may replace in it.

Rules: the default is ``$nnUNet_results/<dataset>/lunet_benchmark_<configuration>``. A folder that holds anything
is refused unless ``overwrite``, and with ``overwrite`` unless an earlier benchmark wrote it (its
``safe_output.MARKER``); then only the files that benchmark recorded in it are removed (exact names, never patterns),
nothing else. A run may write ``OUTPUT_FILES``, ``test_predictions/`` and a ``widths_plot_name`` per pruning row
(``planned_outputs``); a user's file under one of those names is refused, not replaced. The benchmark fills the folder
in place: the marker says ``complete: false`` (listing the planned names) from ``prepare_output`` until
``finish_output`` (listing the names written; ``is_finished``), so a benchmark that died part-way is recognisable.
Light on purpose: the demo imports it.
"""

import os
from typing import List, Optional, Sequence, Tuple

from nnunet_lunet.datasets import require_env
from nnunet_lunet.safe_output import finish_in_place, is_complete, start_in_place

OUTPUT_FILES = ("benchmark.md", "benchmark.csv", "benchmark_folds.csv", "claims.md", "dice_vs_params.png",
                "latency_vs_dice.png", "pruning_trajectories.png", "benchmark.log")
TEST_PREDICTIONS = "test_predictions"
COMMAND = "benchmark"


def default_output(dataset_name: str, configuration: str, results_root: Optional[str] = None) -> str:
    """``<results_root>/<dataset>/lunet_benchmark_<configuration>``; ``results_root`` defaults to ``nnUNet_results``."""
    return os.path.join(results_root or require_env("nnUNet_results"), dataset_name,
                        f"lunet_benchmark_{configuration}")


def widths_plot_name(model_name: str, fold: str) -> str:
    return f"widths_{model_name}_fold{fold}.png"


def planned_outputs(rows: Sequence[Tuple[str, str]]) -> List[str]:
    """Every name a benchmark of ``rows`` (model name, fold) may write in its folder."""
    return list(OUTPUT_FILES) + [TEST_PREDICTIONS] + [widths_plot_name(m, f) for m, f in rows]


def prepare_output(folder: str, overwrite: bool, planned: List[str]) -> None:
    """Create the output folder, after the checks of the module rules; remove an earlier benchmark's files and mark
    the folder unfinished."""
    start_in_place(folder, COMMAND, overwrite, planned)


def finish_output(folder: str, planned: List[str]) -> None:
    """Mark the folder as a finished benchmark, listing the planned names it holds."""
    finish_in_place(folder, COMMAND, planned)


def is_finished(folder: str) -> bool:
    """Whether ``folder`` holds a finished benchmark."""
    return is_complete(folder, COMMAND)
