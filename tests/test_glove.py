"""Tests of utils/glove.py: the one word-vector reader (word2vec / GloVe text), loadWordVectors
over it, errors, the float32 text writer, and the real glove.6B.50d.txt (fixture ``glove_path``)."""
import os

import numpy as np
import pytest

from utils.glove import format_float32, loadWordVectors, read_word_vectors, write_word_vectors

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


# ---- loadWordVectors: GloVe for a vocabulary ---------------------------------------------
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


# ---- read_word_vectors: word2vec or GloVe text -------------------------------------------
def test_read_word_vectors_with_and_without_header(tmp_path):
    w2v = tmp_path / "w2v.txt"
    w2v.write_text("3 2\ngood 1 2\nbad -1 0.5\nfilm 0 0\n", encoding="utf-8")
    tokens, vecs = read_word_vectors(str(w2v))
    assert tokens == {"good": 0, "bad": 1, "film": 2}
    assert vecs.shape == (3, 2) and np.allclose(vecs[1], [-1, 0.5])
    glove = tmp_path / "glove.txt"
    glove.write_text("the 0.5 1 2\ncafé 1 1 1\nzzz 3 3 3\n", encoding="utf-8")
    tokens, vecs = read_word_vectors(str(glove), vocabulary={"café", "the", "absent"})
    assert tokens == {"the": 0, "café": 1}
    assert vecs.shape == (2, 3) and np.allclose(vecs[1], 1)


def test_read_word_vectors_names_the_bad_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2\nb 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.txt:2: expected a word and 2 numbers"):
        read_word_vectors(str(bad))
    nan = tmp_path / "nan.txt"
    nan.write_text("a 1 x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"nan\.txt:1: not a number"):
        read_word_vectors(str(nan))


def test_read_first_occurrence_wins_and_words_are_utf8(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes("clichés 1 2\nthe 3 4\nclichés 5 6\n".encode())
    tokens, vecs = read_word_vectors(path)
    assert tokens == {"clichés": 0, "the": 1}
    assert vecs.shape == (2, 2) and np.array_equal(vecs, [[1, 2], [3, 4]])
    tokens, vecs = read_word_vectors(path, vocabulary=["clichés"], dimensions=2)
    assert tokens == {"clichés": 0} and np.array_equal(vecs, [[1, 2]])
    loaded = loadWordVectors({"the": 0, "clichés": 1}, path, dimensions=2)
    assert np.array_equal(loaded, [[3, 4], [1, 2]])                  # the same rule as the reader


@pytest.mark.parametrize("vocabulary", [None, ["the"]])
def test_read_refuses_a_word_that_is_not_utf8(tmp_path, vocabulary):
    path = tmp_path / "v.txt"
    path.write_bytes("the 3 4\n".encode() + "cliché 1 2\n".encode("latin-1"))   # line 2: Latin-1
    with pytest.raises(ValueError, match=r"v\.txt:2: the word is not UTF-8 text; convert"):
        read_word_vectors(path, vocabulary=vocabulary)


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_read_refuses_a_vector_that_is_not_finite_and_names_its_line(tmp_path, bad):
    path = tmp_path / "v.txt"
    path.write_text(f"a 1 2\nthe 3 {bad}\nb 5 6\n")
    with pytest.raises(ValueError, match=r"v\.txt:2: the vector of 'the' holds NaN or infinite"):
        read_word_vectors(path)
    with pytest.raises(ValueError, match=r"v\.txt:2: the vector of 'the'"):
        read_word_vectors(path, vocabulary=["the", "b"])
    tokens, vecs = read_word_vectors(path, vocabulary=["a", "b"])    # rows not read do not matter
    assert tokens == {"a": 0, "b": 1} and np.array_equal(vecs, [[1, 2], [5, 6]])


@pytest.mark.parametrize("content,message", [
    (b"", r"no word vectors in the file"),
    (b"\n\n", r"no word vectors in the file"),
    (b"3 2\n", r"no word vectors in the file"),                     # header only
    (b"3 2\na 1 2\nb 3 4\n", r"v\.txt:1: the header says 3 vectors but the file holds 2"),
    (b"a 1 2\nb 3 4 5\n", r"v\.txt:2: expected a word and 2 numbers"),   # mixed dimensions
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", r"v\.txt:1: expected a word and"),
])
def test_read_refuses_malformed_files_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "v.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_word_vectors(path)


def test_read_skips_blank_lines_and_line_ends(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(b"\n\na 1 2 \r\n\nb 3 4\r\n")
    tokens, vecs = read_word_vectors(path)
    assert tokens == {"a": 0, "b": 1} and np.array_equal(vecs, [[1, 2], [3, 4]])


def test_read_header_only_on_the_first_line_and_only_for_the_given_dimensions(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 3\na 1 2 3\nb 4 5 6\n", encoding="utf-8")
    tokens, vecs = read_word_vectors(path, dimensions=3)
    assert tokens == {"a": 0, "b": 1} and vecs.shape == (2, 3)
    assert np.array_equal(loadWordVectors({"b": 0}, path, dimensions=3), [[4, 5, 6]])
    with pytest.raises(ValueError, match=r"v\.txt:1: expected a word and 2 numbers.*got 2 fields"):
        read_word_vectors(path, dimensions=2)          # "2 3" is not a header of 2-d vectors
    path.write_text("a 1 2 3\n2 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"v\.txt:2: expected a word and 3 numbers"):
        read_word_vectors(path)                        # a header is only valid on line 1
    path.write_text("12 3\n", encoding="utf-8")
    tokens, vecs = read_word_vectors(path, dimensions=1)   # a 1-d vector of the word "12"
    assert tokens == {"12": 0} and np.array_equal(vecs, [[3.0]])


def test_read_empty_results_and_bad_arguments(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 3\n", encoding="utf-8")                     # a header and no vector
    with pytest.raises(ValueError, match=r"v\.txt: no word vectors in the file"):
        read_word_vectors(path)
    path.write_text("a 1 2 3\n", encoding="utf-8")
    tokens, vecs = read_word_vectors(path, vocabulary=set())      # vectors, none of them wanted
    assert tokens == {} and vecs.shape == (0, 3)
    path.write_text("\n", encoding="utf-8")
    for dimensions in (None, 4):
        with pytest.raises(ValueError, match=r"v\.txt: no word vectors in the file"):
            read_word_vectors(path, dimensions=dimensions)
    path.write_text("a\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"v\.txt:1: expected a word and 0 numbers"):
        read_word_vectors(path)
    with pytest.raises(ValueError, match=r"dimensions must be a positive integer, got 0"):
        read_word_vectors(path, dimensions=0)
    with pytest.raises(FileNotFoundError, match=r"word-vector file .*nope\.txt not found"):
        read_word_vectors(tmp_path / "nope.txt")


# ---- writing -----------------------------------------------------------------------------
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


# ---- the real glove.6B.50d.txt -----------------------------------------------------------
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
    # loadWordVectors is read_word_vectors laid out by the vocabulary's indices
    known, rows = read_word_vectors(glove_path, vocabulary=sst.tokens().keys())
    assert len(known) == 17_754 and rows.shape == (17_754, 50)
    assert list(known) == sorted(known, key=lambda w: known[w])      # file order
    assert np.array_equal(vectors[[sst.tokens()[w] for w in known]], rows)
