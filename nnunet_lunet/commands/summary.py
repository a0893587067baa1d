"""``nnunet-lunet summary``: parameters and MACs of the default network and its width variants."""

from nnunet_lunet.commands.options import add_dataset_options, add_width_options, source_configurations, variants_from

HELP = "table of widths, parameters and MACs of the default network and every width variant"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("summary", help=HELP, description=HELP + " (MACs for one patch, from "
                              "torch.utils.flop_counter).")
    add_dataset_options(p, "configurations (default: every PlainConvUNet or ResidualEncoderUNet configuration that "
                           "is not a cascade stage)")
    add_width_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.datasets import load_dataset_json, load_plans, resolve_dataset
    from nnunet_lunet.plans_networks import parameter_counter
    from nnunet_lunet.summary import format_summary, summary_rows

    variants_from(args)  # invalid widths/scales fail before any file is read
    dataset = resolve_dataset(args.dataset)
    plans = load_plans(dataset, args.plans)
    variants = variants_from(args, parameter_counter(plans, load_dataset_json(dataset)) if args.match_parameters
                             else None)
    configurations = source_configurations(plans, args.configurations)
    print(f"{dataset}, plans {args.plans}: ratios are default / variant (how many times smaller)")
    print(format_summary(summary_rows(dataset, args.plans, configurations, variants)))
    return 0
