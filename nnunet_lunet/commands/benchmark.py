"""``nnunet-lunet benchmark``: every trained model of a configuration and its variants, side by side."""

from typing import List, Optional, Tuple

from nnunet_lunet.benchmark.discovery import parse_model_folder
from nnunet_lunet.commands.options import add_checkpoint_argument, add_dataset_argument
from nnunet_lunet.errors import LUnetError

HELP = "benchmark trained models side by side: parameters, MACs, memory, latency, epoch time, Dice; table and plots"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "benchmark", help=HELP,
        description=HELP + ". Models: every <trainer>__<plans>__<configuration> folder of $nnUNet_results/<dataset> "
        "whose configuration is -c or a variant of it (-c followed by _...). Writes benchmark.md, benchmark.csv and "
        "plots to the output folder; a model that cannot be measured becomes a 'failed: <reason>' row.")
    add_dataset_argument(p)
    p.add_argument("-c", "--configuration", required=True, help="configuration, e.g. 3d_fullres (its variants "
                                                                "3d_fullres_* are included)")
    p.add_argument("-f", "--folds", nargs="+", default=None, help="folds (default: every fold_N present)")
    p.add_argument("-tr", "--trainers", nargs="+", default=None, help="only these trainers (default: all)")
    p.add_argument("-p", "--plans", nargs="+", default=None, help="only these plans (default: all)")
    p.add_argument("-m", "--models", nargs="+", default=None, metavar="TRAINER__PLANS__CONFIGURATION",
                   help="exactly these results folders, in this order, instead of every one found (a missing one "
                        "becomes a failed row)")
    p.add_argument("-o", "--output", default=None, help="output folder (default: "
                                                        "$nnUNet_results/<dataset>/lunet_benchmark_<configuration>)")
    p.add_argument("--overwrite", action="store_true", help="replace the benchmark files of an existing output folder")
    add_checkpoint_argument(p)
    p.add_argument("--repeats", type=int, default=5, help="timed runs per latency (default: 5; median, min, max)")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs before timing a patch (default: 2)")
    p.add_argument("--test-images", default=None, help="folder of test images (nnU-Net imagesTs layout): adds "
                                                       "test-set Dice; needs --test-labels")
    p.add_argument("--test-labels", default=None, help="folder of the test images' labels (labelsTs layout)")
    p.add_argument("--reference", default=None, help="model the x (ratio) columns compare with: a results folder "
                                                     "name TRAINER__PLANS__CONFIGURATION (default: the default network "
                                                     "with the lean recipe, nnUNetTrainerLeanRecipe[_budget|_smoke], else "
                                                     "nnUNetTrainer[_budget|_smoke], with nnUNetPlans (or "
                                                     "nnUNetPlans_compare[_bB]) and -c)")
    p.add_argument("--disable-tta", action="store_true", help="no test-time mirroring in whole-case and test-set "
                                                                "prediction (as nnUNetv2_predict --disable_tta; "
                                                                "about 8x faster in 3D)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available, else cpu)")
    p.set_defaults(func=run)


def command_line(args) -> str:
    """The command as typed (from sys.argv when this process runs it), else rebuilt from ``args``."""
    import shlex
    import sys
    if sys.argv[1:2] == ["benchmark"]:
        return shlex.join(["nnunet-lunet"] + sys.argv[1:])
    parts = ["nnunet-lunet", "benchmark", "-d", str(args.dataset), "-c", args.configuration]
    for flag, value in (("-f", args.folds), ("-tr", args.trainers), ("-p", args.plans), ("-m", args.models)):
        parts += [flag, *map(str, value)] if value else []
    for flag, value in (("-o", args.output), ("--checkpoint", args.checkpoint), ("--repeats", args.repeats),
                        ("--warmup", args.warmup), ("--test-images", args.test_images),
                        ("--test-labels", args.test_labels), ("--reference", args.reference),
                        ("--device", args.device)):
        parts += [flag, str(value)] if value is not None else []
    flags = [flag for flag, on in (("--overwrite", args.overwrite), ("--disable-tta", args.disable_tta)) if on]
    return shlex.join(parts + flags)


def parse_models(names: Optional[List[str]]) -> Optional[List[Tuple[str, str, str]]]:
    """``--models`` as ``(trainer, plans, configuration)`` tuples; LUnetError for a name of another form."""
    if names is None:
        return None
    models = []
    for name in names:
        parsed = parse_model_folder(name)
        if parsed is None:
            raise LUnetError(f"--models {name}: give results folder names TRAINER__PLANS__CONFIGURATION, e.g. "
                             f"nnUNetTrainerLUnet16__nnUNetPlans__3d_fullres")
        models.append(parsed)
    return models


def run(args) -> int:
    # imported here, not above: the runner imports torch and nnU-Net, which the parser (--help, usage errors) skips
    from nnunet_lunet.benchmark.runner import MeasureOptions, ModelSelection, run_benchmark

    selection = ModelSelection(folds=args.folds, trainers=args.trainers, plans=args.plans,
                               models=parse_models(args.models), reference=args.reference)
    options = MeasureOptions(checkpoint=args.checkpoint, repeats=args.repeats, warmup=args.warmup, device=args.device,
                             mirroring=not args.disable_tta, test_images=args.test_images,
                             test_labels=args.test_labels)
    run_benchmark(args.dataset, args.configuration, selection, options, output=args.output, overwrite=args.overwrite,
                  command_line=command_line(args))
    return 0
