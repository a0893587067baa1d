"""``nnunet-lunet``: the command line.

Rules: every command ends with exit code 0, or with one line on stderr and a non-zero code, never a traceback:

- bad input (``LUnetError``) and faults of the files and disk (``OSError``: a missing or read-only file or folder,
  a full disk), an unreadable JSON file (``json.JSONDecodeError``) or checkpoint: ``error: ...``, exit 2;
- Ctrl-C (``KeyboardInterrupt``): ``interrupted``, exit 130.

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
    except json.JSONDecodeError as e:
        print(f"error: {_json_error(e)}", file=sys.stderr)
    except OSError as e:
        print(f"error: {os_error(e)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 2


def _json_file(e: BaseException) -> str:
    """The file ``json.load`` was reading when ``e`` was raised (its ``fp`` argument), else a generic name."""
    tb = e.__traceback__
    name = "a JSON file"
    while tb is not None:
        fp = tb.tb_frame.f_locals.get("fp") if tb.tb_frame.f_code.co_name == "load" else None
        name = getattr(fp, "name", None) or name
        tb = tb.tb_next
    return str(name)


def _json_error(e: json.JSONDecodeError) -> str:
    name = _json_file(e)
    return (f"{name} is not valid JSON ({e.msg}, line {e.lineno} column {e.colno}): restore the file or write it "
            f"again with the command that made it")


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
