"""``nnunet-lunet demo``: the main job, ``compare --preset small`` on the shipped MSD Hippocampus subset (or yours)."""

import shlex
import sys

HELP = ("train nnU-Net's default network, LUnet16, LUnet8, the U-Net of LUnet16's size and a STAMP run with one "
        "recipe and one short CPU budget, and benchmark them (nnunet-lunet compare --preset small)")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("demo", help=HELP, description=HELP + ". By default on 24 + 16 held-out cases of MSD "
                              "Hippocampus shipped with the package, with all nnU-Net folders under --workdir. "
                              "Run it again after an interruption: finished models are kept, interrupted ones "
                              "continue, an unfinished benchmark is run again.")
    p.add_argument("--workdir", default="lunet_demo", help="folder for the benchmark, logs, copies of the runs' small "
                   "outputs and (without --dataset) nnU-Net's folders (default: lunet_demo)")
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
    p.add_argument("--rows", nargs="+", default=None, metavar="KEY", help="only these models: default lunet16 lunet8 "
                   "unet_as_lunet16 stamp (default: all)")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.demo import DemoSettings, run_demo

    settings = DemoSettings(workdir=args.workdir, dataset=args.dataset, synthetic=args.synthetic,
                            configuration=args.configuration, fold=args.fold, plans=args.plans, epochs=args.epochs,
                            iterations=args.iterations, val_iterations=args.val_iterations, repeats=args.repeats,
                            rows=args.rows)
    folder = run_demo(settings, shlex.join(["nnunet-lunet"] + sys.argv[1:]))
    print(f"[demo] done: table and plots in {folder}")
    return 0
