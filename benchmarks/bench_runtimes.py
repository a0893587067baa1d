"""Time one patch of every width variant of a plans configuration under each CPU runtime, interleaved.

    python benchmarks/bench_runtimes.py --plans-file $nnUNet_preprocessed/Dataset004_Hippocampus/nnUNetPlans.json \
        -c 3d_fullres [--widths 32 16 8] [--scales] [--model-folder EXPORT_DIR ...] [--threads 2] [--repeats 13]
        [--warmup 2] [--runtimes torch_eager torch_channels_last ort_basic ort_extended ort_all openvino openvino-bf16]
        [--case largest|CASE_ID] [--case-repeat 3] [--mirroring] [--tile-sizes 1x 2x 80x112x80] [--csv runtimes.csv]

Rules:

- Networks: the configuration's default network and its width variants, untrained, built as
  ``benchmarks/bench_networks.py`` builds them (same patch size for all), deep supervision off; plus, for every
  ``--model-folder`` (a folder written by ``nnunet-lunet export-onnx``, e.g. a pruned model), that trained network
  (PyTorch from the folder's checkpoint, ONNX Runtime from its ``model.onnx``).
- Runtimes (``--runtimes``, default all but ``torch_compile``): ``torch_eager``; ``torch_channels_last`` (weights
  and input in channels-last memory format); ``torch_compile`` (``torch.compile``, default mode; compiled during the
  warm-up); ``ort_<level>``: ONNX Runtime's CPU provider with graph optimisation level
  ``disable``/``basic``/``extended``/``all``; and every other graph runtime of the registry
  (``deploy.graph_runtimes.RUNTIMES``, by its name: ``openvino``, ``openvino-bf16``, ...), only where it can run
  (``available_runtimes``). ``openvino_bf16``, the former spelling, is read as ``openvino-bf16``. ``openvino-int8``
  runs, for the plans' variants, a graph quantized on the timed patch (speed only, not accuracy); for a
  ``--model-folder``, its ``model_int8.xml`` from ``export-onnx --int8``.
- Threads: ONNX Runtime's sessions never spin (``onnx_graph.ort_session``); OpenVINO is compiled with the latency
  hint (``graph_runtimes.OPENVINO_HINT``) and ``--threads`` inference threads. The header line states both.
- Tiles (``--tile-sizes``, ``deploy.tiles``): each a multiple of the training patch (``2x``) or a size per axis
  (``80x112x80``); default the training patch. Every cell is timed at every tile, one row each (``tile`` column).
- One patch of the tile's size, batch 1, standard normal, no grad. Every runtime of every network gets
  ``--warmup`` untimed runs, then the timed runs are interleaved (every cell once per round, in a new shuffled order
  each round: ``nnunet_lunet.benchmark.latency.time_interleaved``) ``--repeats`` times, so that a drift of the
  machine hits all alike. Median, min and max per cell.
- Threads: ``--threads`` for torch (``torch.set_num_threads``), ONNX Runtime (intra-op) and OpenVINO
  (``INFERENCE_NUM_THREADS``); default: torch's current count. The header line states it.
- Ratios: ``x default eager`` = default network in ``torch_eager`` / this cell (the speed-up over what nnU-Net users
  have today); ``x own eager`` = the same network in ``torch_eager`` / this cell; ``MACs ratio`` = default / this
  network (MACs of one pass at the row's tile).
- Efficiency (how well a network uses the hardware, apart from the runtime): ``GMAC/s`` = the network's MACs of one
  pass / the time of one pass (the in-case ``per pass ms`` when a case is timed, else the patch median);
  ``x default same runtime`` = the default network's time per pass / this one's, in the same runtime at the same
  tile; ``efficiency vs default`` = that speed-up / ``MACs ratio`` (= this row's GMAC/s / the default's): 1 when a
  thin network turns its whole MAC reduction into speed.
- Whole case (``--case``): ``largest`` (the largest validation case of ``--fold`` in the plans' preprocessed data) or
  a case identifier, repeated ``--case-repeat`` times per spatial axis (``benchmark.cases.chosen_case``: a
  Hippocampus case fits in one tile; 3 gives 100+ tiles, as a CT or MRI volume has). Each network under each runtime
  but ``torch_channels_last`` predicts it with nnU-Net's own ``predict_sliding_window_return_logits`` (tile step 0.5,
  Gaussian, float16 accumulation on the CPU; mirroring only with ``--mirroring``), the network replaced by the
  runtime's forward, at the row's tile, timed interleaved with the patches. Per row: ``passes`` (tiles x
  mirrorings), ``case s`` (median, min, max).
- Timing that adds up: inside every timed case run, each forward pass is timed where nnU-Net's predictor calls the
  network (``TimedForward``), and the case itself is timed around the same call. ``per pass ms`` = the run's forward
  time / passes, ``non-forward s`` = the run's case time - its forward time (what nnU-Net's loop adds: tiling,
  Gaussian weighting, float16 accumulation), each as median, min and max over the timed runs. Both come from the
  same runs, so non-forward is never negative and per pass x passes + non-forward = case time, run by run. The
  isolated patch (``median ms``) is a single call after other networks ran (cold caches, threads waking up) and is
  not used to split the case: it measured up to 2.7x the in-case pass before this rule.

Times need an otherwise idle machine. The functions are importable (``bench_runtimes``, ``format_rows``).
"""

import argparse
import contextlib
import csv
import os
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_networks import add_plans_file_options, candidates, load_plans_and_dataset  # noqa: E402
from nnunet_lunet.deploy.graph_runtimes import BY_NAME, GRAPH_RUNTIMES, available_runtimes  # noqa: E402

ORT_LEVELS = ("disable", "basic", "extended", "all")
# the registry's graph runtimes but ONNX Runtime, which is timed at each optimisation level instead
OTHER_GRAPH_RUNTIMES = tuple(r for r in GRAPH_RUNTIMES if r != "onnxruntime")
RUNTIMES = ("torch_eager", "torch_channels_last", "torch_compile") + tuple(
    f"ort_{lv}" for lv in ORT_LEVELS) + OTHER_GRAPH_RUNTIMES
DEFAULT_RUNTIMES = tuple(r for r in RUNTIMES if r not in ("torch_compile", "ort_disable"))
ALIASES = {"openvino_bf16": "openvino-bf16"}  # former spelling -> registry name
COLUMNS = ("network", "runtime", "tile", "median ms", "min ms", "max ms", "x default eager", "x own eager",
           "MACs ratio", "GMAC/s", "x default same runtime", "efficiency vs default")
CASE_COLUMNS = ("passes", "case s", "case min s", "case max s", "per pass ms", "per pass min ms", "per pass max ms",
                "non-forward s", "non-forward min s", "non-forward max s", "case x default eager")


def _torch_runner(network, x, memory_format=None, compile_it: bool = False) -> Callable[[], object]:
    import torch

    if memory_format is not None:
        network = network.to(memory_format=memory_format)
        x = x.contiguous(memory_format=memory_format)
    if compile_it:
        network = torch.compile(network)

    def step():
        with torch.no_grad():
            return network(x)
    return step


def runners(network, onnx_path: str, x, runtimes: Sequence[str], threads: int) -> Dict[str, Callable[[], object]]:
    """Runtime name -> a callable running one forward pass of ``network`` (or its graph) on ``x``."""
    import copy

    import torch

    from nnunet_lunet.deploy.graph_runtimes import graph_runner
    from nnunet_lunet.deploy.onnx_graph import ort_session, run_session

    out = {}
    for runtime in runtimes:
        if runtime == "torch_eager":
            out[runtime] = _torch_runner(network, x)
        elif runtime == "torch_channels_last":
            fmt = torch.channels_last_3d if x.ndim == 5 else torch.channels_last
            out[runtime] = _torch_runner(copy.deepcopy(network), x, memory_format=fmt)
        elif runtime == "torch_compile":
            out[runtime] = _torch_runner(copy.deepcopy(network), x, compile_it=True)
        elif runtime.startswith("ort_"):
            session, array = ort_session(onnx_path, threads=threads, optimization=runtime[4:]), x.numpy()
            out[runtime] = lambda s=session: run_session(s, array)
        elif runtime in OTHER_GRAPH_RUNTIMES:
            run, array = graph_runner(onnx_path, runtime, threads), x.numpy()
            out[runtime] = lambda run=run: run(array)
    return out


def _networks(plans: dict, configuration: str, dataset_json: dict, variants: Sequence,
              model_folders: Sequence[str]) -> List[tuple]:
    """``[(label, network, onnx file or None)]``: the plans' variants, then the exported models."""
    import torch

    from nnunet_lunet.trained_run import load_predictor, trained_network
    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.deploy.model_folder import ONNX_FILE, read_model_folder
    from nnunet_lunet.plans_networks import build_from_plans

    out = [(label, build_from_plans(plans, configuration, dataset_json, deep_supervision=False,
                                    architecture=architecture), None)
           for label, architecture in candidates(plans, configuration, variants)]
    for folder in model_folders:
        record = read_model_folder(folder, need_checkpoint=True)
        if record.patch_size != list(resolved_configuration(plans, configuration)["patch_size"]):
            print(f"note: {folder} was trained with patch size {record.patch_size}; timed at the plans' patch size",
                  file=sys.stderr)
        predictor = load_predictor(folder, record.fold, record.checkpoint, torch.device("cpu"))
        out.append((f"{record.trainer} (exported)", trained_network(predictor, torch.device("cpu")),
                    os.path.join(folder, ONNX_FILE)))
    return out


def case_modules(network, onnx_path: str, runtimes: Sequence[str], threads: int) -> Dict[str, object]:
    """Runtime name -> the module nnU-Net's predictor calls for ``network`` under it (no case for
    ``torch_channels_last``)."""
    import copy

    import torch

    from nnunet_lunet.deploy.graph_runtimes import graph_runner
    from nnunet_lunet.deploy.onnx_graph import OnnxNetwork, ort_session, run_session

    out = {}
    for runtime in runtimes:
        if runtime == "torch_eager":
            out[runtime] = network
        elif runtime == "torch_compile":
            out[runtime] = torch.compile(copy.deepcopy(network))
        elif runtime.startswith("ort_"):
            session = ort_session(onnx_path, threads=threads, optimization=runtime[4:])
            out[runtime] = OnnxNetwork(lambda a, s=session: run_session(s, a))
        elif runtime in OTHER_GRAPH_RUNTIMES:
            out[runtime] = OnnxNetwork(graph_runner(onnx_path, runtime, threads))
    return out


def case_predictor(plans: dict, configuration: str, dataset_json: dict, mirroring: bool):
    """nnU-Net's predictor for ``configuration`` on the CPU (tile step 0.5, Gaussian), without a network yet."""
    import torch
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager

    manager = PlansManager(plans)
    cm = manager.get_configuration(configuration)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):  # its notes are not the table's
        predictor = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=mirroring,
                                    perform_everything_on_device=False, device=torch.device("cpu"), verbose=False,
                                    allow_tqdm=False)
    axes = tuple(range(len(cm.patch_size))) if mirroring else None
    predictor.manual_initialization(None, manager, cm, None, dataset_json, "bench_runtimes", axes)
    return predictor


class TimedForward:
    """Stands in for the network in nnU-Net's predictor and times every forward pass (module rules: timing that adds
    up); ``seconds`` holds the current case run's pass times."""

    def __init__(self, module):
        self.module = module
        self.seconds: List[float] = []

    def __call__(self, x):
        start = time.perf_counter()
        out = self.module(x)
        self.seconds.append(time.perf_counter() - start)
        return out

    def to(self, *args, **kwargs):  # the predictor moves and switches its network before every case
        self.module = self.module.to(*args, **kwargs)
        return self

    def eval(self):
        self.module.eval()
        return self


def _case_call(predictor, configuration_manager, module, image, runs: List[tuple]) -> Callable[[], object]:
    """The timed case call; appends ``(case seconds, forward seconds)`` of every run to ``runs``."""
    timed = TimedForward(module)

    def call():
        import torch

        predictor.network, predictor.configuration_manager = timed, configuration_manager
        timed.seconds = []
        start = time.perf_counter()
        with torch.no_grad():
            out = predictor.predict_sliding_window_return_logits(image)
        runs.append((time.perf_counter() - start, sum(timed.seconds)))
        return out
    return call


def _patch_input(n_in: int, tile: Sequence[int]):
    import torch
    return torch.randn((1, n_in, *tile), generator=torch.Generator().manual_seed(0))


def resolve_tiles(tile_sizes: Sequence[Optional[str]], patch: Sequence[int], divisor: Sequence[int]) -> List[tuple]:
    """``--tile-sizes``' tokens (``2x`` or ``80x112x80``; None: the training patch) in voxels, without repeats."""
    from nnunet_lunet.deploy.tiles import resolve_tile

    def values(token):
        return None if token is None else [token] if token.lower().endswith("x") else token.lower().split("x")
    return list(dict.fromkeys(resolve_tile(values(t), patch, divisor) for t in tile_sizes))


def bench_runtimes(plans: dict, configuration: str, dataset_json: dict, variants: Sequence,
                   runtimes: Sequence[str], threads: int, repeats: int = 13, warmup: int = 2,
                   model_folders: Sequence[str] = (), case=None, mirroring: bool = False,
                   tile_sizes: Sequence[Optional[str]] = (None,)) -> List[Dict[str, object]]:
    """One row per (network, runtime, tile), see module rules; ``case``: the image (C x spatial) whose whole-case
    times are added (None: patches only)."""
    import torch

    from nnunet_lunet.benchmark.latency import time_interleaved
    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.deploy.onnx_graph import export_graph, spatial_divisor
    from nnunet_lunet.deploy.tiles import check_fits, tiled_configuration
    from nnunet_lunet.model_stats import count_macs
    from nnunet_lunet.plans_networks import io_channels

    torch.set_num_threads(threads)
    patch = tuple(resolved_configuration(plans, configuration)["patch_size"])
    n_in, _ = io_channels(plans, dataset_json, configuration)
    x = _patch_input(n_in, patch)
    networks = _networks(plans, configuration, dataset_json, variants, model_folders)
    tiles = resolve_tiles(tile_sizes, patch, spatial_divisor(networks[0][1], len(patch)))
    predictor = case_predictor(plans, configuration, dataset_json, mirroring) if case is not None else None
    managers = {}
    if case is not None:
        for tile in tiles:
            check_fits(tile, patch, case.shape[1:])
            managers[tile] = tiled_configuration(predictor.configuration_manager, tile)
    cells, macs, runs = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="bench_runtimes_") as tmp:
        for i, (label, network, onnx_path) in enumerate(networks):
            network.eval()
            if onnx_path is None:
                onnx_path = os.path.join(tmp, f"network{i}.onnx")
                export_graph(network, x, onnx_path)
                for runtime in set(runtimes) & set(OTHER_GRAPH_RUNTIMES):
                    if BY_NAME[runtime].prepare is not None:  # the INT8 graph, calibrated on x (speed only)
                        BY_NAME[runtime].prepare(onnx_path, [x.numpy()])
            for tile in tiles:
                macs[(label, tile)] = count_macs(network, n_in, tile)
                for runtime, fn in runners(network, onnx_path, _patch_input(n_in, tile), runtimes, threads).items():
                    cells[(label, runtime, tile)] = fn
                if case is not None:
                    for runtime, module in case_modules(network, onnx_path, runtimes, threads).items():
                        runs[(label, runtime, tile)] = []
                        cells[(label, runtime, tile, "case")] = _case_call(predictor, managers[tile], module, case,
                                                                           runs[(label, runtime, tile)])
        times, errors = time_interleaved(cells, torch.device("cpu"), repeats, warmup)
    if errors:
        (label, runtime, *_), error = next(iter(errors.items()))
        raise RuntimeError(f"{label} under {runtime} failed: {error}") from error
    passes = {tile: _forward_passes(predictor, managers[tile], case) for tile in tiles} if case is not None else {}
    # the timed runs are the last ``repeats`` of each case (the warm-up runs came first)
    return _rows(times, macs, passes, {key: r[-repeats:] for key, r in runs.items()}, threads, repeats, warmup)


def _forward_passes(predictor, configuration_manager, case) -> int:
    from nnunet_lunet.benchmark.timers import forward_passes

    predictor.configuration_manager = configuration_manager
    return forward_passes(predictor, case.shape[1:])


def _spread(values: Sequence[float], scale: float = 1.0) -> tuple:
    import statistics
    return statistics.median(values) * scale, min(values) * scale, max(values) * scale


def _case_columns(runs: Sequence[tuple], passes: int, default_case: Optional[float]) -> Dict[str, object]:
    """The case columns of one row from its timed runs ``(case s, forward s)`` (module rules)."""
    case = _spread([c for c, _ in runs])
    per_pass = _spread([f / passes for _, f in runs], 1e3)
    non_forward = _spread([c - f for c, f in runs])
    out = {"passes": passes, "case x default eager": default_case / case[0] if default_case else None}
    for names, values in ((("case s", "case min s", "case max s"), case),
                          (("per pass ms", "per pass min ms", "per pass max ms"), per_pass),
                          (("non-forward s", "non-forward min s", "non-forward max s"), non_forward)):
        out.update(zip(names, values))
    return out


def _rows(times: dict, macs: Dict[tuple, int], passes: Dict[tuple, int], runs: Dict[tuple, List[tuple]],
          threads: int, repeats: int, warmup: int) -> List[Dict[str, object]]:
    import statistics

    from nnunet_lunet.deploy.tiles import tile_text

    medians = {key: t.median for key, t in times.items()}
    rows = []
    for key, t in times.items():
        if len(key) != 3:
            continue
        label, runtime, tile = key
        default_eager = medians.get(("default", "torch_eager", tile))
        own_eager = medians.get((label, "torch_eager", tile))
        default_runs = runs.get(("default", "torch_eager", tile))
        row = {"network": label, "runtime": runtime, "tile": tile_text(tile), "median ms": medians[key] * 1e3,
               "min ms": t.minimum * 1e3, "max ms": t.maximum * 1e3, "MACs ratio": macs[("default", tile)] /
               macs[(label, tile)], "x default eager": default_eager / medians[key] if default_eager else None,
               "x own eager": own_eager / medians[key] if own_eager else None,
               "threads": threads, "repeats": repeats, "warmup": warmup}
        if key in runs:
            row.update(_case_columns(runs[key], passes[tile],
                                     statistics.median(c for c, _ in default_runs) if default_runs else None))
        rows.append(row)
    _add_efficiency(rows, macs)
    return rows


def _pass_seconds(row: Dict[str, object]) -> float:
    """One pass of the row: in the case when one was timed (module rules), else the isolated patch."""
    return (row["per pass ms"] if "per pass ms" in row else row["median ms"]) / 1e3


def _add_efficiency(rows: List[Dict[str, object]], macs: Dict[tuple, int]) -> None:
    from nnunet_lunet.deploy.tiles import tile_text

    tiles = {tile_text(tile): tile for _, tile in macs}
    default = {(r["runtime"], r["tile"]): _pass_seconds(r) for r in rows if r["network"] == "default"}
    for r in rows:
        seconds = _pass_seconds(r)
        r["GMAC/s"] = macs[(r["network"], tiles[r["tile"]])] / seconds / 1e9
        reference = default.get((r["runtime"], r["tile"]))
        r["x default same runtime"] = reference / seconds if reference else None
        r["efficiency vs default"] = (r["x default same runtime"] / r["MACs ratio"]
                                      if reference else None)


def _columns(rows: Sequence[Dict[str, object]]) -> tuple:
    return COLUMNS + (CASE_COLUMNS if any("case s" in r for r in rows) else ())


def format_rows(rows: Sequence[Dict[str, object]]) -> str:
    from nnunet_lunet.tables import markdown_table

    def fmt(key, value):
        if value is None:
            return ""
        if key.endswith("ms"):
            return f"{value:.1f}"
        if key.endswith(" s"):
            return f"{value:.2f}"
        if key in ("case x default eager", "x default same runtime"):
            return f"{value:.2f}x"
        if key == "GMAC/s":
            return f"{value:.1f}"
        return f"{value:.2f}x" if key.startswith(("x ", "MACs")) else (
            f"{value:.2f}" if isinstance(value, float) else str(value))

    columns = _columns(rows)
    return markdown_table([{k: fmt(k, r.get(k)) for k in columns} for r in rows], columns)


def write_csv(rows: Sequence[Dict[str, object]], path: str) -> None:
    columns = list(_columns(rows)) + ["threads", "repeats", "warmup"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Time one patch of every width variant under each CPU runtime "
                                            "(PyTorch eager / channels-last / compile, ONNX Runtime optimisation "
                                            "levels, OpenVINO), interleaved, with ratios to the default network.")
    add_plans_file_options(p)
    p.add_argument("--model-folder", nargs="*", default=[], help="export-onnx folders of trained (e.g. pruned) "
                                                                 "models to time too")
    p.add_argument("--runtimes", nargs="+", choices=RUNTIMES + tuple(ALIASES), default=list(DEFAULT_RUNTIMES),
                   help=f"runtimes to time (default: {' '.join(DEFAULT_RUNTIMES)}; a graph runtime that cannot run "
                        f"here is skipped)")
    p.add_argument("--threads", type=int, default=None, help="threads for every runtime (default: torch's count)")
    p.add_argument("--repeats", type=int, default=13, help="timed runs per cell (default: 13; median shown)")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs per cell first (default: 2)")
    p.add_argument("--case", default=None, help="also time a whole case: 'largest' (the largest validation case of "
                                                "--fold) or a case identifier of the preprocessed data")
    p.add_argument("--case-repeat", type=int, default=1, help="repeat the case this many times per spatial axis "
                                                              "(default: 1; 3 makes a Hippocampus case 100+ tiles)")
    p.add_argument("-f", "--fold", type=int, default=0, help="fold whose validation cases --case largest picks from "
                                                             "(default: 0)")
    p.add_argument("--tile-sizes", nargs="+", default=[None], metavar="TILE", help="sliding-window tiles to time "
                   "each cell at: a multiple of the training patch (2x) or a size per axis (80x112x80), each a "
                   "multiple of the network's stride (default: the training patch)")
    p.add_argument("--mirroring", action="store_true", help="test-time mirroring in the whole case (default: off)")
    p.add_argument("--csv", default=None, help="also write the rows to this CSV file (must not exist)")
    return p


def runtime_settings(runtimes: Sequence[str], threads: int) -> str:
    """The header's line on how the graph runtimes were configured (module rules)."""
    from nnunet_lunet.deploy.graph_runtimes import OPENVINO_HINT

    parts = [f"ONNX Runtime graph optimisation {r[4:]} ({r}), {threads} intra-op threads, no spinning"
             for r in runtimes if r.startswith("ort_")]
    if any(r.startswith("openvino") for r in runtimes):
        parts.append(f"OpenVINO PERFORMANCE_HINT {OPENVINO_HINT}, INFERENCE_NUM_THREADS {threads}")
    return "runtimes: " + ("; ".join(parts) or "PyTorch only")


def _case(args, plans: dict):
    """``(image or None, description)`` of ``--case`` (LUnetError when it cannot be read)."""
    from nnunet_lunet.benchmark.cases import chosen_case
    from nnunet_lunet.datasets import resolved_configuration
    from nnunet_lunet.errors import LUnetError

    if args.case is None:
        return None, ""
    if args.case_repeat < 1:
        raise LUnetError(f"--case-repeat {args.case_repeat}: give at least 1")
    identifier = resolved_configuration(plans, args.configuration)["data_identifier"]
    try:
        return chosen_case(os.path.dirname(os.path.abspath(args.plans_file)), identifier, args.case,
                           args.case_repeat, args.fold)
    except (FileNotFoundError, IndexError) as e:
        raise LUnetError(f"--case {args.case}: no such preprocessed case beside {args.plans_file} ({e}); run "
                         f"nnUNetv2_preprocess, or pass 'largest' or an identifier of {identifier}/") from e


def main(argv: Optional[List[str]] = None) -> int:
    from nnunet_lunet.commands.options import variants_from
    from nnunet_lunet.errors import LUnetError

    args = build_parser().parse_args(argv)
    args.runtimes = list(dict.fromkeys(ALIASES.get(r, r) for r in args.runtimes))
    try:
        if args.repeats < 1 or args.warmup < 0:
            raise LUnetError("--repeats must be at least 1 and --warmup at least 0")
        if args.threads is not None and args.threads < 1:
            raise LUnetError(f"--threads {args.threads}: give at least 1")
        if args.csv and os.path.exists(args.csv):
            raise LUnetError(f"--csv {args.csv} already exists: remove it or choose another file")
        plans, dataset_json = load_plans_and_dataset(args.plans_file, args.dataset_json)
        runnable = available_runtimes()
        runtimes = [r for r in args.runtimes if r not in OTHER_GRAPH_RUNTIMES or r in runnable]
        if "torch_eager" not in runtimes:
            raise LUnetError("--runtimes must include torch_eager (the ratios' baseline)")
        import torch
        threads = args.threads or torch.get_num_threads()
        case, case_text = _case(args, plans)
        rows = bench_runtimes(plans, args.configuration, dataset_json, variants_from(args), runtimes, threads,
                              args.repeats, args.warmup, args.model_folder, case, args.mirroring, args.tile_sizes)
    except LUnetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    import onnxruntime
    left_out = [r for r in args.runtimes if r not in runtimes]
    skipped = f" ({', '.join(left_out)} cannot run here: skipped)" if left_out else ""
    from nnunet_lunet.datasets import resolved_configuration
    patch = resolved_configuration(plans, args.configuration)["patch_size"]
    print(f"{plans.get('dataset_name', '')} {args.configuration}, patch {'x'.join(map(str, patch))}, {threads} "
          f"threads for every runtime, torch {torch.__version__}, onnxruntime {onnxruntime.__version__}; median of "
          f"{args.repeats} interleaved runs after {args.warmup} warm-up{skipped}")
    print(runtime_settings(runtimes, threads))
    if case is not None:
        passes = ", ".join(dict.fromkeys(f"{r['passes']} at tile {r['tile']}" for r in rows))
        print(f"whole case: {case_text}, forward passes {passes} (tile step 0.5"
              f"{', mirroring' if args.mirroring else ', no mirroring'}), nnU-Net's sliding window; per pass and "
              f"non-forward from the forward passes timed inside each case run")
    print(format_rows(rows))
    if args.csv:
        write_csv(rows, args.csv)
        print(f"csv: {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
