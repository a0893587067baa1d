"""``nnunet-lunet compare``: train a preset's models on several folds with one recipe and one budget, benchmark them."""

import shlex
import sys

HELP = "train a preset of models (LUnets, scaled U-Nets, pruning) on several folds with one budget and benchmark them"


def add_parser(subparsers) -> None:
    from nnunet_lunet.commands.options import add_dataset_argument
    from nnunet_lunet.compare.presets import PRESETS
    rows = "; ".join(f"{name}: {' '.join(r.key for r in rows)}" for name, rows in PRESETS.items())
    p = subparsers.add_parser("compare", help=HELP, description=HELP + ". Every model is trained with the lean "
                              "recipe (nnUNetTrainerLeanRecipe_budget, or the pruning trainers' _budget classes) by "
                              "nnUNetv2_train into nnUNet_results; a finished run is reused, an interrupted one "
                              "continues with --c; a run of another budget is refused. Presets and their rows: "
                              + rows + ".")
    add_dataset_argument(p)  # planned and preprocessed
    p.add_argument("-c", "--configuration", required=True, help="configuration, e.g. 3d_fullres")
    p.add_argument("--preset", required=True, help=f"the set of models: {', '.join(PRESETS)}")
    p.add_argument("--rows", nargs="+", default=None, metavar="KEY", help="only these rows of the preset "
                   "(default: all)")
    p.add_argument("-f", "--folds", nargs="+", default=["0"], help="folds (default: 0)")
    p.add_argument("-p", "--plans", default="nnUNetPlans", help="source plans (default: nnUNetPlans); the comparison "
                   "writes <plans>_compare (or <plans>_compare_b<B> with --batch-size)")
    p.add_argument("--batch-size", type=int, default=None, help="batch size of every model (default: the plans'); "
                   "e.g. 2 for a CPU budget")
    p.add_argument("--epochs", type=int, default=1000, help="epochs (default: nnU-Net's 1000)")
    p.add_argument("--iterations", type=int, default=250, help="training iterations per epoch (default: 250)")
    p.add_argument("--val-iterations", type=int, default=50, help="validation iterations per epoch (default: 50)")
    p.add_argument("-o", "--output", default=None, help="folder for the benchmark, the logs and copies of each run's "
                   "small outputs (default: $nnUNet_results/<dataset>/lunet_compare_<preset>_<configuration>)")
    p.add_argument("--c", dest="resume", action="store_true", help="continue interrupted runs (nnU-Net's --c)")
    p.add_argument("-device", "--device", default=None, choices=["cpu", "cuda"], help="training and benchmark "
                   "device (default: cuda if torch sees one, else cpu)")
    p.add_argument("--lanes", type=int, default=1, help="trainings at once (default 1); with more, each gets one "
                   "torch thread")
    p.add_argument("--repeats", type=int, default=5, help="timed runs per latency in the benchmark (default: 5)")
    p.add_argument("--disable-tta", action="store_true", help="no test-time mirroring in the final validation and "
                   "the benchmark (about 8x faster in 3D)")
    p.add_argument("--test-images", default=None, help="held-out images (imagesTs layout) for test-set Dice")
    p.add_argument("--test-labels", default=None, help="their labels (labelsTs layout)")
    _add_executor_arguments(p)
    p.set_defaults(func=run)


def _add_executor_arguments(p) -> None:
    g = p.add_argument_group("jobs", "where trainings run: --executor lanes (default: local processes, --lanes at "
                             "once), slurm (one SLURM job per run and fold, through submitit: pip install "
                             "'nnunet-lunet[slurm]') or local (the same jobs on this machine, --lanes at once)")
    g.add_argument("--executor", default="lanes", choices=["lanes", "slurm", "local"], help="default: lanes")
    g.add_argument("--no-wait", action="store_true", help="submit the jobs, print each run's state and return; the "
                   "same command later follows them, then benchmarks")
    g.add_argument("--partition", default=None, help="SLURM partition")
    g.add_argument("--gpus", type=int, default=1, help="GPUs per SLURM job (default 1; 0 for CPU jobs)")
    g.add_argument("--num-gpus", type=int, default=1, help="GPUs per training (nnUNetv2_train -num_gpus, DDP; "
                   "default 1)")
    g.add_argument("--cpus", type=int, default=None, help="CPUs per SLURM job")
    g.add_argument("--mem", default=None, help="memory per SLURM job, e.g. 64G")
    g.add_argument("--time", default=None, help="time limit per SLURM job (minutes, or D-HH:MM:SS); a run that "
                   "reaches it is requeued and continues with --c")
    g.add_argument("--account", default=None, help="SLURM account")
    g.add_argument("--qos", default=None, help="SLURM quality of service")
    g.add_argument("--sbatch", nargs="+", default=[], metavar="KEY=VALUE", help="more #SBATCH lines, e.g. "
                   "constraint=a100")
    g.add_argument("--poll-seconds", type=float, default=30.0, help="how often a waiting compare asks for the "
                   "jobs' states (default 30)")


def _cluster_options(args):
    from nnunet_lunet.compare.cluster import ClusterOptions
    return ClusterOptions(executor=args.executor, partition=args.partition, gpus=args.gpus, num_gpus=args.num_gpus,
                          cpus=args.cpus, mem=args.mem, time=args.time, account=args.account, qos=args.qos,
                          sbatch=tuple(args.sbatch), no_wait=args.no_wait, poll_seconds=args.poll_seconds)


def settings_from(args):
    from nnunet_lunet.compare.runner import CompareSettings
    from nnunet_lunet.compare.runs import Budget
    return CompareSettings(dataset=args.dataset, configuration=args.configuration, preset=args.preset,
                           folds=args.folds, budget=Budget(args.epochs, args.iterations, args.val_iterations),
                           rows=args.rows, plans=args.plans, batch_size=args.batch_size, output=args.output,
                           resume=args.resume, device=args.device or _default_device(), lanes=args.lanes,
                           repeats=args.repeats, disable_tta=args.disable_tta, test_images=args.test_images,
                           test_labels=args.test_labels, command_line=shlex.join(["nnunet-lunet"] + sys.argv[1:]),
                           cluster=_cluster_options(args))


def _default_device() -> str:
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def run(args) -> int:
    from nnunet_lunet.compare.runner import run_compare
    folder = run_compare(settings_from(args))
    if folder:
        print(f"[compare] done: table and plots in {folder}")
    return 0
