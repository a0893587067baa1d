"""``nnunet-lunet demo``: the main job, from a generated (or your) dataset to a benchmark table and plots."""

HELP = ("train nnU-Net's default network, LUnet 32/16/8, the 25%%-width U-Net and a STAMP run with one short CPU "
        "budget and benchmark them")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help=HELP, description=HELP + ". Without --dataset it generates a synthetic "
                              "dataset and keeps all nnU-Net folders under --workdir.")
    p.add_argument("--workdir", default="lunet_demo", help="folder for logs, the benchmark and (without --dataset) "
                                                           "nnU-Net's folders (default: lunet_demo)")
    p.add_argument("--dataset", default=None, help="use this planned and preprocessed nnU-Net dataset (id or name) "
                                                   "from your nnUNet_* folders instead of a generated one")
    p.add_argument("-c", "--configuration", default="3d_fullres", help="configuration (default: 3d_fullres)")
    p.add_argument("-f", "--fold", type=int, default=0, help="fold (default: 0)")
    p.add_argument("--epochs", type=int, default=6, help="epochs per model (default: 6)")
    p.add_argument("--iterations", type=int, default=10, help="training iterations per epoch (default: 10)")
    p.add_argument("--val-iterations", type=int, default=2, help="validation iterations per epoch (default: 2)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per latency measurement (default: 3)")
    p.add_argument("--overwrite", action="store_true", help="retrain models trained with another budget and "
                                                            "replace an existing benchmark folder")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.demo import Budget, run_demo
    from nnunet_lunet.errors import LUnetError

    for name in ("epochs", "iterations", "val_iterations", "repeats"):
        if getattr(args, name) < 1:
            raise LUnetError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    folder = run_demo(args.workdir, args.dataset, args.configuration, args.fold,
                      Budget(args.epochs, args.iterations, args.val_iterations), args.overwrite, args.repeats)
    print(f"[demo] done: table and plots in {folder}")
    return 0
