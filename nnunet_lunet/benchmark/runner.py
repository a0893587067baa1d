"""``run_benchmark``: every trained model of a configuration (and its variants), side by side.

Which models: ``ModelSelection``; how they are measured: ``MeasureOptions``. ``run_benchmark`` checks the input,
``measure_rows`` measures, ``_derive`` adds the computed columns, ``_write_outputs`` writes the files and
``_print_outputs`` prints.

Rules:

- Input problems are ``LUnetError``s raised before any measurement: unknown dataset, a requested plans that does not
  exist (or, without ``plans``, a dataset none of whose models' plans exist in ``nnUNet_preprocessed``), an exact
  ``models`` list against ``discovery.check_models``, no model found, a non-empty output folder without
  ``overwrite``, bad ``repeats``/``warmup``/folds/device, test folders that are missing, given alone or hold
  different cases, a ``reference`` that is not among the models.
- Each (model, fold) becomes one row. A row that cannot be measured (no fold, no checkpoint, no
  ``validation/summary.json``, an exception while building or measuring) gets status ``failed: <reason>`` with the
  numbers measured before the failure; the other rows are still measured. When every row failed, the report is
  still written, and then a ``LUnetError`` says so (the command exits non-zero).
- Three passes over the rows. Preparing, per row: validation Dice and epoch times (files), the network rebuilt as
  nnU-Net's predictor does (``trained_network``), parameters and MACs (``model_stats``), the case (``cases``) and the
  row's timers (``timers``: patch and whole case, on CPU also under ONNX Runtime). Timing: all rows' timers together,
  interleaved (``latency.time_interleaved``), so a change of the machine's load hits every model alike. Finishing,
  per row: peak memory in a fresh process (``memory``) and, with test folders, test-set Dice (``test_set``).
  ``timing_checks`` then marks ratios within noise and notes disturbed timings.
- Folds: runs of one model on several folds are aggregated (``aggregate``: n, median, min-max, paired differences
  to the reference) into ``benchmark_folds.csv`` and the report's first table; ``claims`` judges the paper's claims
  from them into ``claims.md``.
- Outputs in the output folder (default ``$nnUNet_results/<dataset>/lunet_benchmark_<configuration>``):
  ``benchmark.md``, ``benchmark.csv``, ``benchmark_folds.csv``, ``claims.md``, ``dice_vs_params.png``,
  ``latency_vs_dice.png``, ``pruning_trajectories.png`` (each pruning model's first fold side by side, when there is
  a pruning log),
  ``widths_<model>_fold<N>.png`` for every fold folder holding a ``pruning_log.json``, ``benchmark.log`` (nnU-Net's
  output while predicting the test set) and ``test_predictions/``. With ``overwrite`` these (and only these) are
  replaced, and only in a folder an earlier benchmark wrote; nothing else in the folder is touched. A completion
  marker is written last (``outputs``).
"""

import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, fields, replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from tqdm import tqdm

from nnunet_lunet.benchmark.aggregate import add_fold_differences, aggregate, summary_rows
from nnunet_lunet.benchmark.cases import benchmark_case
from nnunet_lunet.benchmark.claims import claims_markdown, judge_claims
from nnunet_lunet.benchmark.discovery import (STANDARD_TRAINERS, TrainedModel, check_models, discover_models,
                                              list_folds, normalise_folds, pick_reference)
from nnunet_lunet.benchmark.environment import describe_environment
from nnunet_lunet.benchmark.latency import time_interleaved
from nnunet_lunet.benchmark.memory import measure_memory, memory_requested
from nnunet_lunet.benchmark.outputs import (TEST_PREDICTIONS, default_output, finish_output, planned_outputs,
                                           prepare_output, widths_plot_name)
from nnunet_lunet.benchmark.plots import plot_dice_vs_params, plot_latency_vs_dice, plot_trajectories, plot_widths
from nnunet_lunet.benchmark.ratios import add_ratios
from nnunet_lunet.benchmark.labels import group_name, identify
from nnunet_lunet.benchmark.pruning_order import level_guard, width_rank_correlations
from nnunet_lunet.benchmark.records import (MissingRecord, channels_left_percent, pruning_overhead, read_epoch_times,
                                            read_levels, read_validation_dice)
from nnunet_lunet.benchmark.report import (format_summary_table, format_table, markdown_report, summary_columns,
                                           write_csv)
from nnunet_lunet.benchmark.test_set import check_test_cases, check_test_folders, predict_and_evaluate
from nnunet_lunet.benchmark.timers import forward_passes, row_timers, timing_columns
from nnunet_lunet.benchmark.timing_checks import inconsistent_cases, mark_noise
from nnunet_lunet.benchmark.trained_network import (fold_folder, label_names, load_predictor, network_input,
                                                    trained_network)
from nnunet_lunet.benchmark.training_setup import flag_differences, read_training_setup
from nnunet_lunet.datasets import dataset_id, load_dataset_json, load_plans, plans_file, require_env, resolve_dataset
from nnunet_lunet.errors import LUnetError, json_error
from nnunet_lunet.model_stats import count_macs, count_parameters
from nnunet_lunet.plans.run_names import fold_name, model_name
from nnunet_lunet.pruning.pruning_log import LOG_JSON, read_log

DEFAULT_WARMUP = 2
FINAL_CHECKPOINT = "checkpoint_final.pth"


@dataclass(frozen=True)
class ModelSelection:
    """Which trained models become rows: every model ``discovery`` finds, narrowed by ``trainers`` and ``plans``, or
    exactly ``models`` (``(trainer, plans, configuration)``, in this order); ``folds`` (default: every ``fold_N``
    present); ``reference``: the model name the ratio columns divide by (default: ``discovery.pick_reference``)."""

    folds: Optional[Sequence] = None
    trainers: Optional[Sequence[str]] = None
    plans: Optional[Sequence[str]] = None
    models: Optional[Sequence[Tuple[str, str, str]]] = None
    reference: Optional[str] = None


@dataclass(frozen=True)
class MeasureOptions:
    """How every row is measured, as given (``run_benchmark`` checks it and resolves it into ``Settings``):
    ``mirroring`` is test-time mirroring in whole-case and test-set prediction (nnU-Net's default; off =
    ``nnUNetv2_predict --disable_tta``); ``device`` defaults to CUDA when torch sees it, else the CPU."""

    checkpoint: str = FINAL_CHECKPOINT
    repeats: int = 5
    warmup: int = DEFAULT_WARMUP
    device: Optional[str] = None
    mirroring: bool = True
    test_images: Optional[str] = None
    test_labels: Optional[str] = None


@dataclass(frozen=True)
class Settings:
    """How every row is measured, resolved: ``options`` as checked (test folders made absolute), the torch
    ``device`` that ``options.device`` names, the output folder and ``$nnUNet_preprocessed/<dataset>``."""

    options: MeasureOptions
    device: object  # torch.device
    output: str
    preprocessed: str


def _check_plans(dataset_name: str, plans: Optional[Sequence[str]], models: Sequence[TrainedModel]) -> None:
    if plans:
        for p in plans:
            load_plans(dataset_name, p)
    elif models and not any(os.path.isfile(plans_file(dataset_name, m.plans)) for m in models):
        load_plans(dataset_name, models[0].plans)  # raises, naming the file and the command that writes it


def _file_ending(dataset_name: str) -> str:
    """The dataset's image file ending, from the ``dataset.json`` that planning copies to ``nnUNet_preprocessed``."""
    return load_dataset_json(dataset_name)["file_ending"]


def _no_models_message(dataset_name: str, configuration: str, results: str, selection: ModelSelection) -> str:
    trainers, plans, models = selection.trainers, selection.plans, selection.models
    filters = "".join([f", trainers {' '.join(trainers)}" if trainers else "", f", plans {' '.join(plans)}"
                       if plans else "", f", models {', '.join(model_name(*m) for m in models)}" if models else ""])
    return (f"no trained model of {dataset_name} with configuration {configuration} (or a variant "
            f"{configuration}_*){filters} in {results}: train one with nnUNetv2_train {dataset_id(dataset_name)} "
            f"{configuration} FOLD -tr TRAINER, or check -c, -tr and -p")


def _pruning_records(row: Dict[str, object], folder: str) -> None:
    """A pruning run's channels left, width rank correlation and level evaluations (nothing for other runs); a log
    without the fields they need (an older format) leaves the first two empty."""
    log = read_log(folder)
    if log is not None:
        try:
            row.update(channels_left_percent=channels_left_percent(log), **width_rank_correlations(log),
                       **level_guard(log))
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            pass
    for level in read_levels(folder, log):
        row[f"level{level.level}_val_dice_mean"] = level.dice.mean
        row[f"level{level.level}_parameters"] = level.parameters


def _tasks(models: Sequence[TrainedModel], folds: Optional[List[str]]) -> List[Tuple[TrainedModel, str]]:
    return [(m, f) for m in models for f in (folds if folds is not None else list_folds(m) or ["0"])]


def _fill_dice(row: Dict[str, object], prefix: str, dice) -> None:
    row[f"{prefix}_mean"] = dice.mean
    for key, value in dice.per_class.items():
        row[f"{prefix}_{key}"] = value


def _training_records(row: Dict[str, object], model: TrainedModel, fold: str, checkpoint_name: str) -> None:
    """Training setup, validation Dice and epoch times; MissingRecord if the model, fold or checkpoint is missing.
    Without the final validation's summary (or for another checkpoint than the final one) the Dice cells stay empty
    and ``val_dice_note`` says why."""
    if not os.path.isdir(model.folder):
        raise MissingRecord(f"no model folder {model.folder}")
    folder = fold_folder(model.folder, fold)
    if not os.path.isdir(folder):
        raise MissingRecord(f"no {fold_name(fold)} in {model.name}")
    row.update(read_training_setup(folder, checkpoint_name))
    checkpoint = os.path.join(folder, checkpoint_name)
    if not os.path.isfile(checkpoint):
        raise MissingRecord(f"no {checkpoint_name} in {fold_name(fold)} (training unfinished? pass --checkpoint "
                            f"checkpoint_best.pth or checkpoint_latest.pth)")
    if checkpoint_name != FINAL_CHECKPOINT:
        row["val_dice_note"] = (f"no val Dice: nnU-Net's validation/summary.json is of {FINAL_CHECKPOINT} (or of "
                                f"--val_best), not of {checkpoint_name}")
    else:
        try:
            _fill_dice(row, "val_dice", read_validation_dice(folder))
        except MissingRecord as missing:  # size, speed and memory can still be measured
            row["val_dice_note"] = f"no val Dice: {missing}"
        _pruning_records(row, folder)
    times = read_epoch_times(checkpoint)
    row.update(epochs=times.epochs, epoch_time_median_s=times.median_s, train_time_s=times.total_s)
    overhead = pruning_overhead(folder, times)
    if overhead is not None:
        row.update(pruning_time_s=overhead.seconds, pruning_time_share=overhead.share)


def _size(network, shape) -> Dict[str, object]:
    return dict(in_channels=shape.in_channels, patch_size="x".join(map(str, shape.patch_size)),
                batch_size=shape.batch_size, parameters=count_parameters(network),
                macs_per_patch=int(count_macs(network, shape.in_channels, shape.patch_size)))


def _memory(model: TrainedModel, fold: str, settings: Settings) -> Dict[str, object]:
    m = measure_memory(model.folder, fold, settings.options.checkpoint, str(settings.device),
                       torch.get_num_threads())
    return dict(memory_method=m["method"], memory_after_imports_mib=m["after_imports_mib"],
                memory_model_ready_mib=m["model_ready_mib"], memory_inference_peak_mib=m["inference_peak_mib"],
                memory_train_peak_mib=m["train_peak_mib"],
                memory_inference_delta_mib=m["inference_peak_mib"] - m["after_imports_mib"],
                memory_train_delta_mib=m["train_peak_mib"] - m["after_imports_mib"])


@dataclass
class PreparedRow:
    """A row ready to be timed: its predictor (kept alive for the case timers) and its timed calls."""

    predictor: object
    timers: Dict[str, Callable[[], object]]


def prepare_row(row: Dict[str, object], model: TrainedModel, fold: str, settings: Settings, graph_folder: str,
                progress: Callable[[str], None] = lambda step: None) -> PreparedRow:
    """Fill ``row`` with the numbers that need no timing (training records, size, the case) and build its timers;
    exceptions propagate (the caller turns them into the row's status). ``row['label_names']`` gets ``{summary
    key: label name}``."""
    _training_records(row, model, fold, settings.options.checkpoint)
    progress("building")
    options = settings.options
    predictor = load_predictor(model.folder, fold, options.checkpoint, settings.device, options.mirroring)
    row["label_names"] = dict(label_names(predictor))
    network = trained_network(predictor, settings.device)
    predictor.network = network  # eager everywhere: a torch.compile wrapper would compile inside a timed run
    shape = network_input(predictor)
    row.update(_size(network, shape))
    image, case = benchmark_case(settings.preprocessed, predictor.plans_manager, predictor.configuration_manager,
                                 shape.in_channels)
    row.update(case=case, case_forward_passes=forward_passes(predictor, image.shape[1:]))
    progress("exporting to ONNX" if settings.device.type == "cpu" else "preparing timers")
    os.makedirs(graph_folder, exist_ok=True)
    timers, columns = row_timers(predictor, network, shape, image, settings.device, graph_folder)
    row.update(columns)
    return PreparedRow(predictor, timers)


def time_rows(rows: Sequence[Dict[str, object]], prepared: Dict[int, PreparedRow], settings: Settings,
              on_round: Callable[[int], None] = lambda r: None) -> Dict[int, BaseException]:
    """Time every prepared row's timers interleaved (``latency.time_interleaved``) and fill the latency columns;
    returns ``{row index: error}`` for rows a timer failed in."""
    calls = {(i, name): fn for i, p in prepared.items() for name, fn in p.timers.items()}
    timings, errors = time_interleaved(calls, settings.device, settings.options.repeats, settings.options.warmup,
                                       on_round)
    for (i, name), timing in timings.items():
        rows[i].update(timing_columns(name, timing))
    return {i: error for (i, _), error in errors.items()}


def finish_row(row: Dict[str, object], model: TrainedModel, fold: str, prepared: PreparedRow, settings: Settings,
               progress: Callable[[str], None] = lambda step: None) -> None:
    """Memory in a fresh process (unless ``NNUNET_LUNET_BENCH_MEMORY=0``) and, with test folders, the test set;
    exceptions propagate."""
    if memory_requested():
        progress("memory")
        row.update(_memory(model, fold, settings))
    if settings.options.test_images is not None:
        progress("test set")
        out = os.path.join(settings.output, TEST_PREDICTIONS, f"{model.name}_fold{fold}")
        _fill_dice(row, "test_dice", predict_and_evaluate(prepared.predictor, model.folder,
                                                          settings.options.test_images, settings.options.test_labels,
                                                          out, os.path.join(settings.output, "benchmark.log")))


def _widths_plot(row: Dict[str, object], model: TrainedModel, fold: str, output: str) -> Optional[str]:
    folder = fold_folder(model.folder, fold)
    if not os.path.isfile(os.path.join(folder, LOG_JSON)):
        return None
    row["pruning_log"] = os.path.join(folder, LOG_JSON)
    path = os.path.join(output, widths_plot_name(model.name, fold))
    plot_widths(read_log(folder), path, f"{row['label']}, fold {fold}: mean conv width per stage")
    row["widths_plot"] = os.path.basename(path)
    return path


def _failure_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, (MissingRecord, LUnetError)):
        return text
    if isinstance(error, json.JSONDecodeError):
        return json_error(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _call(obj) -> str:
    """``Name(field=value, ...)`` with the fields that differ from their defaults."""
    given = [f"{f.name}={getattr(obj, f.name)!r}" for f in fields(obj) if getattr(obj, f.name) != f.default]
    return f"{type(obj).__name__}({', '.join(given)})"


def _default_command_line(dataset: str, configuration: str, selection: ModelSelection, options: MeasureOptions,
                          output: str, overwrite: bool) -> str:
    """The ``run_benchmark`` call the report shows when the caller gives no command line (folds as normalised)."""
    selection = replace(selection, folds=normalise_folds(selection.folds))
    return (f"run_benchmark({dataset!r}, {configuration!r}, {_call(selection)}, {_call(options)}, output={output!r}"
            + (", overwrite=True)" if overwrite else ")"))


def _resolve_device(device: Optional[str]):
    name = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(name)
    except RuntimeError:
        raise LUnetError(f"invalid device {name!r}: use cpu or cuda (or cuda:N)") from None
    if resolved.type not in ("cpu", "cuda"):
        raise LUnetError(f"device {name!r} is not supported: use cpu or cuda")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise LUnetError("--device cuda but torch sees no CUDA device: use --device cpu")
    return resolved


def run_benchmark(dataset: str, configuration: str, selection: ModelSelection = ModelSelection(),
                  options: MeasureOptions = MeasureOptions(), output: Optional[str] = None, overwrite: bool = False,
                  command_line: Optional[str] = None, echo: bool = True) -> str:
    """Benchmark the models (see module rules); returns the output folder.

    ``command_line``: what the report shows as the command (default: this call); ``echo``: print the table, the
    notes and the files' paths to stdout.
    """
    if int(options.repeats) < 1:
        raise LUnetError(f"--repeats {options.repeats}: give at least 1 timed run")
    if int(options.warmup) < 0:
        raise LUnetError(f"--warmup {options.warmup}: give 0 or more warm-up runs")
    check_test_folders(options.test_images, options.test_labels)
    folds = normalise_folds(selection.folds)
    dataset_name = resolve_dataset(dataset)
    results = os.path.join(require_env("nnUNet_results"), dataset_name)
    if selection.models is not None:
        check_models(selection.models, configuration, selection.trainers, selection.plans)
    found = discover_models(results, configuration, selection.trainers, selection.plans, selection.models)
    _check_plans(dataset_name, selection.plans, found)
    if options.test_images is not None:
        check_test_cases(options.test_images, options.test_labels, _file_ending(dataset_name))
    if not any(os.path.isdir(m.folder) for m in found):
        raise LUnetError(_no_models_message(dataset_name, configuration, results, selection))
    ref = pick_reference(found, configuration, selection.reference)
    output = os.path.abspath(output or default_output(dataset_name, configuration))
    command_line = command_line or _default_command_line(dataset, configuration, selection, options, output, overwrite)
    device = _resolve_device(options.device)
    tasks = _tasks(found, folds)
    planned = planned_outputs([(model.name, fold) for model, fold in tasks])
    prepare_output(output, overwrite, planned)
    settings = Settings(options=replace(options, repeats=int(options.repeats), warmup=int(options.warmup),
                                        test_images=options.test_images and os.path.abspath(options.test_images),
                                        test_labels=options.test_labels and os.path.abspath(options.test_labels)),
                        device=device, output=output,
                        preprocessed=os.path.join(require_env("nnUNet_preprocessed"), dataset_name))
    started = time.perf_counter()
    rows = measure_rows(tasks, ref, configuration, settings)
    widths_plots = _widths_plots(rows, tasks, output)
    environment = describe_environment(settings.device, settings.options.repeats, settings.options.warmup,
                                       settings.options.checkpoint, settings.options.mirroring)
    derived = _derive(rows, ref, environment, settings.options.repeats)
    notes = _notes(rows, ref, configuration, settings) + derived + [
        f"measuring took {time.perf_counter() - started:.0f} s (wall time)"]
    table = format_table(rows, _label_names(rows))
    paths = _write_outputs(rows, table, notes, environment, f"{dataset_name} {configuration}", command_line, output,
                           widths_plots, configuration)
    finish_output(output, planned)
    if echo:
        _print_outputs(table, notes, paths)
    if not any(r["status"] == "ok" for r in rows):
        raise LUnetError(f"no model could be measured: all {len(rows)} rows failed (their reasons are in "
                         f"{os.path.join(output, 'benchmark.md')}); fix them and run the benchmark again with "
                         f"--overwrite")
    return output


def measure_rows(tasks: Sequence[Tuple[TrainedModel, str]], ref: Optional[TrainedModel], configuration: str,
                 settings: Settings) -> List[Dict[str, object]]:
    """One row per (model, fold), measured in three passes (module rules); a row that fails gets its status."""
    rows: List[Dict[str, object]] = [
        {"model": model.name, "trainer": model.trainer, "plans": model.plans, "configuration": model.configuration,
         "fold": fold, "status": "ok", "reference": "yes" if ref is not None and model == ref else "",
         "label": identify(model.trainer, model.configuration, configuration).label,
         "group": group_name(model.trainer, model.plans, model.configuration, fold)} for model, fold in tasks]
    prepared: Dict[int, PreparedRow] = {}

    def fail(i: int, error: BaseException) -> None:
        model, fold = tasks[i]
        rows[i]["status"] = f"failed: {_failure_reason(error)}"
        prepared.pop(i, None)
        tqdm.write(f"[benchmark] {model.name} fold {fold}: {rows[i]['status']}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="lunet_benchmark_graphs_") as graphs:
        bar = tqdm(list(enumerate(tasks)), desc="benchmark: preparing", unit="model", file=sys.stderr,
                   dynamic_ncols=True)
        for i, (model, fold) in bar:
            bar.set_description(f"benchmark: preparing {model.name} fold {fold}")
            try:
                prepared[i] = prepare_row(rows[i], model, fold, settings, os.path.join(graphs, str(i)),
                                          lambda step: bar.set_postfix_str(step))
            except Exception as error:  # noqa: BLE001 - any failure of one model becomes its row's status
                fail(i, error)
        bar.close()
        bar = tqdm(total=settings.options.repeats, desc=f"benchmark: timing {len(prepared)} models interleaved",
                   unit="round", file=sys.stderr, dynamic_ncols=True)
        for i, error in time_rows(rows, prepared, settings, lambda r: bar.update(1)).items():
            fail(i, error)
        bar.close()
    bar = tqdm(list(prepared.items()), desc="benchmark: memory", unit="model", file=sys.stderr, dynamic_ncols=True)
    for i, p in bar:
        model, fold = tasks[i]
        try:
            finish_row(rows[i], model, fold, p, settings, lambda step: bar.set_postfix_str(step))
        except Exception as error:  # noqa: BLE001
            fail(i, error)
    bar.close()
    return rows


def _widths_plots(rows: Sequence[Dict[str, object]], tasks: Sequence[Tuple[TrainedModel, str]],
                  output: str) -> List[str]:
    """The widths plot of every row with a pruning log; a malformed log costs the plot, not the row."""
    paths = []
    for row, (model, fold) in zip(rows, tasks):
        try:
            path = _widths_plot(row, model, fold, output)
            paths += [path] if path else []
        except Exception as error:  # noqa: BLE001
            tqdm.write(f"[benchmark] {model.name} fold {fold}: no widths plot ({_failure_reason(error)})",
                       file=sys.stderr)
    return paths


def _derive(rows: Sequence[Dict[str, object]], ref: Optional[TrainedModel], environment: Dict[str, str],
            repeats: int) -> List[str]:
    """The columns computed from the measurements (environment, ratios, noise marks); returns the notes on rows
    trained unlike the reference and on inconsistent case timings."""
    for row in rows:
        row.update(device=environment["device"], torch_threads=environment["torch threads"],
                   torch_version=environment["torch"], repeats=repeats)
    ref_name = ref.name if ref is not None else None
    add_ratios(rows, ref_name)
    add_fold_differences(rows)
    mark_noise(rows, ref_name)
    return flag_differences(rows, ref_name) + inconsistent_cases(rows) + [
        f"{r['model']} fold {r['fold']}: {r['val_dice_note']}" for r in rows if r.get("val_dice_note")]


def _label_names(rows: Sequence[Dict[str, object]]) -> Dict[str, str]:
    """nnU-Net's label values -> names, over every row."""
    return {k: v for row in rows for k, v in row.get("label_names", {}).items()}


def _write_outputs(rows: Sequence[Dict[str, object]], table: str, notes: Sequence[str], environment: Dict[str, str],
                   title: str, command_line: str, output: str, widths_plots: Sequence[str],
                   configuration: str) -> List[str]:
    """Plots, CSVs, the claims and the markdown report; returns their paths (report, CSV, the rest)."""
    points = aggregate(rows, configuration)
    plots = [os.path.join(output, "dice_vs_params.png"), os.path.join(output, "latency_vs_dice.png")]
    plot_dice_vs_params(points, plots[0], f"{title}: Dice vs parameters")
    plot_latency_vs_dice(points, plots[1], f"{title}: Dice vs latency per patch")
    trajectories = _trajectories(rows)
    if trajectories:
        plots.append(os.path.join(output, "pruning_trajectories.png"))
        plot_trajectories(trajectories, plots[-1], f"{title}: mean conv width per stage over the pruning steps")
    plots += widths_plots
    report, csv = os.path.join(output, "benchmark.md"), os.path.join(output, "benchmark.csv")
    folds_csv, claims = os.path.join(output, "benchmark_folds.csv"), os.path.join(output, "claims.md")
    write_csv(rows, csv)
    summary = summary_rows(points)
    write_csv(summary, folds_csv, summary_columns(summary))
    with open(claims, "w") as f:
        f.write(claims_markdown(judge_claims(points, rows, configuration), f"The paper's claims: {title}"))
    with open(report, "w") as f:
        f.write(markdown_report(f"LUnet benchmark: {title}", command_line, environment, table, notes,
                                [os.path.basename(p) for p in plots],
                                summary_table=format_summary_table(summary, _label_names(rows)),
                                extra_files=[os.path.basename(folds_csv), os.path.basename(claims)]))
    return [report, csv, folds_csv, claims] + plots


def _trajectories(rows: Sequence[Dict[str, object]]) -> List[Tuple[str, dict]]:
    """``(panel title, pruning log)`` of each pruning model's first fold with a log, for ``plot_trajectories``; a log
    that cannot be read is left out (its row's widths plot says why)."""
    first: Dict[str, Tuple[str, dict]] = {}
    for row in rows:
        if row.get("pruning_log") and row["group"] not in first:
            try:
                first[row["group"]] = (f"{row['label']}, fold {row['fold']}",
                                       read_log(os.path.dirname(str(row["pruning_log"]))))
            except (OSError, ValueError):
                continue
    return list(first.values())


def _print_outputs(table: str, notes: Sequence[str], paths: Sequence[str]) -> None:
    print(table)
    for note in notes:
        print(f"- {note}")
    report, csv, folds_csv, claims, *plots = paths
    print(f"report: {report}")
    print(f"csv: {csv}")
    print(f"csv over folds: {folds_csv}")
    print(f"claims: {claims}")
    for p in plots:
        print(f"plot: {p}")


def _notes(rows: Sequence[Dict[str, object]], ref: Optional[TrainedModel], configuration: str,
           settings: Settings) -> List[str]:
    notes = []
    if ref is None:
        notes.append(f"no reference model ({', '.join(STANDARD_TRAINERS)} with nnUNetPlans (or its comparison "
                     f"copies) and {configuration}, or --reference): ratio columns are empty")
    elif not any(r["model"] == ref.name and r["status"] == "ok" for r in rows):
        notes.append(f"reference {ref.name} failed: ratio columns are empty")
    else:
        notes.append(f"reference for the x columns: {ref.name}")
    for case in sorted({str(r["case"]) for r in rows if r.get("case")}):
        notes.append(f"whole-case latency on: {case}")
    for method in sorted({str(r["memory_method"]) for r in rows if r.get("memory_method")}):
        notes.append(f"memory: {method}")
    if settings.options.test_images:
        notes.append(f"test set: images {settings.options.test_images}, labels {settings.options.test_labels}; "
                     f"predictions in {TEST_PREDICTIONS}/")
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        notes.append(f"{len(failed)} of {len(rows)} rows failed; the others are complete")
    return notes
