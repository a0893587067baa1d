"""``nnunet-lunet demo``: the main job, from the shipped MSD Hippocampus subset (or your dataset) to a benchmark."""

HELP = ("train nnU-Net's default network, LUnet16, LUnet8, the U-Net of LUnet16's size and a STAMP run with one "
        "recipe and one short CPU budget, and benchmark them")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help=HELP, description=HELP + ". By default on 24 + 16 held-out cases of MSD "
                              "Hippocampus shipped with the package, with all nnU-Net folders under --workdir.")
    p.add_argument("--workdir", default="lunet_demo", help="folder for logs, the benchmark and (without --dataset) "
                                                           "nnU-Net's folders (default: lunet_demo)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--dataset", default=None, help="use this planned and preprocessed nnU-Net dataset (id or "
                                                        "name) from your nnUNet_* folders instead")
    source.add_argument("--synthetic", action="store_true", help="use a generated dataset (blobs) instead")
    p.add_argument("-c", "--configuration", default="3d_fullres", help="configuration (default: 3d_fullres)")
    p.add_argument("-f", "--fold", type=int, default=0, help="fold (default: 0)")
    p.add_argument("-p", "--plans", default="nnUNetPlans", help="source plans: nnUNetPlans (default) or a residual "
                   "encoder preset, e.g. nnUNetResEncUNetMPlans (planned by the demo on its own data)")
    p.add_argument("--epochs", type=int, default=8, help="epochs per model (default: 8)")
    p.add_argument("--iterations", type=int, default=25, help="training iterations per epoch (default: 25)")
    p.add_argument("--val-iterations", type=int, default=5, help="validation iterations per epoch (default: 5)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per latency measurement (default: 3)")
    p.add_argument("--overwrite", action="store_true", help="retrain models trained with another budget and "
                                                            "replace an existing benchmark folder and demo plans")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.demo import Budget, DemoSettings, run_demo
    from nnunet_lunet.errors import LUnetError

    for name in ("epochs", "iterations", "val_iterations", "repeats"):
        if getattr(args, name) < 1:
            raise LUnetError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    settings = DemoSettings(workdir=args.workdir, dataset=args.dataset, synthetic=args.synthetic,
                            configuration=args.configuration, fold=args.fold, plans=args.plans,
                            budget=Budget(args.epochs, args.iterations, args.val_iterations),
                            overwrite=args.overwrite, repeats=args.repeats)
    folder = run_demo(settings)
    print(f"[demo] done: table and plots in {folder}")
    return 0
