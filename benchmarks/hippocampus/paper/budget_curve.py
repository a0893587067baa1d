"""Claim (a) over budget: validation Dice of the default network and LUnet16 on fold 0 at each training budget.

Reads the benchmark of each compare call given (``<folder>/benchmark/benchmark.csv``: its ``budget`` column is
epochs x iterations), keeps the rows of ``--fold`` whose label is one of ``--labels``, and writes ``budget_curve.md``
(Dice per budget and the gap to the first label, each Dice linked to the run's ``summary.json`` in ``<folder>/runs``)
and ``budget_curve.png`` (Dice against training steps) beside this script. Every folder must hold every label on the
fold; one training budget per folder (compare refuses to mix them). Usage, from this folder:

    python budget_curve.py claims_ab budget_1000 budget_2000
"""
import argparse
import csv
import os
import sys
from typing import Dict, List, Tuple

from nnunet_lunet.plans.run_names import fold_name

HERE = os.path.dirname(os.path.abspath(__file__))


def read_points(folder: str, fold: int, labels: List[str]) -> Tuple[int, int, Dict[str, Tuple[float, str]]]:
    """(steps, batch size, {label: (Dice, summary link)}) of one compare call's benchmark."""
    path = os.path.join(HERE, folder, "benchmark", "benchmark.csv")
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["fold"] == str(fold) and r["label"] in labels]
    found = {r["label"]: r for r in rows}
    missing = [label for label in labels if label not in found]
    if missing:
        sys.exit(f"error: {path} has no fold-{fold} row for {', '.join(missing)}: run that compare call first")
    budgets = {(r["budget"], r["train_batch_size"]) for r in rows}
    if len(budgets) != 1:
        sys.exit(f"error: {path} mixes budgets (epochs x iterations, batch) {sorted(budgets)}: one budget per "
                 f"compare call")
    budget, batch = budgets.pop()
    epochs, iterations = (int(x) for x in budget.split("x"))
    points = {label: (float(r["val_dice_mean"]),
                      f"{folder}/runs/{r['model']}/{fold_name(fold)}/summary.json") for label, r in found.items()}
    return epochs * iterations, int(batch), points


def write_table(curve: List[Tuple[int, int, Dict[str, Tuple[float, str]]]], labels: List[str], fold: int) -> str:
    reference = labels[0]
    lines = [f"Validation Dice (foreground mean) on fold {fold} against training steps, one run per cell; made by "
             f"`python budget_curve.py {' '.join(sys.argv[1:])}` ([budget_curve.py](budget_curve.py)).", "",
             "| steps (batch) | " + " | ".join(labels) + " | "
             + " | ".join(f"{label} - {reference}, points" for label in labels[1:]) + " |",
             "|---" * (2 * len(labels)) + "|"]
    for steps, batch, points in curve:
        cells = [f"[{points[label][0]:.3f}]({points[label][1]})" for label in labels]
        gaps = [f"{100 * (points[label][0] - points[reference][0]):+.1f}" for label in labels[1:]]
        lines.append(f"| {steps} ({batch}) | " + " | ".join(cells + gaps) + " |")
    return "\n".join(lines) + "\n"


def draw(curve, labels: List[str], fold: int, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    steps = [c[0] for c in curve]
    for label in labels:
        ax.plot(steps, [c[2][label][0] for c in curve], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(steps)
    ax.set_xticklabels([str(s) for s in steps])
    ax.set_xlabel("training steps (batch " + "/".join(sorted({str(c[1]) for c in curve})) + ")")
    ax.set_ylabel(f"validation Dice, fold {fold}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", help="compare output folders beside this script, one per budget")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--labels", nargs="+", default=["default", "LUnet16"],
                        help="benchmark labels; the first is the reference of the gap")
    args = parser.parse_args()
    curve = sorted((read_points(folder, args.fold, args.labels) for folder in args.folders), key=lambda c: c[0])
    with open(os.path.join(HERE, "budget_curve.md"), "w") as f:
        f.write("# Claim (a) over training budget\n\n" + write_table(curve, args.labels, args.fold))
    draw(curve, args.labels, args.fold, os.path.join(HERE, "budget_curve.png"))
    print(f"wrote {os.path.join(HERE, 'budget_curve.md')} and budget_curve.png")


if __name__ == "__main__":
    main()
