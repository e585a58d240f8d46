"""Question 3(e): stochastic gradient descent, with exact checkpoints.

``sgd(f, x0, step, iterations, postprocessing=None, useSaved=False, PRINT_EVERY=10)``
is the course's: each iteration ``cost, grad = f(x)``, ``x -= step * grad``,
``x = postprocessing(x)``; every ``PRINT_EVERY`` iterations ``expcost = 0.95 *
expcost + 0.05 * cost`` is printed (``iter 100: 12.345678``); the step halves
every ``ANNEAL_EVERY = 20000`` iterations; with ``useSaved`` a checkpoint is
written every ``SAVE_PARAMS_EVERY = 5000`` and a run resumes from the newest,
with the step ``step0 * 0.5 ** (start // ANNEAL_EVERY)`` (integer division).

Sparse gradients: one that is not an ndarray or a number and has a method ``add_to(x,
factor)`` doing ``x += factor * grad`` in place, on its rows only (``w2v_engine.sparse.
SparseRows``), is applied as ``grad.add_to(x, -step)``: the dense (N, D) one is never built.

Checkpoints (``utils/checkpoint.py``) hold x, the step, the smoothed cost, every random state
and the run's configuration: a run killed at any moment and started again ends exactly as one
never stopped. ``load_saved_params(checkpoint_dir)`` gives ``(iteration, x, state)``.
"""
import math
import os
import random
import sys
import tempfile
import time
from typing import NamedTuple

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
import numpy as np  # noqa: E402  (after guard: a Ctrl-C while NumPy loads is one line too)

from utils.arg_checks import as_x, check_sgd_args
from utils.checkpoint import (  # noqa: F401  (re-exported: q3_run.py, bench and tests import them)
    DEFAULT_CHECKPOINT_DIR, DEFAULT_KEEP, CheckpointConfigError, CheckpointWarning,
    load_saved_params, resume, save_params)

# ---- hyper-parameters (the course's) -----------------------------------------
SAVE_PARAMS_EVERY = 5000          # iterations between checkpoints (when useSaved)
ANNEAL_EVERY = 20000              # the step is halved after every ANNEAL_EVERY iterations
SMOOTH_KEEP, SMOOTH_NEW = 0.95, 0.05   # expcost <- 0.95 * expcost + 0.05 * cost (the course's)
DENSE = (np.ndarray, np.generic, float, int)   # gradients that are never sparse


class TrainingDivergedError(FloatingPointError):
    """The cost, the gradient or the parameters became NaN or infinite; the message says when."""


def _diverged(when, what, last_saved):
    kept = (f"; the last good checkpoint {last_saved[1]} (iteration {last_saved[0]}) is kept"
            if last_saved else "")
    return TrainingDivergedError(f"sgd: {when} {what}{kept}. Try a smaller step.")


class SGDResult(NamedTuple):
    """``sgd(..., details=True)``: x; ``(iteration, path)`` of the checkpoint it resumed from
    and of the last one it wrote (or None); the final smoothed cost (or None)."""
    x: object
    resumed_from: tuple | None
    last_saved: tuple | None
    expcost: float | None


def print_classic_progress(iteration, smoothed_cost, info):
    """The course's progress line: ``iter 100: 12.345678``."""
    print("iter %d: %f" % (iteration, smoothed_cost), flush=True)


def sgd(f, x0, step, iterations, postprocessing=None, useSaved=False, PRINT_EVERY=10, *,
        checkpoint_dir=DEFAULT_CHECKPOINT_DIR, save_every=SAVE_PARAMS_EVERY,
        anneal_every=ANNEAL_EVERY, smooth_every=None, config=None, generators=(),
        progress=None, fresh=False, keep=DEFAULT_KEEP, details=False):
    """Stochastic gradient descent: the course's ``sgd`` plus exact checkpoints.

    Parameters
    ----------
    f : callable
        ``f(x) -> (cost, grad)``; grad dense (x's shape) or sparse (module docstring).
    x0 : float or ndarray, e.g. (2V, D)
        Start point (copied).
    step : float
        Initial step; halved after every `anneal_every` iterations.
    iterations : int
        Total iterations, counting those done before a resume.
    postprocessing : callable or None
        ``x = postprocessing(x)`` after every update (e.g. normalizeRows); x's shape.
    useSaved : bool
        Resume from the newest checkpoint in `checkpoint_dir`; write one every
        `save_every` iterations and at the last iteration.
    PRINT_EVERY, smooth_every : int (smooth_every None: PRINT_EVERY)
        Iterations between progress lines, and between updates of the smoothed cost.
    checkpoint_dir, save_every, anneal_every : str, int, int
        Folder of the checkpoints (q3_run.py holds its lock), the checkpoint and annealing
        periods (the course's 5000 and 20000).
    config, generators : dict or None, sequence
        JSON-compatible description of the run (resuming with another is refused); extra
        random generators the run uses, checkpointed (utils.random_states).
    progress : callable or None
        ``progress(iteration, smoothed_cost, info)``; None: the course's line.
    fresh, keep : bool, int or None
        With useSaved: start at 0, deleting the folder's checkpoints; keep the newest `keep`.
    details : bool
        Return an `SGDResult` (x, where it resumed from, what it saved last, expcost).

    Returns
    -------
    x : float or ndarray
        The parameters after `iterations` iterations (a float if x0 was a number).

    Raises
    ------
    TypeError, ValueError
        A bad argument, named (before any iteration; a postprocessing changing x's shape at
        the first). CheckpointConfigError: a checkpoint of another configuration.
    TrainingDivergedError
        The cost was NaN or infinite (not applied), or x was at a checkpoint or at the end
        (a NaN or infinite gradient: checked there, not every iteration; not saved).
    """
    smooth_every = PRINT_EVERY if smooth_every is None else smooth_every
    check_sgd_args(f, x0, step, iterations, postprocessing, progress, keep,
                   {"save_every": save_every, "anneal_every": anneal_every,
                    "PRINT_EVERY": PRINT_EVERY, "smooth_every": smooth_every})
    scalar_input = np.ndim(x0) == 0 and not isinstance(x0, np.ndarray)
    x = np.array(x0, dtype=np.result_type(np.asarray(x0).dtype, np.float32), copy=True)
    shape = x.shape
    progress = print_classic_progress if progress is None else progress
    generators = list(generators)
    start = resume(checkpoint_dir if useSaved else None, x, step, iterations,
                   anneal_every=anneal_every, config=config, generators=generators, fresh=fresh)
    x, step, expcost, last_saved = start.x, start.step, start.expcost, start.last_saved

    t0, info = time.perf_counter(), {"start_iteration": start.iteration,
                                     "iterations": iterations, "elapsed": 0.0, "step": step}
    for it in range(start.iteration + 1, iterations + 1):
        cost, grad = f(x)
        if not math.isfinite(cost):
            raise _diverged(f"at iteration {it}", f"the cost is {cost}: the update is not "
                            "applied", last_saved)
        if not isinstance(grad, DENSE) and hasattr(grad, "add_to"):
            grad.add_to(x, -step)            # sparse: x += -step * grad on its rows only
        else:
            x -= step * grad
        if postprocessing is not None:
            x = postprocessing(x)
            if (not isinstance(x, np.ndarray) or not x.flags.c_contiguous or x.shape != shape
                    or x.dtype.kind != "f"):
                x = as_x(x, shape)   # C order (add_to uses a flat view of x), or a ValueError
        if it % smooth_every == 0:
            expcost = float(cost) if expcost is None else (
                SMOOTH_KEEP * expcost + SMOOTH_NEW * float(cost))
        if it % PRINT_EVERY == 0:
            info.update(elapsed=time.perf_counter() - t0, step=step)
            progress(it, float(cost) if expcost is None else expcost, info)
        if it % anneal_every == 0:
            step *= 0.5  # the step of the next iteration: the one a checkpoint here must hold
        if useSaved and (it % save_every == 0 or it == iterations):
            if not np.isfinite(x).all():    # saved, it would pass for the last good checkpoint
                raise _diverged(f"at iteration {it}", "x holds NaN or infinite values: it is "
                                "not saved", last_saved)
            last_saved = (it, save_params(it, x, checkpoint_dir, step=step, config=start.config,
                                          generators=generators, expcost=expcost, keep=keep,
                                          iterations=iterations))
    if iterations > start.iteration and not np.isfinite(x).all():   # a gradient was NaN or inf
        raise _diverged(f"after iteration {iterations}", "x holds NaN or infinite values (a "
                        "gradient was, with a finite cost)", last_saved)
    x = float(x) if scalar_input else x
    return SGDResult(x, start.last_saved, last_saved, expcost) if details else x


# ---- self-test -------------------------------------------------------------------
class RowGradient:
    """A sparse gradient (rows (m,), values (m, D)) in the protocol ``add_to(x, factor)``."""
    def __init__(self, rows, values):
        self.rows, self.values = rows, values

    def add_to(self, x, factor):
        # np.add.at, not x[rows] += ...: that would keep only the last value of a repeated row
        np.add.at(x, self.rows, factor * self.values)


def _check_quadratics():
    """The course's sanity check: sgd on sum(x^2) reaches 0 from three starts."""
    quad = lambda x: (np.sum(x ** 2), x * 2)  # noqa: E731  (cost, gradient)
    print("Running sanity checks...")
    for x0 in (0.5, 0.0, -1.5):
        t = sgd(quad, x0, 0.01, 1000, PRINT_EVERY=100)
        print("test result:", t)
        assert abs(t) <= 1e-6, f"sgd on x^2 from {x0} ended at {t}"


def _check_own(tmp):
    """Anneal arithmetic, sparse == dense, exact resume, config refusal, NaN stops."""
    end = sgd(lambda x: (0.0, np.ones_like(x)), np.zeros(2), 1.0, 25, anneal_every=10,
              PRINT_EVERY=1000)
    assert np.array_equal(end, np.full(2, -(10 + 5 + 1.25))), end
    print("annealing: 10 x 1 + 10 x 0.5 + 5 x 0.25 = 16.25  ok")

    target, start = np.random.default_rng(0).standard_normal((2, 6, 3))

    def f(x, rows, dense):
        values = 2 * (x[rows] - target[rows]) + 1e-3 * np.arange(3.0 * len(rows)).reshape(-1, 3)
        grad = np.zeros(x.shape) if dense else RowGradient(rows, values)
        if dense:
            RowGradient(rows, values).add_to(grad, 1.0)     # the same gradient as a (6, 3) array
        return float(np.sum((x[rows] - target[rows]) ** 2)), grad
    for rows in (np.array([1, 4, 0]), np.array([1, 4, 1, 0, 1])):     # then row 1 three times
        a, b = (sgd(lambda x: f(x, rows, d), start, 0.1, 50, PRINT_EVERY=1000) for d in (0, 1))
        assert a.shape == b.shape == (6, 3) and np.allclose(a, b, rtol=1e-13, atol=1e-15), (a, b)
        assert np.array_equal(a[[2, 3, 5]], start[[2, 3, 5]]) and (
            len(rows) > 3 or np.array_equal(a, b)), "sparse != dense, or untouched rows changed"
    print("sparse gradient == dense gradient (bit for bit without repeated rows)  ok")

    def noisy(x):  # uses Python's random, NumPy's global state and a Generator
        noise = random.random() + np.random.rand() + gen.random()
        return float(np.sum(x ** 2)) + noise, 2 * x + noise

    runs = {}
    for name, n, seed in (("whole", 30, 1), ("part", 20, 1), ("resumed", 30, 99)):
        random.seed(seed), np.random.seed(seed)     # resume must restore every state
        gen = np.random.default_rng(seed)
        runs[name] = sgd(noisy, np.ones(3), 0.01, n, useSaved=True, PRINT_EVERY=1000,
                         checkpoint_dir=os.path.join(tmp, "a" if name == "whole" else "b"),
                         save_every=10, generators=[gen])
    assert np.array_equal(runs["whole"], runs["resumed"]), runs
    print("interrupted + resumed run == uninterrupted run, bit for bit  ok")

    try:
        sgd(noisy, np.ones(3), 0.02, 40, useSaved=True, PRINT_EVERY=1000,
            checkpoint_dir=os.path.join(tmp, "b"), generators=[gen])
        raise AssertionError("a checkpoint with another configuration was used")
    except CheckpointConfigError as err:
        assert "--fresh" in str(err) and "step" in str(err), err
    print("resume with another step refused  ok")

    for grad, says in ((np.ones(3), "at iteration 4 the cost is nan"),
                       (np.full(3, np.nan), "after iteration 10 x holds NaN")):
        try:
            sgd(lambda x: (np.nan if x[0] < 0.9 else 1.0, grad), np.ones(3), 0.04, 10, None, 0, 99)
            raise AssertionError(f"no TrainingDivergedError: {says}")
        except TrainingDivergedError as err:
            assert says in str(err), err
    print("a NaN cost (at iteration 4) or a NaN gradient stops training  ok")

if __name__ == "__main__":
    try:
        _check_quadratics()
        with tempfile.TemporaryDirectory() as tmp:
            _check_own(tmp)
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
    print("q3_sgd: all checks passed")
