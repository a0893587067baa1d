"""``nnunet-lunet plan``: write flat (LUnet) and scaled-width configurations for a dataset nnU-Net has planned."""

from nnunet_lunet.commands.options import add_dataset_options, add_width_options, source_configurations, variants_from
from nnunet_lunet.errors import LUnetError

HELP = "write a plans file with flat (LUnet) and scaled-width configurations"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("plan", help=HELP, description=HELP + ". The new configurations inherit from their "
                              "source configuration and reuse its preprocessed data.")
    add_dataset_options(p, "source configurations (default: every PlainConvUNet or ResidualEncoderUNet "
                           "configuration that is not a cascade stage, e.g. 2d 3d_fullres)")
    add_width_options(p)
    p.add_argument("-o", "--output-plans", default=None, help="name of the plans file to write "
                                                              "(default: <plans>_lunet)")
    p.add_argument("--batch-size", type=int, default=None, help="batch size of the source configurations and their "
                   "variants in the written plans (default: the source plans'); e.g. 2 for a CPU budget")
    p.add_argument("--overwrite", action="store_true", help="replace the output plans file if "
                   "nnunet-lunet wrote it (other plans files are refused)")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.datasets import dataset_id, load_dataset_json, load_plans, resolve_dataset
    from nnunet_lunet.plans.variants import derive_configuration, with_batch_size
    from nnunet_lunet.plans.writer import check_target, write_plans_with

    variants_from(args)  # invalid widths/scales fail before any file is read
    if args.batch_size is not None and args.batch_size < 1:
        raise LUnetError(f"--batch-size must be at least 1, got {args.batch_size}")
    dataset = resolve_dataset(args.dataset)
    target = args.output_plans or f"{args.plans}_lunet"
    check_target(dataset, args.plans, target, args.overwrite)
    plans = load_plans(dataset, args.plans)
    sources = source_configurations(plans, args.configurations)
    _require_preprocessed(dataset, plans, sources, chosen=args.configurations is not None)
    counter = None
    if args.match_parameters:  # (torch and nnU-Net are imported only here: refusals above take a fraction of a second)
        from nnunet_lunet.plans_networks import parameter_counter
        counter = parameter_counter(plans, load_dataset_json(dataset))
    added = dict(derive_configuration(plans, c, v) for c in sources for v in variants_from(args, counter))
    if args.batch_size is not None:  # the variants inherit it from their source
        added.update({c: with_batch_size(plans, c, args.batch_size) for c in sources})
    path = write_plans_with(dataset, args.plans, target, added, overwrite=args.overwrite)
    print(f"wrote {path} with {len(added)} configurations:")
    for name, cfg in added.items():
        if name not in sources:
            print(f"  {name:32s} widths {cfg['architecture']['arch_kwargs']['features_per_stage']}")
        else:
            print(f"  {name:32s} batch size {cfg['batch_size']}")
    example = next(iter(added))
    print(f"train one with: nnUNetv2_train {dataset_id(dataset)} {example} 0 -p {target}")
    return 0


def _require_preprocessed(dataset: str, plans: dict, sources: list, chosen: bool) -> None:
    """LUnetError unless every source configuration is preprocessed; when they are the default (every configuration,
    ``chosen`` False), the message also names ``-c`` with those that are (e.g. a large 3D dataset preprocessed in 2d
    only)."""
    from nnunet_lunet.datasets import require_preprocessed

    errors = {}
    for c in sources:
        try:
            require_preprocessed(dataset, plans, c)
        except LUnetError as e:
            errors[c] = e
    if not errors:
        return
    first = next(iter(errors.values()))
    ready = [c for c in sources if c not in errors]
    if chosen or not ready:
        raise first
    raise LUnetError(f"{first}; or write variants of the preprocessed configurations only: -c {' '.join(ready)}")
