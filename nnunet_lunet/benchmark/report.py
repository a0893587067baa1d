"""The benchmark's files: ``benchmark.csv`` (every raw number, one row per model and fold), ``benchmark_folds.csv``
(the folds aggregated, one row per model and pruning level, ``aggregate.py``) and ``benchmark.md`` (the command line,
the environment, the aggregated table, the per-fold table, notes).

Raw columns (CSV; units in the names; empty = not measured):

- ``model`` (results folder name), ``trainer``, ``plans``, ``configuration``, ``fold``, ``status`` (``ok`` or
  ``failed: <reason>``), ``reference`` (``yes`` for the reference row), ``label`` (``labels.py``), ``group`` (the
  model its folds are aggregated into, ``labels.group_name``);
- ``parameters`` of the network as nnU-Net's predictor rebuilds it; ``macs_per_patch`` (one forward pass, batch 1);
  ``in_channels``, ``patch_size``, ``batch_size`` (the plan's);
- ``memory_*_mib``: ``after_imports`` (bare torch + nnU-Net process), ``model_ready`` (network built and loaded),
  ``inference_peak`` (one patch), ``train_peak`` (one training step at the plan's batch size), and the ``*_delta``
  of both peaks over ``after_imports``; ``memory_method`` says how (see ``memory.py``);
- ``latency_patch_{median,min,max}_ms``: forward pass on one patch, batch 1, no grad;
  ``latency_case_{median,min,max}_s``: nnU-Net's sliding-window prediction of the case described in ``case``;
- ``latency_{patch,case}_ort_*`` / ``latency_{patch,case}_ov_*``: the same two timings with the network exported to
  ONNX and run by ONNX Runtime / OpenVINO (when installed) / ``_ov16_``: OpenVINO at bfloat16 (where the CPU has it)
  with ``ort_threads`` threads (CPU only, ``timers.py``);
  all rows' timings are interleaved (``latency.py``);
  ``case_forward_passes``: network calls per case (tiles x mirrorings); ``ratios_within_noise``: the latency ratio
  columns whose min-max range overlaps the reference's (``timing_checks.py``);
- ``epochs``, ``epoch_time_median_s`` and ``train_time_s`` (the epochs' sum): from the checkpoint's training log;
- ``pruning_time_s`` (all pruning steps: scoring and surgery) and ``pruning_time_share`` (of ``train_time_s``): from
  a pruning run's ``pruning_log.json``, empty for other runs;
- how the row was trained (``training_setup.py``): ``recipe`` (optimizer class), ``initial_lr``, ``momentum``,
  ``weight_decay``, ``budget`` (epochs x iterations), ``train_batch_size``, ``train_patch_size``, and the
  ``checkpoint`` measured; ``differs`` lists those in which the row differs from the reference;
  ``val_dice_note`` says why a row has no validation Dice;
- ``val_dice_mean`` (nnU-Net's ``foreground_mean``) and ``val_dice_<label>`` from ``validation/summary.json``;
  ``test_dice_*`` likewise for the test set when given;
- ``dice_diff_to_reference``: the row's ``val_dice_mean`` minus the reference's on the same fold;
- a pruning run's ``channels_left_percent`` (after its last step), ``width_rank_correlation`` at the first level and
  ``levelNN_width_rank_correlation`` at the later ones (``pruning_order.py``), ``levelNN_guard`` for a level its
  validation guard kept it from reaching (``stopped`` or ``short``; such a level has no Dice), and, per pruning level
  NN evaluated (``validation_levelNN``), ``levelNN_val_dice_mean`` and ``levelNN_parameters``;
- ``*_ratio``: reference / model (``ratios.py``);
- ``pruning_log``, ``widths_plot``: a pruning run's log and its width-trajectory plot;
- ``device``, ``torch_threads``, ``torch_version``, ``repeats``: where and how it was measured (the same in every
  row; there so that CSVs of several machines can be concatenated).

Aggregated columns (``benchmark_folds.csv``): ``label``, ``family``, ``model`` (the group), ``level``, ``reference``,
``n`` and ``folds`` (the folds with a validation Dice), ``val_dice_{median,min,max}``, the paired differences to the
reference ``diff_to_reference_{n,median,min,max}`` (Dice, 0-1; n = folds both have), ``budget``, and
``<column>_{median,min,max}`` of ``aggregate.SPREAD_COLUMNS`` over the folds.
"""

import csv
from typing import Callable, Dict, List, Optional, Sequence

from nnunet_lunet.benchmark.aggregate import SPREAD_COLUMNS, label_order
from nnunet_lunet.benchmark.ratios import RATIOS
from nnunet_lunet.benchmark.runtimes import COLUMNS as LATENCY_COLUMNS
from nnunet_lunet.benchmark.runtimes import BY_GRAPH_RUNTIME, graph_headings
from nnunet_lunet.benchmark.training_setup import FIELDS
from nnunet_lunet.tables import human, markdown_table

HEAD_COLUMNS = ["model", "trainer", "plans", "configuration", "fold", "status", "reference", "label", "group",
                "parameters",
                "macs_per_patch", "in_channels", "patch_size", "batch_size", "memory_method",
                "memory_after_imports_mib", "memory_model_ready_mib", "memory_inference_peak_mib",
                "memory_inference_delta_mib", "memory_train_peak_mib", "memory_train_delta_mib"] + LATENCY_COLUMNS + [
                "case", "case_forward_passes", "ratios_within_noise",
                "epochs", "epoch_time_median_s", "train_time_s",
                "pruning_time_s", "pruning_time_share"] + list(FIELDS) + ["differs", "val_dice_note"]
PRUNING_COLUMNS = ["channels_left_percent", "width_rank_correlation", "level50_width_rank_correlation",
                   "level25_width_rank_correlation", "level75_guard", "level50_guard", "level25_guard"]
TAIL_COLUMNS = list(RATIOS) + ["pruning_log", "widths_plot", "device", "torch_threads", "ort_threads",
                               "torch_version", "repeats"]


def dice_columns(rows: Sequence[Dict[str, object]], prefix: str) -> List[str]:
    """``<prefix>_mean`` then the per-class columns present in any row, in label order."""
    keys = {k for r in rows for k in r if k.startswith(prefix + "_") and k != prefix + "_mean"}
    return [prefix + "_mean"] + sorted(keys, key=label_order) if keys or any(prefix + "_mean" in r for r in rows) else []


def level_columns(rows: Sequence[Dict[str, object]]) -> List[str]:
    """``levelNN_val_dice_mean`` and ``levelNN_parameters`` of the levels present in any row, highest first."""
    levels = sorted({int(k[5:].split("_", 1)[0]) for r in rows for k in r
                     if k.startswith("level") and k.endswith("_val_dice_mean")}, reverse=True)
    return [f"level{lv}_{c}" for lv in levels for c in ("val_dice_mean", "parameters")]


def csv_columns(rows: Sequence[Dict[str, object]]) -> List[str]:
    return (HEAD_COLUMNS + dice_columns(rows, "val_dice") + ["dice_diff_to_reference"]
            + dice_columns(rows, "test_dice") + PRUNING_COLUMNS + level_columns(rows) + TAIL_COLUMNS)



def write_csv(rows: Sequence[Dict[str, object]], path: str, columns: Optional[Sequence[str]] = None) -> None:
    """``rows`` as CSV with ``columns`` (default: the per-fold ones, ``csv_columns``); None cells are empty."""
    columns = list(columns) if columns is not None else csv_columns(rows)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})


def _num(value: object, fmt: str) -> str:
    return "" if not isinstance(value, (int, float)) else format(value, fmt)


def _ratio(value: object, within_noise: bool = False) -> str:
    return "" if not isinstance(value, (int, float)) else ("~" if within_noise else "") + f"{value:.2f}x"


def _percent(share: object) -> Optional[float]:
    return 100 * share if isinstance(share, (int, float)) else None


def _latency(row: Dict[str, object]) -> str:
    if not isinstance(row.get("latency_patch_median_ms"), (int, float)):
        return ""
    return (f"{row['latency_patch_median_ms']:.1f} ({row['latency_patch_min_ms']:.1f}-"
            f"{row['latency_patch_max_ms']:.1f})")


def _recipe(row: Dict[str, object]) -> str:
    """``Adam 0.001`` or ``SGD 0.01 m0.99``."""
    if not row.get("recipe"):
        return ""
    momentum = f" m{row['momentum']}" if row.get("momentum") not in (None, "") else ""
    return f"{row['recipe']} {row.get('initial_lr') or ''}{momentum}".strip()


def display_rows(rows: Sequence[Dict[str, object]], label_names: Dict[str, str]) -> List[Dict[str, str]]:
    """Rows of the markdown table: humanised numbers, ratios next to the values they compare."""
    val, test = dice_columns(rows, "val_dice"), dice_columns(rows, "test_dice")
    out = []
    for r in rows:
        noise = str(r.get("ratios_within_noise") or "").split()

        def ratio(column: str) -> str:
            return _ratio(r.get(column), column in noise)

        shown = {
            "model": r["model"] + (" (reference)" if r.get("reference") == "yes" else ""),
            "fold": r["fold"], "status": r["status"],
            "params": human(r["parameters"]) if isinstance(r.get("parameters"), int) else "",
            "params x": _ratio(r.get("parameters_ratio")),
            "MACs/patch": human(r["macs_per_patch"]) if isinstance(r.get("macs_per_patch"), int) else "",
            "MACs x": _ratio(r.get("macs_ratio")),
            "train mem MiB": _num(r.get("memory_train_delta_mib"), ".0f"),
            "train mem x": _ratio(r.get("memory_train_ratio")),
            "infer mem MiB": _num(r.get("memory_inference_delta_mib"), ".0f"),
            "infer mem x": _ratio(r.get("memory_inference_ratio")),
            "patch ms (min-max)": _latency(r), "patch x": ratio("latency_patch_ratio"),
            "case s": _num(r.get("latency_case_median_s"), ".2f"), "case x": ratio("latency_case_ratio"),
            **{heading: ratio(column) if fmt == "ratio" else _num(r.get(column), fmt)
               for runtime in BY_GRAPH_RUNTIME.values() for heading, column, fmt in graph_headings(runtime)},
            "epoch s": _num(r.get("epoch_time_median_s"), ".1f"),
            "recipe": _recipe(r), "budget": str(r.get("budget") or ""),
            "differs from ref.": str(r.get("differs") or ""),
            "pruning % of training": _num(_percent(r.get("pruning_time_share")), ".1f"),
        }
        for prefix, columns in (("val", val), ("test", test)):
            for c in columns:
                key = c[len(prefix) + len("_dice_"):]
                title = f"{prefix} Dice " + ("mean" if key == "mean" else label_names.get(key, key))
                shown[title] = _num(r.get(c), ".4f")
        out.append(shown)
    return out


def format_table(rows: Sequence[Dict[str, object]], label_names: Dict[str, str]) -> str:
    """The markdown table; columns empty in every row (e.g. OpenVINO's when it is not installed) are left out."""
    shown = display_rows(rows, label_names)
    columns = [c for c in shown[0] if c == "model" or any(r[c] for r in shown)] if shown else ["model"]
    return markdown_table(shown, columns)


COLUMN_NOTES = (
    "params, MACs/patch: the network as nnU-Net's predictor rebuilds it from the checkpoint; MACs of one forward "
    "pass on one patch (batch 1), torch.utils.flop_counter.",
    "train mem / infer mem: peak memory of one training step (plan's batch size, deep supervision, SGD step) / one "
    "inference patch, minus the bare torch + nnU-Net process after imports (CPU: peak RSS of a fresh process; "
    "CUDA: max allocated); raw peaks in benchmark.csv.",
    "patch ms: forward pass on one patch, batch 1, no grad: median (min-max). case s: median time of nnU-Net's "
    "sliding-window prediction of one whole case (see below).",
    "ORT patch ms / ORT case s: the same timings with the network exported to ONNX and run by ONNX Runtime (CPU, "
    "as many threads as torch); ORT x torch: the reference in PyTorch / this model in ONNX Runtime (the speed-up "
    "over today's default); ORT x ORT: the reference in ONNX Runtime / this model in ONNX Runtime.",
    "OV patch ms / OV case s: the same with OpenVINO (when installed) running the same graph; OV x torch: the "
    "reference in PyTorch / this model in OpenVINO. OV bf16: OpenVINO at bfloat16 inference precision (only on "
    "CPUs with native bf16): not the parity-checked float32 computation; Dice columns are float32's.",
    "epoch s: median wall time per training epoch from the checkpoint's log (training + validation iterations, "
    "and a pruning run's pruning step).",
    "pruning % of training: a pruning run's time in its pruning steps (scoring + surgery, pruning_log.json) over "
    "its training wall time (the sum of its epochs); empty for other runs.",
    "recipe: optimizer, initial learning rate and momentum; budget: epochs x iterations per epoch (debug.json); "
    "differs from ref.: what in the training setup (recipe, budget, batch, patch, checkpoint) differs from the "
    "reference row: such rows are not an equal comparison.",
    "val Dice: nnU-Net's final validation of the fold (validation/summary.json); test Dice: the test set given "
    "with --test-images/--test-labels, predicted and evaluated with nnU-Net's own code.",
    "x columns: reference / model, so 2.00x = half the reference's size, memory or time. ~ before a latency "
    "ratio: the row's min-max range overlaps the reference's, so the runs do not show a difference. All models' "
    "timings are interleaved (every round times every model once), so load changes hit them alike.",
)


SUMMARY_COLUMNS = (["label", "family", "model", "level", "reference", "n", "folds", "val_dice_median", "val_dice_min",
                    "val_dice_max", "diff_to_reference_n", "diff_to_reference_median", "diff_to_reference_min",
                    "diff_to_reference_max", "budget"]
                   + [f"{c}_{s}" for c in SPREAD_COLUMNS for s in ("median", "min", "max")])


def summary_columns(summary: Sequence[Dict[str, object]]) -> List[str]:
    """``SUMMARY_COLUMNS`` then the per-label Dice spreads present (``val_dice_<label>_{median,min,max}``)."""
    labels = sorted({k[:-len("_median")] for r in summary for k in r
                     if k.startswith("val_dice_") and k.endswith("_median") and k != "val_dice_median"},
                    key=label_order)
    return list(SUMMARY_COLUMNS) + [f"{c}_{s}" for c in labels for s in ("median", "min", "max")]


def _range(row: Dict[str, object], prefix: str, fmt: Callable[[float], str]) -> str:
    """``median [min, max]`` of a summary row's ``<prefix>_*`` cells; just the median when all three agree."""
    values = [row.get(f"{prefix}_{s}") for s in ("median", "min", "max")]
    if not all(isinstance(v, (int, float)) for v in values):
        return ""
    texts = [fmt(v) for v in values]
    return texts[0] if len(set(texts)) == 1 else f"{texts[0]} [{texts[1]}, {texts[2]}]"


def signed_points(dice_difference: float) -> str:
    """A Dice difference in Dice points with its sign, ``+1.2``; a difference that rounds to 0 is ``+0.0``."""
    return f"{round(100 * dice_difference, 1) + 0.0:+.1f}"


def format_summary_table(summary: Sequence[Dict[str, object]], label_names: Optional[Dict[str, str]] = None) -> str:
    """The aggregated table: one line per model (and pruning level), medians [min, max] over the folds; a column per
    label (named by ``label_names``, nnU-Net's label values as keys) where there is more than one label."""
    label_names = label_names or {}
    labels = [c[len("val_dice_"):-len("_median")] for c in summary_columns(summary)[len(SUMMARY_COLUMNS)::3]]
    labels = labels if len(labels) > 1 else []
    shown = [{
        "model": str(r["label"]) + (" (reference)" if r.get("reference") == "yes" else ""),
        "family": r["family"], "n": r["n"], "folds": r["folds"],
        "val Dice": _range(r, "val_dice", lambda v: f"{v:.4f}"),
        **{f"Dice {label_names.get(k, k)}": _range(r, f"val_dice_{k}", lambda v: f"{v:.3f}") for k in labels},
        "diff to ref. (points)": ((_range(r, "diff_to_reference", signed_points)
                                  + f" (n={r['diff_to_reference_n']})") if r.get("diff_to_reference_n") else ""),
        "params": _range(r, "parameters", human), "MACs/patch": _range(r, "macs_per_patch", human),
        "patch ms": _range(r, "latency_patch_median_ms", lambda v: f"{v:.1f}"),
        "case s": _range(r, "latency_case_median_s", lambda v: f"{v:.2f}"),
        "epoch s": _range(r, "epoch_time_median_s", lambda v: f"{v:.1f}"),
        "budget": r.get("budget") or ""} for r in summary]
    columns = [c for c in shown[0] if c == "model" or any(r[c] for r in shown)] if shown else ["model"]
    return markdown_table(shown, columns)


SUMMARY_NOTE = (
    "Over folds: one line per model (a pruning run: per pruning level NN% of channels left, from its "
    "validation_levelNN evaluation, else its final validation), median [min, max] over the n folds with a validation "
    "Dice; diff to ref.: the model's Dice minus the reference's on the same fold, in Dice points (x 100), over the n "
    "folds both have; params, MACs, latencies of the network each fold ended with (a pruning level: the parameters "
    "of the pruning step that reached it). Per-fold numbers under Results and in benchmark.csv; these in "
    "benchmark_folds.csv.")


def markdown_report(title: str, command_line: str, environment: Dict[str, str], table: str,
                    notes: Sequence[str], plots: Sequence[str], csv_name: Optional[str] = "benchmark.csv",
                    summary_table: Optional[str] = None, extra_files: Sequence[str] = ()) -> str:
    env = "\n".join(f"- {k}: {v}" for k, v in environment.items())
    sections = [
        f"# {title}",
        "Command:\n\n```\n" + command_line + "\n```",
        "## Environment\n\n" + env,
        "## Over folds\n\n" + summary_table + "\n\n" + SUMMARY_NOTE if summary_table else "",
        "## Results\n\n" + ("Per fold:\n\n" if summary_table else "") + table,
        "Columns:\n\n" + "\n".join(f"- {n}" for n in COLUMN_NOTES),
        "## Notes\n\n" + "\n".join(f"- {n}" for n in notes) if notes else "",
        "## Files\n\n" + "\n".join(f"- {p}" for p in ([csv_name] if csv_name else []) + list(extra_files)
                                     + list(plots)),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"
