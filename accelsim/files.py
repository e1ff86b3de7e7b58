"""Files in and out: text read as UTF-8 with errors that name the file, atomic writes (a
temporary file in the target's folder, flushed, then renamed over it) and whole folders
replaced at once (a report's or a sweep's: written beside the old one, then swapped in).

An interrupted or failing write leaves the previous file or folder as it was and nothing
temporary behind; readers never see half a file or half a report.

A folder accelsim writes whole holds a marker, `.accelsim-report`: JSON naming the accelsim
version and the files it wrote. Only such a folder (with no file beyond those it lists), an
empty one, or an earlier report written before the marker existed (`check_out_dir`'s
`legacy`) is ever replaced; a folder holding the user's own files is refused, whatever their
names. A symlinked output folder is followed: the folder it points to is written, the link
stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from accelsim.errors import AccelsimError, OutputError
from accelsim.version import VERSION

FIX = "choose another report folder"
MARKER = ".accelsim-report"


def utf8_text(raw: bytes, path: Path | str, error: type[AccelsimError], what: str,
              empty: str, kind: str = "UTF-8 text") -> str:
    """`raw` decoded as UTF-8; a bad byte or an empty text is `error`, naming `path`, the
    byte and its offset ("not {kind}"; `what` is the fix, `empty` why empty is wrong)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{path}: not {kind} (byte {raw[err.start]:#04x} at offset "
                    f"{err.start}); {what}") from None
    if not text.strip():
        raise error(f"{path}: {empty}")
    return text


def ensure_folder(folder: Path, fix: str = "choose another --out-dir") -> Path:
    """Create `folder` (and its parents) if needed; errors name the folder and end in `fix`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"output folder {folder} is a file, not a folder; {fix}") from None
    except OSError as err:
        raise OutputError(f"cannot create output folder {folder}: {err.strerror or err}; "
                          f"{fix}") from None
    return folder


def _new_temporary(path: Path) -> Path:
    """An empty, new file beside `path`; created as open() would (the umask applies)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp{path.suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
        except OSError as err:
            raise OutputError(f"cannot write in {path.parent}: {err.strerror or err}; choose "
                              "another --out-dir") from None
    raise OutputError(f"cannot create a temporary file in {path.parent}")


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp) for a temporary path beside `path`, then rename it over `path`."""
    ensure_folder(path.parent)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    tmp = _new_temporary(path)
    try:
        write(tmp)
        if path.exists():  # keep the permissions of the file replaced
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        with tmp.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(tmp, path)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}; the previous file "
                          "(if any) is unchanged") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text_atomically(path: Path, text: str) -> None:
    """Write UTF-8 text to `path` atomically."""
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _holds_current_folder(out: Path) -> bool:
    try:
        return Path.cwd().resolve().is_relative_to(out.resolve())
    except OSError:  # the current folder was removed
        return False


def marker_text(names: Iterable[str]) -> str:
    """The marker's text: the accelsim version and the files the folder holds."""
    return json.dumps({"accelsim": VERSION, "files": sorted(set(names) - {MARKER})},
                      indent=1) + "\n"


def marked_files(folder: Path) -> frozenset[str] | None:
    """The files `folder`'s marker lists, or None when it has no readable marker (absent,
    not a plain file, not the JSON accelsim writes)."""
    marker = folder / MARKER
    try:
        if marker.is_symlink() or not marker.is_file():
            return None
        data = json.loads(marker.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if (not isinstance(data, dict) or not isinstance(data.get("accelsim"), str)
            or not isinstance(files, list) or not all(isinstance(f, str) for f in files)):
        return None
    return frozenset(files)


def mark_folder(folder: Path, names: Iterable[str]) -> None:
    """Write (atomically) `folder`'s marker listing `names` and those it listed already (a
    folder `check_out_dir` accepted without a marker: every file in it)."""
    listed = marked_files(folder)
    if listed is None:
        listed = frozenset(p.name for p in folder.iterdir() if p.is_file())
    write_text_atomically(folder / MARKER, marker_text({*listed, *names}))


def _foreign(out: Path, entries: list[Path], legacy: Callable[[Path], bool]) -> list[str]:
    """The names in `out` that stop a report replacing it ([] when it may)."""
    listed = marked_files(out)
    if listed is None:
        return [] if legacy(out) else sorted(p.name for p in entries)
    return sorted(p.name for p in entries if p.name != MARKER and (
        p.name not in listed or p.is_symlink() or not p.is_file()))


def check_out_dir(out_dir: str | os.PathLike[str], legacy: Callable[[Path], bool]) -> Path:
    """Where a report may go (absolute; a symlink followed to its folder): a new folder, an
    empty one, or one accelsim wrote, which the new one replaces whole (`write_folder`). A
    folder accelsim wrote holds the marker and no file beyond those it lists, or, written
    before the marker existed, passes `legacy`. Anything else is an OutputError, raised before
    any work: a file, the current folder, a folder holding the user's files."""
    out = Path(os.path.realpath(out_dir))
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir():
        raise OutputError(f"{existing} is a file, not a folder; {FIX}")
    if existing != out:
        return out
    if _holds_current_folder(out):
        raise OutputError(f"{out} is the current folder (or holds it), which the report "
                          f"would replace; {FIX}")
    try:
        entries = list(out.iterdir())
        foreign = _foreign(out, entries, legacy) if entries else []
    except OSError as err:
        raise OutputError(f"cannot read {out}: {err.strerror or err}; {FIX}") from None
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        shown = ", ".join(foreign[:3]) + more
        raise OutputError(f"{out} holds files that are not part of an accelsim report "
                          f"({shown}) and accelsim replaces its folders whole (it writes "
                          f"{MARKER} in each), so {FIX}: a new or empty one, or move "
                          "those files away")
    return out


def _new_folder(out: Path, tag: str) -> Path:
    """A new, empty folder beside `out` (the umask applies, as to any folder)."""
    for _ in range(100):
        folder = out.with_name(f".{out.name}.{secrets.token_hex(6)}.{tag}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
        except OSError as err:
            raise OutputError(f"cannot write in {out.parent}: {err.strerror or err}; "
                              f"{FIX}") from None
    raise OutputError(f"cannot create a temporary folder in {out.parent}")


def _swap_in(new: Path, out: Path) -> None:
    """Put the complete `new` folder at `out`, replacing (then removing) an existing one."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.{secrets.token_hex(6)}.old")
        os.replace(out, old)
    try:
        os.replace(new, out)
    except OSError:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_folder(out: Path, fill: Callable[[Path], object]) -> None:
    """Make `out` (checked by `check_out_dir`) hold exactly what `fill(folder)` writes into a
    new folder beside it, atomically: the new folder replaces `out` whole only once `fill`
    has returned; on any failure `out` is as it was and no temporary folder is left. The
    new folder holds the marker, listing what `fill` wrote."""
    out = Path(os.path.realpath(out))  # a link to the folder stays a link
    ensure_folder(out.parent.resolve(), FIX)
    folder = _new_folder(out, "tmp")
    try:
        fill(folder)
        (folder / MARKER).write_text(marker_text(p.name for p in folder.iterdir()), "utf-8")
        _swap_in(folder, out)
    except OSError as err:
        raise OutputError(f"cannot write the report to {out}: {err.strerror or err}; the "
                          "previous report (if any) is unchanged") from None
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
