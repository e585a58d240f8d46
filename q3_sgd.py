"""Question 3(e): stochastic gradient descent with exact, crash-safe checkpoints.

``sgd(f, x0, step, iterations, postprocessing=None, useSaved=False, PRINT_EVERY=10)``
keeps the course's signature and behaviour:

* every iteration ``cost, grad = f(x)`` then ``x <- x - step * grad`` and, if
  given, ``x = postprocessing(x)``;
* the step is halved every ``ANNEAL_EVERY = 20000`` iterations;
* with ``useSaved=True`` a checkpoint is written every ``SAVE_PARAMS_EVERY =
  5000`` iterations and training resumes from the newest one, with the step it
  had: ``step0 * 0.5 ** (start // ANNEAL_EVERY)`` (integer division, so a run
  resumed at 5000 does not get a fractional halving as in Python 3 ports);
* every ``PRINT_EVERY`` iterations the smoothed cost
  ``expcost = 0.95 * expcost + 0.05 * cost`` is updated and printed as
  ``iter 100: 12.345678``.

What this version adds, all through keyword arguments:

Sparse gradients
    ``f`` may return a ``w2v_engine.sparse.SparseRows`` (row indices + one value row
    each, repeats add) instead of a dense array; ``sgd`` applies it in place in
    O(m·D) for m rows, never building the dense (N, D) gradient. Rows that
    repeat are applied one after the other (``x_r - s·v1 - s·v2``), so the
    result equals that of the dense gradient ``grad.to_dense(x.shape)`` bit
    for bit when no row repeats and up to rounding (~1e-16 relative) when
    some do. The scatter is ``w2v_engine.sparse.RowScatter`` (one per run, its
    buffers reused). Any other object with a method ``add_to(x, factor,
    scatter)`` doing ``x += factor * grad`` in place is a sparse gradient too:
    ``q3_word2vec.SkipgramNegGradient`` keeps its values as factors and forms
    them, already multiplied by ``-step``, only when applied.

Exact resume
    A checkpoint holds the parameters, the iteration, the step, the smoothed
    cost, the state of Python's ``random``, of NumPy's global ``RandomState``
    and of every extra generator passed in ``generators`` (a NumPy
    ``Generator`` or ``RandomState``, a ``random.Random``, or any object with
    ``get_state()``/``set_state(state)`` using JSON-compatible values). A run
    stopped at any moment (even by SIGKILL) and started again with the same
    arguments therefore ends with exactly the parameters of a run never
    stopped.

Safe checkpoints
    ``<checkpoint_dir>/saved_params_<iter>.npz``, written to a temporary file in
    the same folder, flushed, fsync'ed and renamed over the final name (then
    the folder is fsync'ed): a crash leaves the old file or the new one, never
    half of one. The format is ``np.savez`` of plain numeric and unicode arrays
    read back with ``allow_pickle=False`` — loading a checkpoint cannot run
    code. The run's configuration (shape, dtype, step, annealing, plus the
    caller's ``config`` dict) is stored; resuming with a different one raises
    ``CheckpointConfigError`` saying how to start fresh. An unreadable newest
    file is skipped with a warning naming it and the previous one is used. A
    NaN or infinite cost raises ``TrainingDivergedError`` naming the
    iteration, before the parameters are touched; earlier checkpoints stay.

Reading the final vectors (question 4)
    ``load_saved_params(checkpoint_dir)`` returns ``(iteration, params,
    state)``; for a ``q3_run.py`` run ``params`` is the stacked (2V, D) matrix
    (input vectors in rows ``:V``, output vectors in ``V:``) and
    ``state["config"]["run"]`` records ``vocab_size``, ``dim`` and the rest.
    ``q3_run.py`` always writes a checkpoint at its last iteration.
"""
import json
import math
import os
import random
import sys
import tempfile
import time

import numpy as np

from utils.checkpoint import (DEFAULT_CHECKPOINT_DIR, CheckpointConfigError,  # noqa: F401
                              CheckpointError, CheckpointWarning, _config_differences, _dumps,
                              _kind, _remove_stale_temps, list_checkpoints, load_saved_params,
                              remove_checkpoints, restore_random_state, save_params)
from w2v_engine.sparse import RowScatter, SparseRows

# ---- hyper-parameters (the course's) -----------------------------------------
SAVE_PARAMS_EVERY = 5000          # iterations between checkpoints (when useSaved)
ANNEAL_EVERY = 20000              # the step is halved after every ANNEAL_EVERY iterations
SMOOTH_KEEP, SMOOTH_NEW = 0.95, 0.05   # expcost <- 0.95 * expcost + 0.05 * cost (the course's)


class TrainingDivergedError(FloatingPointError):
    """The cost became NaN or infinite; the message names the iteration."""


# ---- progress ------------------------------------------------------------------
def print_classic_progress(iteration, smoothed_cost, info):
    """The course's progress line: ``iter 100: 12.345678``."""
    print("iter %d: %f" % (iteration, smoothed_cost), flush=True)


def print_speed_progress(iteration, smoothed_cost, info):
    """Progress line with speed and time left, e.g.
    ``iter  1000/40000  cost 12.3457  3,210 it/s  ETA 12.2 s``.

    `info` is the dict ``sgd`` passes: ``start_iteration``, ``iterations``,
    ``elapsed`` (seconds since the loop started) and ``step``.
    """
    done = iteration - info["start_iteration"]
    rate = done / info["elapsed"] if info["elapsed"] > 0 else float("inf")
    left = info["iterations"] - iteration
    eta = left / rate if rate > 0 else float("inf")
    width = len(str(info["iterations"]))
    print(f"iter {iteration:>{width}}/{info['iterations']}  cost {smoothed_cost:.4f}  "
          f"{rate:,.0f} it/s  ETA {eta:.1f} s", flush=True)


# ---- sparse update ----------------------------------------------------------------
def _is_sparse_gradient(grad):
    """True for a sparse gradient: `SparseRows` or any object with ``add_to(x, factor, scatter)``."""
    return not isinstance(grad, (np.ndarray, np.generic, float, int)) and hasattr(grad, "add_to")


# ---- SGD -----------------------------------------------------------------------
def sgd(f, x0, step, iterations, postprocessing=None, useSaved=False, PRINT_EVERY=10, *,
        checkpoint_dir=DEFAULT_CHECKPOINT_DIR, save_every=SAVE_PARAMS_EVERY,
        anneal_every=ANNEAL_EVERY, smooth_every=None, config=None, generators=(),
        progress=None, fresh=False):
    """Stochastic gradient descent, the course's ``sgd`` plus exact checkpoints.

    Parameters
    ----------
    f : callable
        ``f(x) -> (cost, grad)``: a scalar cost and either a dense gradient of
        x's shape or a sparse gradient over x's first axis: a ``SparseRows``
        (rows (m,), values (m, D)) or an object with ``add_to(x, factor,
        scatter)`` (see the module docstring).
    x0 : float or ndarray, e.g. (2V, D)
        Start point. It is copied: the caller's array is not modified.
    step : float
        Initial step; halved after every `anneal_every` iterations.
    iterations : int
        Total iterations (counting those done before a resume).
    postprocessing : callable or None
        ``x = postprocessing(x)`` after every update (e.g. normalizeRows).
    useSaved : bool
        Resume from the newest checkpoint in `checkpoint_dir` and write one
        every `save_every` iterations and at the last iteration.
    PRINT_EVERY : int
        Iterations between progress lines.
    checkpoint_dir : str
        Folder of the checkpoints (created on the first save).
    save_every, anneal_every : int
        Checkpoint and annealing periods (the course's 5000 and 20000).
    smooth_every : int or None
        Iterations between updates of the smoothed cost; None = PRINT_EVERY
        as in the course. ``q3_run.py`` smooths every 10 iterations (the
        course's cadence) but prints less often.
    config : dict or None
        JSON-compatible description of the run, stored in every checkpoint
        under ``"run"``; resuming with a different one is refused.
    generators : sequence
        Extra random generators the run uses (NumPy Generator / RandomState,
        random.Random, or objects with get_state()/set_state()); their state
        is saved and restored with the checkpoints.
    progress : callable or None
        ``progress(iteration, smoothed_cost, info)``; None prints the course's
        line (``print_classic_progress``); see ``print_speed_progress``.
    fresh : bool
        With useSaved: delete the folder's existing checkpoints and start at
        iteration 0.

    Returns
    -------
    x : float or ndarray
        The parameters after `iterations` iterations (a float when x0 was a
        Python number).

    Raises
    ------
    CheckpointConfigError
        The newest checkpoint comes from a run with another configuration.
    TrainingDivergedError
        The cost was NaN or infinite; the parameters of that iteration are
        not applied and no checkpoint is written.
    """
    scalar_input = np.ndim(x0) == 0 and not isinstance(x0, np.ndarray)
    x = np.array(x0, dtype=np.result_type(np.asarray(x0).dtype, np.float32), copy=True)
    step0 = float(step)
    if smooth_every is None:
        smooth_every = PRINT_EVERY
    progress = print_classic_progress if progress is None else progress
    generators = list(generators)
    run_config = json.loads(_dumps({
        "sgd": {"shape": list(x.shape), "dtype": str(x.dtype), "step": step0,
                "anneal_every": int(anneal_every), "generators": [_kind(g) for g in generators]},
        "run": config if config is not None else {},
    }))

    start_iter, expcost, last_saved = 0, None, None
    if useSaved:
        _remove_stale_temps(checkpoint_dir)
        if fresh:
            n = remove_checkpoints(checkpoint_dir)
            if n:
                print(f"starting fresh: removed {n} checkpoint(s) from {checkpoint_dir}",
                      flush=True)
        start_iter, saved_x, state = load_saved_params(checkpoint_dir)
        if start_iter > 0:
            diffs = _config_differences(state["config"], run_config)
            if diffs:
                raise CheckpointConfigError(
                    f"the newest checkpoint {state['path']} was written by a run with a different "
                    "configuration:\n  " + "\n  ".join(diffs) + "\nTo start fresh, run q3_run.py "
                    f"with --fresh (sgd(..., fresh=True)) or delete the folder {checkpoint_dir}; "
                    "to resume it, use that run's settings.")
            if start_iter > iterations:
                raise CheckpointConfigError(
                    f"the newest checkpoint {state['path']} is at iteration {start_iter}, beyond "
                    f"the {iterations} iterations asked for. Ask for at least {start_iter} "
                    f"iterations, or start fresh (--fresh, or delete the folder {checkpoint_dir}).")
            x = saved_x.astype(x.dtype, copy=False)
            # integer arithmetic: the number of halvings already done
            step = step0 * 0.5 ** (start_iter // anneal_every)
            if state["step"] is not None and state["step"] != step:
                raise CheckpointConfigError(f"checkpoint {state['path']} has step {state['step']!r}"
                                            f" but the schedule gives {step!r} at iteration "
                                            f"{start_iter}")
            restore_random_state(state, generators)
            expcost = state["expcost"]
            last_saved = (start_iter, state["path"])
            print(f"resuming from {state['path']} (iteration {start_iter})", flush=True)

    scatter = None
    t0 = time.perf_counter()
    info = {"start_iteration": start_iter, "iterations": iterations, "elapsed": 0.0, "step": step}
    for it in range(start_iter + 1, iterations + 1):
        cost, grad = f(x)
        if not math.isfinite(cost):
            where = (f"; the last good checkpoint {last_saved[1]} (iteration {last_saved[0]}) "
                     "is kept" if last_saved else "")
            raise TrainingDivergedError(
                f"sgd: the cost is {float(cost)} at iteration {it}: training stopped before "
                f"applying that update{where}. Try a smaller step.")
        if _is_sparse_gradient(grad):
            if scatter is None:
                scatter = RowScatter()   # reusable buffers: no allocation per iteration
            grad.add_to(x, -step, scatter)
        else:
            x -= step * grad
        if postprocessing is not None:
            x = postprocessing(x)
            if not isinstance(x, np.ndarray) or not x.flags.c_contiguous:
                x = np.ascontiguousarray(x, dtype=np.float64)   # the sparse step needs a flat view

        if it % smooth_every == 0:
            expcost = float(cost) if expcost is None else (
                SMOOTH_KEEP * expcost + SMOOTH_NEW * float(cost))
        if it % PRINT_EVERY == 0:
            info["elapsed"] = time.perf_counter() - t0
            info["step"] = step
            progress(it, float(cost) if expcost is None else expcost, info)
        if it % anneal_every == 0:
            step *= 0.5  # the step of the next iteration; saved with the checkpoint below
        if useSaved and (it % save_every == 0 or it == iterations):
            path = save_params(it, x, checkpoint_dir, step=step, config=run_config,
                               generators=generators, expcost=expcost)
            last_saved = (it, path)
    return float(x) if scalar_input else x


# ---- self-test -------------------------------------------------------------------
def _check_quadratics():
    """The course's sanity check: sgd on sum(x^2) reaches 0 from three starts."""
    quad = lambda x: (np.sum(x ** 2), x * 2)  # noqa: E731  (cost, gradient)
    print("Running sanity checks...")
    for x0 in (0.5, 0.0, -1.5):
        t = sgd(quad, x0, 0.01, 1000, PRINT_EVERY=100)
        print("test result:", t)
        assert abs(t) <= 1e-6, f"sgd on x^2 from {x0} ended at {t}"


def _check_own():
    """Anneal arithmetic, sparse == dense, exact resume, config refusal, NaN stop."""
    # anneal: constant gradient 1, step 1 halved every 10 iterations
    end = sgd(lambda x: (0.0, np.ones_like(x)), np.zeros(2), 1.0, 25, anneal_every=10,
              PRINT_EVERY=1000)
    assert np.array_equal(end, np.full(2, -(10 + 5 + 1.25))), end
    print("annealing: 10 x 1 + 10 x 0.5 + 5 x 0.25 = 16.25  ok")

    rng = np.random.default_rng(0)
    target = rng.standard_normal((6, 3))

    def sparse_f(x, rows):
        values = 2 * (x[rows] - target[rows]) + np.arange(3.0 * len(rows)).reshape(-1, 3) * 1e-3
        return float(np.sum((x[rows] - target[rows]) ** 2)), SparseRows(rows, values)

    def dense_f(x, rows):
        cost, g = sparse_f(x, rows)
        return cost, g.to_dense(x.shape)
    start = rng.standard_normal((6, 3))
    unique, repeats = np.array([1, 4, 0]), np.array([1, 4, 1, 0, 1])     # row 1 three times
    a = sgd(lambda x: sparse_f(x, unique), start, 0.1, 50, PRINT_EVERY=1000)
    b = sgd(lambda x: dense_f(x, unique), start, 0.1, 50, PRINT_EVERY=1000)
    assert a.shape == b.shape == (6, 3) and np.array_equal(a, b)
    assert np.array_equal(a[[2, 3, 5]], start[[2, 3, 5]]), "untouched rows changed"
    a = sgd(lambda x: sparse_f(x, repeats), start, 0.1, 50, PRINT_EVERY=1000)
    b = sgd(lambda x: dense_f(x, repeats), start, 0.1, 50, PRINT_EVERY=1000)
    assert a.shape == b.shape == (6, 3) and np.allclose(a, b, rtol=1e-13, atol=1e-15)
    print("sparse gradient == dense gradient (bit for bit without repeated rows)  ok")

    def noisy(x):  # uses Python's random, NumPy's global state and a Generator
        noise = random.random() + np.random.rand() + gen.random()
        return float(np.sum(x ** 2)) + noise, 2 * x + noise

    with tempfile.TemporaryDirectory() as tmp:
        random.seed(1), np.random.seed(1)
        gen = np.random.default_rng(1)
        whole = sgd(noisy, np.ones(3), 0.01, 30, useSaved=True, PRINT_EVERY=1000,
                    checkpoint_dir=os.path.join(tmp, "a"), save_every=10, generators=[gen])
        random.seed(1), np.random.seed(1)
        gen = np.random.default_rng(1)
        part_dir = os.path.join(tmp, "b")
        sgd(noisy, np.ones(3), 0.01, 20, useSaved=True, PRINT_EVERY=1000,
            checkpoint_dir=part_dir, save_every=10, generators=[gen])
        random.seed(99), np.random.seed(99)        # resume must restore every state
        gen = np.random.default_rng(99)
        resumed = sgd(noisy, np.ones(3), 0.01, 30, useSaved=True, PRINT_EVERY=1000,
                      checkpoint_dir=part_dir, save_every=10, generators=[gen])
        assert np.array_equal(whole, resumed), (whole, resumed)
        print("interrupted + resumed run == uninterrupted run, bit for bit  ok")

        try:
            sgd(noisy, np.ones(3), 0.02, 40, useSaved=True, PRINT_EVERY=1000,
                checkpoint_dir=part_dir, generators=[gen])
        except CheckpointConfigError as err:
            assert "--fresh" in str(err) and "step" in str(err)
            print("resume with another step refused  ok")
        else:
            raise AssertionError("a checkpoint with another configuration was used")

        def blow_up(x):
            return (float("nan") if x[0] < 0.9 else 1.0), np.ones_like(x)
        try:
            sgd(blow_up, np.ones(3), 0.04, 10, PRINT_EVERY=1000)
        except TrainingDivergedError as err:
            assert "iteration 4" in str(err), err
            print("NaN cost stops training, naming iteration 4  ok")
        else:
            raise AssertionError("a NaN cost did not stop training")


if __name__ == "__main__":
    try:
        _check_quadratics()
        print()
        _check_own()
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        sys.exit(1)
    print("q3_sgd: all checks passed")
