"""``nnunet-lunet make-dataset``: a small synthetic dataset in nnU-Net's raw layout."""

HELP = "write a small synthetic 2D or 3D dataset into nnUNet_raw (for trying things out and tests)"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("make-dataset", help=HELP, description=HELP + ".")
    p.add_argument("--id", type=int, default=990, help="dataset id (default: 990)")
    p.add_argument("--name", default="LUnetSynthetic", help="dataset name (default: LUnetSynthetic)")
    p.add_argument("--cases", type=int, default=12, help="training cases (default: 12)")
    p.add_argument("--test-cases", type=int, default=0, help="held-out cases in imagesTs/labelsTs (default: 0)")
    p.add_argument("--shape", type=int, nargs="+", default=[32, 40, 32], help="image size, 2 or 3 numbers "
                                                                                 "(default: 32 40 32)")
    p.add_argument("--spacing", type=float, nargs="+", default=None, help="voxel size per axis, in the order of "
                   "--shape (default: 1 each); e.g. 7.7 1.25 1.25 for thick slices")
    p.add_argument("--labels", type=int, default=2, help="foreground labels, 2 to 4 (default: 2)")
    p.add_argument("--channels", type=int, default=1, help="input channels (default: 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="replace a dataset folder make-dataset "
                   "wrote earlier (any other folder is refused, nothing deleted)")
    p.set_defaults(func=run)


def run(args) -> int:
    from nnunet_lunet.datasets import require_env
    from nnunet_lunet.synthetic import make_synthetic_dataset

    folder = make_synthetic_dataset(require_env("nnUNet_raw"), args.id, args.name, args.cases, args.test_cases,
                                    args.shape, args.channels, args.seed, args.overwrite, args.spacing,
                                    args.labels)
    print(f"wrote {folder}; next: nnUNetv2_plan_and_preprocess -d {args.id} -c 2d 3d_fullres")
    return 0
