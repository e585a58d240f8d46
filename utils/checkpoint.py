"""Checkpoints of ``q3_sgd.sgd``: atomic, pickle-free files holding every random state.

``<checkpoint_dir>/saved_params_<iter>.npz`` holds the parameters, the iteration,
the step of the next iteration, the smoothed cost, the state of Python's
``random``, of NumPy's global ``RandomState`` and of every extra generator the
run passes (a NumPy ``Generator`` or ``RandomState``, a ``random.Random``, or
any object with ``get_state()``/``set_state(state)`` using JSON-compatible
values), and the run's configuration. A run stopped at any moment (even by
SIGKILL) and started again with the same arguments therefore ends with exactly
the parameters of a run never stopped.

Files are written to a temporary file in the same folder, flushed, fsync'ed and
renamed over the final name (``utils.atomic``): a crash leaves the old file or
the new one, never half of one. The format is ``np.savez`` of plain numeric and
unicode arrays read back with ``allow_pickle=False``: loading a checkpoint
cannot run code. An unreadable newest file is skipped with a warning naming it
and the previous one is used.

``sgd`` uses two functions: ``resume(...)`` builds the run's configuration and,
with a folder, starts from its newest checkpoint (checks, random states and
all); ``save_params(...)`` writes one checkpoint.

``load_saved_params(checkpoint_dir)`` returns ``(iteration, params, state)``;
for a ``q3_run.py`` run ``params`` is the stacked (2V, D) matrix (input vectors
in rows ``:V``, output vectors in ``V:``) and ``state["config"]["run"]``
records ``vocab_size``, ``dim`` and the rest.
"""
import json
import math
import os
import random
import re
import warnings
import zipfile
from typing import NamedTuple

import numpy as np

from utils.atomic import atomic_write

DEFAULT_CHECKPOINT_DIR = "checkpoints"

CHECKPOINT_FORMAT = 1             # bumped when the file layout changes
_CHECKPOINT_RE = re.compile(r"^saved_params_(\d+)\.npz$")
_TEMP_RE = re.compile(r"^\.saved_params_\d+\.npz\.(\d+)\.tmp$")


class CheckpointError(ValueError):
    """A checkpoint file cannot be read (truncated, corrupt, wrong layout)."""


class CheckpointConfigError(ValueError):
    """The newest checkpoint was written by a run with a different configuration."""


class CheckpointWarning(UserWarning):
    """An unreadable checkpoint was skipped."""


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
    return _load_newest(checkpoint_dir)


def _load_newest(checkpoint_dir):
    """Body of `load_saved_params` and `resume`: stacklevel=3 makes the warning name the line
    that called either of them (for a resume, the line of ``sgd``)."""
    for iteration, path in list_checkpoints(checkpoint_dir):
        try:
            params, state = _read_checkpoint(path, iteration)
        except CheckpointError as err:
            warnings.warn(f"skipping unreadable checkpoint {path} ({err}); "
                          "trying the previous one", CheckpointWarning, stacklevel=3)
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


# ---- starting a run ----------------------------------------------------------------
class Start(NamedTuple):
    """Where ``sgd`` starts: returned by `resume`.

    Attributes
    ----------
    iteration : int
        Iterations already done (0 for a new run).
    x : ndarray, the shape of the run's x, e.g. (2V, D)
        The parameters to start from.
    step : float
        The step of the next iteration.
    expcost : float or None
        The smoothed cost so far (None: not computed yet).
    last_saved : (int, str) or None
        ``(iteration, path)`` of the checkpoint resumed from.
    config : dict
        The run's configuration, for ``save_params(..., config=...)``.
    """

    iteration: int
    x: np.ndarray
    step: float
    expcost: float | None
    last_saved: tuple | None
    config: dict


def resume(checkpoint_dir, x, step, iterations, *, anneal_every, config=None, generators=(),
           fresh=False):
    """Start a run of ``q3_sgd.sgd``: from the newest checkpoint of a folder, or from `x`.

    Builds the configuration stored in every checkpoint: x's shape and dtype,
    the initial step, `anneal_every`, the kinds of `generators`, and the
    caller's `config` under ``"run"``. With a folder, it first deletes the
    temporary files of writers that died mid-save, and with `fresh` every
    checkpoint (printing how many); then it reads the newest readable
    checkpoint, checks it and puts every random state back (Python's
    ``random``, NumPy's global state, `generators`), printing
    ``resuming from <path> (iteration N)``.

    Parameters
    ----------
    checkpoint_dir : str or None
        Folder of the checkpoints; None: checkpoints are off, start at
        iteration 0 (the configuration is still built, so a `config` or a
        generator that cannot be stored fails at once).
    x : ndarray, any shape, e.g. (2V, D)
        Start point of a new run; a checkpoint's parameters are cast to its dtype.
    step : float
        Initial step of the run.
    iterations : int
        Iterations asked for, counting those done before a resume.
    anneal_every : int
        The step is halved after every `anneal_every` iterations.
    config : dict or None
        JSON-compatible description of the run; resuming with another is refused.
    generators : sequence
        Extra random generators (NumPy Generator / RandomState, random.Random,
        or objects with get_state()/set_state()).
    fresh : bool
        Delete the folder's checkpoints and start at iteration 0.

    Returns
    -------
    Start
        ``(iteration, x, step, expcost, last_saved, config)``. For a new run:
        ``(0, x, step, None, None, config)``, `x` and `step` as given. On
        resume the step is ``step * 0.5 ** (iteration // anneal_every)``.

    Raises
    ------
    CheckpointConfigError
        The newest checkpoint comes from a run with another configuration, is
        beyond `iterations`, holds a step off the schedule, or another number
        of generator states.
    TypeError
        `config` is not JSON-compatible, or a generator cannot be checkpointed.
    """
    step0 = float(step)
    # a JSON round trip: the dict compared on resume is exactly the one a checkpoint gives back
    run_config = json.loads(_dumps({
        "sgd": {"shape": list(x.shape), "dtype": str(x.dtype), "step": step0,
                "anneal_every": int(anneal_every), "generators": [_kind(g) for g in generators]},
        "run": config if config is not None else {},
    }))
    new_run = Start(0, x, step, None, None, run_config)
    if checkpoint_dir is None:
        return new_run
    _remove_stale_temps(checkpoint_dir)
    if fresh:
        n = remove_checkpoints(checkpoint_dir)
        if n:
            print(f"starting fresh: removed {n} checkpoint(s) from {checkpoint_dir}", flush=True)
    iteration, saved_x, state = _load_newest(checkpoint_dir)
    if iteration == 0:
        return new_run
    diffs = _config_differences(state["config"], run_config)
    if diffs:
        raise CheckpointConfigError(
            f"the newest checkpoint {state['path']} was written by a run with a different "
            "configuration:\n  " + "\n  ".join(diffs) + "\nTo start fresh, run q3_run.py "
            f"with --fresh (sgd(..., fresh=True)) or delete the folder {checkpoint_dir}; "
            "to resume it, use that run's settings.")
    if iteration > iterations:
        raise CheckpointConfigError(
            f"the newest checkpoint {state['path']} is at iteration {iteration}, beyond "
            f"the {iterations} iterations asked for. Ask for at least {iteration} "
            f"iterations, or start fresh (--fresh, or delete the folder {checkpoint_dir}).")
    x = saved_x.astype(x.dtype, copy=False)
    # integer division: the number of halvings already done (a run resumed at 5000 of a
    # 20000 period keeps the initial step, not 0.5 ** 0.25 of it)
    step = step0 * 0.5 ** (iteration // anneal_every)
    if state["step"] is not None and state["step"] != step:
        raise CheckpointConfigError(f"checkpoint {state['path']} has step {state['step']!r}"
                                    f" but the schedule gives {step!r} at iteration "
                                    f"{iteration}")
    restore_random_state(state, generators)
    print(f"resuming from {state['path']} (iteration {iteration})", flush=True)
    return Start(iteration, x, step, state["expcost"], (iteration, state["path"]), run_config)
