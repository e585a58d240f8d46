"""bench/bench_vs_gensim.py: the skip without gensim, and its pure helpers, checked by hand.

gensim is not a project dependency, so CI only sees the skip: the script must exit 0 with a
message that says how to install gensim elsewhere. The benchmark itself is run by hand in a
separate environment (see the script's --help).
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "bench", "bench_vs_gensim.py")
INSTALL = ("python -m venv ../gensim-venv && ../gensim-venv/bin/pip install -r requirements.txt "
           "gensim && ../gensim-venv/bin/python bench/bench_vs_gensim.py")
SKIP_TIMEOUT = 5.0     # seconds: the skip happens before any data is loaded

# Runs the script as __main__ with gensim made unimportable (None in sys.modules makes
# `import gensim` raise ImportError), so the skip is tested even where gensim is installed.
_BLOCKED = ("import runpy, sys; sys.modules['gensim'] = None; sys.argv = [sys.argv[1]]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")


def _load_module():
    """Import the script as a module (bench/ is not a package); importing runs nothing."""
    spec = importlib.util.spec_from_file_location("bench_vs_gensim", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_module()


def _check_skip(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SKIPPED: gensim is not installed" in proc.stdout
    assert "not a project dependency" in proc.stdout
    assert INSTALL in proc.stdout
    assert proc.stderr == ""


@pytest.mark.skipif(importlib.util.find_spec("gensim") is not None,
                    reason="gensim is installed in this Python: the plain run would train "
                           "(the skip is tested with the import blocked below)")
def test_skips_without_gensim(tmp_path):
    proc = subprocess.run([sys.executable, SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=SKIP_TIMEOUT)
    _check_skip(proc)


def test_skips_when_gensim_cannot_be_imported():
    proc = subprocess.run([sys.executable, "-c", _BLOCKED, SCRIPT], cwd=ROOT,
                          capture_output=True, text=True, timeout=SKIP_TIMEOUT)
    _check_skip(proc)


def test_help_explains_the_install_and_the_skip():
    proc = subprocess.run([sys.executable, SCRIPT, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=SKIP_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    for part in ("../gensim-venv/bin/pip install -r requirements.txt gensim",
                 "../gensim-venv/bin/python bench/bench_vs_gensim.py",
                 "exits with status 0", "sample=0", "Timings vary"):
        assert part in proc.stdout


def test_bad_argument_is_a_usage_error():
    proc = subprocess.run([sys.executable, SCRIPT, "--iterations", "0"], cwd=ROOT,
                          capture_output=True, text=True, timeout=SKIP_TIMEOUT)
    assert proc.returncode == 2
    assert "--iterations must be at least 1" in proc.stderr


def test_import_leaves_the_environment_alone():
    # OPENBLAS_NUM_THREADS is set only when the script runs, never by importing it
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    code = (f"import importlib.util, os; s = importlib.util.spec_from_file_location('b', "
            f"{SCRIPT!r}); m = importlib.util.module_from_spec(s); s.loader.exec_module(m); "
            "print(os.environ.get('OPENBLAS_NUM_THREADS'))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=SKIP_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None"


# ---- plan_gensim_corpus: centre words of gensim = epochs x words of the prefix -------------
@pytest.mark.parametrize("lengths, target, expected", [
    # cumulative words of the prefixes: 2, 5, 9, 14
    ([2, 3, 4, 5], 20, (3, 2, 9)),     # 2 epochs of ~10: 9 is nearest -> 18 words
    ([2, 3, 4, 5], 10, (3, 1, 9)),     # fits in one epoch: nearest prefix to 10 is 9
    ([2, 3, 4, 5], 14, (4, 1, 14)),    # exactly the corpus
    ([2, 3, 4, 5], 28, (4, 2, 14)),    # exactly two passes
    ([2, 3, 4, 5], 12, (4, 1, 14)),    # 14 (off by 2) beats 9 (off by 3)
    ([2, 2], 3, (1, 1, 2)),            # 2 and 4 both off by 1: the shorter prefix
    ([2, 3, 4, 5], 1, (1, 1, 2)),      # never less than one sentence
    ([5], 12, (1, 3, 5)),              # ceil(12 / 5) = 3 epochs of the one sentence
])
def test_plan_gensim_corpus_by_hand(lengths, target, expected):
    assert bench.plan_gensim_corpus(lengths, target) == expected


def test_plan_gensim_corpus_default_run_size():
    # The default run: 2,000,000 centre words; a corpus of 1,500,000 words in sentences of 5
    # words needs 2 epochs of 1,000,000 words = the first 200,000 sentences.
    assert bench.CENTRE_WORDS == 40000 * 50
    assert bench.plan_gensim_corpus([5] * 300000, bench.CENTRE_WORDS) == (200000, 2, 1000000)


def test_plan_gensim_corpus_is_within_half_a_sentence_per_epoch():
    rng = np.random.default_rng(0)
    for _ in range(200):
        lengths = rng.integers(2, 30, size=rng.integers(1, 50))
        target = int(rng.integers(lengths[0], 5 * lengths.sum()))
        n, epochs, words = bench.plan_gensim_corpus(lengths, target)
        assert words == lengths[:n].sum()
        assert epochs == max(1, -(-target // lengths.sum()))   # ceil
        assert abs(epochs * words - target) <= epochs * lengths.max() / 2


@pytest.mark.parametrize("lengths, target", [([], 10), ([3, 0, 2], 10), ([3, 2], 0)])
def test_plan_gensim_corpus_rejects_bad_input(lengths, target):
    with pytest.raises(ValueError):
        bench.plan_gensim_corpus(lengths, target)


# ---- the other helpers -------------------------------------------------------------------
def test_centre_words_per_second():
    assert bench.centre_words_per_second(2_000_000, 8.0) == 250_000
    assert bench.centre_words_per_second(10, 0.0) == float("inf")


def test_in_token_order():
    gensim_rows = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]], dtype=np.float32)
    key_to_index = {"the": 0, "a": 1, "good": 2}           # gensim's order: by count
    out = bench.in_token_order(gensim_rows, key_to_index, ["good", "the", "a"])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[3, 30], [1, 10], [2, 20]])


def test_speed_table_ratios_by_hand():
    table = bench.speed_table([("ours", {"centre_words": 300, "seconds": 1.0, "cpu": 1.5}),
                               ("theirs", {"centre_words": 200, "seconds": 2.0, "cpu": 3.0})])
    lines = table.splitlines()
    assert lines[0].startswith("| training run |") and "vs theirs" in lines[0]
    assert lines[2] == "| ours | 300 | 1.00 s | 300 | 3.00x | 1.50 s |"     # 300/s vs 100/s
    assert lines[3] == "| theirs | 200 | 2.00 s | 100 | 1.00x | 3.00 s |"


def test_gensim_settings_match_the_default_run():
    s = bench.GENSIM_SETTINGS
    assert (s["sg"], s["hs"], s["min_count"], s["sample"]) == (1, 0, 1, 0)
    assert (s["negative"], s["window"], s["vector_size"], s["seed"]) == (10, 5, 10, 31415)
    assert bench.GENSIM_ALPHA == pytest.approx(0.3 / 50)
    assert bench.GENSIM_MIN_ALPHA == pytest.approx(0.3 / 2 / 50)
