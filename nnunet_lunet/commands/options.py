"""Command-line options that several subcommands share, spelled as nnU-Net spells them."""

from typing import Optional

from nnunet_lunet.architecture import PLAIN_CONV_UNET, RESIDUAL_ENCODER_UNET
from nnunet_lunet.datasets import resolved_configuration
from nnunet_lunet.errors import LUnetError
from nnunet_lunet.plans.variants import flat_variant, is_variant_source, matched_variant, scaled_variant
from nnunet_lunet.widths import check_width

DEFAULT_WIDTHS = [32, 16, 8]
DEFAULT_SCALES = [0.75, 0.5, 0.25]


def add_dataset_argument(parser) -> None:
    parser.add_argument("-d", "--dataset", required=True, help="nnU-Net dataset id or name, e.g. 4 or "
                                                                "Dataset004_Hippocampus")


def add_run_arguments(parser, what: str = "the run", trainer: Optional[str] = None, fold: Optional[str] = None) -> None:
    """``-d -c -tr -f -p``: one trained run, as ``nnUNetv2_train`` names it (``-tr`` and ``-f`` required unless given
    a default)."""
    add_dataset_argument(parser)
    parser.add_argument("-c", "--configuration", required=True, help=f"configuration of {what}, e.g. 3d_fullres")
    parser.add_argument("-tr", "--trainer", required=trainer is None, default=trainer, help=f"trainer of {what} " + (
        f"(default: {trainer})" if trainer else "e.g. nnUNetTrainerLUnet16"))
    parser.add_argument("-f", "--fold", required=fold is None, default=fold, help=f"fold of {what} " + (
        f"(default: {fold})" if fold else "(0..4 or all)"))
    parser.add_argument("-p", "--plans", default="nnUNetPlans", help=f"plans of {what} (default: nnUNetPlans)")


def add_checkpoint_argument(parser) -> None:
    parser.add_argument("--checkpoint", default="checkpoint_final.pth", help="checkpoint file name (default: "
                                                                             "checkpoint_final.pth)")


def add_dataset_options(parser, configurations_help: str) -> None:
    add_dataset_argument(parser)
    parser.add_argument("-p", "--plans", default="nnUNetPlans", help="source plans name (default: nnUNetPlans; "
                                                                      "also e.g. nnUNetResEncUNetMPlans)")
    parser.add_argument("-c", "--configurations", nargs="+", default=None, help=configurations_help)


def add_width_options(parser) -> None:
    parser.add_argument("--widths", nargs="*", type=int, default=DEFAULT_WIDTHS,
                        help=f"flat LUnet widths, one configuration each (default: {DEFAULT_WIDTHS})")
    parser.add_argument("--scales", nargs="*", type=float, default=DEFAULT_SCALES,
                        help=f"scales of the default widths, in (0, 1] (default: {DEFAULT_SCALES})")
    parser.add_argument("--match-parameters", nargs="*", type=int, default=[], metavar="WIDTH",
                        help="for each WIDTH, the default widths scaled so that the parameter count is nearest "
                             "LUnet WIDTH's (configuration <config>_scaled_as_lunet<WIDTH>: the paper's equal-size "
                             "baseline)")


def variants_from(args, count_parameters=None) -> list:
    """Validated width variants (flat, scaled, then matched) from ``--widths``/``--scales``/``--match-parameters``.

    ``count_parameters(architecture) -> int`` is needed only for ``--match-parameters``; without it the matched
    widths are only validated (so that bad input fails before any file is read).
    """
    variants = [flat_variant(w) for w in args.widths] + [scaled_variant(s) for s in args.scales]
    matched = [check_width(w) for w in args.match_parameters]
    if count_parameters is not None:
        variants += [matched_variant(w, count_parameters) for w in matched]
    return variants


def source_configurations(plans: dict, requested) -> list:
    """``-c`` as given (each must exist), or every supported, non-cascade configuration of the plans."""
    if requested:
        for c in requested:
            resolved_configuration(plans, c)  # raises for unknown names
        return list(requested)
    found = [c for c in plans["configurations"] if is_variant_source(plans, c)]
    if not found:
        raise LUnetError(f"plans {plans['plans_name']} have no configuration with {PLAIN_CONV_UNET} or "
                         f"{RESIDUAL_ENCODER_UNET}: plan the dataset with nnU-Net's default planner or a residual "
                         f"encoder preset (nnUNetPlannerResEncM/L/XL)")
    return found
