"""``nnunet-lunet``: the command line. Bad input ends with one line ``error: ...`` and exit code 2."""

import argparse
import importlib
import sys
from typing import List, Optional

from nnunet_lunet import __version__
from nnunet_lunet.errors import LUnetError

COMMANDS = ["make_dataset", "plan", "summary", "export_pruned", "export_onnx", "predict", "benchmark", "compare",
            "demo"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnunet-lunet", description="Lean U-Net (constant-width U-Net), width "
                                     "variants and channel pruning for nnU-Net v2 (arXiv 2512.03834).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nnunet_lunet.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except LUnetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
