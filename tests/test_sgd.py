"""q3_sgd: the course's behaviour, sparse updates and exact, crash-safe checkpoints."""
import os
import random
import re
import stat
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from q3_sgd import (CheckpointConfigError, CheckpointWarning, SGDResult, TrainingDivergedError,
                    load_saved_params, save_params, sgd)
from utils.files import atomic_write
from w2v_engine.sparse import SparseRows

QUIET = 10 ** 9   # PRINT_EVERY that never prints


def quad(x):
    return np.sum(x ** 2), 2 * x


def quad_after(x0, step, n):
    """x after n sgd steps on quad, with sgd's own arithmetic (x -= step * 2x)."""
    x = np.array(x0, dtype=float)
    for _ in range(n):
        x -= step * (2 * x)
    return x


# ---- the course's behaviour -------------------------------------------------------
@pytest.mark.parametrize("x0", [0.5, 0.0, -1.5])
def test_course_quadratic(x0, capsys):
    t = sgd(quad, x0, 0.01, 1000, PRINT_EVERY=100)
    assert isinstance(t, float)                     # a number in, a number out
    assert abs(t) <= 1e-6


def test_course_progress_lines(capsys):
    # after k iterations x = 0.5 * 0.98^k; iteration k evaluates the cost at x_(k-1), and the
    # cost is smoothed every 100 iterations: hand-checkable numbers
    sgd(quad, 0.5, 0.01, 300, PRINT_EVERY=100)
    lines = capsys.readouterr().out.split("\n")
    c100, c200, c300 = [(0.5 * 0.98 ** (k - 1)) ** 2 for k in (100, 200, 300)]
    e200 = 0.95 * c100 + 0.05 * c200
    e300 = 0.95 * e200 + 0.05 * c300
    assert lines[:3] == ["iter 100: %f" % c100, "iter 200: %f" % e200, "iter 300: %f" % e300]
    assert lines[0] == "iter 100: 0.004578"         # the course's published first line
    # and exactly, through the progress hook: expcost = 0.95 * expcost + 0.05 * cost
    seen = []
    sgd(quad, 0.5, 0.01, 300, PRINT_EVERY=100, progress=lambda i, c, info: seen.append(c))
    c = [float(np.sum(quad_after(0.5, 0.01, k - 1) ** 2)) for k in (100, 200, 300)]
    e = [c[0], 0.95 * c[0] + 0.05 * c[1]]
    e.append(0.95 * e[1] + 0.05 * c[2])
    assert seen == e


def test_anneal_halves_every_anneal_every():
    # constant gradient 1: x drops by the step of every iteration
    x = sgd(lambda x: (0.0, np.ones_like(x)), np.zeros(3), 1.0, 45, anneal_every=20,
            PRINT_EVERY=QUIET)
    assert x.shape == (3,)
    assert np.array_equal(x, np.full(3, -(20 * 1.0 + 20 * 0.5 + 5 * 0.25)))


def test_x0_not_modified_and_postprocessing_applied():
    x0 = np.ones((2, 2))
    out = sgd(quad, x0, 0.1, 3, postprocessing=lambda x: x * 0 + 7.0, PRINT_EVERY=QUIET)
    assert np.array_equal(x0, np.ones((2, 2)))
    assert out.shape == (2, 2) and np.array_equal(out, np.full((2, 2), 7.0))


# ---- sparse gradients ----------------------------------------------------------------
def _sparse_problem(seed, repeats, width=5):
    """f(x) touching 12 random rows of a (40, width) matrix; its randomness is a private
    Generator made per call of this function, so two runs see the same rows."""
    target = np.random.default_rng(seed).standard_normal((40, width))
    gen = np.random.default_rng(seed + 1)

    def f(x):
        rows = (gen.integers(0, 40, size=12) if repeats      # repeats are likely
                else gen.permutation(40)[:12])               # never a repeat
        diff = x[rows] - target[rows]                         # (12, width)
        return float(np.sum(diff ** 2)), SparseRows(rows, 2 * diff)
    return f


def _dense_version(f):
    def f_dense(x):
        cost, g = f(x)
        return cost, g.to_dense(x.shape)
    return f_dense


# an even width takes the complex-pair scatter, an odd one the plain float scatter
WIDTHS = [5, 6]


@pytest.mark.parametrize("width", WIDTHS)
def test_sparse_equals_dense_bit_for_bit_without_repeats(width):
    x0 = np.random.default_rng(5).standard_normal((40, width))
    a = sgd(_sparse_problem(1, False, width), x0, 0.05, 200, PRINT_EVERY=QUIET)
    b = sgd(_dense_version(_sparse_problem(1, False, width)), x0, 0.05, 200, PRINT_EVERY=QUIET)
    assert a.shape == b.shape == (40, width)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, x0)


@pytest.mark.parametrize("width", WIDTHS)
def test_sparse_with_repeats_is_sequential_and_equals_dense_to_rounding(width):
    x0 = np.random.default_rng(5).standard_normal((40, width))
    a = sgd(_sparse_problem(1, True, width), x0, 0.05, 200, PRINT_EVERY=QUIET)
    b = sgd(_dense_version(_sparse_problem(1, True, width)), x0, 0.05, 200, PRINT_EVERY=QUIET)
    assert a.shape == b.shape == (40, width)
    assert np.allclose(a, b, rtol=1e-13, atol=1e-15)
    # the documented arithmetic exactly: each entry subtracted in turn, x_r - s*v1 - s*v2
    f = _sparse_problem(1, True, width)
    ref = x0.copy()
    for _ in range(200):
        _, g = f(ref)
        for r, v in zip(g.rows, g.values):
            ref[r] -= 0.05 * v
    assert np.array_equal(a, ref)


@pytest.mark.parametrize("width", [3, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_repeated_rows_add_and_untouched_rows_stay(width, dtype):
    x0 = np.arange(4.0 * width, dtype=dtype).reshape(4, width)
    g = SparseRows(np.array([2, 0, 2, 2]), np.ones((4, width)))
    x = sgd(lambda x: (0.0, g), x0, 0.5, 1, PRINT_EVERY=QUIET)
    expected = x0.copy()
    expected[2] -= 1.5                               # three repeats of 0.5 * 1
    expected[0] -= 0.5
    assert x.shape == (4, width) and x.dtype == dtype and np.array_equal(x, expected)


def test_sparse_gradient_on_a_vector():
    g = SparseRows(np.array([3, 1, 3]), np.array([1.0, 2.0, 4.0]))
    x = sgd(lambda x: (0.0, g), np.zeros(5), 0.5, 1, PRINT_EVERY=QUIET)
    assert x.shape == (5,) and np.array_equal(x, [0.0, -1.0, 0.0, -2.5, 0.0])


@pytest.mark.parametrize("bad_row", [-1, 4])
def test_sparse_row_out_of_range_is_an_error(bad_row):
    g = SparseRows(np.array([0, bad_row]), np.ones((2, 3)))
    with pytest.raises(IndexError, match=r"out of range \[0, 4\)"):
        sgd(lambda x: (0.0, g), np.zeros((4, 3)), 0.5, 1, PRINT_EVERY=QUIET)


def test_any_gradient_object_with_add_to_is_applied_in_place():
    # the protocol of q3_sgd's docstring: add_to(x, factor) does x += factor * grad in place
    seen = []

    class Doubling:
        def add_to(self, x, factor):
            seen.append((factor, x))
            x[1] += factor * 2.0
    x = sgd(lambda x: (0.0, Doubling()), np.zeros((3, 2)), 0.25, 4, PRINT_EVERY=QUIET,
            anneal_every=2)
    assert np.array_equal(x, [[0, 0], [-1.5, -1.5], [0, 0]])    # 2 * (0.25 + 0.25 + 0.125 + 0.125)
    assert [factor for factor, _ in seen] == [-0.25] * 2 + [-0.125] * 2
    assert all(arg is x for _, arg in seen)     # sgd's own x, updated in place every iteration


class NotDensifiable:
    """A sparse gradient that fails loudly if anything tries to make it dense."""

    def __init__(self, rows, values):
        self.rows, self.values = rows, values
        self.calls = 0

    def add_to(self, x, factor):
        self.calls += 1
        np.add.at(x, self.rows, factor * self.values)

    def _densified(self, *args, **kwargs):
        raise AssertionError("the sparse gradient was densified")
    __array__ = to_dense = __mul__ = __rmul__ = __neg__ = __float__ = _densified


def test_gradient_with_add_to_is_not_densified():
    g = NotDensifiable(np.array([2, 0, 2]), np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    x = sgd(lambda x: (0.0, g), np.zeros((4, 2)), 0.5, 3, PRINT_EVERY=QUIET)
    assert g.calls == 3
    assert np.array_equal(x, [[-4.5, -6.0], [0, 0], [-9.0, -12.0], [0, 0]])


def test_sparse_rows_fits_the_protocol():
    # SparseRows.add_to(x, factor, scatter=None): called with two arguments by sgd
    g = SparseRows(np.array([1, 1]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    x = sgd(lambda x: (0.0, g), np.ones((3, 2)), 0.5, 1, PRINT_EVERY=QUIET)
    assert np.array_equal(x, [[1, 1], [-1.0, -2.0], [1, 1]])


@pytest.mark.parametrize("grad", [1.0, 1, np.float64(1.0), np.ones(2)])
def test_numbers_and_arrays_are_dense(grad):
    x = sgd(lambda x: (0.0, grad), np.zeros(2), 0.5, 2, PRINT_EVERY=QUIET)
    assert np.array_equal(x, [-1.0, -1.0])


def test_ndarray_subclass_with_add_to_is_dense():
    class Tagged(np.ndarray):
        def add_to(self, x, factor):
            raise AssertionError("an ndarray is a dense gradient")
    grad = np.ones(2).view(Tagged)
    x = sgd(lambda x: (0.0, grad), np.zeros(2), 0.5, 2, PRINT_EVERY=QUIET)
    assert np.array_equal(x, [-1.0, -1.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_non_contiguous_postprocessing_gives_c_contiguous_float64(dtype):
    contiguous = []

    class Probe:
        def add_to(self, x, factor):
            contiguous.append(x.flags.c_contiguous and x.dtype == np.float64)
            x += factor
    out = sgd(lambda x: (0.0, Probe()), np.zeros((3, 2), dtype=dtype), 0.5, 3,
              postprocessing=np.asfortranarray, PRINT_EVERY=QUIET)
    assert out.flags.c_contiguous and out.dtype == np.float64
    assert contiguous == [dtype == np.float64, True, True]
    assert np.array_equal(out, np.full((3, 2), -1.5))


def test_postprocessing_must_keep_the_shape_of_x():
    # a number for a number is fine (the course's quadratic checks start from floats) ...
    out = sgd(quad, 1.0, 0.25, 2, postprocessing=lambda x: float(x) * 2, PRINT_EVERY=QUIET)
    assert isinstance(out, float) and out == 1.0                # 1 -> 0.5 -> 1 -> 0.5 -> 1
    # ... but a number for a vector would be broadcast by the next update: refused
    with pytest.raises(ValueError, match=r"postprocessing returned shape \(\), but x has shape "
                                         r"\(2,\)"):
        sgd(quad, np.ones(2), 0.25, 2, postprocessing=lambda x: np.float32(x.sum()),
            PRINT_EVERY=QUIET)


def test_details_say_where_it_resumed_from_and_what_it_saved_last(tmp_path):
    plain = sgd(quad, np.ones(3), 0.1, 20, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
                checkpoint_dir=str(tmp_path / "a"))
    first = sgd(quad, np.ones(3), 0.1, 20, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
                checkpoint_dir=str(tmp_path / "b"), details=True, smooth_every=20)
    assert isinstance(first, SGDResult) and np.array_equal(first.x, plain)
    assert first.resumed_from is None
    assert first.last_saved == (20, str(tmp_path / "b" / "saved_params_20.npz"))
    assert first.expcost == float(np.sum(quad_after(np.ones(3), 0.1, 19) ** 2))  # one smoothing
    again = sgd(quad, np.ones(3), 0.1, 25, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
                checkpoint_dir=str(tmp_path / "b"), details=True, smooth_every=10)
    assert again.resumed_from == first.last_saved
    assert again.last_saved == (25, str(tmp_path / "b" / "saved_params_25.npz"))
    assert sgd(quad, 2.0, 0.1, 3, PRINT_EVERY=QUIET, details=True) == (
        quad_after(2.0, 0.1, 3), None, None, None)                # no checkpoints, no smoothing


def test_q3_sgd_does_not_import_the_engine():
    code = ("import sys, q3_sgd; "
            "engine = sorted(m for m in sys.modules if m.split('.')[0] == 'w2v_engine'); "
            "assert not engine, engine")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


# ---- exact resume ----------------------------------------------------------------------
class Crash(Exception):
    pass


def _noisy_problem(crash_at=None):
    """A stochastic cost drawing from Python's random, NumPy's global state and a
    Generator, with a sparse gradient; optionally raises in the middle of an
    iteration (after the draws) to imitate a crash."""
    calls = {"n": 0}

    def make_f(gen):
        def f(x):
            calls["n"] += 1
            rows = gen.integers(0, x.shape[0], size=4)
            noise = random.random() + np.random.rand() + gen.standard_normal()
            if crash_at is not None and calls["n"] == crash_at:
                raise Crash
            diff = x[rows] - noise
            return float(np.sum(diff ** 2)), SparseRows(rows, 2 * diff)
        return f
    return make_f


def _seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    return np.random.default_rng(seed)


def test_resume_after_crash_equals_uninterrupted(tmp_path):
    x0 = np.zeros((6, 2))
    kw = dict(useSaved=True, save_every=10, PRINT_EVERY=5, smooth_every=1)
    lines_a, lines_b = [], []

    gen = _seed_all(7)
    whole = sgd(_noisy_problem()(gen), x0, 0.01, 60, checkpoint_dir=str(tmp_path / "a"),
                generators=[gen], progress=lambda i, c, info: lines_a.append((i, c)), **kw)

    gen = _seed_all(7)
    with pytest.raises(Crash):                      # dies inside iteration 37, after drawing
        sgd(_noisy_problem(crash_at=37)(gen), x0, 0.01, 60, checkpoint_dir=str(tmp_path / "b"),
            generators=[gen], progress=lambda i, c, info: lines_b.append((i, c)), **kw)
    assert sorted(os.listdir(tmp_path / "b")) == [f"saved_params_{i}.npz" for i in (10, 20, 30)]

    assert lines_b == lines_a[:len(lines_b)] and lines_b[-1][0] == 35

    gen = _seed_all(12345)                          # resuming must restore every state
    lines_c = []
    resumed = sgd(_noisy_problem()(gen), x0, 0.01, 60, checkpoint_dir=str(tmp_path / "b"),
                  generators=[gen], progress=lambda i, c, info: lines_c.append((i, c)), **kw)
    assert whole.shape == resumed.shape == (6, 2)
    assert np.array_equal(whole, resumed)
    # the smoothed cost is restored too: every line after the resume point matches
    assert lines_c == [line for line in lines_a if line[0] > 30]


def test_random_states_after_resume_match(tmp_path):
    x0 = np.zeros((6, 2))
    gen = _seed_all(3)
    sgd(_noisy_problem()(gen), x0, 0.01, 25, useSaved=True, save_every=10,
        checkpoint_dir=str(tmp_path / "a"), generators=[gen], PRINT_EVERY=QUIET)
    expected = (random.random(), np.random.rand(), gen.random())

    gen = _seed_all(3)
    sgd(_noisy_problem()(gen), x0, 0.01, 15, useSaved=True, save_every=10,
        checkpoint_dir=str(tmp_path / "b"), generators=[gen], PRINT_EVERY=QUIET)
    gen = _seed_all(99)
    sgd(_noisy_problem()(gen), x0, 0.01, 25, useSaved=True, save_every=10,
        checkpoint_dir=str(tmp_path / "b"), generators=[gen], PRINT_EVERY=QUIET)
    assert (random.random(), np.random.rand(), gen.random()) == expected


def test_anneal_arithmetic_on_resume(tmp_path):
    # resume at 21 (two halvings done: step 0.25) and at 14 (one halving: 0.5)
    const = lambda x: (0.0, np.ones_like(x))  # noqa: E731
    kw = dict(useSaved=True, anneal_every=7, PRINT_EVERY=QUIET, checkpoint_dir=str(tmp_path))
    sgd(const, np.zeros(2), 1.0, 14, save_every=14, **kw)
    it, _, state = load_saved_params(str(tmp_path))
    assert it == 14 and state["step"] == 0.25       # the step of iteration 15
    sgd(const, np.zeros(2), 1.0, 21, save_every=14, **kw)
    x = sgd(const, np.zeros(2), 1.0, 30, save_every=14, **kw)
    # 7 x 1 + 7 x 0.5 + 7 x 0.25 + 7 x 0.125 + 2 x 0.0625
    assert np.array_equal(x, np.full(2, -(7 + 3.5 + 1.75 + 0.875 + 0.125)))
    it, _, state = load_saved_params(str(tmp_path))
    assert it == 30 and state["step"] == 0.0625


def test_final_checkpoint_written_at_last_iteration(tmp_path):
    sgd(quad, np.ones(3), 0.1, 23, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
        checkpoint_dir=str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["saved_params_10.npz", "saved_params_20.npz",
                                            "saved_params_23.npz"]
    it, params, state = load_saved_params(str(tmp_path))
    assert it == 23 and params.shape == (3,)
    assert np.array_equal(params, quad_after(np.ones(3), 0.1, 23))
    # a finished run resumed with the same length does nothing and returns the result
    again = sgd(quad, np.ones(3), 0.1, 23, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
                checkpoint_dir=str(tmp_path))
    assert np.array_equal(again, params)


def test_checkpoint_has_no_pickle_and_holds_everything(tmp_path):
    gen = _seed_all(0)
    path = save_params(5, np.arange(6.0).reshape(3, 2), str(tmp_path), step=0.3,
                       config={"dim": 2}, generators=[gen], expcost=1.5)
    assert path == os.path.join(str(tmp_path), "saved_params_5.npz")
    with np.load(path, allow_pickle=False) as data:   # would raise on an object array
        assert all(data[k].dtype.kind != "O" for k in data.files)
    it, params, state = load_saved_params(str(tmp_path))
    assert it == 5 and params.shape == (3, 2)
    assert np.array_equal(params, np.arange(6.0).reshape(3, 2))
    assert state["step"] == 0.3 and state["expcost"] == 1.5 and state["config"] == {"dim": 2}
    assert state["python_random"] == random.getstate()
    np_state = np.random.get_state()
    assert np.array_equal(state["numpy_random"][1], np_state[1])
    assert state["numpy_random"][2:] == np_state[2:]
    assert state["generators"][0]["state"] == gen.bit_generator.state


def test_no_checkpoint_gives_zero(tmp_path):
    assert load_saved_params(str(tmp_path / "missing")) == (0, None, None)


# ---- damaged, mismatched, diverged ----------------------------------------------------
def _three_checkpoints(folder):
    return sgd(quad, np.ones((2, 2)), 0.1, 30, useSaved=True, save_every=10,
               PRINT_EVERY=QUIET, checkpoint_dir=str(folder))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "bitflip"])
def test_damaged_newest_checkpoint_skipped(tmp_path, damage):
    whole = _three_checkpoints(tmp_path)
    newest = tmp_path / "saved_params_30.npz"
    data = newest.read_bytes()
    if damage == "truncate":
        newest.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        newest.write_bytes(b"not a checkpoint" * 10)
    elif damage == "empty":
        newest.write_bytes(b"")
    else:   # one flipped bit in the stored parameters: the zip CRC catches it
        with zipfile.ZipFile(newest) as z:
            info = z.getinfo("params.npy")
        pos = info.header_offset + 30 + len(info.filename) + len(info.extra) + 150
        newest.write_bytes(data[:pos] + bytes([data[pos] ^ 1]) + data[pos + 1:])
    with pytest.warns(CheckpointWarning, match="saved_params_30.npz"):
        it, params, _ = load_saved_params(str(tmp_path))
    assert it == 20 and np.array_equal(params, quad_after(np.ones((2, 2)), 0.1, 20))
    with pytest.warns(CheckpointWarning, match="saved_params_30.npz"):
        resumed = _three_checkpoints(tmp_path)       # resumes from 20, rewrites 30
    assert np.array_equal(resumed, whole)
    assert load_saved_params(str(tmp_path))[0] == 30


@pytest.mark.parametrize("change", ["config", "step", "shape", "generators"])
def test_mismatched_configuration_refused(tmp_path, change):
    gen = np.random.default_rng(0)
    base = dict(x0=np.ones((2, 2)), step=0.1, config={"dim": 2, "model": "skipgram"},
                generators=[gen])
    changed = dict(base)
    if change == "config":
        changed["config"] = {"dim": 2, "model": "cbow"}
    elif change == "step":
        changed["step"] = 0.2
    elif change == "shape":
        changed["x0"] = np.ones((3, 2))
    else:
        changed["generators"] = []

    def run(a, **kw):
        return sgd(quad, a["x0"], a["step"], 20, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
                   checkpoint_dir=str(tmp_path), config=a["config"], generators=a["generators"],
                   **kw)
    run(base)
    with pytest.raises(CheckpointConfigError) as err:
        run(changed)
    msg = str(err.value)
    assert "saved_params_20.npz" in msg and "--fresh" in msg and str(tmp_path) in msg
    if change == "config":
        assert "model" in msg and "'skipgram'" in msg and "'cbow'" in msg
    # fresh=True discards the old checkpoints and starts again
    out = run(changed, fresh=True)
    assert np.array_equal(out, quad_after(changed["x0"], changed["step"], 20))


def test_resume_beyond_requested_iterations_refused(tmp_path):
    _three_checkpoints(tmp_path)
    with pytest.raises(CheckpointConfigError, match="iteration 30.*--fresh"):
        sgd(quad, np.ones((2, 2)), 0.1, 25, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
            checkpoint_dir=str(tmp_path))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_cost_stops_and_keeps_last_good_checkpoint(tmp_path, bad):
    calls = {"n": 0}

    def f(x):
        calls["n"] += 1
        return (bad if calls["n"] == 25 else float(np.sum(x ** 2))), 2 * x
    with pytest.raises(TrainingDivergedError, match=r"iteration 25\b.*saved_params_20\.npz"):
        sgd(f, np.ones(2), 0.1, 40, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
            checkpoint_dir=str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["saved_params_10.npz", "saved_params_20.npz"]
    it, params, _ = load_saved_params(str(tmp_path))
    assert it == 20 and np.array_equal(params, quad_after(np.ones(2), 0.1, 20))


def test_atomic_write_failure_keeps_old_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def half_then_fail(fh):
        fh.write(b"new new new")
        raise OSError("disk full")
    with pytest.raises(OSError, match="disk full"):
        atomic_write(str(target), half_then_fail)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]       # no temporary file left


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_temp_file_is_new_unguessable_and_gets_the_umask_mode(tmp_path, umask, mode):
    temps = []

    def write(fh):
        temps.extend(n for n in os.listdir(tmp_path) if n != "out.bin")
        fh.write(b"data")
    old_umask = os.umask(umask)
    try:
        for _ in range(2):
            atomic_write(str(tmp_path / "out.bin"), write)
    finally:
        os.umask(old_umask)
    # ".<name>.<pid>.<8 random hex>.tmp": the pid tells a live writer's file from a stale one
    assert len(temps) == 2 and temps[0] != temps[1]
    for name in temps:
        assert re.fullmatch(rf"\.out\.bin\.{os.getpid()}\.[0-9a-f]{{8}}\.tmp", name), name
    assert stat.S_IMODE(os.stat(tmp_path / "out.bin").st_mode) == mode      # as open() gives
    assert (tmp_path / "out.bin").read_bytes() == b"data"
    assert os.listdir(tmp_path) == ["out.bin"]
