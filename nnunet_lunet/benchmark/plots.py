"""The benchmark's plots (PNG, matplotlib's Agg backend, no display needed).

- ``dice_vs_params``: validation Dice over parameters (log x) as in the LUnet paper's Fig. 4: one marker per point
  of ``aggregate`` (a model over its folds; a pruning run per level) at the median, bars from min to max over the
  folds (x bars where the folds' parameters differ), one series per family (``labels``: the default network, LUnet
  widths, scaled U-Nets, U-Nets of a LUnet's size, each pruning criterion over its levels, each criterion's
  retrained shapes), joined by a line in order of size; a family has the same colour in every plot (a criterion's
  retrained shapes its criterion's, dotted, with down-pointing markers). The family is in the legend (outside the
  axes); each point is annotated with its short label, placed by ``place_labels`` where it overlaps no other label,
  marker, bar or line and stays inside the axes (else where it overlaps least).
- ``latency_vs_dice``: the same points over the median patch latency (linear x; pruning levels have none).
- ``widths``: a pruning run's mean conv width per encoder and decoder stage over the pruning steps (the LUnet
  paper's Fig. 3b), from ``pruning_log.json``; step 0 is the network before pruning when the log records it
  (top-level ``encoder_stage_widths``/``decoder_stage_widths``, or ``original_widths`` as layer widths).
- ``pruning_trajectories``: the same for several runs side by side (the runner: each pruning criterion's first fold),
  on one y scale.
Every function writes its file even with nothing to draw (the axes then say so), so a report's files are always
the same set.
"""

from typing import Dict, List, Optional, Sequence, Tuple

from nnunet_lunet.benchmark.aggregate import DICE, Point
from nnunet_lunet.benchmark.labels import DEFAULT, FAMILY_ORDER, LUNET, MATCHED, RETRAINED, SCALED

MARKERS = {DEFAULT: "*", LUNET: "o", SCALED: "s", MATCHED: "D"}
# candidate label offsets in points from the marker (dx, dy of the text's near edge, vertically centred), nearest
# first, right before left at equal distance; far ones get a leader line
OFFSETS = sorted(((dx, dy) for dx in (-70, -45, -25, -7, 0, 7, 25, 45, 70) for dy in (-36, -24, -12, 0, 12, 24, 36)
                  if (dx, dy) != (0, 0) and (dx != 0 or abs(dy) >= 12)),
                 key=lambda o: (o[0] ** 2 + o[1] ** 2, o[0] < 0))
LABEL_WEIGHT, MARKER_WEIGHT, BAR_WEIGHT, OUTSIDE_WEIGHT = 10, 3, 1, 1000


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _colour(family: str) -> str:
    """One colour per family in every plot; a criterion's retrained shapes share the criterion's colour."""
    own = family[:-len(RETRAINED)] if family.endswith(RETRAINED) else family
    index = FAMILY_ORDER.index(own) if own in FAMILY_ORDER else 7 + sum(map(ord, own)) % 3
    return f"C{index}"


def _style(family: str) -> Dict[str, object]:
    marker = MARKERS.get(family, "v" if family.endswith(RETRAINED) else "^")
    return dict(color=_colour(family), marker=marker, markersize=11 if marker == "*" else 6,
                linestyle=":" if family.endswith(RETRAINED) else "-", linewidth=1, capsize=2, elinewidth=1)


def _bars(s) -> Tuple[List[float], List[float]]:
    return [s.median - s.min], [s.max - s.median]


def _series(points: Sequence[Point], x_column: str) -> Dict[str, List[Point]]:
    """``{family: points with a Dice and an x value, smallest x first}`` in family order."""
    out: Dict[str, List[Point]] = {}
    for p in points:
        if p.spread_of(DICE) is not None and p.spread_of(x_column) is not None and p.spread_of(x_column).median > 0:
            out.setdefault(p.identity.family, []).append(p)
    order = lambda f: FAMILY_ORDER.index(f) if f in FAMILY_ORDER else len(FAMILY_ORDER)  # noqa: E731
    return {f: sorted(out[f], key=lambda p: p.spread_of(x_column).median) for f in sorted(out, key=order)}


def _overlaps(box, boxes) -> bool:
    return any(box.overlaps(b) for b in boxes)


def place_labels(ax, items: Sequence[Tuple[float, float, str, str]], obstacles: List[Tuple[object, int]]) -> List:
    """Annotate each ``(x, y, text, colour)`` at the first ``OFFSETS`` entry whose text box overlaps no obstacle
    (``(display-space box, weight)`` of markers and bars) and no label placed before, inside the axes; failing that,
    at the one with the least weighted overlap (another label weighs most). Returns the annotations."""
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed: List[Tuple[object, int]] = []
    annotations = []
    for x, y, text, colour in sorted(items, key=lambda i: (i[0], i[1])):
        best = None  # (crowding, annotation, box)
        for dx, dy in OFFSETS:
            far = abs(dx) > 10 or abs(dy) > 12
            note = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), fontsize=7, color=colour,
                               ha="left" if dx > 0 else "right" if dx < 0 else "center", va="center", zorder=5,
                               bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.8),
                               arrowprops=dict(arrowstyle="-", lw=0.5, color=colour, shrinkA=1, shrinkB=3)
                               if far else None)
            box = note.get_window_extent(renderer).expanded(1.04, 1.15)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            crowding = (sum(w for b, w in obstacles + placed if box.overlaps(b))
                        + (0 if inside else OUTSIDE_WEIGHT))
            if best is None or crowding < best[0]:
                if best is not None:
                    best[1].remove()
                best = (crowding, note, box)
            else:
                note.remove()
            if crowding == 0:
                break
        placed.append((best[2], LABEL_WEIGHT))
        annotations.append(best[1])
    return annotations


def _marker_boxes(ax, containers) -> List:
    """``(display-space box, weight)`` of every marker, bar and joining line drawn (obstacles for the labels)."""
    from matplotlib.transforms import Bbox
    boxes = []
    to_display = ax.transData.transform
    for xs, ys, lo, hi, xlo, xhi in containers:
        line = to_display(list(zip(xs, ys)))
        for (x0, y0), (x1, y1) in zip(line[:-1], line[1:]):  # the joining line, as a chain of small boxes
            for t in [i / 20 for i in range(21)]:
                px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                boxes.append((Bbox.from_extents(px - 1, py - 1, px + 1, py + 1), BAR_WEIGHT))
        for x, y, a, b, c, d in zip(xs, ys, lo, hi, xlo, xhi):
            (px, py), = to_display([(x, y)])
            boxes.append((Bbox.from_extents(px - 6, py - 6, px + 6, py + 6), MARKER_WEIGHT))
            (_, pa), (_, pb) = to_display([(x, a), (x, b)])
            boxes.append((Bbox.from_extents(px - 2, min(pa, pb), px + 2, max(pa, pb)), BAR_WEIGHT))
            (pc, _), (pd, _) = to_display([(c, y), (d, y)])
            boxes.append((Bbox.from_extents(min(pc, pd), py - 2, max(pc, pd), py + 2), BAR_WEIGHT))
    return boxes


def plot_points(points: Sequence[Point], path: str, x_column: str, x_label: str, title: str,
                log_x: bool = True) -> None:
    """The module's Dice-over-x plot of aggregated ``points``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 7))
    series = _series(points, x_column)
    containers, items = [], []
    for family, members in series.items():
        xs = [p.spread_of(x_column) for p in members]
        ys = [p.spread_of(DICE) for p in members]
        style = _style(family)
        n = sorted({s.n for s in ys})
        ax.errorbar([s.median for s in xs], [s.median for s in ys],
                    yerr=[sum((_bars(s)[i] for s in ys), []) for i in (0, 1)],
                    xerr=[sum((_bars(s)[i] for s in xs), []) for i in (0, 1)],
                    label=f"{family} (n={'/'.join(map(str, n))})", zorder=3, **style)
        containers.append(([s.median for s in xs], [s.median for s in ys], [s.min for s in ys], [s.max for s in ys],
                           [s.min for s in xs], [s.max for s in xs]))
        items += [(x.median, y.median, p.label, style["color"]) for p, x, y in zip(members, xs, ys)]
    if not series:
        ax.text(0.5, 0.5, "no model with a validation Dice", ha="center", va="center", transform=ax.transAxes)
    else:
        if log_x:
            ax.set_xscale("log")
        ax.margins(x=0.15, y=0.12)  # room for the labels
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="family (folds)",
                  title_fontsize=8)
    ax.set_xlabel(x_label)
    ax.set_ylabel("validation Dice (foreground mean): median, min-max over folds")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    if items:
        fig.canvas.draw()
        place_labels(ax, items, _marker_boxes(ax, containers))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_dice_vs_params(points: Sequence[Point], path: str, title: str) -> None:
    plot_points(points, path, "parameters", "parameters (log scale)", title)


def plot_latency_vs_dice(points: Sequence[Point], path: str, title: str) -> None:
    plot_points(points, path, "latency_patch_median_ms", "median latency per patch (ms)", title, log_x=False)


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


def _draw_widths(ax, log: dict, legend: bool) -> None:
    """``plot_widths``' lines on ``ax``."""
    steps, lines = width_trajectories(log)
    n_encoder = sum(name.startswith("encoder") for name in lines)
    for name, widths in lines.items():
        stage = int(name.rsplit(" ", 1)[1])
        stage = stage if name.startswith("encoder") else n_encoder - 2 - stage
        ax.plot(steps, widths, marker="o", markersize=3, linestyle="-" if name.startswith("encoder") else "--",
                color=f"C{max(stage, 0) % 10}", label=name)
    if not lines:
        ax.text(0.5, 0.5, "no pruning step logged", ha="center", va="center", transform=ax.transAxes)
    else:
        if legend:
            ax.legend(fontsize=7, ncol=2, handlelength=3)
        if len(steps) <= 12:  # label each step with its epoch; more would crowd the axis
            ax.set_xticks(steps, [f"{r[0]}\n" + ("start" if r[3] is None else f"ep {r[3]}") for r in _records(log)])
    ax.set_xlabel("pruning step" + (" (epoch)" if 0 < len(steps) <= 12 else ""))
    ax.grid(True, alpha=0.3)


def plot_widths(log: dict, path: str, title: str) -> None:
    """Mean conv width per stage over pruning steps: encoder solid, decoder dashed, one colour per resolution
    (decoder stage d works at encoder stage S-2-d's resolution, S = encoder stages)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    _draw_widths(ax, log, legend=True)
    ax.set_ylabel("mean conv width (channels)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_trajectories(logs: Sequence[Tuple[str, dict]], path: str, title: str) -> None:
    """``plot_widths`` of several runs side by side (``(panel title, log)``, e.g. one per criterion), one y scale,
    one legend: the paper's Fig. 3b for each criterion."""
    plt = _pyplot()
    n = max(len(logs), 1)
    legend_width = 2.0  # inches kept free on the right for the shared legend
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n + legend_width, 4.6), sharey=True, squeeze=False)
    for ax, (name, log) in zip(axes[0], logs):
        _draw_widths(ax, log, legend=False)
        ax.set_title(name, fontsize=10)
    if not logs:
        axes[0][0].text(0.5, 0.5, "no pruning log", ha="center", va="center", transform=axes[0][0].transAxes)
    axes[0][0].set_ylabel("mean conv width (channels)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, fontsize=7, loc="center right", handlelength=3,
                   title="solid: encoder\ndashed: decoder", title_fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1 - legend_width / (4.2 * n + legend_width) if handles else 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
