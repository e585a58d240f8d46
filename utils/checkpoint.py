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
renamed over the final name (``utils.files``): a crash leaves the old file or
the new one, never half of one. The format is ``np.savez`` of plain numeric and
unicode arrays read back with ``allow_pickle=False``: loading a checkpoint
cannot run code. A file that cannot be read, or whose contents disagree with its
metadata (params of another shape or dtype than the run's configuration says,
NaN or infinite values, a missing key, a step that is not a positive number, an
iteration other than its name's) is skipped with a ``CheckpointWarning`` naming
it and what is wrong, and the previous one is used.

Only the newest `keep` checkpoints are kept: ``save_params(..., keep=N)`` deletes
the older ones after each successful save (``sgd`` keeps ``DEFAULT_KEEP`` = 3).

The folder lock of a run that writes here is ``utils.folder_lock.checkpoint_lock``.
Readers need no lock: they see whole files only.

``sgd`` uses three functions: ``check_sgd_args(...)`` refuses bad arguments
before any iteration; ``resume(...)`` builds the run's configuration and, with
a folder, starts from its newest good checkpoint (checks, random states and
all); ``save_params(...)`` writes one checkpoint and prunes the older ones.

``load_saved_params(checkpoint_dir)`` returns ``(iteration, params, state)``;
for a ``q3_run.py`` run ``params`` is the stacked (2V, D) matrix (input vectors
in rows ``:V``, output vectors in ``V:``) and ``state["config"]["run"]``
records ``vocab_size``, ``dim`` and the rest.
"""
import json
import math
import numbers
import os
import random
import re
import warnings
import zipfile
import zlib
from typing import NamedTuple

import numpy as np

from utils.files import atomic_write

DEFAULT_CHECKPOINT_DIR = "checkpoints"
DEFAULT_KEEP = 3                  # checkpoints sgd keeps: the newest, and two in case it is lost

CHECKPOINT_FORMAT = 1             # bumped when the file layout changes
_CHECKPOINT_RE = re.compile(r"^saved_params_(\d+)\.npz$")
# utils.files's ".<name>.<pid>.<random>.tmp", and ".<name>.<pid>.tmp" of earlier versions
_TEMP_RE = re.compile(r"^\.saved_params_\d+\.npz\.(\d+)(?:\.\w+)?\.tmp$")
_META_KEYS = ("format", "config", "python_random", "numpy_random", "generators")
_ARRAY_KEYS = ("params", "iteration", "step", "expcost", "numpy_random_keys", "meta")


class CheckpointError(ValueError):
    """A checkpoint file cannot be read (truncated, corrupt, wrong layout, bad contents)."""


class _Vanished(CheckpointError):
    """The file was deleted between listing and reading (pruned by a running writer)."""


class CheckpointConfigError(ValueError):
    """The newest checkpoint was written by a run with a different configuration."""


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (unreadable or wrong contents), or an old one not deleted."""


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
                generators=(), expcost=None, keep=None):
    """Write the checkpoint of iteration `iter` atomically and return its path.

    Parameters
    ----------
    iter : int
        Iterations completed (the course's name; it shadows the builtin here only).
    params : ndarray, any shape, e.g. (2V, D)
        The parameters after iteration `iter`: real numbers, all finite.
    checkpoint_dir : str
        Created if missing.
    step : float or None
        The step the *next* iteration uses (after any annealing at `iter`); positive.
    config : dict or None
        JSON-compatible description of the run; checked on resume.
    generators : sequence
        Extra random generators whose state is saved (see the module docstring).
        Python's ``random`` and NumPy's global state are always saved.
    expcost : float or None
        The smoothed cost so far.
    keep : int or None
        Once the file is written, delete the oldest checkpoints of the folder so
        that `keep` remain, this one included (`prune_checkpoints`). None: keep all.

    Returns
    -------
    path : str

    Raises
    ------
    ValueError
        `params` are not real numbers or hold NaN/inf, `step` is not a positive
        finite number, or `keep` < 1 (nothing is written: such a file would be
        skipped on reading).
    """
    params = np.asarray(params)
    problem = _params_problem(params)
    if problem:
        raise ValueError(f"save_params: refusing to write checkpoint {iter}: {problem}")
    if step is not None and not _positive_number(step):
        raise ValueError(f"save_params: step must be a positive finite number, got {step!r}")
    if keep is not None:
        _check_count("save_params", "keep", keep, 1)
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
    if keep is not None:
        prune_checkpoints(checkpoint_dir, keep, int(iter))
    return path


def prune_checkpoints(checkpoint_dir, keep, newest):
    """Delete the oldest checkpoints so that `keep` remain, counting that of iteration `newest`.

    Only files whose names prove them older than `newest` are deleted, and only
    when the checkpoint of `newest` exists: the newest good checkpoint is never
    deleted, nor one of a later iteration (left by another run: it cannot be
    shown to be older). A file that cannot be deleted is left with a
    ``CheckpointWarning``.

    Parameters
    ----------
    checkpoint_dir : str
    keep : int
        Checkpoints to keep, >= 1, the one of `newest` included.
    newest : int
        Iteration of the checkpoint just written.

    Returns
    -------
    removed : list of str
        Paths deleted, newest first.
    """
    _check_count("prune_checkpoints", "keep", keep, 1)
    if not os.path.isfile(checkpoint_path(newest, checkpoint_dir)):
        return []
    older = [(it, path) for it, path in list_checkpoints(checkpoint_dir) if it < newest]
    removed = []
    for _, path in older[keep - 1:]:
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue                                  # pruned meanwhile by somebody else
        except OSError as err:
            warnings.warn(f"could not delete the old checkpoint {path} ({err.strerror}); "
                          "delete it by hand to free the space", CheckpointWarning, stacklevel=3)
            continue
        removed.append(path)
    return removed


# ---- checks ----------------------------------------------------------------------
def _positive_number(value):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def _check_count(who, name, value, low):
    """ValueError unless `value` is an integer >= `low` (bools are not counts)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{who}: {name} must be an integer >= {low}, got {value!r}")


def check_sgd_args(step, iterations, save_every, anneal_every, print_every, smooth_every, keep):
    """Refuse, before any iteration, ``sgd`` arguments that would fail late or silently.

    Raises
    ------
    ValueError
        Naming the argument: `step` not a positive finite number, `iterations`
        < 0, a period (`save_every`, `anneal_every`, `print_every`,
        `smooth_every`) < 1, or `keep` neither None nor >= 1.
    """
    if not _positive_number(step):
        raise ValueError(f"sgd: step must be a positive finite number, got {step!r}")
    _check_count("sgd", "iterations", iterations, 0)
    for name, value in (("save_every", save_every), ("anneal_every", anneal_every),
                        ("PRINT_EVERY", print_every), ("smooth_every", smooth_every)):
        _check_count("sgd", name, value, 1)
    if keep is not None:
        _check_count("sgd", "keep", keep, 1)


def _params_problem(params):
    """What makes `params` unfit for a checkpoint (not real numbers, NaN/inf), or None."""
    if params.dtype.kind not in "iuf":
        return f"params have dtype {params.dtype}, not a real number type"
    if params.dtype.kind == "f" and not np.isfinite(params).all():
        bad = ~np.isfinite(params)
        where = (f" (the first at index {tuple(int(i) for i in np.argwhere(bad)[0])})"
                 if params.ndim else "")
        return f"params hold {int(bad.sum())} NaN or infinite value(s){where}"
    return None


def _scalar(arrays, key, kinds):
    """The value of a 0-d array of the file whose dtype kind is in `kinds`."""
    a = arrays[key]
    if a.shape != () or a.dtype.kind not in kinds:
        what = "integer" if "f" not in kinds else "number"
        raise CheckpointError(f"{key} is not a single {what} (shape {a.shape}, dtype {a.dtype})")
    return a.item()


_BIT_GENERATORS = ("MT19937", "PCG64", "PCG64DXSM", "Philox", "SFC64")


def _try_restore(kind, state):
    """Restore `state` into a throw-away generator of `kind`: a state that resuming would
    refuse raises here, where the file can still be skipped. Other kinds are not checked."""
    if kind == "Generator":
        name = state["bit_generator"]
        if name not in _BIT_GENERATORS:
            raise CheckpointError(f"unknown bit generator {name!r}")
        getattr(np.random, name)().state = state
    elif kind == "RandomState":
        np.random.RandomState().set_state(state)
    elif kind == "random.Random":
        random.Random().setstate((state[0], tuple(state[1]), state[2]))


# ---- reading -------------------------------------------------------------------------
def _read_checkpoint(path, iteration):
    """(params, state) from one file; CheckpointError saying what is wrong with it."""
    try:
        with open(path, "rb") as fh:    # our own handle: closed even when the zip is broken
            if fh.read(4) != b"PK\x03\x04":
                raise CheckpointError("not an .npz (zip) file")
            fh.seek(0)
            with np.load(fh, allow_pickle=False) as data:
                missing = [k for k in _ARRAY_KEYS if k not in data.files]
                if missing:
                    raise CheckpointError(f"it has no {', '.join(missing)} array")
                arrays = {k: data[k] for k in _ARRAY_KEYS}
    except FileNotFoundError as err:
        raise _Vanished(str(err)) from err
    except CheckpointError:
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error,
            MemoryError) as err:      # MemoryError: a header claiming an absurd array size
        raise CheckpointError(f"{type(err).__name__}: {err}") from err
    try:
        return _checked_contents(path, iteration, arrays)
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as err:
        raise CheckpointError(f"malformed metadata ({type(err).__name__}: {err})") from err


def _checked_contents(path, iteration, arrays):
    """(params, state) once the arrays of a file agree with its metadata and are finite."""
    if arrays["meta"].shape != () or arrays["meta"].dtype.kind != "U":
        raise CheckpointError("meta is not a JSON text")
    meta = _loads(str(arrays["meta"]))
    if not isinstance(meta, dict):
        raise CheckpointError("its metadata is not a JSON object")
    missing = [k for k in _META_KEYS if k not in meta]
    if missing:
        raise CheckpointError(f"its metadata lacks {', '.join(map(repr, missing))}")
    if not isinstance(meta["config"], dict):
        raise CheckpointError("its configuration is not a JSON object")
    if meta["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(f"unknown checkpoint format {meta['format']!r}")
    stored = _scalar(arrays, "iteration", "iu")
    if stored != iteration:
        raise CheckpointError(f"holds iteration {stored}, not {iteration} as its name says")
    params, run = arrays["params"], meta["config"].get("sgd")
    if run is not None:                 # written by sgd: x's shape and dtype are recorded
        if list(params.shape) != run.get("shape") or str(params.dtype) != run.get("dtype"):
            raise CheckpointError(
                f"params have shape {list(params.shape)} and dtype {params.dtype} but its "
                f"configuration says {run.get('shape')} and {run.get('dtype')}")
    problem = _params_problem(params)
    if problem:
        raise CheckpointError(problem)
    step, expcost = _scalar(arrays, "step", "iuf"), _scalar(arrays, "expcost", "iuf")
    if not (math.isnan(step) or _positive_number(step)):      # NaN: no step recorded
        raise CheckpointError(f"step is {step!r}, not a positive finite number")
    if math.isinf(expcost):
        raise CheckpointError(f"the smoothed cost is {expcost}")
    keys = arrays["numpy_random_keys"]
    if keys.shape != (624,) or keys.dtype != np.uint32:
        raise CheckpointError(f"NumPy random state has shape {keys.shape} and dtype "
                              f"{keys.dtype}, expected (624,) uint32")
    npr, py = meta["numpy_random"], meta["python_random"]
    numpy_random = ("MT19937", keys, npr["pos"], npr["has_gauss"], npr["cached_gaussian"])
    # RandomState.set_state takes any pos, and a draw would then read outside the 624 keys
    if type(npr["pos"]) is not int or not 0 <= npr["pos"] <= 624 or npr["has_gauss"] not in (0, 1):
        raise CheckpointError(f"NumPy random state has position {npr['pos']!r} and has_gauss "
                              f"{npr['has_gauss']!r}, expected 0..624 and 0 or 1")
    python_random = (py[0], tuple(py[1]), py[2])
    np.random.RandomState().set_state(numpy_random)     # throw-away: checks the state only
    random.Random().setstate(python_random)
    generators = meta["generators"]
    if not isinstance(generators, list):
        raise CheckpointError("its generator states are not a list")
    for saved in generators:
        _try_restore(saved["kind"], saved["state"])
    state = {
        "path": path,
        "step": None if math.isnan(step) else float(step),
        "expcost": None if math.isnan(expcost) else float(expcost),
        "config": meta["config"],
        "python_random": python_random,
        "numpy_random": numpy_random,
        "generators": generators,
    }
    return params, state


def load_saved_params(checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """Read the newest good checkpoint of a folder.

    Files that cannot be read (truncated by a crash of another tool, corrupt,
    unknown layout) or whose contents are wrong (params of another shape or
    dtype than the configuration says, NaN or infinite values, missing keys, a
    bad step) are skipped with a ``CheckpointWarning`` naming them and the
    problem, and the next older one is tried. No lock is needed: files are
    written atomically, and one pruned by a running writer meanwhile is
    looked for again.

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
    for _ in range(3):
        vanished = False
        for iteration, path in list_checkpoints(checkpoint_dir):
            try:
                params, state = _read_checkpoint(path, iteration)
            except _Vanished:
                vanished = True         # pruned after a newer one was written: list again
                break
            except CheckpointError as err:
                warnings.warn(f"skipping checkpoint {path}: {err}; trying the previous one",
                              CheckpointWarning, stacklevel=3)
                continue
            return iteration, params, state
        if not vanished:
            break
    return 0, None, None


def _optional(gen):
    """Whether `gen` is a record that a checkpoint may lack (``checkpoint_optional = True``,
    e.g. the cost history): it is saved like a generator but is not part of the run's
    configuration, so checkpoints written before it existed still resume."""
    return getattr(gen, "checkpoint_optional", False) is True


def restore_random_state(state, generators=()):
    """Put Python's random, NumPy's global state and `generators` back to a checkpoint's.

    The saved states are matched to `generators` in order; an optional one (`_optional`)
    that the checkpoint lacks keeps its state."""
    saved = list(state["generators"])
    pairs = []
    for gen in generators:
        if saved and saved[0]["kind"] == _kind(gen):
            pairs.append((gen, saved.pop(0)))
        elif not _optional(gen):
            saved = None
            break
    if saved is None or saved:
        raise CheckpointConfigError(
            f"checkpoint {state['path']} holds the states of "
            f"{[g['kind'] for g in state['generators']]} but this run has "
            f"{[_kind(g) for g in generators]}")
    random.setstate(state["python_random"])
    np.random.set_state(state["numpy_random"])
    for gen, s in pairs:
        _set_generator_state(gen, s)


def _remove_stale_temps(checkpoint_dir):
    """Delete temporary files left by a writer killed mid-save: those whose name
    (``.saved_params_<iter>.npz.<pid>[.<random>].tmp``) holds the pid of a process
    that is gone, or our own (nothing is being written while a run starts)."""
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
    except (ProcessLookupError, OverflowError):     # gone, or no process could have that pid
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
    checkpoint (printing how many); then it reads the newest good checkpoint
    (`load_saved_params` says which files are skipped), checks it and puts
    every random state back (Python's ``random``, NumPy's global state,
    `generators`), printing ``resuming from <path> (iteration N)``.

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
                "anneal_every": int(anneal_every),
                "generators": [_kind(g) for g in generators if not _optional(g)]},
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
