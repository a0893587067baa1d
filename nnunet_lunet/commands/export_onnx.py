"""``nnunet-lunet export-onnx``: a trained model as an ONNX graph plus what inference needs, in one folder."""

import argparse

from nnunet_lunet.commands.options import add_checkpoint_argument, add_run_arguments
from nnunet_lunet.deploy.export import CALIBRATION_PATCHES, INT8_TOLERANCE, PARITY_TOLERANCE

HELP = "export a trained model (LUnet, pruned or nnU-Net's default) as an ONNX graph with its plans, for predict"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "export-onnx", help=HELP,
        description=HELP + ". Writes model.onnx (no deep supervision; batch and spatial axes dynamic), plans.json, "
        "dataset.json, export.json and the checkpoint's weights into -o, after checking that PyTorch and ONNX "
        f"Runtime agree on a preprocessed patch (logit difference <= {PARITY_TOLERANCE:g} of the logits' scale, "
        "probabilities and argmax apart from near-ties the same; else refused). "
        "Predict with: nnunet-lunet predict -i IN -o OUT -m DIR")
    add_run_arguments(p)
    add_checkpoint_argument(p)
    p.add_argument("-o", "--output", required=True, help="model folder to write (must not exist)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export-onnx folder at -o "
                   "(a folder export-onnx did not write is refused, nothing deleted)")
    # hidden: lets tests (and the curious) force or relax the parity refusal
    p.add_argument("--parity-tolerance", type=float, default=PARITY_TOLERANCE, help=argparse.SUPPRESS)
    p.add_argument("--int8", action="store_true", help="also write model_int8.xml/.bin, the graph quantized to INT8 "
                   "by NNCF (pip install 'nnunet-lunet[int8]'), for predict --runtime openvino-int8; refused unless its "
                   "Dice on the fold's validation cases is within --int8-tolerance of float32's (both stored in "
                   "export.json)")
    p.add_argument("--int8-tolerance", type=float, default=INT8_TOLERANCE, help="largest validation Dice loss of "
                   f"INT8 against float32 accepted, in Dice points (default {INT8_TOLERANCE:g})")
    p.add_argument("--calibration-patches", type=int, default=CALIBRATION_PATCHES, help="patches of the fold's "
                   f"training cases NNCF calibrates on (seeded; default {CALIBRATION_PATCHES})")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.deploy.export import ExportRequest, export_onnx

    record = export_onnx(ExportRequest(dataset=args.dataset, configuration=args.configuration, trainer=args.trainer,
                                       fold=str(args.fold), output=args.output, plans=args.plans,
                                       checkpoint=args.checkpoint, overwrite=args.overwrite,
                                       tolerance=args.parity_tolerance, int8=args.int8,
                                       int8_tolerance=args.int8_tolerance,
                                       calibration_patches=args.calibration_patches))
    print(f"exported {record.trainer} {record.configuration} fold {record.fold} ({record.checkpoint}) to "
          f"{args.output}")
    print(f"parity: max abs logit difference PyTorch vs ONNX Runtime {record.parity_max_abs_diff:.3g}, "
          f"{record.parity_relative_diff:.3g} of the logits' scale {record.parity_logit_scale:.3g} (tolerance "
          f"{record.parity_tolerance:g}); probabilities within {record.parity_max_probability_diff:.3g}; "
          f"{record.parity_argmax_differ_share:.3%} of voxels labelled otherwise, all at near-ties; on the "
          f"{record.parity_patch}")
    if record.int8_dice is not None:
        print(f"int8: validation Dice {record.int8_dice:.4f} vs float32 {record.int8_float32_dice:.4f} on "
              f"{record.int8_validation_cases} case(s) (tolerance {record.int8_tolerance:g} Dice points); "
              f"{record.int8_labelled_otherwise_share:.3%} of voxels labelled otherwise; calibrated on "
              f"{record.int8_calibration_patches} patches (seed {record.int8_calibration_seed}, NNCF "
              f"{record.int8_nncf_version}); predict with --runtime openvino-int8")
    print(f"spatial sizes must be multiples of {'x'.join(map(str, record.spatial_divisor))}; "
          f"predict with: nnunet-lunet predict -i INPUT_FOLDER -o OUTPUT_FOLDER -m {args.output}")
    return 0
