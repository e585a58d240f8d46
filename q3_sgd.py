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
    ``f`` may return a ``utils.sparse.SparseRows`` (row indices + one value row
    each, repeats add) instead of a dense array; ``sgd`` applies it in place in
    O(m·D) for m rows, never building the dense (N, D) gradient. Rows that
    repeat are applied one after the other (``x_r - s·v1 - s·v2``), so the
    result equals that of the dense gradient ``grad.to_dense(x.shape)`` bit
    for bit when no row repeats and up to rounding (~1e-16 relative) when
    some do. The scatter is ``utils.sparse.RowScatter`` (one per run, its
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
import re
import sys
import tempfile
import time
import warnings
import zipfile

import numpy as np

from utils.atomic import atomic_write
from utils.sparse import RowScatter, SparseRows

# ---- hyper-parameters (the course's) -----------------------------------------
SAVE_PARAMS_EVERY = 5000          # iterations between checkpoints (when useSaved)
ANNEAL_EVERY = 20000              # the step is halved after every ANNEAL_EVERY iterations
SMOOTH_KEEP, SMOOTH_NEW = 0.95, 0.05   # expcost <- 0.95 * expcost + 0.05 * cost (the course's)
DEFAULT_CHECKPOINT_DIR = "checkpoints"

CHECKPOINT_FORMAT = 1             # bumped when the file layout changes
_CHECKPOINT_RE = re.compile(r"^saved_params_(\d+)\.npz$")
_TEMP_RE = re.compile(r"^\.saved_params_\d+\.npz\.(\d+)\.tmp$")


class CheckpointError(ValueError):
    """A checkpoint file cannot be read (truncated, corrupt, wrong layout)."""


class CheckpointConfigError(ValueError):
    """The newest checkpoint was written by a run with a different configuration."""


class TrainingDivergedError(FloatingPointError):
    """The cost became NaN or infinite; the message names the iteration."""


class CheckpointWarning(UserWarning):
    """An unreadable checkpoint was skipped."""


# ---- atomic files --------------------------------------------------------------
# ---- random states as JSON -----------------------------------------------------
def _json_default(obj):
    """JSON encoder hook: ndarrays (MT19937 keys) and NumPy scalars."""
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint")


def _json_object_hook(d):
    if "__ndarray__" in d:
        return np.array(d["__ndarray__"], dtype=d["dtype"])
    return d


def _dumps(obj):
    # floats are written with repr(): they read back bit for bit
    return json.dumps(obj, default=_json_default, sort_keys=True, allow_nan=True)


def _loads(text):
    return json.loads(text, object_hook=_json_object_hook)


def _generator_state(gen):
    """JSON-compatible state of one generator passed in ``generators``."""
    if isinstance(gen, np.random.Generator):
        return {"kind": "Generator", "state": gen.bit_generator.state}
    if isinstance(gen, np.random.RandomState):
        return {"kind": "RandomState", "state": gen.get_state(legacy=False)}
    if isinstance(gen, random.Random):
        return {"kind": "random.Random", "state": gen.getstate()}
    if hasattr(gen, "get_state") and hasattr(gen, "set_state"):
        return {"kind": type(gen).__name__, "state": gen.get_state()}
    raise TypeError(f"sgd: cannot checkpoint a {type(gen).__name__}: pass numpy Generators, "
                    "RandomStates, random.Random objects or objects with get_state()/set_state()")


def _set_generator_state(gen, saved):
    kind, state = saved["kind"], saved["state"]
    if isinstance(gen, np.random.Generator):
        gen.bit_generator.state = state
    elif isinstance(gen, np.random.RandomState):
        gen.set_state(state)
    elif isinstance(gen, random.Random):
        gen.setstate((state[0], tuple(state[1]), state[2]))
    else:
        gen.set_state(state)
    return kind


def _kind(gen):
    return _generator_state(gen)["kind"]


# ---- checkpoint files ----------------------------------------------------------
def checkpoint_path(iteration, checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """Path of the checkpoint of `iteration`: ``<dir>/saved_params_<iteration>.npz``."""
    return os.path.join(checkpoint_dir, f"saved_params_{int(iteration)}.npz")


def list_checkpoints(checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """``[(iteration, path), ...]`` of the checkpoint files in the folder, newest first."""
    if not os.path.isdir(checkpoint_dir):
        return []
    found = []
    for name in os.listdir(checkpoint_dir):
        m = _CHECKPOINT_RE.match(name)
        if m:
            found.append((int(m.group(1)), os.path.join(checkpoint_dir, name)))
    return sorted(found, reverse=True)


def save_params(iter, params, checkpoint_dir=DEFAULT_CHECKPOINT_DIR, step=None, config=None,
                generators=(), expcost=None):
    """Write the checkpoint of iteration `iter` atomically and return its path.

    Parameters
    ----------
    iter : int
        Iterations completed (the course's name; it shadows the builtin here only).
    params : ndarray, any shape, e.g. (2V, D)
        The parameters after iteration `iter`.
    checkpoint_dir : str
        Created if missing.
    step : float or None
        The step the *next* iteration uses (after any annealing at `iter`).
    config : dict or None
        JSON-compatible description of the run; checked on resume.
    generators : sequence
        Extra random generators whose state is saved (see the module docstring).
        Python's ``random`` and NumPy's global state are always saved.
    expcost : float or None
        The smoothed cost so far.

    Returns
    -------
    path : str
    """
    params = np.asarray(params)
    np_state = np.random.get_state(legacy=True)  # ('MT19937', keys (624,), pos, has_gauss, cached)
    meta = {
        "format": CHECKPOINT_FORMAT,
        "config": config if config is not None else {},
        "python_random": random.getstate(),
        "numpy_random": {"pos": int(np_state[2]), "has_gauss": int(np_state[3]),
                         "cached_gaussian": float(np_state[4])},
        "generators": [_generator_state(g) for g in generators],
    }
    arrays = {
        "params": params,
        "iteration": np.int64(iter),
        "step": np.float64(np.nan if step is None else step),
        "expcost": np.float64(np.nan if expcost is None else expcost),
        "numpy_random_keys": np.asarray(np_state[1], dtype=np.uint32),
        "meta": np.array(_dumps(meta)),  # 0-d unicode array: no pickle needed
    }
    os.makedirs(checkpoint_dir, exist_ok=True)
    path = checkpoint_path(iter, checkpoint_dir)
    atomic_write(path, lambda fh: np.savez(fh, allow_pickle=False, **arrays))
    return path


def _read_checkpoint(path, iteration):
    """(params, state) from one file; CheckpointError if anything is wrong with it."""
    try:
        with open(path, "rb") as fh:    # our own handle: closed even when the zip is broken
            if fh.read(4) != b"PK\x03\x04":
                raise CheckpointError("not an .npz (zip) file")
            fh.seek(0)
            with np.load(fh, allow_pickle=False) as data:
                arrays = {k: data[k] for k in ("params", "iteration", "step", "expcost",
                                               "numpy_random_keys", "meta")}
        meta = _loads(str(arrays["meta"]))
    except CheckpointError:
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{type(err).__name__}: {err}") from err
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"unknown checkpoint format {meta.get('format')!r}")
    if int(arrays["iteration"]) != iteration:
        raise CheckpointError(f"holds iteration {int(arrays['iteration'])}, not {iteration}")
    keys = arrays["numpy_random_keys"]
    if keys.shape != (624,):
        raise CheckpointError(f"NumPy random state has shape {keys.shape}, expected (624,)")
    step, expcost = float(arrays["step"]), float(arrays["expcost"])
    npr = meta["numpy_random"]
    py = meta["python_random"]
    state = {
        "path": path,
        "step": None if math.isnan(step) else step,
        "expcost": None if math.isnan(expcost) else expcost,
        "config": meta["config"],
        "python_random": (py[0], tuple(py[1]), py[2]),
        "numpy_random": ("MT19937", keys, npr["pos"], npr["has_gauss"], npr["cached_gaussian"]),
        "generators": meta["generators"],
    }
    return arrays["params"], state


def load_saved_params(checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """Read the newest readable checkpoint of a folder.

    Files that cannot be read (truncated by a crash of another tool, corrupt,
    unknown layout) are skipped with a ``CheckpointWarning`` naming them, and
    the next older one is tried.

    Parameters
    ----------
    checkpoint_dir : str
        Folder holding ``saved_params_<iter>.npz`` files (``q3_run.py``'s
        ``--checkpoint-dir``, default ``checkpoints``).

    Returns
    -------
    iteration : int
        Iterations completed at the checkpoint; 0 when there is none.
    params : ndarray or None
        The saved parameters. For ``q3_run.py``: shape (2V, D), input vectors
        ``params[:V]``, output vectors ``params[V:]``, V =
        ``state["config"]["run"]["vocab_size"]``.
    state : dict or None
        ``path``, ``step`` (of the next iteration), ``expcost``, ``config``
        (``{"sgd": {...}, "run": {...}}`` as written by ``sgd``),
        ``python_random`` (for ``random.setstate``), ``numpy_random`` (for
        ``np.random.set_state``) and ``generators`` (saved states, in order).
    """
    for iteration, path in list_checkpoints(checkpoint_dir):
        try:
            params, state = _read_checkpoint(path, iteration)
        except CheckpointError as err:
            warnings.warn(f"skipping unreadable checkpoint {path} ({err}); "
                          "trying the previous one", CheckpointWarning, stacklevel=2)
            continue
        return iteration, params, state
    return 0, None, None


def restore_random_state(state, generators=()):
    """Put Python's random, NumPy's global state and `generators` back to a checkpoint's."""
    saved = state["generators"]
    if len(saved) != len(generators):
        raise CheckpointConfigError(f"checkpoint {state['path']} holds {len(saved)} generator "
                                    f"states but {len(generators)} generators were given")
    random.setstate(state["python_random"])
    np.random.set_state(state["numpy_random"])
    for gen, s in zip(generators, saved):
        _set_generator_state(gen, s)


def _remove_stale_temps(checkpoint_dir):
    """Delete temporary files left by a writer killed mid-save (if that process is gone)."""
    if not os.path.isdir(checkpoint_dir):
        return
    for name in os.listdir(checkpoint_dir):
        m = _TEMP_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            try:
                os.unlink(os.path.join(checkpoint_dir, name))
            except OSError:
                pass


def _pid_alive(pid):
    if pid == os.getpid():
        return False  # our own leftovers cannot be in use: nothing is being written now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_checkpoints(checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """Delete every ``saved_params_<iter>.npz`` of the folder (used to start fresh)."""
    removed = 0
    for _, path in list_checkpoints(checkpoint_dir):
        os.unlink(path)
        removed += 1
    return removed


def _config_differences(saved, current, prefix=""):
    """Human-readable list of the leaves where two JSON-like dicts differ."""
    diffs = []
    for key in sorted(set(saved) | set(current)):
        name = f"{prefix}{key}"
        a, b = saved.get(key, "<missing>"), current.get(key, "<missing>")
        if isinstance(a, dict) and isinstance(b, dict):
            diffs += _config_differences(a, b, name + ".")
        elif a != b:
            diffs.append(f"{name}: checkpoint has {a!r}, this run has {b!r}")
    return diffs


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
