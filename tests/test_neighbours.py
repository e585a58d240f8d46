"""utils/neighbours.py and q3_run.py --neighbours: nearest words by cosine similarity."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import require_data
from utils.neighbours import check_words, nearest_words
from utils.treebank import DEFAULT_SST_PATH

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_nearest_words_by_hand():
    # a = (1, 0); b at 60 degrees (cos 0.5), c at 0 degrees but longer (cos 1), d opposite (-1)
    tokens = {"a": 0, "b": 1, "c": 2, "d": 3}
    vectors = np.array([[1.0, 0.0], [0.5, np.sqrt(0.75)], [3.0, 0.0], [-2.0, 0.0]])
    (near_a,) = nearest_words(vectors, tokens, ["a"], k=3)
    assert [w for w, _ in near_a] == ["c", "b", "d"]             # itself left out
    assert np.allclose([c for _, c in near_a], [1.0, 0.5, -1.0], rtol=0, atol=1e-15)


def test_nearest_words_several_queries_k_capped_and_zero_row():
    tokens = {"x": 0, "y": 1, "zero": 2}
    vectors = np.array([[1.0, 1.0], [1.0, 0.9], [0.0, 0.0]])
    near_x, near_zero = nearest_words(vectors, tokens, ["x", "zero"], k=10)
    assert len(near_x) == 2 and near_x[0][0] == "y"              # k capped at V - 1
    assert near_x[1] == ("zero", 0.0)                            # a zero vector: cosine 0, no NaN
    assert [c for _, c in near_zero] == [0.0, 0.0]


def test_nearest_words_is_one_matrix_product_not_a_loop_over_the_vocabulary():
    rng = np.random.default_rng(0)
    V, D = 5000, 10
    tokens = {f"w{i}": i for i in range(V)}
    vectors = rng.standard_normal((V, D))
    got = nearest_words(vectors, tokens, ["w7", "w42"], k=5)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    for query, near in zip((7, 42), got):
        cos = unit @ unit[query]                                 # (V,)
        cos[query] = -np.inf
        expected = np.argsort(-cos)[:5]
        assert [w for w, _ in near] == [f"w{i}" for i in expected]
        assert np.allclose([c for _, c in near], cos[expected], rtol=0, atol=1e-12)


def test_check_words_suggests_close_spellings():
    tokens = {"good": 0, "goods": 1, "bad": 2}
    check_words(["good", "bad"], tokens)                         # known words: no error
    with pytest.raises(ValueError, match=r"--neighbours: 'goood' is not in the vocabulary; "
                                         r"did you mean good, goods\?"):
        check_words(["good", "goood"], tokens)
    with pytest.raises(ValueError, match=r"'zzzzzz' is not in the vocabulary; pick a word"):
        check_words(["zzzzzz"], tokens)


def q3(tmp_path, *args):
    require_data(DEFAULT_SST_PATH, "SST data")
    return subprocess.run([sys.executable, os.path.join(ROOT, "q3_run.py"),
                           "--iterations", "30", "--save-every", "10", "--no-worker", "--no-plot",
                           "--checkpoint-dir", "ck", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_q3_run_prints_neighbours_and_answers_again_without_training(tmp_path):
    first = q3(tmp_path, "--neighbours", "good", "bad")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "training: 30 iterations" in first.stdout
    lines = [line for line in first.stdout.splitlines() if line.startswith(("  ", " "))
             and ":" in line and line.strip().split(":")[0] in ("good", "bad")]
    assert len(lines) == 2 and all(line.count(",") == 4 for line in lines)   # 5 neighbours each
    # 10-d neighbours look broken: the output says why, and where to read more
    (note,) = [line for line in first.stdout.splitlines() if "ANSWERS.md" in line]
    assert note.startswith("  (In 10 dimensions the 19,539 words crowd together: these are at "
                           "cosine ") and note.endswith("ANSWERS.md, question 3(g), says why.)")
    low, high = map(float, note.split("cosine ")[1].split(",")[0].split(" to "))
    cosines = [float(x.split()[-1]) for line in lines for x in line.split(":", 1)[1].split(",")]
    assert (low, high) == (min(cosines), max(cosines))
    again = q3(tmp_path, "--neighbours", "good", "bad")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already complete" in again.stdout                   # nothing trained the second time
    assert [line for line in again.stdout.splitlines() if line in lines] == lines


def test_q3_run_unknown_neighbour_word_fails_before_training(tmp_path):
    proc = q3(tmp_path, "--neighbours", "goood")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "q3_run.py: error: --neighbours: 'goood' is not in the vocabulary" in proc.stderr
    assert "iter" not in proc.stdout
    assert not [n for n in os.listdir(tmp_path / "ck") if n.startswith("saved_params_")]
