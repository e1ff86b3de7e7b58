"""Text that ships with Python: the Zen of Python and a corpus of standard-library docstrings.

Characters map to a fixed 96-symbol vocabulary (newline plus printable ASCII 32–126; anything
else becomes '?'), so every character model has the same input width whatever the corpus.
The docstring corpus is drawn once by `build_stdlib_corpus()` and shipped gzipped as package
data, so training and held-out metrics do not change with the Python version installed.
Regenerate it with `python -m accelsim.nn.text`.
"""

from __future__ import annotations

import codecs
import gzip
import importlib
import importlib.resources
import importlib.util
import inspect
import re
import zlib
from pathlib import Path

import numpy as np

from accelsim.errors import DatasetError
from accelsim.files import utf8_text

VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))
VOCAB_SIZE = len(VOCAB)
_INDEX = {ch: i for i, ch in enumerate(VOCAB)}
_UNKNOWN = _INDEX["?"]
CORPUS_FILE = "stdlib_docstrings.txt.gz"
CORPUS_MODULES = (
    "abc", "argparse", "array", "ast", "asyncio", "base64", "bisect", "calendar", "cmath",
    "collections", "contextlib", "copy", "csv", "dataclasses", "datetime", "decimal", "difflib",
    "email", "enum", "fnmatch", "fractions", "functools", "glob", "gzip", "hashlib", "heapq",
    "html", "http.client", "inspect", "io", "ipaddress", "itertools", "json", "logging", "math",
    "operator", "os", "pathlib", "pickle", "pprint", "queue", "random", "re", "secrets",
    "shlex", "shutil", "socket", "statistics", "string", "struct", "subprocess", "tempfile",
    "textwrap", "threading", "time", "timeit", "tokenize", "typing", "unittest", "urllib.parse",
    "uuid", "warnings", "weakref", "zipfile", "zlib",
)


def encode(text: str) -> np.ndarray:
    """Characters → vocabulary indices (unknown characters become '?')."""
    return np.array([_INDEX.get(ch, _UNKNOWN) for ch in text], dtype=np.int64)


def decode(ids: np.ndarray) -> str:
    return "".join(VOCAB[int(i)] for i in np.asarray(ids).ravel())


def one_hot(ids: np.ndarray, size: int = VOCAB_SIZE) -> np.ndarray:
    """Indices of any shape → float32 one-hot vectors on a new last axis."""
    return np.eye(size, dtype=np.float32)[np.asarray(ids)]


def zen_of_python() -> str:
    """The Zen of Python, decoded from the `this` module's source without importing it."""
    spec = importlib.util.find_spec("this")
    if spec is None or not spec.origin:
        raise DatasetError("the 'zen' data set needs the standard library's `this` module, "
                           "which this Python lacks; use another data set")
    source = read_text_file(Path(spec.origin))
    match = re.search(r's = """(.*?)"""', source, re.S)
    if match is None:
        raise DatasetError(f"{spec.origin}: holds no Zen of Python text; use another data set")
    return codecs.decode(match.group(1), "rot13").strip() + "\n"


def read_text_file(path: Path) -> str:
    """A UTF-8 text file, gunzipped when its name ends in .gz; errors name the file."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DatasetError(f"{path}: cannot read the file: {err.strerror or err}") from None
    return decode_text(raw, path)


def decode_text(raw: bytes, path: Path | str) -> str:
    """Bytes of a text file (gzipped when its name ends in .gz) → str, naming the file."""
    if str(path).endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DatasetError(f"{path}: not a valid gzip file ({err or type(err).__name__}); "
                               "it is empty, truncated or corrupt") from None
    return utf8_text(raw, path, DatasetError, "save it as UTF-8", "the text is empty")


def _clean(doc: str) -> str:
    lines = [line.rstrip() for line in doc.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def _docstrings_of(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    docs = [inspect.getdoc(module) or ""]
    for attr in sorted(getattr(module, "__all__", None) or dir(module)):
        obj = getattr(module, attr, None)
        if attr.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", "").split(".")[0] == module_name.split(".")[0]:
            docs.append(inspect.getdoc(obj) or "")
    return [_clean(d) for d in docs if len(d) > 40]


def build_stdlib_corpus(max_chars: int = 600_000) -> str:
    """Module, class and function docstrings of CORPUS_MODULES, in a fixed order."""
    seen, parts, total = set(), [], 0
    for name in CORPUS_MODULES:
        for doc in _docstrings_of(name):
            if doc in seen or total > max_chars:
                continue
            seen.add(doc)
            parts.append(doc)
            total += len(doc) + 2
    return "\n\n".join(parts) + "\n"


def stdlib_docstrings() -> str:
    """The shipped docstring corpus."""
    resource = importlib.resources.files("accelsim.nn").joinpath("data", CORPUS_FILE)
    try:
        data = resource.read_bytes()
    except OSError as err:
        raise DatasetError(f"{resource}: cannot read the shipped corpus "
                           f"({err.strerror or err}); reinstall accelsim or regenerate it with "
                           "`python -m accelsim.nn.text`") from None
    return decode_text(data, str(resource))


def write_corpus(path: Path) -> int:
    """Regenerate the shipped corpus file; returns its length in characters."""
    text = build_stdlib_corpus()
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return len(text)


if __name__ == "__main__":
    target = Path(__file__).parent / "data" / CORPUS_FILE
    print(f"wrote {write_corpus(target):,} characters to {target}")
