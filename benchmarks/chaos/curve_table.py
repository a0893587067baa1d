"""The validation curve of one nnU-Net training, read from its training log: per epoch the training and validation
loss, nnU-Net's pseudo-Dice of each label (from the epoch's validation iterations, patches, not whole cases) and its
foreground mean, and nnU-Net's moving average of that mean (``ema = 0.9 ema + 0.1 mean``, what it picks
``checkpoint_best`` by).

Writes ``curve.csv`` and ``curve.md`` into the output folder; reads the log only. With ``--whole-case``, also
``whole_case.csv`` and ``whole_case.md``: the Dice of each label on the fold's whole validation cases at saved
checkpoints, from the ``epochsNNN_summary.json`` files (nnU-Net's ``nnUNetv2_evaluate_folder`` summaries of the
checkpoint after NNN epochs) in that folder, each row linked to its summary. Usage:

    python curve_table.py training_log.txt --iterations 25 --batch-size 2 -o curve_2d_fold0 \
        --labels liver right_kidney left_kidney spleen [--whole-case curve_2d_fold0/whole_case]
"""
import argparse
import csv
import glob
import json
import os
import re
import sys
from typing import Dict, List

EPOCH = re.compile(r": Epoch (\d+)\s*$")
VALUE = re.compile(r": (train_loss|val_loss) (-?[\d.]+)\s*$")
DICE = re.compile(r": Pseudo dice \[(.*)\]\s*$")
NUMBER = re.compile(r"(-?\d+(?:\.\d+)?(?:e-?\d+)?|nan)\)?(?:,|$)")


def read_curve(log_file: str) -> List[Dict[str, object]]:
    """One dict per finished epoch (an epoch whose pseudo-Dice line was written)."""
    rows, current = [], None
    with open(log_file) as f:
        for line in f:
            if m := EPOCH.search(line):
                current = {"epoch": int(m.group(1))}
            elif current is not None and (m := VALUE.search(line)):
                current[m.group(1)] = float(m.group(2))
            elif current is not None and (m := DICE.search(line)):
                current["dice"] = [float(x) for x in NUMBER.findall(m.group(1).replace(" ", ""))]
                rows.append(current)
                current = None
    return rows


def with_means(rows: List[Dict[str, object]]) -> List[Dict[str, object]]:
    ema = None
    for row in rows:
        values = [d for d in row["dice"] if d == d]  # nan: a label absent from the epoch's patches
        row["mean"] = sum(values) / len(values) if values else float("nan")
        ema = row["mean"] if ema is None else 0.9 * ema + 0.1 * row["mean"]
        row["ema"] = ema
    return rows


def write_whole_case(folder: str, output: str, labels: List[str], iterations: int) -> int:
    """``whole_case.csv`` / ``.md`` from the summaries in ``folder``; returns how many checkpoints it holds."""
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "epochs*_summary.json"))):
        epochs = int(re.search(r"epochs(\d+)_summary", path).group(1))
        with open(path) as f:
            summary = json.load(f)
        dice = [summary["mean"][str(k)]["Dice"] for k in range(1, len(labels) + 1)]
        rows.append((epochs, epochs * iterations, dice, summary["foreground_mean"]["Dice"],
                     os.path.relpath(path, output)))
    header = ["epochs", "steps"] + labels + ["mean"]
    with open(os.path.join(output, "whole_case.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([[e, n] + [f"{d:.4f}" for d in dice] + [f"{mean:.4f}"] for e, n, dice, mean, _ in rows])
    with open(os.path.join(output, "whole_case.md"), "w") as f:
        f.write("Dice on the fold's whole validation cases (no mirroring) at saved checkpoints, each linked to its "
                "nnU-Net summary\n\n")
        f.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for e, n, dice, mean, link in rows:
            f.write(f"| {e} | {n} | " + " | ".join(f"{d:.3f}" for d in dice) + f" | [{mean:.3f}]({link}) |\n")
    return len(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("log")
    p.add_argument("--iterations", type=int, required=True, help="training iterations per epoch")
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--labels", nargs="+", required=True, help="foreground label names, in the log's order")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--whole-case", default=None, help="folder of epochsNNN_summary.json files")
    args = p.parse_args()
    rows = with_means(read_curve(args.log))
    if not rows:
        sys.exit(f"error: {args.log} has no finished epoch (no 'Pseudo dice' line): give a training log of nnU-Net")
    if any(len(r["dice"]) != len(args.labels) for r in rows):
        sys.exit(f"error: the log has {len(rows[0]['dice'])} labels, --labels names {len(args.labels)}")
    os.makedirs(args.output, exist_ok=True)
    header = ["epoch", "steps", "train_loss", "val_loss"] + args.labels + ["mean", "ema"]
    table = [[r["epoch"] + 1, (r["epoch"] + 1) * args.iterations, r.get("train_loss"), r.get("val_loss")]
             + r["dice"] + [r["mean"], r["ema"]] for r in rows]
    with open(os.path.join(args.output, "curve.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([[f"{v:.4f}" if isinstance(v, float) else v for v in row] for row in table])
    with open(os.path.join(args.output, "curve.md"), "w") as f:
        f.write(f"Pseudo-Dice per epoch (batch {args.batch_size}, {args.iterations} iterations per epoch; "
                f"`epoch` = epochs trained)\n\n")
        f.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for row in table:
            f.write("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |\n")
    print(f"{len(rows)} epochs -> {args.output}/curve.csv, curve.md")
    if args.whole_case:
        n = write_whole_case(args.whole_case, args.output, args.labels, args.iterations)
        print(f"{n} checkpoints -> {args.output}/whole_case.csv, whole_case.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
