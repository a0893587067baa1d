"""``nnunet-lunet predict``: predict a folder of images with a model folder written by ``export-onnx``."""

HELP = ("predict a folder of images with an export-onnx model folder: nnU-Net's pipeline, ONNX Runtime (or OpenVINO) "
        "forward passes")


def add_parser(subparsers) -> None:
    from nnunet_lunet.deploy.predict import RUNTIMES

    p = subparsers.add_parser(
        "predict", help=HELP,
        description=HELP + ". Preprocessing, sliding window (Gaussian weighting), test-time mirroring, resampling "
        "and export are nnUNetv2_predict's own code; only the network's forward pass runs in ONNX Runtime (with "
        "--runtime openvino in OpenVINO, pip install 'nnunet-lunet[openvino]', and --runtime openvino-bf16 in "
        "OpenVINO at bfloat16 precision on CPUs that have it: faster, not the parity-checked float32; with "
        "--runtime torch in PyTorch from the folder's weights). Outputs match nnUNetv2_predict with the same model "
        "and settings. CPU only.")
    p.add_argument("-i", "--input", required=True, help="folder of images named as nnU-Net names them "
                                                        "(CASE_0000.nii.gz, ...)")
    p.add_argument("-o", "--output", required=True, help="output folder for the segmentations")
    p.add_argument("-m", "--model", required=True, help="model folder written by nnunet-lunet export-onnx")
    p.add_argument("--runtime", choices=RUNTIMES, default="onnxruntime", help="what runs the network "
                   "(default: onnxruntime; openvino was the fastest float32 runtime on the CPUs measured, see "
                   "benchmarks/hippocampus)")
    p.add_argument("--disable-tta", action="store_true", help="no test-time mirroring (as nnUNetv2_predict "
                                                              "--disable_tta; about 8x faster in 3D)")
    p.add_argument("--step-size", type=float, default=0.5, help="sliding-window tile step as a fraction of the "
                                                                "patch (default: 0.5, nnU-Net's)")
    p.add_argument("--tile-size", nargs="+", default=None, metavar="SIZE", help="sliding-window tile: one size "
                   "for every spatial axis or one per axis, in voxels (80) or as a multiple of the training patch "
                   "(2x); each a multiple of the network's stride (export-onnx prints it). Default: the training "
                   "patch, nnU-Net's. Larger tiles mean fewer forward passes; for a graph runtime the graph is first "
                   "checked against the model's PyTorch weights at that size")
    p.add_argument("--save-probabilities", action="store_true", help="also write the class probabilities "
                                                                     "(.npz + .pkl, as nnUNetv2_predict)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier prediction of nnunet-lunet "
                   "predict at -o, its stale cases included (a folder predict did not write is refused, nothing "
                   "deleted); the new one is written aside and put in place when every case is done")
    p.add_argument("--processes", type=int, default=2, help="worker processes for preprocessing and for export "
                                                            "(default: 2; 0: none, all in this process)")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime / OpenVINO threads (default: 0 = one "
                                                          "per physical core)")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.deploy.predict import PredictRequest, predict_folder

    from nnunet_lunet.deploy.tiles import tile_text

    done = predict_folder(PredictRequest(input_folder=args.input, output_folder=args.output, model_folder=args.model,
                                         runtime=args.runtime, mirroring=not args.disable_tta,
                                         step_size=args.step_size, save_probabilities=args.save_probabilities,
                                         overwrite=args.overwrite, processes=args.processes, threads=args.threads,
                                         tile_size=args.tile_size))
    if done.tile_parity is not None:
        p = done.tile_parity
        print(f"parity at tile {tile_text(done.tile)}: logits within {p.max_abs_diff:.3g} of the PyTorch weights' "
              f"({p.relative_diff:.3g} of their scale), probabilities within {p.max_probability_diff:.3g}")
    print(f"predicted {done.cases} case(s) with {args.runtime} into {args.output} (tiles {tile_text(done.tile)})")
    return 0
