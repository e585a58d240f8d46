"""Faults of the training engine's worker process (issue 18, case 6): they cost speed, never the result.

The sampling worker (w2v_engine/prefetch.py) may be killed (kill -9, the OOM killer), stopped
(kill -STOP), hang or fail. The chunks it draws are a function of the generator state alone, so
the run kills and reaps such a worker, says so in one warning line, and draws the rest itself
from where the last chunk handed out ended: the run ends bit-identical to an uninterrupted one.
Each fault is tried at random moments (seeded, so a failure can be replayed), in the engine and
in ``python q3_run.py``; every wait has a timeout, so a regression fails instead of hanging.
"""
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

from q3_sgd import load_saved_params
from w2v_engine.batched import skipgram_batch
from w2v_engine.objective import slow_numpy_note
from w2v_engine import prefetch
from w2v_engine.prefetch import Prefetcher, WorkerLostWarning, worker_supported
from w2v_engine.sampler import BatchSampler
from w2v_helpers import FakeDataset, child_pids, gone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "q3_run.py")

needs_worker = pytest.mark.skipif(not worker_supported(), reason="no forked worker on this OS")


@contextlib.contextmanager
def deadline(seconds):
    """Fail with TimeoutError instead of hanging when the block takes longer than `seconds`."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: a hang")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def watched(seconds=30):
    """Every warning recorded (the list is yielded), and a TimeoutError instead of a hang."""
    with deadline(seconds), warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        yield record


def lost_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, WorkerLostWarning)]


# ---- the sampler, with a fault at a random moment ------------------------------------------------

CHUNK, BATCHES = 3, 60          # 20 chunks of 3 minibatches


def sampler(prefetch, dataset=None):
    """The prepared skip-gram sampler (the default run's path) on a small fake vocabulary."""
    return BatchSampler(dataset or FakeDataset(), np.random.default_rng(11), batch=4, C=3, K=5,
                        model=skipgram_batch, negsample=True, chunk=CHUNK, prepare_for=(50, 6),
                        prefetch=prefetch)


def take(s, n, pause=None):
    """n minibatches (copies of their arrays: the views are recycled); `pause()` seconds between."""
    out = []
    for _ in range(n):
        p = s.next_prepared()
        out.append((p.rows.copy(), p.flat.copy()))
        if pause:
            time.sleep(pause())
    return out


@pytest.fixture(scope="module")
def expected():
    return take(sampler(False), BATCHES)


@needs_worker
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSTOP], ids=["kill-9", "kill-STOP"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_worker_killed_or_stopped_at_a_random_moment_changes_no_minibatch(expected, sig, seed):
    rnd = random.Random(seed)
    s = sampler(True)
    with watched() as record:
        try:
            got = take(s, 1)                           # the worker runs
            pid = s._source._proc.pid
            # the signal lands at a random time while minibatches are being taken, whatever
            # the worker is doing then (drawing, copying, sending, napping on full slots)
            timer = threading.Timer(rnd.uniform(0, 0.05), os.kill, (pid, sig))
            timer.start()
            got += take(s, 20, pause=lambda: rnd.uniform(0, 0.004))
            timer.join()
            got += take(s, BATCHES - len(got))         # more chunks than the worker had ready
        finally:
            s.close()
    assert len(got) == BATCHES
    for (rows, flat), (rows_e, flat_e) in zip(got, expected):
        assert np.array_equal(rows, rows_e) and np.array_equal(flat, flat_e)
    what = "died (killed by signal 9)" if sig == signal.SIGKILL else \
        "was stopped (SIGSTOP) and has been killed"
    assert lost_warnings(record) == [
        f"the batch worker process (pid {pid}) {what}; the batches are now drawn in this process: "
        "the same batches, so the same result, only slower"]
    assert gone(pid) and child_pids(os.getpid()) == []


def chunks(prefetcher, n):
    out = []
    for _ in range(n):
        arrays = prefetcher.next()
        out.append({k: v.copy() for k, v in arrays.items()})
    return out


def make_produce(fault=None, at=(3,)):
    """A small produce(rng); in the worker process only, its calls number `at` (1 = the first)
    run `fault()` first."""
    parent, calls = os.getpid(), [0]

    def produce(rng):
        calls[0] += 1
        if fault is not None and os.getpid() != parent and calls[0] in at:
            fault()
        n = int(rng.integers(1, 20))
        return {"a": rng.integers(0, 1000, size=n), "b": rng.standard_normal(3)}
    return produce


CAPACITY = {"a": (np.int64, 20), "b": (np.float64, 3)}


def same_chunks(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.keys() == w.keys() and all(np.array_equal(g[k], w[k]) for k in g)


@needs_worker
def test_a_silent_worker_is_given_up_after_the_timeout():
    # a worker that hangs without being stopped (asleep for an hour in its third chunk)
    want = chunks(Prefetcher(make_produce(), np.random.default_rng(5), CAPACITY, worker=False), 8)
    p = Prefetcher(make_produce(lambda: time.sleep(3600)), np.random.default_rng(5), CAPACITY,
                   worker=True, silence=0.5)
    t0 = time.monotonic()
    with watched() as record:
        try:
            got = chunks(p, 8)
        finally:
            p.close()
    assert time.monotonic() - t0 < 10
    same_chunks(got, want)
    (message,) = lost_warnings(record)
    assert re.search(r"\(pid \d+\) sent nothing for \d s and has been killed; ", message), message
    assert child_pids(os.getpid()) == []


@needs_worker
def test_a_chunk_that_fails_in_the_worker_only_is_drawn_here():
    want = chunks(Prefetcher(make_produce(), np.random.default_rng(6), CAPACITY, worker=False), 8)

    def fail():
        raise MemoryError("out of memory in the worker")
    p = Prefetcher(make_produce(fail), np.random.default_rng(6), CAPACITY, worker=True)
    with watched() as record:
        try:
            got = chunks(p, 8)
        finally:
            p.close()
    same_chunks(got, want)
    (message,) = lost_warnings(record)
    assert "failed to draw a chunk (MemoryError: out of memory in the worker)" in message
    assert child_pids(os.getpid()) == []


@needs_worker
def test_a_worker_that_cannot_be_forked_is_done_without(monkeypatch):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")
    want = chunks(Prefetcher(make_produce(), np.random.default_rng(8), CAPACITY, worker=False), 4)
    p = Prefetcher(make_produce(), np.random.default_rng(8), CAPACITY, worker=True)
    monkeypatch.setattr(prefetch.os, "fork", no_fork)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = chunks(p, 4)
        p.close()
    same_chunks(got, want)
    assert lost_warnings(record) == [
        "the batch worker process could not be started (Resource temporarily unavailable); the "
        "batches are now drawn in this process: the same batches, so the same result, only slower"]


class FailingDataset(FakeDataset):
    def sample_negatives(self, rng, targets, K):
        raise ValueError("no negatives today")


@needs_worker
def test_a_chunk_that_fails_everywhere_raises_its_own_error_and_the_worker_is_reaped():
    # a real error (bad data) reaches the caller with its own type, as without a worker, so
    # the scripts print it as one line; no warning about the worker
    s = sampler(True, FailingDataset())
    with watched() as record:
        with pytest.raises(ValueError, match="no negatives today"):
            s.next_prepared()
        s.close()
    assert lost_warnings(record) == []
    assert child_pids(os.getpid()) == []


def test_the_silence_must_be_positive():
    with pytest.raises(ValueError, match="silence must be a positive number of seconds, got 0"):
        Prefetcher(make_produce(), np.random.default_rng(0), CAPACITY, silence=0)


@needs_worker
def test_a_stopped_worker_dies_with_its_killed_parent():
    # the pipe's EOF cannot reach a stopped worker: the kernel's SIGKILL on the parent's death can
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {ROOT!r}); sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
        import numpy as np
        from test_bad_inputs_engine import CAPACITY, make_produce
        from w2v_engine.prefetch import Prefetcher
        p = Prefetcher(make_produce(), np.random.default_rng(0), CAPACITY, worker=True)
        p.next()
        print(p._proc.pid, flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    worker = None
    try:
        worker = int(proc.stdout.readline())
        os.kill(worker, signal.SIGSTOP)
        proc.kill()
        proc.wait(timeout=30)
        assert gone(worker), "a stopped worker outlived its killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        if worker is not None and not gone(worker, timeout=0.1):   # the test failed: clean up
            os.kill(worker, signal.SIGKILL)


# ---- python q3_run.py --------------------------------------------------------------------------

RUN = ["--iterations", "6000", "--save-every", "3000", "--print-every", "100000", "--no-plot",
       "--neighbours"]


def start(sst, folder, cwd, **popen_kwargs):
    """q3_run.py with its worker; (proc, worker pid) once the worker runs."""
    proc = subprocess.Popen([sys.executable, SCRIPT, "--data", sst.path, "--checkpoint-dir", folder,
                             "--vectors-out", folder + ".txt"] + RUN, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **popen_kwargs)
    deadline_at = time.monotonic() + 60
    while not child_pids(proc.pid) and proc.poll() is None and time.monotonic() < deadline_at:
        time.sleep(0.005)
    workers = child_pids(proc.pid)
    if len(workers) != 1:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"expected one worker process, got {workers}: {out}{err}")
    return proc, workers[0]


def finish(proc):
    try:
        return proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:                  # a hang: do not leave it behind
            proc.kill()
            proc.communicate()


@pytest.fixture(scope="module")
def uninterrupted(sst, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("reference")
    run = subprocess.run([sys.executable, SCRIPT, "--data", sst.path, "--checkpoint-dir", "ck",
                          "--vectors-out", "ck.txt", "--no-worker"] + RUN, cwd=cwd,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return load_saved_params(str(cwd / "ck"))


@needs_worker
@pytest.mark.parametrize("sig,seed", [(signal.SIGKILL, 1), (signal.SIGSTOP, 2)],
                         ids=["kill-9", "kill-STOP"])
def test_q3_run_goes_on_bit_identical_when_its_worker_is_killed_or_stopped(
        sst, tmp_path, uninterrupted, sig, seed):
    proc, worker = start(sst, "ck", tmp_path)
    time.sleep(random.Random(seed).uniform(0, 0.3))      # a random moment of the training
    os.kill(worker, sig)
    out, err = finish(proc)
    assert proc.returncode == 0, out + err
    what = "died (killed by signal 9)" if sig == signal.SIGKILL else \
        "was stopped (SIGSTOP) and has been killed"
    assert err.splitlines() == [
        f"warning: the batch worker process (pid {worker}) {what}; the batches are now drawn in "
        "this process: the same batches, so the same result, only slower"], err
    it, params, state = load_saved_params(str(tmp_path / "ck"))
    it_e, params_e, state_e = uninterrupted
    assert it == it_e == 6000
    assert np.array_equal(params, params_e) and state["expcost"] == state_e["expcost"]
    assert gone(worker)


@needs_worker
def test_a_run_stopped_whole_by_ctrl_z_does_not_blame_its_worker(tmp_path):
    # Ctrl-Z stops a run and its worker together (one process group); `fg` continues both. Here
    # the worker's third chunk takes 0.2 s of CPU (which a stop does not shorten), and the run is
    # stopped while it waits for that chunk, for longer (2 s) than the silence allowed (1.5 s):
    # only time the run itself was running counts, so the worker is not blamed.
    code = textwrap.dedent(f"""
        import hashlib, sys, time
        sys.path.insert(0, {ROOT!r}); sys.path.insert(0, {os.path.join(ROOT, "tests")!r})
        import numpy as np
        from test_bad_inputs_engine import CAPACITY, make_produce
        from w2v_engine.prefetch import Prefetcher
        def busy():
            t = time.process_time() + 0.2
            while time.process_time() < t:
                pass
        p = Prefetcher(make_produce(busy, at=(3,)), np.random.default_rng(3), CAPACITY,
                       worker=sys.argv[1] == "worker", silence=1.5)
        digest = hashlib.sha256()
        for i in range(6):
            for a in p.next().values():
                digest.update(a.tobytes())
            if i == 1:
                print("waiting for the third chunk", flush=True)
        p.close()
        print(digest.hexdigest())
    """)
    inline = subprocess.run([sys.executable, "-c", code, "here"], capture_output=True, text=True,
                            timeout=60)
    proc = subprocess.Popen([sys.executable, "-c", code, "worker"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout.readline() == "waiting for the third chunk\n"
        time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGSTOP)
        time.sleep(2)
        os.killpg(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 0 and err == "", out + err
    assert inline.stdout.split()[-1:] == out.split() and len(out.split()) == 1


# ---- versions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("version,slow", [("1.22.4", True), ("1.24.4", True), ("1.9.3", True),
                                          ("1.25.0", False), ("1.26.4", False), ("2.0.0", False),
                                          ("2.4.0rc1", False), ("10.0.0", False), ("dev", False)])
def test_a_numpy_that_makes_training_slow_is_named(version, slow):
    note = slow_numpy_note(version)
    assert (note is not None) == slow
    if slow:
        assert note.startswith(f"NumPy {version} makes this training 4-5 times slower")
        assert "pip install -r requirements.txt" in note
