"""``nnunet-lunet``: the command line.

Rules: every command ends with exit code 0, or with one line on stderr and a non-zero code, never a traceback:

- bad input (``LUnetError``) and faults of the files and disk (``OSError``: a missing or read-only file or folder,
  a full disk), an unreadable JSON file (``json.JSONDecodeError``) or checkpoint: ``error: ...``, exit 2;
- Ctrl-C (``KeyboardInterrupt``): ``interrupted``, exit 130; when it came once the output was in place
  (``safe_output.OutputCompleted``) the line says the output is complete instead.

Commands write through ``safe_output`` (staging folders, atomic files, completion markers), so none of these leaves
a partial output where a finished one is expected. Any other exception is a bug and keeps its traceback.
"""

import argparse
import errno
import importlib
import json
import sys
from typing import List, Optional

from nnunet_lunet import __version__
from nnunet_lunet.errors import LUnetError, json_error
from nnunet_lunet.safe_output import OutputCompleted

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
    except json.JSONDecodeError as e:
        print(f"error: {json_error(e)}", file=sys.stderr)
    except OSError as e:
        print(f"error: {os_error(e)}", file=sys.stderr)
    except OutputCompleted as e:
        print(f"{e.target} is complete; the interrupt came after it was written and stopped the command there",
              file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 2


def os_error(e: OSError) -> str:
    """One line for a file-system fault: what failed, on which path, and what to do."""
    where = e.filename if e.filename is not None else "a file"
    if e.filename2 is not None:
        where = f"{e.filename} -> {e.filename2}"
    fixes = {errno.ENOENT: "check the path", errno.EACCES: "choose a folder you can write to (or fix its permissions)",
             errno.EPERM: "choose a folder you can write to (or fix its permissions)",
             errno.EROFS: "the file system is read-only: choose another folder",
             errno.ENOSPC: "the disk is full: free space and run the command again",
             errno.EDQUOT: "the disk quota is full: free space and run the command again",
             errno.EISDIR: "give a file, not a folder", errno.ENOTDIR: "give a folder, not a file"}
    fix = fixes.get(e.errno, "check the path and the disk")
    return f"{e.strerror or type(e).__name__}: {where}; {fix}"


if __name__ == "__main__":
    sys.exit(main())
