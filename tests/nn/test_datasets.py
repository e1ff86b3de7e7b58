"""Data sets: shapes, ranges, fixed splits, IDX parsing, text windows and synthetic tasks."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from accelsim.errors import DatasetError
from accelsim.nn import datasets, text


def test_digits_are_upsampled_to_32x32_in_unit_range():
    x, y = datasets.load("digits", split="all")
    assert x.shape == (1797, 1, 32, 32) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == pytest.approx(1.0)
    assert y.shape == (1797,) and set(np.unique(y)) == set(range(10))


def test_digits_split_is_fixed_stratified_and_disjoint():
    xtr, _ = datasets.load("digits", split="train")
    xte, yte = datasets.load("digits", split="test")
    assert len(xtr) + len(xte) == 1797 and len(xte) == 359
    counts = np.bincount(yte)
    assert counts.min() >= 35 and counts.max() <= 37  # 20% of each class
    again = datasets.load("digits", split="test")[0]
    np.testing.assert_array_equal(xte, again)
    train_rows = {row.tobytes() for row in xtr.reshape(len(xtr), -1)}
    overlap = sum(row.tobytes() in train_rows for row in xte.reshape(len(xte), -1))
    assert overlap <= 3  # the raw data set holds a few duplicate images, nothing more


def test_bilinear_upsampling_preserves_constants_and_mean():
    up = datasets.upsample_matrix(8, 32)
    np.testing.assert_allclose(up.sum(axis=1), 1.0)
    image = np.random.default_rng(0).random((8, 8))
    big = up @ image @ up.T
    assert big.mean() == pytest.approx(image.mean(), rel=0.02)


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d)
                                                      for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_idx_files_and_pads_to_32(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28))
    suffix = ".gz" if compress else ""
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{suffix}", images, compress)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{suffix}", np.array([7, 2, 1]), compress)
    x, y = datasets.load("mnist", split="test", path=tmp_path)
    assert x.shape == (3, 1, 32, 32) and list(y) == [7, 2, 1]
    np.testing.assert_allclose(x[:, 0, 2:30, 2:30], images / 255, rtol=1e-6)
    assert x[:, :, :2].max() == 0 and x[:, :, :, 30:].max() == 0


def test_mnist_errors_are_clear(tmp_path):
    with pytest.raises(DatasetError, match="needs path=DIR"):
        datasets.load("mnist")
    with pytest.raises(DatasetError, match="no train-images-idx3-ubyte"):
        datasets.load("mnist", path=tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00\x00\x00\x05")
    with pytest.raises(DatasetError, match="truncated or corrupt"):
        datasets.read_idx(tmp_path / "train-images-idx3-ubyte")
    (tmp_path / "bad").write_bytes(b"PK\x03\x04")
    with pytest.raises(DatasetError, match="bad magic"):
        datasets.read_idx(tmp_path / "bad")


def test_text_vocabulary_round_trips():
    sample = "Beautiful is better than ugly.\n"
    assert text.decode(text.encode(sample)) == sample
    assert text.decode(text.encode("café")) == "caf?"
    assert text.VOCAB_SIZE == 96


def test_zen_of_python_comes_from_the_this_module():
    zen = text.zen_of_python()
    assert zen.startswith("The Zen of Python, by Tim Peters")
    assert "Flat is better than nested." in zen


def test_text_windows_predict_the_next_character():
    x, y = datasets.load("stdlib-docs", split="train", seq_len=16)
    assert x.shape[1:] == (16, 96) and y.shape == x.shape[:2]
    ids = x.argmax(axis=-1)
    np.testing.assert_array_equal(ids[:, 1:], y[:, :-1])


def test_text_splits_are_disjoint_and_cover_the_corpus():
    total = len(text.stdlib_docstrings())
    pieces = {s: datasets.text_split(text.encode(text.stdlib_docstrings()), s)
              for s in ("train", "test")}
    sizes = {s: sum(len(p) for p in ps) for s, ps in pieces.items()}
    assert sizes["train"] + sizes["test"] == total
    assert 0.09 < sizes["test"] / total < 0.11
    with pytest.raises(DatasetError, match="seq_len"):
        datasets.load("zen", split="test", seq_len=10_000)


def test_recall_task_structure():
    x, y = datasets.load("recall", split="test", n=50, gap=7, seed=3)
    assert x.shape == (50, 9, 22) and y.shape == (50,)
    tokens = x.argmax(axis=-1)
    np.testing.assert_array_equal(tokens[:, 0], y)  # the key opens the sequence
    assert np.all(tokens[:, -1] == 21)  # the query closes it
    assert np.all((tokens[:, 1:-1] >= 5) & (tokens[:, 1:-1] < 21))  # fillers only between
    story = datasets.recall_story(x[0])
    assert story.split()[0] in datasets.RECALL_KEYS and story.endswith("so-I-speak")
    train = datasets.load("recall", split="train", n=50, gap=7, seed=3)[0]
    assert not np.array_equal(train, x)


def test_hello_is_hell_to_ello():
    x, y = datasets.load("hello")
    assert x.shape == (1, 4, 4)
    assert "".join(datasets.HELLO_VOCAB[i] for i in x[0].argmax(-1)) == "hell"
    assert "".join(datasets.HELLO_VOCAB[i] for i in y[0]) == "ello"


def test_unknown_names_and_options_are_errors():
    with pytest.raises(DatasetError, match="unknown data set 'cifar'"):
        datasets.load("cifar")
    with pytest.raises(DatasetError, match="unknown split 'val'"):
        datasets.load("digits", split="val")
    for name in ("recall", "zen", "hello", "digits"):
        with pytest.raises(DatasetError, match="bad option"):
            datasets.load(name, colour="red")


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d)
                                                      for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


GOOD_IMAGES = _idx_bytes(np.zeros((2, 28, 28)))


@pytest.mark.parametrize(("name", "content", "message"), [
    ("raw", b"", "the file is empty"),
    ("raw", b"\x00\x00\x08", "bad magic number 000008"),
    ("raw", b"\x00\x00\x0d\x03" + GOOD_IMAGES[4:], "bad magic number 00000d03"),
    ("raw", b"\x1f\x8b\x08\x00garbage", "not a valid gzip file"),  # gzip by its magic bytes
    ("raw", GOOD_IMAGES[:10], "the header of 3 dimensions needs 16 bytes but the file has 10"),
    ("raw", GOOD_IMAGES[:-1], r"header says \[2, 28, 28\] \(1,568 bytes\) but 1,567 bytes"),
    ("raw", GOOD_IMAGES + b"\x00", "1,569 bytes follow"),
    ("gz", b"", "the file is empty"),
    ("gz", b"not gzip at all", "not a valid gzip file"),
    ("gz", gzip.compress(GOOD_IMAGES)[:-12], "not a valid gzip file"),
])
def test_broken_idx_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if name == "gz" else ""))
    path.write_bytes(content)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(np.array([1, 2])))
    with pytest.raises(DatasetError, match=rf"t10k-images-idx3-ubyte(\.gz)?: .*{message}"):
        datasets.load("mnist", split="test", path=tmp_path)


def test_mnist_labels_and_images_must_agree(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(GOOD_IMAGES)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(np.array([1, 12])))
    with pytest.raises(DatasetError, match="t10k labels hold 12 at index 1; MNIST labels are"):
        datasets.load("mnist", split="test", path=tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(np.array([1, 2, 3])))
    with pytest.raises(DatasetError, match=r"images \(2, 28, 28\) and labels \(3,\) do not"):
        datasets.load("mnist", split="test", path=tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(np.zeros((3, 20, 20))))
    with pytest.raises(DatasetError, match=r"MNIST has N images of 28×28"):
        datasets.load("mnist", split="test", path=tmp_path)


def test_synthetic_and_text_options_are_checked():
    with pytest.raises(DatasetError, match=r"recall with n=1,000,000,000,000, gap=50 would "
                                           r"need .* bytes"):
        datasets.load("recall", n=10**12)
    for option, value in (("n", 0), ("gap", -1), ("n", 2.5), ("seed", -3)):
        with pytest.raises(DatasetError, match=rf"recall needs {option} to be an integer"):
            datasets.load("recall", **{option: value})
    with pytest.raises(DatasetError, match="unknown split 'valid'"):
        datasets.recall_task("valid")
    with pytest.raises(DatasetError, match="unknown split 'valid'"):
        datasets.text_windows("abc" * 100, "valid", 4)


@pytest.mark.parametrize(("raw", "name", "message"), [
    ("café".encode("latin-1"), "notes.txt", r"notes\.txt: not UTF-8 text \(byte 0xe9 at "
                                            r"offset 3\)"),
    (b"", "notes.txt", r"notes\.txt: the text is empty"),
    (b"\x1f\x8b\x08broken", "corpus.txt.gz", r"corpus\.txt\.gz: not a valid gzip file"),
    (gzip.compress("é".encode("latin-1")), "corpus.txt.gz", "not UTF-8 text"),
])
def test_text_files_that_are_not_utf8_or_not_gzip_name_the_file(tmp_path, raw, name, message):
    path = tmp_path / name
    path.write_bytes(raw)
    with pytest.raises(DatasetError, match=message):
        text.read_text_file(path)
    with pytest.raises(DatasetError, match=r"missing\.txt: cannot read the file"):
        text.read_text_file(tmp_path / "missing.txt")
    assert text.decode_text(gzip.compress(b"hi\n"), "a.txt.gz") == "hi\n"


def test_digits_read_from_the_file_equal_scikit_learns_loader():
    from sklearn.datasets import load_digits as sklearn_digits

    from accelsim.nn.datasets import digits_8x8

    images, labels = digits_8x8()
    bunch = sklearn_digits()
    assert np.array_equal(images, bunch.images) and np.array_equal(labels, bunch.target)
