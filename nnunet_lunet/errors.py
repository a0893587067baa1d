"""The one exception type for bad user input (the command line prints its message and exits non-zero), and the one
line that names an unreadable JSON file (``json_error``: the command line's and the benchmark rows')."""

import json


class LUnetError(Exception):
    """A problem with the user's input or files. The message names the problem and the fix, in one line."""


def _json_file(e: BaseException) -> str:
    """The file ``json.load`` was reading when ``e`` was raised (its ``fp`` argument), else a generic name."""
    tb = e.__traceback__
    name = "a JSON file"
    while tb is not None:
        fp = tb.tb_frame.f_locals.get("fp") if tb.tb_frame.f_code.co_name == "load" else None
        name = getattr(fp, "name", None) or name
        tb = tb.tb_next
    return str(name)


def json_error(e: json.JSONDecodeError) -> str:
    """``<file> is not valid JSON (...)``, naming the file ``json.load`` was reading, and the fix."""
    name = _json_file(e)
    return (f"{name} is not valid JSON ({e.msg}, line {e.lineno} column {e.colno}): restore the file or write it "
            f"again with the command that made it")
