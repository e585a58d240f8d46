"""q3_run.py: exact resume after SIGKILL, refusal of a mismatched checkpoint, output files."""
import base64
import os
import pty
import random
import re
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import q3_run
from q3_sgd import sgd
from utils.glove import read_word_vectors, write_word2vec_text
from q3_sgd import load_saved_params
from w2v_engine.prefetch import worker_supported
from w2v_engine.sampler import SAMPLE_CHUNK
from w2v_helpers import child_pids, gone
from utils.cost_curve import smoothed
from utils.word_plot import MARKER_HALF, plot_word_vectors, spread_labels

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "q3_run.py")


def saved_costs(state):
    """The per-iteration costs a checkpoint holds (its CostHistory state)."""
    (history,) = [g for g in state["generators"] if g["kind"] == "CostHistory"]
    return np.frombuffer(base64.b64decode(history["state"]["costs"]), dtype=np.float64)


def checkpoint_files(folder):
    """The checkpoint files in `folder`, sorted (not its .lock file); [] if it does not exist."""
    return sorted(n for n in os.listdir(folder) if n.startswith("saved_params_")) \
        if os.path.isdir(folder) else []


def run_script(args, cwd, timeout=120):
    return subprocess.run([sys.executable, SCRIPT] + args, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def final_params(folder):
    it, params, state = load_saved_params(str(folder))
    return it, params, state


# ---- word2vec text format -----------------------------------------------------------------
def test_word2vec_text_round_trip_and_errors(tmp_path):
    words = ["the", "clichés", "8\u00a01/2", "--"]
    vectors = np.random.default_rng(0).standard_normal((4, 3))
    path = tmp_path / "v.txt"
    write_word2vec_text(str(path), words, vectors)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "4 3" and lines[2].startswith("clichés ") and lines[-1] == ""
    got_tokens, got = read_word_vectors(str(path))            # the reader q4_sentiment uses
    assert list(got_tokens) == words and got.shape == (4, 3)
    assert np.allclose(got, vectors, rtol=1e-8, atol=0)       # 9 significant digits
    path.write_text("2 3\na 1 2 3\nb 1 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"v.txt:3: expected a word and 3 numbers"):
        read_word_vectors(str(path))


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
                      "--plot-out", "words.png", "--cost-plot-out", "cost.png"], cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "iter 300/300" in out.stdout and "it/s" in out.stdout and "ETA" in out.stdout
    assert "training: 300 iterations in" in out.stdout and "final smoothed cost" in out.stdout
    for name in ("words.png", "cost.png"):
        png = (tmp_path / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
    with open(tmp_path / "v.txt", encoding="utf-8") as fh:
        assert fh.readline() == "19539 10\n"                   # word2vec header "V D"
    file_tokens, vectors = read_word_vectors(str(tmp_path / "v.txt"))
    tokens = sst.tokens()
    assert len(file_tokens) == len(tokens) == 19539 and vectors.shape == (19539, 10)
    assert file_tokens == tokens                              # every word, in index order
    it, params, state = final_params(tmp_path / "ck")
    assert it == 300 and params.shape == (2 * 19539, 10)
    assert np.allclose(vectors, params[:19539] + params[19539:], rtol=1e-8, atol=1e-12)
    cfg = state["config"]["run"]
    assert cfg["vocab_size"] == 19539 and cfg["dim"] == 10 and cfg["model"] == "skipgram"
    assert checkpoint_files(tmp_path / "ck") == [f"saved_params_{i}.npz" for i in (100, 200, 300)]
    assert sorted(os.listdir(tmp_path)) == ["ck", "cost.png", "v.txt", "words.png"]  # no temp
    costs = saved_costs(state)
    assert costs.shape == (300,) and np.isfinite(costs).all()
    assert f"final smoothed cost {smoothed(costs, q3_run.SMOOTH_EVERY)[1][-1]:.4f}" in out.stdout
    # the word plot of these vectors: 25 markers, no label on another label or on a marker
    shown, boxes, markers = plot_word_vectors(str(tmp_path / "again.png"), file_tokens, vectors,
                                              q3_run.VISUALIZE_WORDS, "again")
    assert shown == q3_run.VISUALIZE_WORDS and boxes.shape == (25, 4)
    assert_apart(boxes, markers)


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
        before = set(checkpoint_files(ck))
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if set(checkpoint_files(ck)) - before:
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
    done = run_script([a for a in args if a != "--no-plot"]
                      + ["--checkpoint-dir", "ck", "--vectors-out", "v.txt",
                         "--cost-plot-out", "cost.png", "--plot-out", "words.png"], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming from" in done.stdout or kills == 0
    it_a, a, state_a = final_params(tmp_path / "ref")
    it_b, b, state_b = final_params(ck)
    assert it_a == it_b == 1500 and a.shape == b.shape == (2 * 19539, 10)
    assert np.array_equal(a, b)
    # the cost curve is continuous across the kills: every cost as in the uninterrupted run
    costs_a, costs_b = saved_costs(state_a), saved_costs(state_b)
    assert costs_a.shape == costs_b.shape == (1500,) and np.isfinite(costs_b).all()
    assert np.array_equal(costs_a, costs_b)
    ref_plot = run_script([a for a in args if a != "--no-plot"]
                          + ["--checkpoint-dir", "ref", "--vectors-out", "ref.txt",
                             "--cost-plot-out", "ref_cost.png", "--plot-out", "ref_words.png"],
                          cwd=tmp_path)
    assert "already complete" in ref_plot.stdout               # the plot without training again
    assert (tmp_path / "cost.png").read_bytes() == (tmp_path / "ref_cost.png").read_bytes()
    assert (tmp_path / "v.txt").read_bytes() == (tmp_path / "ref.txt").read_bytes()
    assert not [n for n in os.listdir(ck) if n.endswith(".tmp")]    # no temp file left behind


def assert_apart(boxes, markers, marker_half=MARKER_HALF):
    """No two label boxes (n, 4) overlap, and none covers a marker (n, 2) (all in pixels)."""
    def overlap(a, b):            # (n, 4), (m, 4) -> (n, m): the boxes share some area
        return ((np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
                 > 0.01) & (np.minimum(a[:, None, 3], b[None, :, 3])
                            - np.maximum(a[:, None, 1], b[None, :, 1]) > 0.01))
    labels = overlap(boxes, boxes)
    np.fill_diagonal(labels, False)
    assert not labels.any(), np.argwhere(labels)
    squares = np.hstack([markers - marker_half, markers + marker_half])
    assert not overlap(boxes, squares).any(), np.argwhere(overlap(boxes, squares))


def test_labels_spread_apart_even_on_one_point():
    rng = np.random.default_rng(0)
    anchors = np.vstack([rng.normal((300, 240), 15, (20, 2)),        # a crowd
                         np.full((4, 2), 120.0), [[590.0, 470.0]]])  # 4 on one point, a corner
    half = np.column_stack([rng.uniform(6, 40, 25), np.full(25, 9.0)])
    centres = spread_labels(anchors, half, (0, 0, 600, 480))
    boxes = np.hstack([centres - half, centres + half])
    assert_apart(boxes, anchors)
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 600).all() and (boxes[:, 3] <= 480).all()


def test_mismatched_configuration_is_refused_until_fresh(sst, tmp_path):
    base = ["--data", sst.path, "--iterations", "200", "--save-every", "100", "--no-plot",
            "--checkpoint-dir", "ck", "--vectors-out", "v.txt"]
    first = run_script(base, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    cost = re.search(r"final smoothed cost (\d+\.\d{4})", first.stdout).group(1)
    refused = run_script(base + ["--dim", "12", "--iterations", "300"], cwd=tmp_path)
    assert refused.returncode == 2
    assert "dim: checkpoint has 10, this run has 12" in refused.stderr
    assert "--fresh" in refused.stderr and "saved_params_200.npz" in refused.stderr
    assert final_params(tmp_path / "ck")[0] == 200             # nothing was overwritten
    fresh = run_script(base + ["--dim", "12", "--iterations", "300", "--fresh"], cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    said = [line for line in fresh.stdout.splitlines() if line.startswith("--fresh")]
    assert said == [   # what it deletes, said before it deletes it
        f"--fresh deletes 2 checkpoint(s) in ck (the newest at iteration 200 of 200, finished: "
        f"skipgram/negsample, dim 10, seed 31415, smoothed cost {cost}): saved_params_100.npz, "
        "saved_params_200.npz. q4_sentiment.py --yourvectors then reads the new run's."]
    assert fresh.stdout.index("--fresh deletes") < fresh.stdout.index("starting fresh: removed")
    it, params, state = final_params(tmp_path / "ck")
    assert it == 300 and params.shape == (2 * 19539, 12) and state["config"]["run"]["dim"] == 12
    assert checkpoint_files(tmp_path / "ck") == [f"saved_params_{i}.npz" for i in (100, 200, 300)]


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


# ---- the worker process --------------------------------------------------------------------

needs_worker = pytest.mark.skipif(not worker_supported(), reason="no forked worker on this OS")


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
    assert sa["config"]["run"]["sample_chunk"] == SAMPLE_CHUNK
    assert np.array_equal(pa, pb) and np.array_equal(pa, pc)


def start_long_run(sst, tmp_path, **popen_kwargs):
    """Start a 400,000-iteration q3_run.py in tmp_path; once its worker is running, return
    (proc, pids of its child processes)."""
    proc = subprocess.Popen([sys.executable, SCRIPT, "--data", sst.path, "--iterations", "400000",
                             "--save-every", "100", "--no-plot", "--checkpoint-dir", "ck"],
                            cwd=tmp_path, **popen_kwargs)
    try:
        deadline = time.monotonic() + 60
        while not child_pids(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
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


# ---- --fresh: what it deletes is said first, and at a terminal asked ---------------------------
def _finished_run(folder):
    """Checkpoints of a finished run at `folder`, as q3_run's config records one."""
    config = {"model": "skipgram", "loss": "negsample", "dim": 10, "seed": 31415}
    sgd(lambda x: (float(np.sum(x ** 2)), 2 * x), np.ones(4), 0.1, 30, None, True, 10,
        checkpoint_dir=str(folder), save_every=10, smooth_every=10, config=config)
    return checkpoint_files(folder)


def read_terminal(master, until=None, timeout=30):
    """What the process wrote to its terminal: until `until` shows, or until it closes."""
    seen, deadline = b"", time.monotonic() + timeout
    while (until is None or until not in seen) and time.monotonic() < deadline:
        if not select.select([master], [], [], 0.5)[0]:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:             # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.parametrize("answer", ["n", "", "whatever"])
def test_fresh_at_a_terminal_asks_and_anything_but_yes_deletes_nothing(tmp_path, answer):
    before = _finished_run(tmp_path / "ck")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, SCRIPT, "--fresh", "--no-plot", "--checkpoint-dir",
                                 "ck", "--iterations", "30"], cwd=tmp_path, stdin=slave,
                                stderr=slave, stdout=subprocess.PIPE, text=True)
        os.close(slave)
        seen = read_terminal(master, until=b"[y/N]")
        os.write(master, answer.encode() + b"\n")
        out, _ = proc.communicate(timeout=60)
        seen += read_terminal(master)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "--fresh deletes 3 checkpoint(s) in ck (the newest at iteration 30 of 30, finished: " \
           "skipgram/negsample, dim 10, seed 31415, smoothed cost " in out
    assert "Delete them and train again? [y/N]" in seen.decode()
    assert proc.returncode == 1 and "Traceback" not in seen.decode()
    assert "q3_run.py: error: --fresh: nothing deleted; the run in ck is kept" in seen.decode()
    assert checkpoint_files(tmp_path / "ck") == before
