"""``nnunet-lunet export-pruned``: the widths a pruning run reached, as a plans configuration to retrain from scratch."""

from nnunet_lunet.commands.options import add_run_arguments

HELP = ("write the widths of a pruning run (final, after step N, or at a recorded level) as a plans configuration to "
        "train from scratch")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export-pruned", help=HELP, description=HELP + ": the paper's 'equivalent-sized "
                              "pruned network after retraining'. Train it with the standard trainer: "
                              "nnUNetv2_train ID CONFIG FOLD -p nnUNetPlans_pruned")
    add_run_arguments(p, "the pruning run", trainer="nnUNetTrainerSTAMP", fold="0")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--step", type=int, default=None, help="pruning step to export (default: the last)")
    which.add_argument("--level", type=float, default=None, help="pruning level to export, as the fraction of the "
                       "original channels a gradual run recorded (e.g. 0.5; see the levels in its pruning_log.json)")
    p.add_argument("-o", "--output-plans", default=None, help="plans file to add the configuration to "
                                                              "(default: <plans>_pruned; created if missing)")
    p.add_argument("--name", default=None, help="configuration name (default: <configuration>_pruned_<trainer>"
                                                "_f<fold>[_step<N> or _level<NN>])")
    p.add_argument("--overwrite", action="store_true", help="replace a configuration of the same name")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.pruning.export import export_pruned

    path, name, widths = export_pruned(args.dataset, args.configuration, args.trainer, args.plans, args.fold,
                                       args.step, args.output_plans, args.name, args.overwrite, args.level)
    print(f"wrote configuration {name} to {path}")
    print(f"widths: {widths}")
    plans_name = path.rsplit("/", 1)[-1][:-len(".json")]
    print(f"retrain it from scratch with: nnUNetv2_train {args.dataset} {name} {args.fold} -p {plans_name}")
    return 0
