"""Files in and out: text read as UTF-8 with errors that name the file, and atomic writes (a
temporary file in the target's folder, flushed, then renamed over it).

An interrupted or failing write leaves the previous file as it was and no temporary file
behind; readers never see half a file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from accelsim.errors import AccelsimError, OutputError


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
