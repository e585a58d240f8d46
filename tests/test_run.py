"""q3_run.py: exact resume after SIGKILL, refusal of a mismatched checkpoint, output files."""
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import q3_run
from q3_sgd import load_saved_params
from q3_word2vec import cbow_batch, skipgram_batch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "q3_run.py")


def run_script(args, cwd, timeout=120):
    return subprocess.run([sys.executable, SCRIPT] + args, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def final_params(folder):
    it, params, state = load_saved_params(str(folder))
    return it, params, state


# ---- the sampler's checkpoint state (no data needed) ----------------------------------
class FakeDataset:
    """sample_windows / sample_negatives with the shapes of StanfordSentiment's, from rng only."""

    def sample_windows(self, rng, n, C):
        centres = rng.integers(0, 50, size=n)
        contexts = rng.integers(0, 50, size=(n, 2 * C))
        half = rng.integers(1, C + 1, size=n)
        contexts[np.arange(2 * C)[None, :] >= 2 * half[:, None]] = -1   # padding at the end
        return centres, contexts

    def sample_negatives(self, rng, targets, K):
        return rng.integers(0, 50, size=(len(targets), K))


@pytest.mark.parametrize("model", [skipgram_batch, cbow_batch])
@pytest.mark.parametrize("stop_after", [0, 1, 6, 7, 8, 13])
def test_sampler_state_restores_the_same_batches(model, stop_after):
    # chunk of 7 iterations: stopping at 7 is a chunk boundary, 13 the middle of the 2nd chunk
    def sampler(seed):
        return q3_run.BatchSampler(FakeDataset(), np.random.default_rng(seed), batch=4, C=3, K=5,
                                   model=model, negsample=True, chunk=7)
    whole = sampler(1)
    expected = [whole.next_batch() for _ in range(20)]
    first = sampler(1)
    for _ in range(stop_after):
        first.next_batch()
    state = first.get_state()
    second = sampler(999)            # another seed: everything must come from the state
    second.set_state(state)
    for want in expected[stop_after:]:
        got = second.next_batch()
        for a, b in zip(got, want):
            assert a.shape == b.shape and np.array_equal(a, b)
    # the negatives of a batch are one row per target the model wants
    centres, contexts, negatives = expected[3]
    n_targets = (contexts >= 0).sum() if model is skipgram_batch else len(centres)
    assert centres.shape == (4,) and contexts.shape == (4, 6) and negatives.shape == (n_targets, 5)


def test_fast_f_is_the_batch_mean():
    ds, rng = FakeDataset(), np.random.default_rng(0)
    s1 = q3_run.BatchSampler(ds, np.random.default_rng(3), 4, 3, 5, skipgram_batch, True, chunk=2)
    s2 = q3_run.BatchSampler(ds, np.random.default_rng(3), 4, 3, 5, skipgram_batch, True, chunk=2)
    x = rng.standard_normal((100, 6)) * 0.1
    cost, grad = q3_run.make_fast_f(s1, skipgram_batch, 4)(x)
    centres, contexts, negatives = s2.next_batch()
    from q3_word2vec import word2vec_batch
    total, g = word2vec_batch(skipgram_batch, centres, contexts, x, negatives)
    assert cost == pytest.approx(total / 4, rel=1e-15)
    assert grad.values.shape == g.values.shape
    assert np.allclose(grad.to_dense(x.shape), g.to_dense(x.shape) / 4, rtol=1e-14, atol=0)


# ---- word2vec text format -----------------------------------------------------------------
def test_word2vec_text_round_trip_and_errors(tmp_path):
    words = ["the", "clichés", "8\u00a01/2", "--"]
    vectors = np.random.default_rng(0).standard_normal((4, 3))
    path = tmp_path / "v.txt"
    q3_run.write_word2vec_text(str(path), words, vectors)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "4 3" and lines[2].startswith("clichés ") and lines[-1] == ""
    got_words, got = q3_run.read_word2vec_text(str(path))
    assert got_words == words and got.shape == (4, 3)
    assert np.allclose(got, vectors, rtol=1e-8, atol=0)       # 9 significant digits
    path.write_text("2 3\na 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"v.txt:3: expected a word and 3 numbers"):
        q3_run.read_word2vec_text(str(path))


def test_help_lists_the_course_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        q3_run.parse_args(["--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for flag, default in [("--iterations", "40000"), ("--dim", "10"), ("--context", "5"),
                          ("--negatives", "10"), ("--batch", "50"), ("--step", "0.3"),
                          ("--model", "skipgram"), ("--loss", "negsample"), ("--seed", "31415"),
                          ("--save-every", "5000"), ("--checkpoint-dir", "checkpoints")]:
        assert flag in out and f"(default: {default})" in out, flag
    for flag in ("--fresh", "--classic", "--no-plot", "--vectors-out", "--print-every"):
        assert flag in out


def test_bad_argument_is_refused(capsys):
    with pytest.raises(SystemExit):
        q3_run.parse_args(["--dim", "0"])
    assert "--dim must be at least 1" in capsys.readouterr().err


# ---- on the real data ------------------------------------------------------------------------
def test_smoke_run_writes_png_vectors_and_final_checkpoint(sst, tmp_path):
    out = run_script(["--data", sst.path, "--iterations", "300", "--save-every", "100",
                      "--print-every", "100", "--checkpoint-dir", "ck", "--vectors-out", "v.txt",
                      "--plot-out", "words.png"], cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "iter 300/300" in out.stdout and "it/s" in out.stdout and "ETA" in out.stdout
    assert "training: 300 iterations in" in out.stdout and "final smoothed cost" in out.stdout
    png = (tmp_path / "words.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
    words, vectors = q3_run.read_word2vec_text(str(tmp_path / "v.txt"))
    tokens = sst.tokens()
    assert len(words) == len(tokens) == 19539 and vectors.shape == (19539, 10)
    assert all(tokens[w] == i for i, w in enumerate(words))
    it, params, state = final_params(tmp_path / "ck")
    assert it == 300 and params.shape == (2 * 19539, 10)
    assert np.allclose(vectors, params[:19539] + params[19539:], rtol=1e-8, atol=1e-12)
    cfg = state["config"]["run"]
    assert cfg["vocab_size"] == 19539 and cfg["dim"] == 10 and cfg["model"] == "skipgram"
    assert sorted(os.listdir(tmp_path / "ck")) == [f"saved_params_{i}.npz" for i in (100, 200, 300)]
    assert sorted(os.listdir(tmp_path)) == ["ck", "v.txt", "words.png"]   # nothing half-written


def test_sigkill_at_random_moments_then_resume_is_bit_identical(sst, tmp_path):
    args = ["--data", sst.path, "--iterations", "1500", "--save-every", "100", "--no-plot",
            "--print-every", "500"]
    ref = run_script(args + ["--checkpoint-dir", "ref", "--vectors-out", "ref.txt"], cwd=tmp_path)
    assert ref.returncode == 0, ref.stdout + ref.stderr

    rng = random.Random(os.getpid())     # a different schedule of kills on every test run
    kills = 0
    ck = tmp_path / "ck"
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, SCRIPT] + args + ["--checkpoint-dir", "ck",
                                                                   "--vectors-out", "v.txt"],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait for this run to write a new checkpoint, then kill it a random moment later
        before = set(os.listdir(ck)) if ck.exists() else set()
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if ck.exists() and set(os.listdir(ck)) - before:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.15))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if kills == 3:
            break
    assert kills >= 2, "the run finished before it could be killed twice"
    done = run_script(args + ["--checkpoint-dir", "ck", "--vectors-out", "v.txt"], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming from" in done.stdout or kills == 0
    it_a, a, _ = final_params(tmp_path / "ref")
    it_b, b, _ = final_params(ck)
    assert it_a == it_b == 1500 and a.shape == b.shape == (2 * 19539, 10)
    assert np.array_equal(a, b)
    assert (tmp_path / "v.txt").read_bytes() == (tmp_path / "ref.txt").read_bytes()
    assert not [n for n in os.listdir(ck) if n.endswith(".tmp")]    # no temp file left behind


def test_mismatched_configuration_is_refused_until_fresh(sst, tmp_path):
    base = ["--data", sst.path, "--iterations", "200", "--save-every", "100", "--no-plot",
            "--checkpoint-dir", "ck", "--vectors-out", "v.txt"]
    assert run_script(base, cwd=tmp_path).returncode == 0
    refused = run_script(base + ["--dim", "12", "--iterations", "300"], cwd=tmp_path)
    assert refused.returncode == 2
    assert "dim: checkpoint has 10, this run has 12" in refused.stderr
    assert "--fresh" in refused.stderr and "saved_params_200.npz" in refused.stderr
    assert final_params(tmp_path / "ck")[0] == 200             # nothing was overwritten
    fresh = run_script(base + ["--dim", "12", "--iterations", "300", "--fresh"], cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    it, params, state = final_params(tmp_path / "ck")
    assert it == 300 and params.shape == (2 * 19539, 12) and state["config"]["run"]["dim"] == 12
    assert sorted(os.listdir(tmp_path / "ck")) == [f"saved_params_{i}.npz" for i in (100, 200, 300)]


def test_classic_path_resumes_exactly(sst, tmp_path, capsys):
    base = ["--data", sst.path, "--classic", "--save-every", "5", "--no-plot", "--print-every", "5"]
    whole = q3_run.train(q3_run.parse_args(base + ["--iterations", "12", "--checkpoint-dir",
                                                   str(tmp_path / "a")]))
    q3_run.train(q3_run.parse_args(base + ["--iterations", "7", "--checkpoint-dir",
                                           str(tmp_path / "b")]))
    random.seed(1)                       # resuming must not depend on the state left behind
    np.random.seed(1)
    resumed = q3_run.train(q3_run.parse_args(base + ["--iterations", "12", "--checkpoint-dir",
                                                     str(tmp_path / "b")]))
    assert resumed["start_iteration"] == 7
    assert np.array_equal(whole["wordVectors"], resumed["wordVectors"])
    assert whole["expcost"] == resumed["expcost"]
    assert final_params(tmp_path / "b")[2]["config"]["run"]["path"] == "classic"
