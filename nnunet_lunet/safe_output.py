"""Writing output safely: every file and folder a command writes goes through this module.

Rules:

- A file is written atomically (``atomic_file``, ``write_text``, ``write_json``): into a temporary file with a
  unique name in the same folder, flushed and fsynced, moved over the target with ``os.replace``, then the folder is
  fsynced. A crash or Ctrl-C leaves the old file or the new one, never a mix; a failed write removes its temporary.
- A folder the package writes as a whole (an export, a prediction, a dataset) is written into a staging folder beside
  the target (``staged_folder``) and replaced by three renames (``replace_folder``): the old folder aside, the new one
  into place, then the old one removed. SIGINT and SIGTERM are held back during the two renames, so an interrupt at
  any point leaves the old folder or the new one at the target (a hidden ``.<name>.old-*`` or ``.<name>.partial-*``
  beside it at worst, which the next run removes).
- Every such folder holds ``MARKER`` (``.nnunet-lunet.json``: package, command, version, whether the output is
  complete, and the names the command wrote), which says "nnunet-lunet wrote this". Folders that a command fills in
  place (the benchmark's) get the marker with ``complete: false`` first and ``complete: true`` last
  (``start_in_place``, ``finish_in_place``), so a folder without the complete marker is known to be unfinished.
- ``--overwrite`` replaces only what the package wrote (``check_replaceable``): an existing target without the
  marker of the same command is refused with nothing deleted (so ``-o .`` or a user's folder is never emptied), as is
  one that holds names its marker does not list (they would be lost) and a file or link where a folder is expected.
  The working folder, or one above it, is never replaced as a whole, even when empty. In place, only the names the marker lists are removed (``remove_listed_outputs``).
"""

import contextlib
import glob
import json
import os
import shutil
import signal
import tempfile
import threading
import uuid
from typing import Iterator, List, Optional

from nnunet_lunet.errors import LUnetError

MARKER = ".nnunet-lunet.json"
PACKAGE = "nnunet-lunet"
_PARTIAL = "partial"
_OLD = "old"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _version() -> str:
    from nnunet_lunet import __version__
    return __version__


# -- files --------------------------------------------------------------------------------------------------------
def fsync_folder(folder: str) -> None:
    """Make a rename or a new file in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str, mode: str = "w", **open_kwargs) -> Iterator:
    """A file object on a unique temporary beside ``path``; on success it is fsynced and replaces ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # as open() would create it (mkstemp makes it private)
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_folder(folder)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.remove(tmp)


def write_text(path: str, text: str) -> None:
    with atomic_file(path, "w") as f:
        f.write(text)


def write_json(path: str, data, indent: int = 2) -> None:
    with atomic_file(path, "w") as f:
        json.dump(data, f, indent=indent)
        f.write("\n")


def save_torch(obj, path: str) -> None:
    """``torch.save`` to ``path`` atomically."""
    import torch
    with atomic_file(path, "wb") as f:
        torch.save(obj, f)


# -- the marker ----------------------------------------------------------------------------------------------------
def marker(command: str, complete: bool, outputs: Optional[List[str]] = None) -> dict:
    """What ``MARKER`` holds (also the ``written_by`` entry of a plans file)."""
    data = {"package": PACKAGE, "command": command, "version": _version(), "complete": complete}
    if outputs is not None:
        data["outputs"] = sorted(outputs)
    return data


def write_marker(folder: str, command: str, complete: bool = True, outputs: Optional[List[str]] = None) -> None:
    """The marker of ``folder``; ``outputs`` default to every name in it."""
    if outputs is None:
        outputs = [n for n in os.listdir(folder) if n != MARKER]
    write_json(os.path.join(folder, MARKER), marker(command, complete, outputs))


def read_marker(folder: str) -> Optional[dict]:
    """The folder's marker, or None when it has none or one that is not the package's (unreadable, foreign)."""
    try:
        with open(os.path.join(folder, MARKER)) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("package") == PACKAGE else None


def is_complete(folder: str, command: str) -> bool:
    """Whether ``folder`` holds a finished output of ``command``."""
    data = read_marker(folder)
    return data is not None and data.get("command") == command and data.get("complete") is True


def owned_by(data: Optional[dict], command: str) -> bool:
    return data is not None and data.get("package") == PACKAGE and data.get("command") == command


# -- checks before writing ---------------------------------------------------------------------------------------
def _holds_working_folder(target: str) -> bool:
    target, cwd = os.path.realpath(target), os.path.realpath(os.getcwd())
    return cwd == target or cwd.startswith(target.rstrip(os.sep) + os.sep)


def check_replaceable(target: str, command: str, overwrite: bool, flag: str = "-o", in_place: bool = False) -> None:
    """Refuse (``LUnetError``, nothing deleted) a target that ``command`` may not write (module rules).

    ``in_place``: the command fills the folder in place and removes only what its marker lists, so other names in it
    are kept and allowed."""
    if not os.path.lexists(target):
        return
    if not os.path.isdir(target) or os.path.islink(target):
        raise LUnetError(f"output {target} is a file or a link: pass a folder with {flag}")
    if _holds_working_folder(target) and not in_place:
        raise LUnetError(f"output {target} is the working folder or holds it: nothing was deleted; run the command "
                         f"from another folder or choose another folder with {flag}")
    names = [n for n in os.listdir(target) if not n.startswith(f".{MARKER}.")]
    if not names:
        return
    if not overwrite:
        raise LUnetError(f"output {target} already exists and is not empty: pass --overwrite to replace what "
                         f"nnunet-lunet {command} wrote there, or choose another folder with {flag}")
    data = read_marker(target)
    if not owned_by(data, command):
        raise LUnetError(f"output {target} was not written by nnunet-lunet {command} (it has no {MARKER} of that "
                         f"command), so --overwrite does not touch it and nothing was deleted: choose another folder "
                         f"with {flag}, or move it away yourself")
    listed = set(data.get("outputs", [])) | {MARKER}
    foreign = sorted(n for n in names if n not in listed)
    if foreign and not in_place:
        raise LUnetError(f"output {target} holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}, which "
                         f"nnunet-lunet {command} did not write there: nothing was deleted; move them away or choose "
                         f"another folder with {flag}")


# -- whole folders -------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _siblings(target: str, kind: str) -> List[str]:
    parent, name = os.path.split(os.path.abspath(target))
    prefix = f".{name}.{kind}-"
    return [os.path.join(parent, n) for n in os.listdir(parent) if n.startswith(prefix)] if os.path.isdir(parent) \
        else []


def recover(target: str) -> None:
    """Tidy what an interrupted replacement left beside ``target``: an old folder moved aside goes back when the
    target is missing (a kill between the renames), else it is removed, as are unfinished staging folders."""
    old = _siblings(target, _OLD)
    if old and not os.path.lexists(target):
        newest = max(old, key=os.path.getmtime)
        os.rename(newest, target)
        old.remove(newest)
    for path in old + _siblings(target, _PARTIAL):
        shutil.rmtree(path, ignore_errors=True)


def new_staging_folder(target: str) -> str:
    parent, name = os.path.split(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}.{_PARTIAL}-", dir=parent)
    os.chmod(staging, 0o777 & ~_umask())  # as os.makedirs would create it (mkdtemp makes it private)
    return staging


def replace_folder(staging: str, target: str) -> None:
    """Put ``staging`` at ``target``: old one aside, new one in, old one removed (module rules)."""
    target = os.path.abspath(target)
    parent, name = os.path.split(target)
    aside = None
    try:
        with _signals_held():  # an interrupt waits until both renames are done
            if os.path.lexists(target):
                aside = os.path.join(parent, f".{name}.{_OLD}-{uuid.uuid4().hex[:8]}")
                os.rename(target, aside)
            os.rename(staging, target)
            fsync_folder(parent)
    finally:
        if aside is not None and os.path.lexists(target):
            shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def staged_folder(target: str, command: str, overwrite: bool, flag: str = "-o") -> Iterator[str]:
    """A staging folder to fill; when the block ends without error it gets the marker and replaces ``target``.

    Checked first (``check_replaceable``); on any error or interrupt the staging folder is removed and ``target``
    is untouched."""
    recover(target)
    check_replaceable(target, command, overwrite, flag)
    staging = new_staging_folder(target)
    try:
        yield staging
        write_marker(staging, command, complete=True)
        replace_folder(staging, target)
        staging = None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


# -- folders filled in place -----------------------------------------------------------------------------------------
def remove_listed_outputs(folder: str, command: str) -> None:
    """Remove the names (or ``*`` patterns) the marker of ``command``'s earlier run lists, nothing else, and the
    marker itself."""
    data = read_marker(folder)
    if not owned_by(data, command):
        return
    for pattern in data.get("outputs", []):
        if os.sep in pattern or pattern in ("", ".", "..", MARKER):
            continue
        for path in glob.glob(os.path.join(glob.escape(folder), pattern)):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            elif os.path.lexists(path):
                os.remove(path)
    os.remove(os.path.join(folder, MARKER))


def start_in_place(folder: str, command: str, overwrite: bool, outputs: List[str], flag: str = "-o") -> None:
    """Check ``folder`` (kept names allowed), remove the earlier run's outputs, mark it unfinished."""
    check_replaceable(folder, command, overwrite, flag, in_place=True)
    os.makedirs(folder, exist_ok=True)
    remove_listed_outputs(folder, command)
    write_json(os.path.join(folder, MARKER), marker(command, False, outputs))


def finish_in_place(folder: str, command: str, outputs: List[str]) -> None:
    """Mark ``folder`` complete, listing the names the run wrote."""
    write_json(os.path.join(folder, MARKER), marker(command, True, outputs))
