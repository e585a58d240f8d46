"""q4_sentiment: the regularization sweep, model choice on dev, outputs and error messages."""
import os
import re
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

import q4_sentiment
from conftest import require_data
from q4_sentiment import (CLASS_NAMES, OUTPUTS, SetupError, best_index, confusion_matrix, main,
                          select_run, sweep_regularization)
from q4_softmaxreg import accuracy, fit_softmax_regression, predict
from utils.checkpoint import save_params
from utils.treebank import DEFAULT_SST_PATH

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEST_LINE = re.compile(r"^best reg=(\S+) train=(\d+\.\d\d) dev=(\d+\.\d\d) test=(\d+\.\d\d)$")


def overfitting_problem(seed=0):
    """Few noisy training points in many dimensions: too little reg overfits, too much underfits."""
    rng = np.random.default_rng(seed)
    D, C = 30, 3
    W_true = np.zeros((D, C))
    W_true[:3] = 2.0 * rng.standard_normal((3, C))          # only 3 informative features

    def draw(n):
        X = rng.standard_normal((n, D))
        y = np.argmax(X @ W_true + rng.standard_normal((n, C)), axis=1)
        return X, y
    return draw(60), draw(2000), draw(500)


# ---- choosing the best value -----------------------------------------------------
def test_best_index_takes_the_highest_dev_and_breaks_ties_towards_more_regularization():
    regs = [1e-4, 1e-3, 1e-2, 1e-1]
    assert best_index([30.0, 35.5, 31.0, 20.0], regs) == 1
    assert best_index([30.0, 35.5, 35.5, 20.0], regs) == 2     # tie: the larger reg
    assert best_index([35.5, 30.0, 35.5, 20.0], regs[::-1]) == 0  # order of the grid is irrelevant


def test_select_run_prefers_the_better_dev_then_the_first():
    runs = [{"dev": np.array([30.0, 31.0]), "best": 1}, {"dev": np.array([32.0, 29.0]), "best": 0},
            {"dev": np.array([32.0]), "best": 0}]
    assert select_run(runs) == 1


def test_sweep_picks_the_best_dev_value_on_a_synthetic_problem():
    train, dev, test = overfitting_problem()
    regs = np.logspace(-5, 1, 13)
    result = sweep_regularization(train, dev, test, regs, n_classes=3)
    assert result["dev"].shape == result["train"].shape == result["test"].shape == (13,)
    assert result["converged"].all()
    # every accuracy is what a model trained from scratch at that value gets (no warm-start leak)
    for i, reg in enumerate(regs):
        W, _ = fit_softmax_regression(train[0], train[1], reg, n_classes=3, rel_tol=1e-12)
        for name, (X, y) in (("train", train), ("dev", dev), ("test", test)):
            assert abs(result[name][i] - accuracy(y, predict(X, W))) <= 0.2, (name, reg)
    b = result["best"]
    assert result["dev"][b] == result["dev"].max()
    assert 0 < b < 12   # the problem is built so the best value is inside the grid, not at an end
    assert result["dev"][b] > result["dev"][0] + 1 and result["dev"][b] > result["dev"][-1] + 1
    assert result["weights"].shape == (30, 3)
    assert accuracy(dev[1], predict(dev[0], result["weights"])) == result["dev"][b]


def test_sweep_returns_rows_in_the_order_of_the_grid():
    train, dev, test = overfitting_problem(seed=1)
    regs = np.array([1e-2, 1.0, 1e-4, 1e-1])
    shuffled = sweep_regularization(train, dev, test, regs, n_classes=3)
    ordered = sweep_regularization(train, dev, test, np.sort(regs), n_classes=3)
    order = np.argsort(regs)
    assert np.allclose(shuffled["cost"][order], ordered["cost"], rtol=1e-7)
    assert np.array_equal(shuffled["regs"], regs)


def test_confusion_matrix_by_hand():
    counts = confusion_matrix([0, 0, 1, 4, 4], [0, 1, 1, 4, 0], 5)
    assert counts.shape == (5, 5)
    assert counts[0, 0] == 1 and counts[0, 1] == 1 and counts[1, 1] == 1
    assert counts[4, 4] == 1 and counts[4, 0] == 1 and counts.sum() == 5


# ---- command line: arguments and missing files ------------------------------------
@pytest.mark.parametrize("argv", [[], ["--pretrained", "--yourvectors"],
                                  ["--pretrained", "--regs", "-1"],
                                  ["--pretrained", "--combine", "sum"]])
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        q4_sentiment.parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_missing_checkpoint_names_q3_run_and_exits_nonzero(tmp_path):
    require_data(DEFAULT_SST_PATH, "SST data")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "q4_sentiment.py"), "--yourvectors",
                           "--checkpoint-dir", str(tmp_path / "none"), "--out-dir", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "`python q3_run.py`" in lines[0], proc.stderr
    assert sorted(os.listdir(tmp_path)) == []       # nothing written


# ---- real data: outputs and targets --------------------------------------------------
@pytest.fixture
def real_data(monkeypatch, sst, glove_path):
    """main() on the session's StanfordSentiment and GloVe file (no second load)."""
    monkeypatch.setattr(q4_sentiment, "_load_dataset", lambda: sst)
    monkeypatch.setattr(q4_sentiment, "DEFAULT_GLOVE_PATH", glove_path)
    return sst


def test_missing_glove_names_get_datasets(real_data, monkeypatch, tmp_path):
    monkeypatch.setattr(q4_sentiment, "DEFAULT_GLOVE_PATH", str(tmp_path / "glove.6B.50d.txt"))
    with pytest.raises(FileNotFoundError, match=r"glove.6B.50d.txt not found; run `bash "
                                                r"get_datasets.sh`"):
        main(["--pretrained", "--out-dir", str(tmp_path)])
    with pytest.raises(FileNotFoundError, match="nothing.txt not found; pass an existing file "
                                                "to --vectors"):
        main(["--pretrained", "--vectors", str(tmp_path / "nothing.txt")])
    assert os.listdir(tmp_path) == []


def check_outputs(out_dir, dev, mode):
    """The three outputs of `mode` in `out_dir`: two PNGs and one prediction per dev sentence."""
    for name in OUTPUTS:
        assert os.path.isfile(os.path.join(out_dir, f"q4_{mode}_{name}")), name
    for name in OUTPUTS[:2]:
        image = matplotlib.image.imread(os.path.join(out_dir, f"q4_{mode}_{name}"))   # a PNG
        assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 500
    with open(os.path.join(out_dir, f"q4_{mode}_dev_pred.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0] == "True\tPredicted\tText" and lines[-1] == ""
    rows = [line.split("\t") for line in lines[1:-1]]
    assert len(rows) == len(dev)                                        # one row per dev sentence
    for (true, pred, text), (words, label) in zip(rows, dev):
        assert int(true) == label and 0 <= int(pred) < len(CLASS_NAMES)
        assert text == " ".join(words)
    assert not [n for n in os.listdir(out_dir) if n.endswith(".tmp")]   # no temp file left
    return np.array([int(r[1]) for r in rows])


def test_pretrained_run_writes_parsable_outputs_and_meets_the_course_bar(sst, glove_path,
                                                                         tmp_path):
    """The script as a user runs it, full default grid on GloVe: dev and test >= 36.5 %."""
    out_dir = tmp_path / "out"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "q4_sentiment.py"), "--pretrained",
                           "--out-dir", str(out_dir)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stdout = proc.stdout.strip().splitlines()
    m = BEST_LINE.match(stdout[-1])
    assert m, stdout[-1]
    reg, train, dev, test = (float(x) for x in m.groups())
    table = [line.split() for line in stdout if line.strip().endswith("*")]
    assert len(table) == 1 and float(table[0][0]) == pytest.approx(reg, rel=1e-2)
    assert [float(x) for x in table[0][1:4]] == [train, dev, test]
    assert sum(1 for line in stdout if re.match(r"^\s+\d\.\d\de[-+]\d\d\s", line)) == 29
    preds = check_outputs(out_dir, sst.getDevSentences(), "pretrained")
    labels = np.array([c for _, c in sst.getDevSentences()])
    assert accuracy(labels, preds) == pytest.approx(dev, abs=0.005)    # the file is the best model
    assert dev >= 36.5 and test >= 36.5, stdout[-1]
    assert sorted(os.listdir(tmp_path)) == ["out"]                       # nothing else written


def random_checkpoint(folder, V, scale=1.0):
    """A checkpoint as q3_run.py writes it, of random 4-d vectors, at iteration 300."""
    params = scale * np.random.default_rng(0).standard_normal((2 * V, 4))
    save_params(300, params, checkpoint_dir=str(folder), config={"run": {"vocab_size": V,
                                                                           "dim": 4}})


def test_yourvectors_compares_sum_and_concatenation(real_data, tmp_path, capsys):
    """A checkpoint as q3_run.py writes it (random vectors here): both combinations are swept."""
    random_checkpoint(tmp_path / "ck", len(real_data.tokens()))
    out_dir = tmp_path / "out"
    assert main(["--yourvectors", "--checkpoint-dir", str(tmp_path / "ck"), "--out-dir",
                 str(out_dir), "--regs", "1e-4", "1e-2", "--intercept", "no"]) == 0
    stdout = capsys.readouterr().out
    assert "iteration 300" in stdout
    assert "input + output (4-d)" in stdout and "[input, output] (8-d)" in stdout
    assert re.search(r"^using your vectors, ", stdout, re.M)
    assert BEST_LINE.match(stdout.strip().splitlines()[-1])
    check_outputs(out_dir, real_data.getDevSentences(), "yourvectors")


def test_yourvectors_beyond_the_bound_are_refused_naming_the_word(real_data, tmp_path):
    random_checkpoint(tmp_path / "ck", len(real_data.tokens()), scale=1e3)
    with pytest.raises(ValueError, match=r"checkpoint of iteration 300 in .*ck/: the vector of "
                                         r"'.*' holds .*, beyond the 1000 in magnitude .* "
                                         r"retrain with `python q3_run.py --fresh`"):
        main(["--yourvectors", "--checkpoint-dir", str(tmp_path / "ck"),
              "--out-dir", str(tmp_path / "out")])
    assert not (tmp_path / "out" / "q4_yourvectors_dev_pred.txt").exists()


def test_both_modes_with_the_defaults_leave_both_sets_of_outputs(sst, glove_path, tmp_path):
    """--pretrained, then --yourvectors, as a user runs them in one folder: six files."""
    random_checkpoint(tmp_path / "checkpoints", len(sst.tokens()))
    runs = [["--pretrained"], ["--yourvectors"]]            # the default --checkpoint-dir
    written = {}
    for args in runs:
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "q4_sentiment.py"), *args,
                               "--regs", "1e-3", "--intercept", "no"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        written.update({n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)
                        if n.startswith("q4_")})
    assert sorted(written) == sorted(f"q4_{m}_{n}" for m in ("pretrained", "yourvectors")
                                     for n in OUTPUTS)
    for mode in ("pretrained", "yourvectors"):
        check_outputs(tmp_path, sst.getDevSentences(), mode)
    assert {n: (tmp_path / n).read_bytes() for n in written} == written   # none overwritten


def test_vectors_file_is_read_for_the_sst_vocabulary(real_data, tmp_path, capsys):
    """--vectors: a word2vec text file (header optional) read by utils.glove.read_word_vectors."""
    path = tmp_path / "v.txt"
    path.write_text("3 2\ngood 1 0\nbad -1 0\nnot-an-sst-word 0 1\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    assert main(["--pretrained", "--vectors", str(path), "--out-dir", str(out_dir), "--regs",
                 "1e-2", "--intercept", "no"]) == 0
    stdout = capsys.readouterr().out
    assert f"vectors: {path} as it is (2-d; 2 of {len(real_data.tokens())} SST tokens" in stdout
    assert BEST_LINE.match(stdout.strip().splitlines()[-1])
    check_outputs(out_dir, real_data.getDevSentences(), "vectors")


def test_yourvectors_refuses_a_checkpoint_of_another_vocabulary(real_data, tmp_path):
    save_params(10, np.zeros((10, 4)), checkpoint_dir=str(tmp_path / "ck"))
    with pytest.raises(SetupError, match=r"python q3_run.py --fresh"):
        main(["--yourvectors", "--checkpoint-dir", str(tmp_path / "ck"),
              "--out-dir", str(tmp_path / "out")])
