"""Data sets, all offline: handwritten digits, MNIST from local IDX files, text, synthetic tasks.

`load(name, split=..., **options)` returns (inputs, targets) as numpy arrays:

- "digits": scikit-learn's bundled 1,797 8×8 digits, bilinearly upsampled to 1×32×32 in
  [0, 1]; a fixed stratified split (20% of each class held out as "test").
- "mnist": standard IDX files (raw or .gz) from `path=DIR`, padded 28×28 → 32×32.
- "zen", "stdlib-docs": next-character windows (N, T, 96) one-hot → (N, T) indices; every
  10th block of 4,096 characters is the "test" split (the last tenth for short texts).
- "recall": the book's "I was born in Shanghai … so I speak ___" as a synthetic memory task.
- "hello": the book's char RNN example, "hell" → "ello".
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO, Protocol, cast

import numpy as np

from accelsim.errors import DatasetError
from accelsim.nn import text

SPLITS = ("train", "test", "all")
DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 1797
TEXT_BLOCK = 4096
TEXT_HOLD_OUT_EVERY = 10
RECALL_KEYS = ("Shanghai", "Paris", "Madrid", "Berlin", "Tokyo")
RECALL_ANSWERS = ("Chinese", "French", "Spanish", "German", "Japanese")
RECALL_FILLERS = ("I", "was", "born", "in", "grew", "up", "there", "and", "later", "moved",
                  "away", "for", "work", "many", "years", "ago")
RECALL_QUERY = "so-I-speak"
RECALL_TOKENS = (*RECALL_KEYS, *RECALL_FILLERS, RECALL_QUERY)
HELLO_VOCAB = "helo"
DATA_LIMIT_BYTES = 2 * 2**30  # largest synthetic data set generated
MAX_IDX_BYTES = 2**30  # largest IDX body read (MNIST's training images: 47 MB)
EXTRA_BYTES_COUNTED = 2**20  # bytes beyond an IDX body counted for the message


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")


def upsample_matrix(size_in: int, size_out: int) -> np.ndarray:
    """Bilinear interpolation weights (size_out × size_in), pixel centres aligned."""
    centres = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
    centres = np.clip(centres, 0, size_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, size_in - 1)
    frac = centres - low
    weights = np.zeros((size_out, size_in))
    weights[np.arange(size_out), low] += 1 - frac
    weights[np.arange(size_out), high] += frac
    return weights


def stratified_test_mask(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """True for a fixed, class-balanced random `fraction` of each class."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    for cls in np.unique(labels):
        idx = np.flatnonzero(labels == cls)
        chosen = rng.permutation(idx)[: round(fraction * len(idx))]
        mask[chosen] = True
    return mask


def _select(x: np.ndarray, y: np.ndarray, test_mask: np.ndarray, split: str):
    if split == "all":
        return x, y
    keep = test_mask if split == "test" else ~test_mask
    return x[keep], y[keep]


def digits_8x8() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits (images 0–16, labels), read from the data file it
    ships (sklearn/datasets/data/digits.csv.gz: 64 pixels and the label per row) as
    `sklearn.datasets.load_digits` reads it, without importing scikit-learn (which takes
    about 2 s); through scikit-learn where the file is not found."""
    spec = importlib.util.find_spec("sklearn")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    for root in roots:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            data = np.loadtxt(path, delimiter=",")
            return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    return bunch.images, bunch.target.astype(np.int64)


def load_digits(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 digits as (N, 1, 32, 32) float32 in [0, 1] and int64 labels."""
    images8, y = digits_8x8()
    up = upsample_matrix(8, 32)
    images = np.einsum("ij,njk,lk->nil", up, images8 / 16.0, up)
    x = images[:, None].astype(np.float32)
    return _select(x, y, stratified_test_mask(y, DIGITS_TEST_FRACTION, DIGITS_SPLIT_SEED), split)


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (ubyte data), raw or gzipped, as a numpy array.

    The header is read first and the body only up to the size it declares (at most
    `MAX_IDX_BYTES`), so a gzip that would expand beyond it is never decompressed whole.
    Every failure (unreadable, empty, bad gzip, wrong magic, too large, truncated, longer
    than its header says) names the file.
    """
    try:
        with _open_maybe_gzip(path) as file:
            head = file.read(4)
            if not head:
                raise DatasetError(f"{path}: the file is empty; download MNIST's IDX files "
                                   "again")
            dims = _idx_dims(path, head, file.read(4 * head[3]) if len(head) == 4 else b"")
            size = math.prod(dims)
            raw = file.read(size)
            follow = len(raw) + _count_rest(file)
    except (OSError, EOFError, zlib.error) as err:
        raise DatasetError(f"{path}: not a valid gzip file ({err or type(err).__name__}); "
                           "it is empty, truncated or corrupt: download it again") from None
    if follow != size:
        shown = (f"{follow:,}" if follow <= size + EXTRA_BYTES_COUNTED
                 else f"more than {size + EXTRA_BYTES_COUNTED:,}")
        raise DatasetError(f"{path}: header says {dims} ({size:,} bytes) but {shown} bytes "
                           "follow; the file is truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8).reshape(dims)


def _count_rest(file: BinaryIO) -> int:
    """How many bytes are left in `file`, counted up to just over `EXTRA_BYTES_COUNTED`."""
    count = 0
    while count <= EXTRA_BYTES_COUNTED and (chunk := file.read(2**16)):
        count += len(chunk)
    return count


def _idx_dims(path: Path, magic: bytes, sizes: bytes) -> list[int]:
    """The dimensions an IDX header declares, checked: unsigned bytes, every dimension
    given, at most `MAX_IDX_BYTES` in all."""
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] != 0x08 or magic[3] == 0:
        raise DatasetError(f"{path}: not an unsigned-byte IDX file (bad magic number "
                           f"{magic[:4].hex()}, expected 00000801 for labels or 00000803 for "
                           "images); download MNIST's IDX files again")
    ndim, header = magic[3], 4 + 4 * magic[3]
    if len(sizes) < 4 * ndim:
        raise DatasetError(f"{path}: the header of {ndim} dimensions needs {header} bytes but "
                           f"the file has {4 + len(sizes)}; the file is truncated or corrupt")
    dims = [int.from_bytes(sizes[4 * i: 4 * i + 4], "big") for i in range(ndim)]
    if math.prod(dims) > MAX_IDX_BYTES:
        raise DatasetError(f"{path}: header says {dims} ({math.prod(dims):,} bytes); at most "
                           f"{MAX_IDX_BYTES:,} are read (MNIST's largest file holds 47 MB): "
                           "the file is corrupt or not MNIST")
    return dims


def _open_maybe_gzip(path: Path) -> BinaryIO:
    """The file open for reading, decompressed as read when it is gzip (by name or by its
    magic bytes)."""
    try:
        with path.open("rb") as file:
            gz = path.suffix == ".gz" or file.read(2) == b"\x1f\x8b"
        return cast(BinaryIO, gzip.open(path, "rb")) if gz else path.open("rb")
    except OSError as err:
        raise DatasetError(f"{path}: cannot read the file: {err.strerror or err}") from None


def _find_idx(folder: Path, stem: str) -> Path:
    for name in (stem, f"{stem}.gz", stem.replace("-idx", ".idx"),
                 f"{stem.replace('-idx', '.idx')}.gz"):
        if (folder / name).is_file():
            return folder / name
    raise DatasetError(f"{folder}: no {stem} or {stem}.gz; download MNIST's IDX files there")


def load_mnist(split: str = "train", path: str | Path | None = None):
    """MNIST from local IDX files, padded to (N, 1, 32, 32) float32 in [0, 1]."""
    if path is None:
        raise DatasetError("mnist needs path=DIR, a folder with MNIST's IDX files "
                           "(nothing is downloaded)")
    folder = Path(path).expanduser()
    try:
        is_folder = folder.is_dir()
    except (OSError, ValueError):
        is_folder = False
    if not is_folder:
        raise DatasetError(f"mnist path {str(folder)!r} is not a folder")
    _check_split(split)
    parts = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[split]
    xs, ys = [], []
    for prefix in parts:
        images = read_idx(_find_idx(folder, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(_find_idx(folder, f"{prefix}-labels-idx1-ubyte"))
        if (images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1
                or len(images) != len(labels) or not len(labels)):
            raise DatasetError(f"{folder}: {prefix} images {images.shape} and labels "
                               f"{labels.shape} do not match; MNIST has N images of 28×28 "
                               "and N labels (N > 0)")
        if labels.max() > 9:
            raise DatasetError(f"{folder}: {prefix} labels hold {int(labels.max())} at index "
                               f"{int(labels.argmax())}; MNIST labels are digits 0 to 9")
        xs.append(np.pad(images, ((0, 0), (2, 2), (2, 2)))[:, None] / np.float32(255))
        ys.append(labels.astype(np.int64))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def text_split(ids: np.ndarray, split: str) -> list[np.ndarray]:
    """Contiguous pieces of the text for a split: every 10th block of TEXT_BLOCK characters
    is held out for "test", so both splits cover every part of the corpus."""
    if split == "all":
        return [ids]
    blocks = [ids[i : i + TEXT_BLOCK] for i in range(0, len(ids), TEXT_BLOCK)]
    held_out = [b % TEXT_HOLD_OUT_EVERY == TEXT_HOLD_OUT_EVERY - 1 for b in range(len(blocks))]
    if len(blocks) < TEXT_HOLD_OUT_EVERY:  # short texts: the last tenth is the test split
        cut = int(len(ids) * (1 - 1 / TEXT_HOLD_OUT_EVERY))
        return [ids[cut:]] if split == "test" else [ids[:cut]]
    return [b for b, out in zip(blocks, held_out, strict=True) if out == (split == "test")]


def _windows(ids: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    count = (len(ids) - 1) // seq_len
    inputs = ids[: count * seq_len].reshape(count, seq_len)
    targets = ids[1 : count * seq_len + 1].reshape(count, seq_len)
    return inputs, targets


def text_windows(corpus: str, split: str, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows: inputs one-hot (N, T, 96), targets the next characters (N, T)."""
    _check_split(split)
    if isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1:
        raise DatasetError(f"seq_len = {seq_len!r} must be a positive integer")
    pairs = [_windows(piece, seq_len) for piece in text_split(text.encode(corpus), split)]
    inputs = np.concatenate([p[0] for p in pairs])
    if len(inputs) < 1:
        raise DatasetError(f"the {split!r} text is shorter than seq_len + 1 = {seq_len + 1} "
                           "characters; use a shorter seq_len")
    return text.one_hot(inputs), np.concatenate([p[1] for p in pairs])


def recall_task(split: str = "train", n: int = 4096, gap: int = 50,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Key (a city) · `gap` random filler words · query → predict the key's answer (language).

    Inputs (n, gap + 2, 22) one-hot over RECALL_TOKENS; targets (n,) indices into
    RECALL_ANSWERS. Train and test draw from different seeds.
    """
    _check_split(split)
    for key, value, low in (("n", n, 1), ("gap", gap, 0), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise DatasetError(f"recall needs {key} to be an integer >= {low}, got "
                               f"{key}={value!r}")
    size_bytes = 4 * n * (gap + 2) * len(RECALL_TOKENS)
    if size_bytes > DATA_LIMIT_BYTES:
        raise DatasetError(f"recall with n={n:,}, gap={gap:,} would need {size_bytes:,} bytes "
                           f"of one-hot inputs, over the {DATA_LIMIT_BYTES:,}-byte limit; "
                           "use a smaller n or gap")
    rng = np.random.default_rng([seed, {"train": 0, "test": 1, "all": 2}[split]])
    keys = rng.integers(0, len(RECALL_KEYS), size=n)
    fillers = rng.integers(0, len(RECALL_FILLERS), size=(n, gap)) + len(RECALL_KEYS)
    query = np.full((n, 1), len(RECALL_TOKENS) - 1)
    tokens = np.concatenate([keys[:, None], fillers, query], axis=1)
    return text.one_hot(tokens, len(RECALL_TOKENS)), keys.astype(np.int64)


def recall_story(x: np.ndarray) -> str:
    """One recall input (T, 22) back to words."""
    return " ".join(RECALL_TOKENS[i] for i in np.asarray(x).argmax(axis=-1))


def hello(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """The book's example: inputs h,e,l,l one-hot (1, 4, 4) → targets e,l,l,o."""
    _check_split(split)
    ids = {ch: i for i, ch in enumerate(HELLO_VOCAB)}
    inputs = np.array([[ids[c] for c in "hell"]])
    targets = np.array([[ids[c] for c in "ello"]], dtype=np.int64)
    return text.one_hot(inputs, len(HELLO_VOCAB)), targets


def load(name: str, split: str = "train", **options) -> tuple[np.ndarray, np.ndarray]:
    """Load a data set by name; see the module docstring for names and options."""
    _check_split(split)
    loaders = {
        "digits": lambda: load_digits(split, **options),
        "mnist": lambda: load_mnist(split, **options),
        "zen": lambda: text_windows(text.zen_of_python(), split, **{"seq_len": 32, **options}),
        "stdlib-docs": lambda: text_windows(text.stdlib_docstrings(), split,
                                            **{"seq_len": 64, **options}),
        "recall": lambda: recall_task(split, **options),
        "hello": lambda: hello(split, **options),
    }
    if name not in loaders:
        raise DatasetError(f"unknown data set {name!r}; available: {', '.join(loaders)}")
    try:
        return loaders[name]()
    except TypeError as err:
        raise DatasetError(f"data set {name!r} got a bad option: {err}") from None


def names() -> list[str]:
    return ["digits", "mnist", "zen", "stdlib-docs", "recall", "hello"]


class Trained(Protocol):
    """What `network_data` reads of a network: its name and its [training] table."""

    @property
    def name(self) -> str: ...

    @property
    def training(self) -> Mapping[str, object]: ...


def network_data(net: Trained, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split ('train' or 'test') of the data set a network was trained on (its
    [training] dataset and data options)."""
    config = dict(net.training or {})
    if "dataset" not in config:
        raise DatasetError(f"{net.name} names no data set ([training] dataset) to score "
                           "accuracy on; compare it without accuracy")
    options = config.get("data", {})
    return load(str(config["dataset"]), split=split,
                **(options if isinstance(options, dict) else {}))
