"""Tests of utils/glove.py: the one word-vector reader (word2vec / GloVe text), loadWordVectors
over it, every damaged or foreign file named, and the real glove.6B.50d.txt (``glove_path``).
The writer of glove.6B.50d.txt is tested in test_glove_wheel.py."""
import codecs
import gzip
import os
import struct

import numpy as np
import pytest

from utils.glove import loadWordVectors, read_word_vectors

SMALL = ("the 0.418 0.24968 -0.41242\n"
         "film 1 -2 3.5\n"
         "café 0.001 1e-05 -0\n"
         "unused 9 9 9\n")


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


def test_load_reports_a_damaged_file_as_the_reader_does(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("the 1 2 3\nfilm 1 x 3\n")
    with pytest.raises(ValueError, match=rf"{path}:2: not a number in the vector of 'film'"):
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


W2V_BIN = b"2 3\n" + b"".join(w + b" " + struct.pack("<3f", *v) + b"\n" for w, v in
                               [(b"the", (0.5, -1.25, 2.0)), (b"film", (1.0, 0.0, -3.5))])


@pytest.mark.parametrize("content,message", [
    (b"", r"no word vectors in the file"),
    (b"\n\n", r"no word vectors in the file"),
    (b"3 2\n", r"no word vectors in the file"),                     # header only
    (b"3 2\na 1 2\nb 3 4\n", r"v\.txt:1: the header says 3 vectors but the file holds 2"),
    (b"a 1 2\nb 3 4 5\n", r"v\.txt:2: expected a word and 2 numbers"),   # mixed dimensions
    (b"a 1 2\nb 1\n", r"v\.txt:2: expected a word and 2 numbers.*got 2 fields"),  # too few
    (b"the 1 2 3\nfilm 1 x 3\n", r"v\.txt:2: not a number in the vector of 'film'"),
    (b"a 1 x\n", r"v\.txt:1: not a number"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", r"v\.txt:1: expected a word and"),
    (b"a 1 2\n\x00\x00\x01\x02 3\n", r"v\.txt:2: not text: a binary file"),
    # foreign files, named as such (issue 18)
    (gzip.compress(b"the 1 2\n"), r"v\.txt: a gzip-compressed file; decompress it first"),
    (b"PK\x03\x04\x14\x00\x00\x00", r"v\.txt: a zip archive; unpack the vectors file"),
    (b"\xfd7zXZ\x00\x00\x04", r"v\.txt: an xz-compressed file"),
    ("the 1 2\n".encode("utf-16"), r"v\.txt: UTF-16 text; convert it to UTF-8"),
    ("the 1 2\n".encode("utf-16-be").join([codecs.BOM_UTF16_BE, b""]), r"v\.txt: UTF-16 text"),
    (W2V_BIN, r"v\.txt: a word2vec binary \(\.bin\) file; this reader takes the text format"),
    (b"the\t1\t2\nfilm\t3\t4\n", r"v\.txt:1: fields separated by tabs \(a tab-separated file\)"),
    (b"the 1 2\nfilm\t3\t4\n", r"v\.txt:2: fields separated by tabs"),
    (b"2 2\nthe\t1\t2\nfilm\t3\t4\n", r"v\.txt:2: fields separated by tabs"),
])
def test_read_refuses_malformed_files_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "v.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_word_vectors(path)


@pytest.mark.parametrize("header", [b"", b"2 2\n"])
def test_a_utf8_byte_order_mark_is_skipped(tmp_path, header):
    """Issue 18, case 4: a BOM before a header-less file used to lose the first word."""
    path = tmp_path / "v.txt"
    path.write_bytes(codecs.BOM_UTF8 + header + b"the 1 2\nfilm 3 4\n")
    tokens, vecs = read_word_vectors(path)
    assert tokens == {"the": 0, "film": 1} and np.array_equal(vecs, [[1, 2], [3, 4]])
    assert list(read_word_vectors(path, vocabulary=["the"])[0]) == ["the"]


@pytest.mark.parametrize("value, max_abs, message", [
    ("1e308", None, None),                                       # finite: kept without a bound
    ("1e308", 1e3, r"v\.txt:2: the vector of 'the' holds 1e\+308, beyond the 1000 in magnitude"),
    ("1e20", 1e3, r"v\.txt:2: the vector of 'the' holds 1e\+20, beyond"),
    ("-1000.5", 1e3, r"holds 1e\+03, beyond the 1000 in magnitude that the model handles"),
    ("-1000", 1e3, None),                                        # at the bound: kept
    ("inf", 1e3, r"v\.txt:2: the vector of 'the' holds NaN or infinite values"),
])
def test_read_refuses_values_beyond_max_abs_naming_word_and_line(tmp_path, value, max_abs,
                                                                 message):
    path = tmp_path / "v.txt"
    path.write_text(f"a 1 2\nthe 3 {value}\nb 1e20 6\n")
    if message is None:
        tokens, vecs = read_word_vectors(path, vocabulary=["the"], max_abs=max_abs)
        assert vecs[0, 1] == float(value)
    else:
        with pytest.raises(ValueError, match=message):
            read_word_vectors(path, vocabulary=["the", "a"], max_abs=max_abs)
    # rows not read do not matter ("b" holds 1e20)
    assert read_word_vectors(path, vocabulary=["a"], max_abs=1e3)[1].tolist() == [[1, 2]]


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_read_refuses_a_special_file_at_once(tmp_path, kind):
    path = tmp_path / "v.txt"
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)                       # nobody writes: opening it must not wait
    else:
        path = "/dev/zero"                    # endless: reading it must not start
    with pytest.raises(OSError, match=r"not a regular file; pass the word-vector file itself"):
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
    with pytest.raises(FileNotFoundError, match=r"word-vector file .*nope\.txt not found; check"):
        read_word_vectors(tmp_path / "nope.txt")


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
