"""``run_compare``: train a preset's models on several folds with one recipe and one budget, then benchmark them.

Steps (``check`` first, so that bad input is refused with nothing written):

1. check: the preset and its rows, the folds (nnU-Net's split: 0..4, or as many as ``splits_final.json`` has), the
   budget, the dataset (planned with the source plans, the configuration's preprocessing complete:
   ``preprocessed``), the trainers the rows need, the comparison's plans (``plans``), every run already there (its
   budget must be this one: ``runs.check_budget``; an interrupted one needs ``--c``);
2. the comparison's plans: width variants it lacks are written (``plans.write_compare_plans``); nnU-Net's 5-fold
   split is written when missing (as nnU-Net would, up front so that parallel lanes do not race to write it);
3. training: every width and pruning row on every fold that is not finished, fold by fold, in lanes of local
   processes (``training``) or as jobs of ``--executor slurm|local`` (``submissions``, ``cluster``); finished runs
   are kept; with ``--no-wait`` a call that leaves jobs queued or running stops here (the next call goes on);
4. retrain rows: the widths each pruning run reached at the row's level, exported (``nnunet-lunet export-pruned
   --level``) into ``<plans>_pruned`` and trained from scratch, once every pruning run of the first wave is finished
   (the second wave of jobs);
5. the benchmark (``nnunet_lunet.benchmark.run_benchmark``) over exactly these models and folds, the default network
   as reference, into ``<output>/benchmark``; skipped when a complete benchmark newer than every run's validation
   is there (one that died part-way has no ``benchmark.md``, so it is run again);
6. each finished run's small outputs copied to ``<output>/runs`` (``collect``), and ``<output>/compare.json``
   (the settings and command line).
"""

import inspect
import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from nnunet_lunet.compare.cluster import ClusterOptions, check_executor
from nnunet_lunet.compare.collect import copy_all
from nnunet_lunet.compare.plans import compare_plans_name, missing_configurations, write_compare_plans
from nnunet_lunet.compare.preprocessed import incomplete_reason
from nnunet_lunet.compare.presets import Row, preset_rows
from nnunet_lunet.compare.runs import Budget, Job, check_budget, make_job, state
from nnunet_lunet.compare.training import TrainOptions, script, train_jobs
from nnunet_lunet.datasets import dataset_id, load_plans, require_env, resolve_dataset, resolved_configuration
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.run_names import pruned_configuration, variant_configuration
from nnunet_lunet.plans.writer import check_target
from nnunet_lunet.safe_output import write_json

N_SPLITS = 5  # nnU-Net's default cross-validation
PRUNED_SUFFIX = "_pruned"


@dataclass(frozen=True)
class CompareSettings:
    dataset: str
    configuration: str
    preset: str
    folds: Sequence[object]  # fold numbers (ints, or their text as typed)
    budget: Budget = Budget()
    rows: Optional[Sequence[str]] = None  # row keys; None: the whole preset
    plans: str = "nnUNetPlans"
    batch_size: Optional[int] = None
    output: Optional[str] = None  # default: $nnUNet_results/<dataset>/lunet_compare_<preset>_<configuration>
    resume: bool = False  # --c: continue interrupted runs
    device: str = "cpu"
    lanes: int = 1
    repeats: int = 5
    disable_tta: bool = False
    test_images: Optional[str] = None
    test_labels: Optional[str] = None
    command_line: str = ""
    rerun_hint: str = "run the same command again with --c"  # what a user does after a failed training
    cluster: ClusterOptions = ClusterOptions()  # --executor and its options


@dataclass
class Plan:
    """What ``check`` found: everything the later steps need, decided before anything is written."""

    dataset: str
    rows: List[Row]
    plans: str
    missing: List[str]
    folds: List[int]
    jobs: List[Job]  # width and pruning rows
    retrain: List[Job] = field(default_factory=list)  # retrain rows (trained after their pruning runs)
    output: str = ""


def _check_numbers(settings: CompareSettings) -> None:
    for name, value in (("--epochs", settings.budget.epochs), ("--iterations", settings.budget.iterations),
                        ("--val-iterations", settings.budget.val_iterations), ("--lanes", settings.lanes),
                        ("--repeats", settings.repeats)):
        if value < 1:
            raise LUnetError(f"{name} must be at least 1, got {value}")
    if settings.cluster.poll_seconds <= 0:
        raise LUnetError(f"--poll-seconds must be above 0, got {settings.cluster.poll_seconds}")
    if settings.batch_size is not None and settings.batch_size < 1:
        raise LUnetError(f"--batch-size must be at least 1, got {settings.batch_size}")
    if not settings.folds:
        raise LUnetError("-f: give at least one fold, e.g. -f 0 1 2")
    if len(set(map(str, settings.folds))) != len(settings.folds):
        raise LUnetError(f"-f {' '.join(map(str, settings.folds))}: name each fold once")


def _check_folds(folds: Sequence[object], preprocessed: str) -> List[int]:
    """The folds as ints; LUnetError for one that is not a fold of nnU-Net's split."""
    text = [str(f) for f in folds]
    if not all(t.isdigit() for t in text):
        raise LUnetError(f"-f {' '.join(text)}: give fold numbers, e.g. -f 0 1 2")
    folds = [int(t) for t in text]
    splits = os.path.join(preprocessed, "splits_final.json")
    n = N_SPLITS
    if os.path.isfile(splits):
        with open(splits) as f:
            n = len(json.load(f))
    bad = [f for f in folds if not 0 <= f < n]
    if bad:
        raise LUnetError(f"fold {' '.join(map(str, bad))} does not exist: nnU-Net's split of this dataset has folds "
                         f"0-{n - 1}")
    return folds


def _check_trainers(rows: Sequence[Row]) -> None:
    """LUnetError if a pruning or retrain row needs a trainer (or export-pruned --level) this installation lacks."""
    pruning = [r for r in rows if r.kind != "width"]
    if not pruning:
        return
    import warnings
    with warnings.catch_warnings():  # torch's import-time deprecation notes are not the user's problem here
        warnings.simplefilter("ignore")
        import nnunet_lunet.trainers as trainers
    missing = sorted({r.pruning + "_budget" for r in pruning if not hasattr(trainers, r.pruning + "_budget")})
    if not missing and any(r.kind == "retrain" for r in rows):
        from nnunet_lunet.pruning.export import export_pruned
        if "level" not in inspect.signature(export_pruned).parameters:
            missing = ["export-pruned --level"]
    if missing:
        keys = " ".join(sorted(r.key for r in pruning))
        raise LUnetError(f"the rows {keys} need {', '.join(missing)}, which this installation of nnunet-lunet does "
                         f"not have: leave them out with --rows (the width rows), or install a version that has them")


def _retrain_configuration(configuration: str, row: Row, fold: int) -> str:
    return pruned_configuration(configuration, row.pruning + "_budget", fold, level=row.level)


def _jobs(rows: Sequence[Row], folds: Sequence[int], results: str, plans: str, configuration: str):
    """Fold by fold (every row on the first fold, then the next), so that an interrupted comparison has whole folds."""
    jobs, retrain = [], []
    for fold in folds:
        for row in rows:
            if row.kind == "retrain":
                retrain.append(make_job(results, row, fold, plans + PRUNED_SUFFIX,
                                        _retrain_configuration(configuration, row, fold)))
            else:
                config = variant_configuration(configuration, row.suffix)
                jobs.append(make_job(results, row, fold, plans, config))
    return jobs, retrain


def _check_schedule_fits(rows: Sequence[Row], budget) -> None:
    """LUnetError if the pruning rows' gradual schedule does not fit the budget (it would fail only when its turn
    came, after the other rows had trained)."""
    if not any(r.kind == "pruning" for r in rows):
        return
    from nnunet_lunet.pruning.schedule import GradualSchedule

    try:
        GradualSchedule(budget.epochs, budget.iterations)
    except ValueError as e:
        keys = " ".join(sorted(r.key for r in rows if r.kind == "width"))
        raise LUnetError(f"the pruning rows cannot train at {budget.epochs} epochs: {e}; pass --epochs "
                         f"{_min_epochs(budget.iterations)} or more, or --rows {keys}") from None


def _min_epochs(iterations: int) -> int:
    from nnunet_lunet.pruning.schedule import GradualSchedule

    epochs = 1
    while True:
        try:
            GradualSchedule(epochs, iterations)
            return epochs
        except ValueError:
            epochs += 1


def check(settings: CompareSettings) -> Plan:
    """Step 1: everything checked, nothing written; LUnetError naming the first problem."""
    _check_numbers(settings)
    rows = preset_rows(settings.preset, settings.rows)
    dataset = resolve_dataset(settings.dataset)
    source = load_plans(dataset, settings.plans)
    resolved_configuration(source, settings.configuration)
    preprocessed = os.path.join(require_env("nnUNet_preprocessed"), dataset)
    reason = incomplete_reason(preprocessed, source, settings.configuration)
    if reason is not None:
        raise LUnetError(f"{dataset} {settings.configuration} is not completely preprocessed ({reason}): run "
                         f"nnUNetv2_plan_and_preprocess -d {dataset_id(dataset)} -c {settings.configuration}")
    folds = _check_folds(settings.folds, preprocessed)
    _check_trainers(rows)
    _check_schedule_fits(rows, settings.budget)
    plans = compare_plans_name(settings.plans, settings.batch_size)
    missing = missing_configurations(dataset, source, plans, settings.configuration, rows, settings.batch_size)
    if missing:
        check_target(dataset, settings.plans, plans, overwrite=True)  # a plans file the package did not write: refused
    results = os.path.join(require_env("nnUNet_results"), dataset)
    jobs, retrain = _jobs(rows, folds, results, plans, settings.configuration)
    for job in jobs + retrain:
        check_budget(job, settings.budget)
    check_executor(settings.cluster)
    output = os.path.abspath(settings.output or os.path.join(
        results, f"lunet_compare_{settings.preset}_{settings.configuration}"))
    if os.path.exists(output) and not os.path.isdir(output):
        raise LUnetError(f"output {output} is a file: pass a folder with -o")
    interrupted = [j for j in jobs + retrain if state(j) == "interrupted" and not _trained_by_a_job(j, output)]
    if interrupted and not settings.resume:
        raise LUnetError(f"{len(interrupted)} run(s) are unfinished, e.g. {interrupted[0].folder}: pass --c to "
                         f"continue them (make sure no other process is training them)")
    return Plan(dataset, rows, plans, missing, folds, jobs, retrain, output)


def _trained_by_a_job(job: Job, output: str) -> bool:
    """Whether the comparison's records name a queued or running job for ``job`` (it is not interrupted, it is being
    trained)."""
    from nnunet_lunet.compare.submissions import JobRecords, job_key, job_state
    from nnunet_lunet.compare.job_states import slurm_states
    entry = JobRecords(os.path.join(output, "compare.json"), "").read().get(job_key(job))
    if entry is None:
        return False
    slurm = slurm_states([entry["job_id"]]) if entry["executor"] == "slurm" else {}
    return job_state(job, entry, slurm) in ("queued", "running")


def _write_split(preprocessed: str, data_folder: str) -> None:
    """nnU-Net's 5-fold split if missing, as ``nnUNetTrainer.do_split`` writes it (seed 12345 over the sorted case
    identifiers), up front so that parallel lanes do not race to write it."""
    from nnunetv2.training.dataloading.nnunet_dataset import infer_dataset_class
    from nnunetv2.utilities.crossval_split import generate_crossval_split
    import numpy as np
    path = os.path.join(preprocessed, "splits_final.json")
    if os.path.isfile(path):
        return
    keys = [str(k) for k in np.sort(list(infer_dataset_class(data_folder).get_identifiers(data_folder)))]
    write_json(path, generate_crossval_split(keys, seed=12345, n_splits=N_SPLITS))


def _export_retrain(plan: Plan, settings: CompareSettings, job: Job, log: str) -> None:
    """Step 4 for one retrain job: export its pruning run's widths at the row's level (unless already there)."""
    path = os.path.join(require_env("nnUNet_preprocessed"), plan.dataset, job.plans + ".json")
    if os.path.isfile(path):
        with open(path) as f:
            if job.configuration in json.load(f)["configurations"]:
                return
    command = [script("nnunet-lunet"), "export-pruned", "-d", plan.dataset, "-c", settings.configuration, "-tr",
               job.row.pruning + "_budget", "-p", plan.plans, "-f", str(job.fold), "--level",
               str(job.row.level / 100), "-o", job.plans, "--name", job.configuration]
    with open(log, "a") as f:
        result = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise LUnetError(f"{' '.join(command[1:])} failed (exit {result.returncode}); see {log}")


def _benchmark_is_current(output: str, jobs: Sequence[Job]) -> bool:
    """Whether ``output`` holds a complete benchmark with every job's row measured, newer than each run's
    validation."""
    import csv
    md, table = os.path.join(output, "benchmark.md"), os.path.join(output, "benchmark.csv")
    if not (os.path.isfile(md) and os.path.isfile(table)):
        return False
    with open(table) as f:
        measured = {(r.get("model"), r.get("fold")) for r in csv.DictReader(f)}
    if not _expected(jobs) <= measured or _failed_rows(output, jobs):
        return False
    newest = max(os.path.getmtime(os.path.join(j.folder, "validation", "summary.json")) for j in jobs)
    return os.path.getmtime(md) > newest


def _benchmark(plan: Plan, settings: CompareSettings, jobs: Sequence[Job]) -> str:
    """Step 5: ``run_benchmark`` over exactly ``jobs``' models and folds (module rules)."""
    from nnunet_lunet.benchmark import MeasureOptions, ModelSelection, run_benchmark
    output = os.path.join(plan.output, "benchmark")
    if _benchmark_is_current(output, jobs):
        print(f"[compare] the benchmark in {output} is up to date", flush=True)
        return output
    models = list(dict.fromkeys((j.trainer, j.plans, j.configuration) for j in jobs))
    reference = next((j.model for j in jobs if j.row.key == "default"), None)
    selection = ModelSelection(folds=[str(f) for f in plan.folds], models=models, reference=reference)
    options = MeasureOptions(repeats=settings.repeats, device=settings.device, mirroring=not settings.disable_tta,
                             test_images=settings.test_images, test_labels=settings.test_labels)
    print(f"[compare] benchmarking {len(models)} models on fold(s) {' '.join(map(str, plan.folds))}", flush=True)
    try:
        run_benchmark(plan.dataset, settings.configuration, selection, options, output=output, overwrite=True,
                      command_line=settings.command_line or None)
    except LUnetError:
        raise
    except Exception as error:  # noqa: BLE001 - one error line; the runs are kept and the next call measures again
        raise LUnetError(f"the benchmark failed ({type(error).__name__}: {error}); the trained runs are kept: run the "
                         f"same command again to benchmark them") from error
    failed = _failed_rows(output, jobs)
    if failed:
        raise LUnetError(f"{len(failed)} benchmark row(s) failed ({'; '.join(failed[:3])}); see "
                         f"{os.path.join(output, 'benchmark.md')}. The runs are kept: the next call measures again")
    return output


def _expected(jobs: Sequence[Job]) -> set:
    """The benchmark rows a comparison needs: each job's model on its fold (a retrain row's model, trained on one
    fold, also gets rows for the others, which fail by design and are not counted)."""
    return {(j.model, str(j.fold)) for j in jobs}


def _failed_rows(output: str, jobs: Sequence[Job]) -> List[str]:
    import csv
    with open(os.path.join(output, "benchmark.csv")) as f:
        return [f"{r.get('model')} fold {r.get('fold')}: {r.get('status')}" for r in csv.DictReader(f)
                if r.get("status") != "ok" and (r.get("model"), r.get("fold")) in _expected(jobs)]


def _write_record(plan: Plan, settings: CompareSettings) -> None:
    """``compare.json``: this call's settings; the jobs recorded by earlier calls are kept (``submissions``)."""
    path = os.path.join(plan.output, "compare.json")
    try:
        with open(path) as f:
            jobs = dict(json.load(f).get("jobs", {}))
    except (OSError, ValueError, AttributeError):
        jobs = {}
    record = {"command": settings.command_line, "dataset": plan.dataset, "configuration": settings.configuration,
              "preset": settings.preset, "rows": [r.key for r in plan.rows], "folds": plan.folds,
              "plans": plan.plans, "trainers": sorted({j.trainer for j in plan.jobs + plan.retrain}),
              "budget": settings.budget.__dict__, "device": settings.device,
              "final_validation_mirroring": not settings.disable_tta,
              "models": sorted({j.model for j in plan.jobs + plan.retrain}),
              "executor": settings.cluster.executor, "jobs": jobs}
    write_json(path, record)


def _train(jobs: Sequence[Job], options: TrainOptions, settings: CompareSettings) -> bool:
    """Step 3 (or 4) for one wave: True when every run of it is finished (False: ``--no-wait`` left jobs queued or
    running)."""
    if settings.cluster.executor == "lanes":
        todo = [j for j in jobs if state(j) != "finished"]
        for job in jobs:
            if job not in todo:
                print(f"[compare] reusing {job.name}: {job.folder}", flush=True)
        train_jobs(todo, options)
        return True
    from nnunet_lunet.compare.submissions import JobRecords, run_wave
    output = os.path.dirname(options.logs)
    records = JobRecords(os.path.join(output, "compare.json"), os.path.join(output, "jobs"))
    if run_wave(jobs, options, settings.cluster, records, settings.device):
        return True
    if not settings.cluster.no_wait:
        raise LUnetError("some runs are neither finished nor being trained by a job whose state SLURM reports (see "
                         "above): run the same command again when they have ended")
    print("[compare] jobs are queued or running: run the same command again to follow them; when every run is "
          "finished it exports the retrain rows, benchmarks and collects", flush=True)
    return False


def run_compare(settings: CompareSettings) -> str:
    """All steps (module rules); returns the benchmark folder ("" when ``--no-wait`` left jobs queued or
    running)."""
    plan = check(settings)
    preprocessed = os.path.join(require_env("nnUNet_preprocessed"), plan.dataset)
    if plan.missing:
        path = write_compare_plans(plan.dataset, settings.plans, plan.plans, settings.configuration, plan.rows,
                                   plan.missing, settings.batch_size)
        print(f"[compare] wrote {', '.join(plan.missing)} to {path}", flush=True)
    source = load_plans(plan.dataset, settings.plans)
    _write_split(preprocessed, os.path.join(preprocessed, resolved_configuration(
        source, settings.configuration)["data_identifier"]))
    os.makedirs(plan.output, exist_ok=True)
    _write_record(plan, settings)
    options = TrainOptions(plan.dataset, settings.budget, settings.device, settings.lanes,
                           os.path.join(plan.output, "logs"), settings.disable_tta, settings.rerun_hint)
    if not _train(plan.jobs, options, settings):
        return ""
    if plan.retrain:
        os.makedirs(options.logs, exist_ok=True)
        for job in plan.retrain:
            if state(job) != "finished":
                _export_retrain(plan, settings, job, os.path.join(options.logs, "export_pruned.log"))
        if not _train(plan.retrain, options, settings):
            return ""
    jobs = plan.jobs + plan.retrain
    copy_all(jobs, os.path.join(plan.output, "runs"))
    return _benchmark(plan, settings, jobs)
