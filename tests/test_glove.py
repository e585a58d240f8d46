"""Tests of utils/glove.py: reading for a vocabulary, errors, the float32 text writer, and the
real glove.6B.50d.txt (fixture ``glove_path``)."""
import os

import numpy as np
import pytest

from utils.glove import format_float32, loadWordVectors, write_word_vectors

SMALL = ("the 0.418 0.24968 -0.41242\n"
         "film 1 -2 3.5\n"
         "café 0.001 1e-05 -0\n"
         "unused 9 9 9\n")


def _text(values):
    fields = format_float32(np.asarray(values, dtype=np.float32))
    return [row[row != 0].tobytes().decode()[1:] for row in fields]


@pytest.fixture
def small_glove(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_load_keeps_vocabulary_rows_and_zeros_for_missing(small_glove):
    tokens = {"film": 0, "missing": 1, "the": 2, "café": 3}
    vectors = loadWordVectors(tokens, small_glove, dimensions=3)
    assert vectors.shape == (4, 3) and vectors.dtype == np.float64
    assert np.array_equal(vectors, [[1, -2, 3.5], [0, 0, 0], [0.418, 0.24968, -0.41242],
                                    [0.001, 1e-05, 0]])


def test_load_empty_vocabulary(small_glove):
    assert loadWordVectors({}, small_glove, dimensions=3).shape == (0, 3)


def test_wrong_float_count_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("the 1 2 3\nfilm 1 2\n")
    with pytest.raises(ValueError, match=rf"{path}:2: expected a word and 3 numbers.*got 3 fields"):
        loadWordVectors({"the": 0}, path, dimensions=3)


def test_bad_number_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("the 1 2 3\nfilm 1 x 3\n")
    with pytest.raises(ValueError, match=rf"{path}:2: not a number"):
        loadWordVectors({"film": 0}, path, dimensions=3)


def test_missing_file_names_fetch_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.txt.*bash get_datasets\.sh"):
        loadWordVectors({"the": 0}, tmp_path / "nope.txt")


def test_format_float32_by_hand():
    values = [0.418, -0.00066023, 1.6441e-08, 1.0, -2.0, 0.0, -0.0, 2.5e6, 1e-4, 123456.0,
              999999.9, 4.0071, 1e-45, 3.4028235e38, 0.1]
    assert _text(values) == ["0.418", "-0.00066023", "1.6441e-08", "1", "-2", "0", "-0",
                             "2.5e+06", "0.0001", "123456", "999999.9", "4.0071", "1e-45",
                             "3.4028235e+38", "0.1"]


def _significant_digits(text):
    """'-6.843686e+15' -> '6843686', '0.00010' -> '1': the digits of the mantissa, no zero padding."""
    mantissa = text.lower().split("e")[0].lstrip("+-").replace(".", "")
    return mantissa.strip("0") or "0"


def test_format_float32_is_shortest_and_exact():
    """Random float32 bit patterns: the text reads back exactly and has the digits of numpy's
    shortest round-trip repr (the notation may differ: %g writes 0.0001 where numpy writes 1e-04)."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2**32, 20_000, dtype=np.uint32).view(np.float32)
    x = np.concatenate([x[np.isfinite(x)], rng.standard_normal(20_000).astype(np.float32)])
    texts = _text(x)
    assert np.array_equal(np.array(texts, dtype=np.float32), x)
    for value, text in zip(x, texts):
        # shortest: as many significant digits as numpy's shortest round-trip repr (compared as
        # digits, since numpy 1.x and 2.x switch between positional and scientific differently)
        ref = np.format_float_scientific(value, unique=True)
        assert _significant_digits(text) == _significant_digits(ref), (value, text, ref)
        assert np.float32(text) == value, (value, text)


def test_format_rejects_nan():
    with pytest.raises(ValueError, match="nan"):
        format_float32(np.array([np.nan], dtype=np.float32))


def test_write_then_load_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    words = ["the", ",", "café", "naïve", "x" * 40]
    vectors = (rng.standard_normal((5, 50)) * 10.0 ** rng.integers(-6, 3, (5, 50))).astype(np.float32)
    vectors[0, :3] = [0.418, 0.24968, -0.41242]
    path = tmp_path / "out.txt"
    write_word_vectors(path, words, vectors, block=2)           # several blocks
    lines = path.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 6 and lines[-1] == ""
    assert lines[0].startswith("the 0.418 0.24968 -0.41242 ")
    assert all(len(line.split(" ")) == 51 for line in lines[:-1])
    loaded = loadWordVectors({w: i for i, w in enumerate(words)}, path)
    assert np.array_equal(loaded.astype(np.float32), vectors)
    assert os.listdir(tmp_path) == ["out.txt"]                   # no temporary left behind


def test_write_rejects_bad_words_and_leaves_nothing(tmp_path):
    path = tmp_path / "out.txt"
    with pytest.raises(ValueError, match="whitespace"):
        write_word_vectors(path, ["ok", "two words"], np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        write_word_vectors(path, ["ok"], np.zeros((2, 3), np.float32))
    assert os.listdir(tmp_path) == []


def test_real_glove_rows(glove_path):
    vectors = loadWordVectors({"the": 0, "not-a-glove-word-xyz": 1, "cliché": 2}, glove_path)
    assert vectors.shape == (3, 50)
    assert np.allclose(vectors[0, :3], [0.418, 0.24968, -0.41242], rtol=0, atol=0)
    assert not vectors[1].any() and vectors[2].any()
    with open(glove_path, encoding="utf-8") as f:
        assert f.readline().startswith("the 0.418 0.24968 -0.41242 ")


def test_real_glove_for_sst_vocabulary(sst, glove_path):
    vectors = loadWordVectors(sst.tokens(), glove_path)
    assert vectors.shape == (19_539, 50)
    found = np.flatnonzero(vectors.any(axis=1))
    assert found.size == 17_754          # observed: UNK, -lrb-, rare compounds are not in GloVe
    assert not vectors[sst.tokens()["UNK"]].any()
