"""Collect the networks x recipes sweep of ``run.sh`` into ``recipes.csv``, ``recipes.md`` and ``pseudo_dice.png``.

Per run (``<trainer>__nnUNetPlans_b2__<configuration>/fold_0``), from what nnU-Net left on disk:
- pseudo-Dice per epoch: ``mean_fg_dice`` of the checkpoint's log (nnU-Net's per-epoch validation on 5 batches);
- first epoch with pseudo-Dice > 0 (``never`` if none): when the network left "all background";
- final validation Dice: ``foreground_mean`` Dice of ``validation/summary.json`` (nnU-Net's full validation of the
  fold's 52 held-out cases, sliding window with mirroring);
- epoch time: median over the epochs of one epoch's wall time (25 training + 5 validation iterations), and the
  training's total wall time (first epoch start to last epoch end, without the final validation). The sweep shared
  the 2 CPU cores with other work and ran with one torch thread, so times are indicative only.

Run from anywhere with nnU-Net's variables set: ``python collect.py [OUTPUT_FOLDER]`` (default: this folder).
"""

import csv
import json
import os
import statistics
import sys
from dataclasses import asdict, dataclass
from typing import List, Optional

import torch

from nnunet_lunet.datasets import load_dataset_json
from nnunet_lunet.plans_networks import build_from_plans
from nnunet_lunet.model_stats import count_parameters
from nnunet_lunet.plans.run_names import run_path
from nnunet_lunet.tables import human, markdown_table

DATASET, PLANS, FOLD = "Dataset004_Hippocampus", "nnUNetPlans_b2", 0
RECIPES = {"nnUNetTrainer_smoke": "nnU-Net (SGD 1e-2, momentum 0.99)",
           "nnUNetTrainerLeanRecipe_smoke": "lean (Adam 1e-3)",
           "nnUNetTrainerMomentum095_smoke": "SGD 1e-2, momentum 0.95"}
NETWORKS = {"3d_fullres": "nnU-Net default", "3d_fullres_lunet32": "LUnet32", "3d_fullres_lunet16": "LUnet16",
            "3d_fullres_lunet8": "LUnet8", "3d_fullres_scaled_as_lunet16": "U-Net of LUnet16's size"}


@dataclass
class Run:
    network: str
    recipe: str
    parameters: int
    epochs: int
    first_epoch_above_zero: str
    final_pseudo_dice: float
    validation_dice: Optional[float]
    epoch_time_s: float
    wall_time_s: float
    pseudo_dice: List[float]


def read_run(folder: str, network: str, recipe: str, parameters: int) -> Optional[Run]:
    checkpoint = os.path.join(folder, "checkpoint_final.pth")
    if not os.path.isfile(checkpoint):
        return None
    log = torch.load(checkpoint, map_location="cpu", weights_only=False)["logging"]
    dice = [float(d) for d in log["mean_fg_dice"]]
    above = next((str(i) for i, d in enumerate(dice) if d > 0), "never")
    summary = os.path.join(folder, "validation", "summary.json")
    validation = None
    if os.path.isfile(summary):
        with open(summary) as f:
            validation = json.load(f)["foreground_mean"]["Dice"]
    starts, ends = log["epoch_start_timestamps"], log["epoch_end_timestamps"]
    epoch = statistics.median(e - s for s, e in zip(starts, ends))
    return Run(network, recipe, parameters, len(dice), above, dice[-1], validation, round(epoch, 1),
               round(ends[-1] - starts[0], 1), dice)


def collect(results: str) -> List[Run]:
    with open(os.path.join(os.environ["nnUNet_preprocessed"], DATASET, PLANS + ".json")) as f:
        plans = json.load(f)
    dataset_json = load_dataset_json(DATASET)
    runs = []
    for configuration, network in NETWORKS.items():
        parameters = count_parameters(build_from_plans(plans, configuration, dataset_json, deep_supervision=True))
        for trainer, recipe in RECIPES.items():
            run = read_run(os.path.join(results, run_path(trainer, PLANS, configuration, FOLD)), network,
                           recipe, parameters)
            if run is not None:
                runs.append(run)
    return runs


def write_csv(runs: List[Run], path: str) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(runs[0])))
        writer.writeheader()
        for run in runs:
            writer.writerow(dict(asdict(run), pseudo_dice=" ".join(f"{d:.4f}" for d in run.pseudo_dice)))


def format_table(runs: List[Run]) -> str:
    rows = [{"network": r.network, "parameters": human(r.parameters), "recipe": r.recipe,
             "pseudo-Dice > 0 from epoch": r.first_epoch_above_zero, "last pseudo-Dice": f"{r.final_pseudo_dice:.3f}",
             "validation Dice": "-" if r.validation_dice is None else f"{r.validation_dice:.3f}",
             "epoch time": f"{r.epoch_time_s:.0f} s", "wall time": f"{r.wall_time_s / 60:.1f} min"} for r in runs]
    return markdown_table(rows, list(rows[0]))


def plot(runs: List[Run], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    styles = {recipe: style for recipe, style in zip(RECIPES.values(), ("-", "--", ":"))}
    colours = {network: f"C{i}" for i, network in enumerate(NETWORKS.values())}
    fig, ax = plt.subplots(figsize=(8, 5))
    for r in runs:
        ax.plot(range(len(r.pseudo_dice)), r.pseudo_dice, styles[r.recipe], color=colours[r.network],
                label=f"{r.network}, {r.recipe}")
    ax.set(xlabel="epoch (25 iterations, batch 2)", ylabel="pseudo-Dice (mean foreground)", ylim=(-0.02, 1),
           title="MSD Hippocampus fold 0: networks x recipes")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(output: str) -> None:
    runs = collect(os.path.join(os.environ["nnUNet_results"], DATASET))
    if not runs:
        sys.exit("no finished run yet: run run.sh first")
    write_csv(runs, os.path.join(output, "recipes.csv"))
    table = format_table(runs)
    with open(os.path.join(output, "recipes.md"), "w") as f:
        f.write(table + "\n")
    plot(runs, os.path.join(output, "pseudo_dice.png"))
    print(table)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
