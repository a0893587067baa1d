"""The benchmark's plots (PNG, matplotlib's Agg backend, no display needed).

- ``dice_vs_params``: validation mean Dice over parameters (log x), one point per successful row; test-set Dice as
  hollow markers when present.
- ``latency_vs_dice``: validation mean Dice over the median patch latency.
- ``widths``: a pruning run's mean conv width per encoder and decoder stage over the pruning steps (the LUnet
  paper's Fig. 3b), from ``pruning_log.json``; step 0 is the network before pruning when the log records it
  (top-level ``encoder_stage_widths``/``decoder_stage_widths``, or ``original_widths`` as layer widths).
Every function writes its file even with nothing to draw (the axes then say so), so a report's files are always
the same set.
"""

from typing import Dict, List, Optional, Sequence, Tuple


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _points(rows: Sequence[Dict[str, object]], x_key: str, y_key: str) -> List[Tuple[float, float, str]]:
    return [(float(r[x_key]), float(r[y_key]), str(r["label"])) for r in rows
            if r.get("status") == "ok" and isinstance(r.get(x_key), (int, float))
            and isinstance(r.get(y_key), (int, float)) and r[x_key] > 0]


def _scatter(path: str, rows: Sequence[Dict[str, object]], x_key: str, x_label: str, log_x: bool, title: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    val = _points(rows, x_key, "val_dice_mean")
    test = _points(rows, x_key, "test_dice_mean")
    if val:
        ax.scatter([p[0] for p in val], [p[1] for p in val], label="validation Dice", zorder=3)
        for x, y, label in val:
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    if test:
        ax.scatter([p[0] for p in test], [p[1] for p in test], facecolors="none", edgecolors="C1",
                   label="test Dice", zorder=3)
    if not val and not test:
        ax.text(0.5, 0.5, "no successful model with Dice", ha="center", va="center", transform=ax.transAxes)
    elif log_x:
        ax.set_xscale("log")
    ax.margins(x=0.2, y=0.1)  # room for the labels
    ax.set_xlabel(x_label)
    ax.set_ylabel("mean foreground Dice")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if val or test:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_dice_vs_params(rows: Sequence[Dict[str, object]], path: str, title: str) -> None:
    _scatter(path, rows, "parameters", "parameters (log scale)", True, title)


def plot_latency_vs_dice(rows: Sequence[Dict[str, object]], path: str, title: str) -> None:
    _scatter(path, rows, "latency_patch_median_ms", "median latency per patch (ms)", False, title)


def _stage_means(layer_widths: object, part: str) -> Optional[List[float]]:
    stages = layer_widths.get(part) if isinstance(layer_widths, dict) else None
    if not isinstance(stages, list) or not all(isinstance(s, list) and s for s in stages):
        return None
    return [sum(s) / len(s) for s in stages]


def width_trajectories(log: dict) -> Tuple[List[int], Dict[str, List[float]]]:
    """``(steps, {'encoder stage 0': [width per step], ..., 'decoder stage 0': [...]})`` of a pruning log."""
    records = _records(log)
    lines: Dict[str, List[float]] = {}
    for part, index in (("encoder", 1), ("decoder", 2)):
        for stage in range(max((len(r[index]) for r in records), default=0)):
            lines[f"{part} stage {stage}"] = [r[index][stage] if stage < len(r[index]) else float("nan")
                                              for r in records]
    return [r[0] for r in records], lines


def _records(log: dict) -> List[tuple]:
    """``[(step, encoder stage widths, decoder stage widths, epoch or None)]``, step 0 first when known."""
    records = []
    original = (log.get("encoder_stage_widths"), log.get("decoder_stage_widths"))
    if not (original[0] and original[1]):
        original = (_stage_means(log.get("original_widths"), "encoder"),
                    _stage_means(log.get("original_widths"), "decoder"))
    if original[0] and original[1]:
        records.append((0, original[0], original[1], None))
    for s in log.get("steps", []):
        records.append((int(s["step"]), s["encoder_stage_widths"], s["decoder_stage_widths"], s.get("epoch")))
    return records


def plot_widths(log: dict, path: str, title: str) -> None:
    """Mean conv width per stage over pruning steps: encoder solid, decoder dashed, one colour per resolution
    (decoder stage d works at encoder stage S-2-d's resolution, S = encoder stages)."""
    plt = _pyplot()
    steps, lines = width_trajectories(log)
    n_encoder = sum(name.startswith("encoder") for name in lines)
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, widths in lines.items():
        stage = int(name.rsplit(" ", 1)[1])
        stage = stage if name.startswith("encoder") else n_encoder - 2 - stage
        ax.plot(steps, widths, marker="o", markersize=3, linestyle="-" if name.startswith("encoder") else "--",
                color=f"C{max(stage, 0) % 10}", label=name)
    if not lines:
        ax.text(0.5, 0.5, "no pruning step logged", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(fontsize=7, ncol=2)
        if len(steps) <= 12:  # label each step with its epoch; more would crowd the axis
            ax.set_xticks(steps, [f"{r[0]}\n" + ("start" if r[3] is None else f"ep {r[3]}") for r in _records(log)])
    ax.set_xlabel("pruning step (epoch)")
    ax.set_ylabel("mean conv width (channels)")
    ax.set_title(title + (f" ({log['criterion']})" if log.get("criterion") else ""))
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
