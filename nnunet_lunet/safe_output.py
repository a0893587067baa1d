"""Writing output safely: every file and folder a command writes goes through this module.

Rules:

- A file is written atomically (``atomic_file``, ``write_text``, ``write_json``): into a temporary file with a
  unique name in the same folder, flushed and fsynced, moved over the target with ``os.replace``, then the folder is
  fsynced. A crash or Ctrl-C leaves the old file or the new one, never a mix; a failed write removes its temporary.
- Every folder the package writes holds ``MARKER`` (``.nnunet-lunet.json``: package, command, version, whether the
  output is complete, the exact names the command wrote in it (``outputs``, never patterns) and, for folders written
  as a whole, a ``token`` the package generated). A marker that does not parse as that schema (``marker_problem``:
  not JSON, another package's, ``outputs`` not a list of plain names, a link) is refused with nothing touched.
- A folder the package writes as a whole (an export, a prediction, a dataset) is written into the staging folder
  ``.<name>.partial-<token>`` beside the target (``staged_folder``), whose marker records the token from its start,
  and replaced by two renames (``replace_folder``): the old folder aside to ``.<name>.old-<its token>``, the new one
  into place; then the old one's recorded names are removed. SIGINT and SIGTERM are held back from the first rename
  until the old folder is gone, so SIGINT at any point leaves the old folder or the new complete one at the target; an
  interrupt that arrives once the new one is in place is reported as such (``OutputCompleted``), not as
  ``interrupted``. SIGKILL between the two renames leaves no folder at the target, only the old one aside: the next
  call for that target (``recover``) moves it back, and removes unfinished staging folders.
- Only folders the package made are recovered or removed beside a target (``_own_siblings``): a ``.<name>.old-X`` or
  ``.<name>.partial-X`` counts only when it is a real folder whose marker is the command's and records the token X;
  a name that merely looks like the package's is never trusted, moved or deleted.
- ``--overwrite`` replaces only what the package wrote (``check_replaceable``): an existing target without the
  marker of the same command is refused with nothing deleted (so ``-o .`` or a user's folder is never emptied), as is
  one that holds names its marker does not list (they would be lost), a file where a folder is expected, and a target
  whose last component is a symbolic link (``link`` or ``link/``). The working folder, or one above it, is never
  replaced as a whole, even when empty. Folders that a command fills in place (the benchmark's) get the marker with
  ``complete: false`` and the exact names the run may write first (``start_in_place``; a user's file under one of
  those names is refused, not overwritten), and ``complete: true`` with the names written last
  (``finish_in_place``); only the names the marker lists are removed (``remove_listed_outputs``).
"""

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
from typing import Iterator, List, Optional, Sequence

from nnunet_lunet.errors import LUnetError

MARKER = ".nnunet-lunet.json"
PACKAGE = "nnunet-lunet"
_PARTIAL = "partial"
_OLD = "old"
_TOKEN = re.compile(r"[0-9a-f]{8,64}")


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
def new_token() -> str:
    """A fresh token for the staging and backup names of one output (``.<name>.partial-<token>``, ``.old-<token>``)."""
    return secrets.token_hex(8)


def marker(command: str, complete: bool, outputs: Optional[List[str]] = None, token: Optional[str] = None) -> dict:
    """What ``MARKER`` holds (also the ``written_by`` entry of a plans file)."""
    data = {"package": PACKAGE, "command": command, "version": _version(), "complete": complete}
    if outputs is not None:
        data["outputs"] = sorted(outputs)
    if token is not None:
        data["token"] = token
    return data


def write_marker(folder: str, command: str, complete: bool = True, outputs: Optional[List[str]] = None,
                 token: Optional[str] = None) -> None:
    """The marker of ``folder``; ``outputs`` default to every name in it."""
    if outputs is None:
        outputs = [n for n in os.listdir(folder) if n != MARKER]
    write_json(os.path.join(folder, MARKER), marker(command, complete, outputs, token))


def _plain_name(name) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..", MARKER) and "/" not in name and os.sep not in name \
        and "\0" not in name


def marker_problem(data) -> Optional[str]:
    """What makes ``data`` not a marker of the schema ``marker`` writes (None: it is one)."""
    if not isinstance(data, dict):
        return f"it holds a {type(data).__name__}, not an object"
    if data.get("package") != PACKAGE:
        return f"its package is {data.get('package')!r}, not {PACKAGE!r}"
    for key, kind in (("command", str), ("version", str), ("complete", bool)):
        if not isinstance(data.get(key), kind):
            return f"its {key!r} is {data.get(key)!r}, not a {kind.__name__}"
    outputs = data.get("outputs", [])
    if not isinstance(outputs, list) or not all(_plain_name(n) for n in outputs):
        return f"its 'outputs' is {json.dumps(outputs)[:80]}, not a list of file names"
    token = data.get("token")
    if token is not None and not (isinstance(token, str) and _TOKEN.fullmatch(token)):
        return f"its 'token' is {json.dumps(token)[:40]}, not one nnunet-lunet makes"
    return None


def read_marker(folder: str) -> Optional[dict]:
    """The folder's marker; None when it has none; ``LUnetError`` when there is one that is not of the schema (not
    JSON, another package's, wrong types, a link): such a folder is refused, never trusted."""
    path = os.path.join(folder, MARKER)
    if not os.path.lexists(path):
        return None
    try:
        if os.path.islink(path):
            raise ValueError("it is a symbolic link")
        with open(path) as f:
            data = json.load(f)
        problem = marker_problem(data)
    except (OSError, ValueError) as error:
        problem = f"{type(error).__name__}: {error}"
    if problem:
        raise LUnetError(f"{path} is not a marker nnunet-lunet wrote ({problem}), so nothing in {folder} is "
                         f"touched and nothing was deleted: move the folder away or choose another one")
    return data


def _marker_or_none(folder: str) -> Optional[dict]:
    try:
        return read_marker(folder)
    except LUnetError:
        return None


def is_complete(folder: str, command: str) -> bool:
    """Whether ``folder`` holds a finished output of ``command``."""
    data = _marker_or_none(folder)
    return data is not None and data.get("command") == command and data.get("complete") is True


def owned_by(data: Optional[dict], command: str) -> bool:
    return data is not None and data.get("package") == PACKAGE and data.get("command") == command


# -- checks before writing ---------------------------------------------------------------------------------------
def _holds_working_folder(target: str) -> bool:
    target, cwd = os.path.realpath(target), os.path.realpath(os.getcwd())
    return cwd == target or cwd.startswith(target.rstrip(os.sep) + os.sep)


def refuse_link(target: str, flag: str = "-o") -> None:
    """``LUnetError`` when the last component of ``target`` is a symbolic link, written with a trailing slash or not
    (``link/`` resolves to the link's target, ``link`` is the link itself: either way it is not replaced)."""
    if os.path.islink(os.path.abspath(target)):
        raise LUnetError(f"output {target} is a symbolic link: nothing was changed; pass the folder it points to, or "
                         f"another folder, with {flag}")


def check_replaceable(target: str, command: str, overwrite: bool, flag: str = "-o", in_place: bool = False,
                      planned: Sequence[str] = ()) -> None:
    """Refuse (``LUnetError``, nothing deleted) a target that ``command`` may not write (module rules).

    ``in_place``: the command fills the folder in place and removes only what its marker lists, so other names in it
    are kept and allowed, unless they are among the ``planned`` names the run will write (they would be replaced)."""
    refuse_link(target, flag)
    path = os.path.abspath(target)
    if not os.path.lexists(path):
        return
    if not os.path.isdir(path):
        raise LUnetError(f"output {target} is a file: pass a folder with {flag}")
    if _holds_working_folder(path) and not in_place:
        raise LUnetError(f"output {target} is the working folder or holds it: nothing was deleted; run the command "
                         f"from another folder or choose another folder with {flag}")
    names = os.listdir(path)
    if not names:
        return
    if not overwrite:
        raise LUnetError(f"output {target} already exists and is not empty: pass --overwrite to replace what "
                         f"nnunet-lunet {command} wrote there, or choose another folder with {flag}")
    data = read_marker(path)
    if not owned_by(data, command):
        raise LUnetError(f"output {target} was not written by nnunet-lunet {command} (it has no {MARKER} of that "
                         f"command), so --overwrite does not touch it and nothing was deleted: choose another folder "
                         f"with {flag}, or move it away yourself")
    listed = set(data.get("outputs", [])) | {MARKER}
    foreign = sorted(n for n in names if n not in listed and (not in_place or n in planned))
    if foreign:
        raise LUnetError(f"output {target} holds {', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}, which "
                         f"nnunet-lunet {command} did not write there: nothing was deleted; move them away or choose "
                         f"another folder with {flag}")


# -- whole folders -------------------------------------------------------------------------------------------------
class OutputCompleted(KeyboardInterrupt):
    """An interrupt that came once the new output was in place: ``target`` is complete (the CLI says so instead of
    ``interrupted``)."""

    def __init__(self, target: str):
        super().__init__(target)
        self.target = target


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
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)  # a held SIGINT raises KeyboardInterrupt here


def _own_siblings(target: str, kind: str, command: str) -> List[str]:
    """The folders ``.<name>.<kind>-<token>`` beside ``target`` that ``command`` made: real folders whose marker is of
    that command and records that very token. A name that merely looks like the package's is never trusted."""
    parent, name = os.path.split(os.path.abspath(target))
    prefix = f".{name}.{kind}-"
    if not os.path.isdir(parent):
        return []
    found = []
    for entry in sorted(os.listdir(parent)):
        path = os.path.join(parent, entry)
        if not entry.startswith(prefix) or os.path.islink(path) or not os.path.isdir(path):
            continue
        data = _marker_or_none(path)
        if owned_by(data, command) and data.get("token") == entry[len(prefix):]:
            found.append(path)
    return found


def _remove_recorded(folder: str, keep_folder: bool = False) -> None:
    """Remove the names the folder's marker lists, then the marker, then (unless ``keep_folder``) the folder if
    nothing else is left in it."""
    data = _marker_or_none(folder)
    for name in (data or {}).get("outputs", []):
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)
    if data is not None:
        os.remove(os.path.join(folder, MARKER))
    if not keep_folder:
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def recover(target: str, command: str) -> None:
    """Tidy what an interrupted replacement of ``command`` left beside ``target`` (only its own folders,
    ``_own_siblings``): an old folder moved aside goes back when the target is missing (a kill between the renames),
    else its recorded names are removed; unfinished staging folders are removed."""
    old = _own_siblings(target, _OLD, command)
    if old and not os.path.lexists(os.path.abspath(target)):
        newest = max(old, key=os.path.getmtime)
        os.rename(newest, os.path.abspath(target))
        old.remove(newest)
    for path in old:
        _remove_recorded(path)
    for path in _own_siblings(target, _PARTIAL, command):
        shutil.rmtree(path, ignore_errors=True)


def new_staging_folder(target: str, command: str) -> str:
    """``.<name>.partial-<token>`` beside ``target``, holding an unfinished marker that records the token."""
    parent, name = os.path.split(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    token = new_token()
    staging = os.path.join(parent, f".{name}.{_PARTIAL}-{token}")
    os.mkdir(staging)
    try:
        write_marker(staging, command, complete=False, outputs=[], token=token)
    except BaseException:  # an interrupt too: a staging folder without its marker would never be recognised as ours
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def finish_staging(staging: str, command: str) -> None:
    """Mark a filled staging folder complete: its marker records every name in it and keeps its token."""
    token = read_marker(staging)["token"]
    write_marker(staging, command, complete=True, outputs=[n for n in os.listdir(staging) if n != MARKER], token=token)


def _backup_name(target: str) -> Optional[str]:
    """Where the old ``target`` goes aside: ``.<name>.old-<its token>`` (a marker written before tokens existed gets
    one first); None for a folder without a marker (``check_replaceable`` let it through: it is empty, and the
    rename of the new folder replaces it, or fails if anything came into it)."""
    parent, name = os.path.split(target)
    data = read_marker(target)
    if data is None:
        return None
    token = data.get("token")
    if token is None:
        token = new_token()
        write_json(os.path.join(target, MARKER), dict(data, token=token))
    aside = os.path.join(parent, f".{name}.{_OLD}-{token}")
    if os.path.lexists(aside):
        raise LUnetError(f"{aside} already exists, so {target} cannot be moved aside: nothing was deleted; move it "
                         f"away")
    return aside


def replace_folder(staging: str, target: str) -> None:
    """Put ``staging`` at ``target``: old one aside, new one in, old one's recorded names removed (module rules).
    An interrupt in that time waits until the end and is then raised as ``OutputCompleted``."""
    target = os.path.abspath(target)
    aside = _backup_name(target) if os.path.isdir(target) else None
    done = False
    try:
        with _signals_held():
            if aside is not None:
                os.rename(target, aside)
            os.rename(staging, target)
            fsync_folder(os.path.dirname(target))
            done = True
            if aside is not None:
                _remove_recorded(aside)
    except KeyboardInterrupt:
        if done:
            raise OutputCompleted(target) from None
        raise


@contextlib.contextmanager
def staged_folder(target: str, command: str, overwrite: bool, flag: str = "-o") -> Iterator[str]:
    """A staging folder to fill; when the block ends without error it gets the marker and replaces ``target``.

    Checked first (``check_replaceable``) and again just before the replacement; on any error or interrupt the
    staging folder is removed and ``target`` is untouched."""
    refuse_link(target, flag)
    recover(target, command)
    check_replaceable(target, command, overwrite, flag)
    staging = None
    try:
        staging = new_staging_folder(target, command)
        yield staging
        finish_staging(staging, command)
        check_replaceable(target, command, overwrite, flag)  # the target may have changed while the block ran
        replace_folder(staging, target)  # once it is renamed, nothing is left at the staging path to remove
        staging = None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


# -- folders filled in place -----------------------------------------------------------------------------------------
def remove_listed_outputs(folder: str, command: str) -> None:
    """Remove the exact names the marker of ``command``'s earlier run lists, nothing else, and the marker itself."""
    if owned_by(read_marker(folder), command):
        _remove_recorded(folder, keep_folder=True)


def start_in_place(folder: str, command: str, overwrite: bool, outputs: List[str], flag: str = "-o") -> None:
    """Check ``folder`` (kept names allowed, unless this run would write over them), remove the earlier run's
    outputs, mark it unfinished with the exact names this run may write."""
    check_replaceable(folder, command, overwrite, flag, in_place=True, planned=outputs)
    os.makedirs(folder, exist_ok=True)
    remove_listed_outputs(folder, command)
    write_json(os.path.join(folder, MARKER), marker(command, False, outputs))


def finish_in_place(folder: str, command: str, outputs: List[str]) -> None:
    """Mark ``folder`` complete, listing the names of ``outputs`` the run wrote."""
    written = [n for n in outputs if os.path.lexists(os.path.join(folder, n))]
    write_json(os.path.join(folder, MARKER), marker(command, True, written))
