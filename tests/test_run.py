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
from q4_sentiment import read_text_vectors
from q3_sgd import load_saved_params
from q3_word2vec import cbow_batch, skipgram_batch
from w2v_engine.prefetch import PrefetchError, worker_supported

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
    got_tokens, got = read_text_vectors(str(path))            # the reader q4_sentiment uses
    assert list(got_tokens) == words and got.shape == (4, 3)
    assert np.allclose(got, vectors, rtol=1e-8, atol=0)       # 9 significant digits
    path.write_text("2 3\na 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"v.txt:3: expected a word and 3 numbers"):
        read_text_vectors(str(path))


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
    with open(tmp_path / "v.txt", encoding="utf-8") as fh:
        assert fh.readline() == "19539 10\n"                   # word2vec header "V D"
    file_tokens, vectors = read_text_vectors(str(tmp_path / "v.txt"))
    tokens = sst.tokens()
    assert len(file_tokens) == len(tokens) == 19539 and vectors.shape == (19539, 10)
    assert file_tokens == tokens                              # every word, in index order
    it, params, state = final_params(tmp_path / "ck")
    assert it == 300 and params.shape == (2 * 19539, 10)
    assert np.allclose(vectors, params[:19539] + params[19539:], rtol=1e-8, atol=1e-12)
    cfg = state["config"]["run"]
    assert cfg["vocab_size"] == 19539 and cfg["dim"] == 10 and cfg["model"] == "skipgram"
    assert sorted(os.listdir(tmp_path / "ck")) == [f"saved_params_{i}.npz" for i in (100, 200, 300)]
    assert sorted(os.listdir(tmp_path)) == ["ck", "v.txt", "words.png"]   # nothing half-written


def test_failed_sanity_check_exits_non_zero_but_keeps_the_outputs(sst, tmp_path, monkeypatch, capsys):
    # a short run counts as "the course's settings" once ITERATIONS is lowered; with the bar at
    # 0 the final cost cannot pass, so main must say FAILED and return 1 (after writing outputs)
    monkeypatch.setattr(q3_run, "ITERATIONS", 200)
    monkeypatch.setattr(q3_run, "COST_SANITY", 0.0)
    status = q3_run.main(["--data", sst.path, "--iterations", "200", "--no-worker", "--no-plot",
                          "--checkpoint-dir", str(tmp_path / "ck"),
                          "--vectors-out", str(tmp_path / "v.txt")])
    captured = capsys.readouterr()
    assert status == 1
    assert "FAILED" in captured.err and "sanity" in captured.err
    assert (tmp_path / "v.txt").is_file()


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


# ---- the prepared fast path and its worker process -----------------------------------------
W_FAKE, D_FAKE = 50, 6          # FakeDataset draws word indices < 50


def fake_sampler(seed, chunk, prepared, prefetch=False, batch=4):
    return q3_run.BatchSampler(FakeDataset(), np.random.default_rng(seed), batch=batch, C=3, K=5,
                               model=skipgram_batch, negsample=True, chunk=chunk,
                               prepare_for=(W_FAKE, D_FAKE) if prepared else None,
                               prefetch=prefetch)


def test_fast_f_prepared_equals_the_readable_path():
    # the same seed and chunk draw the same windows and negatives; the prepared sampler turns
    # them into index arrays. 11 iterations cross two chunk boundaries (chunk = 4).
    from q3_word2vec import word2vec_batch
    raw, prepared = fake_sampler(5, 4, False), fake_sampler(5, 4, True)
    f = q3_run.make_fast_f(prepared, skipgram_batch, 4)
    x = np.random.default_rng(0).standard_normal((2 * W_FAKE, D_FAKE)) * 0.3
    for _ in range(11):
        centres, contexts, negatives = raw.next_batch()
        total, expected = word2vec_batch(skipgram_batch, centres, contexts, x, negatives)
        cost, grad = f(x)
        got = grad.to_sparse()
        assert cost == pytest.approx(total / 4, rel=1e-12)
        assert np.array_equal(got.rows, expected.rows)
        assert got.values.shape == expected.values.shape
        assert np.allclose(got.values, expected.values / 4, rtol=0, atol=1e-12)
        grad.add_to(x, -0.5)                      # move on, as sgd would
    with pytest.raises(RuntimeError, match="next_prepared"):
        prepared.next_batch()


@pytest.mark.parametrize("stop_after", [0, 3, 4, 9])
def test_prepared_sampler_state_restores_the_same_batches(stop_after):
    whole = fake_sampler(1, 4, True)
    expected = [whole.next_prepared() for _ in range(12)]
    expected = [(p.rows.copy(), p.flat.copy()) for p in expected]
    first = fake_sampler(1, 4, True)
    for _ in range(stop_after):
        first.next_prepared()
    second = fake_sampler(999, 4, True)
    second.set_state(first.get_state())
    for rows, flat in expected[stop_after:]:
        got = second.next_prepared()
        assert np.array_equal(got.rows, rows) and np.array_equal(got.flat, flat)


needs_worker = pytest.mark.skipif(not worker_supported(), reason="no forked worker on this OS")


def child_pids(pid):
    """Pids of the live (not zombie) children of `pid`, from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(name))
    return found


def gone(pid, timeout=5.0):
    """True once `pid` no longer exists (or is a zombie of another parent) within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.01)
    return False


@needs_worker
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "raw"])
def test_worker_gives_the_same_batches_and_is_reaped(prepared):
    def batches(sampler, n):
        out = []
        for _ in range(n):
            b = sampler.next_prepared() if prepared else sampler.next_batch()
            out.append([np.array(a, copy=True) for a in b[:2]])   # copies: views get recycled
        return out
    inline = fake_sampler(7, 3, prepared)
    expected = batches(inline, 14)
    worker = fake_sampler(7, 3, prepared, prefetch=True)
    got = batches(worker, 5)
    pid = worker._source._proc.pid
    assert pid in child_pids(os.getpid())
    state = worker.get_state()
    worker.close()                                # stops and reaps the worker
    assert pid not in child_pids(os.getpid()) and gone(pid)
    got += batches(worker, 4)                     # a new worker goes on where the last one was
    worker.set_state(state)                       # ... and restarts from a saved state
    got = got[:5] + batches(worker, 9)
    worker.close()
    assert len(got) == len(expected) == 14
    for g, e in zip(got, expected):
        for a, b in zip(g, e):
            assert np.array_equal(a, b)
    assert child_pids(os.getpid()) == []


class FailingDataset(FakeDataset):
    def sample_negatives(self, rng, targets, K):
        raise RuntimeError("no negatives today")


@needs_worker
def test_worker_error_is_reported_and_the_worker_reaped():
    sampler = q3_run.BatchSampler(FailingDataset(), np.random.default_rng(0), 4, 3, 5,
                                  skipgram_batch, True, chunk=2, prefetch=True)
    with pytest.raises(PrefetchError, match="no negatives today"):
        sampler.next_batch()
    sampler.close()
    assert child_pids(os.getpid()) == []


def test_worker_and_no_worker_runs_are_bit_identical_and_resume_across(sst, tmp_path):
    base = ["--data", sst.path, "--save-every", "100", "--no-plot", "--print-every", "1000"]
    a = run_script(base + ["--iterations", "250", "--checkpoint-dir", "a", "--vectors-out", "a.txt"],
                   cwd=tmp_path)
    assert a.returncode == 0, a.stdout + a.stderr
    b = run_script(base + ["--iterations", "150", "--checkpoint-dir", "b", "--vectors-out", "b.txt",
                           "--no-worker"], cwd=tmp_path)
    assert b.returncode == 0, b.stdout + b.stderr
    b = run_script(base + ["--iterations", "250", "--checkpoint-dir", "b", "--vectors-out", "b.txt"],
                   cwd=tmp_path)
    assert b.returncode == 0 and "resuming from" in b.stdout, b.stdout + b.stderr
    c = run_script(base + ["--iterations", "250", "--checkpoint-dir", "c", "--vectors-out", "c.txt",
                           "--no-worker"], cwd=tmp_path)
    assert c.returncode == 0, c.stdout + c.stderr
    (_, pa, sa), (_, pb, _), (_, pc, _) = (final_params(tmp_path / d) for d in "abc")
    assert sa["config"]["run"]["sample_chunk"] == q3_run.SAMPLE_CHUNK
    assert np.array_equal(pa, pb) and np.array_equal(pa, pc)


def start_long_run(sst, tmp_path, **popen_kwargs):
    """Start a 400,000-iteration q3_run.py in tmp_path; once its checkpoint folder exists (so the
    worker is running), return (proc, pids of its child processes)."""
    proc = subprocess.Popen([sys.executable, SCRIPT, "--data", sst.path, "--iterations", "400000",
                             "--save-every", "100", "--no-plot", "--checkpoint-dir", "ck"],
                            cwd=tmp_path, **popen_kwargs)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ck").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return proc, child_pids(proc.pid)
    except BaseException:          # never leave the run behind if waiting fails
        proc.kill()
        proc.wait()
        raise


@needs_worker
def test_ctrl_c_stops_the_run_and_its_worker(sst, tmp_path):
    proc, workers = start_long_run(sst, tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
    try:
        assert len(workers) == 1, workers
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out + err
    assert "interrupted" in err and "Traceback" not in err
    assert gone(workers[0])


@needs_worker
def test_sigkill_leaves_no_worker_behind(sst, tmp_path):
    proc, workers = start_long_run(sst, tmp_path, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
    try:
        assert len(workers) == 1, workers
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert gone(workers[0]), "the worker outlived its killed parent"
