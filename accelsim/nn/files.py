"""Atomic file writes: a temporary file in the target's folder, flushed, then renamed over it.

An interrupted or failing write leaves the previous file as it was and no temporary file
behind; readers never see half a file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from accelsim.errors import OutputError

NEW_FILE_MODE = 0o644  # a new file: readable by all, as open() would make it (mkstemp: 0o600)


def ensure_folder(folder: Path) -> Path:
    """Create `folder` (and its parents) if needed; errors name the folder."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"output folder {folder} is a file, not a folder; choose another "
                          "--out-dir") from None
    except OSError as err:
        raise OutputError(f"cannot create output folder {folder}: {err.strerror or err}; "
                          "choose another --out-dir") from None
    return folder


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) for a temporary path beside `path`, then rename it over `path`."""
    ensure_folder(path.parent)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix,
                                        dir=path.parent)
    except OSError as err:
        raise OutputError(f"cannot write in {path.parent}: {err.strerror or err}; choose "
                          "another --out-dir") from None
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else NEW_FILE_MODE)
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
