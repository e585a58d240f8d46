"""Checkpoints of ``q3_sgd.sgd``: atomic, pickle-free files holding every random state.

``<checkpoint_dir>/saved_params_<iter>.npz`` holds the parameters, the iteration, the step
of the next iteration, the smoothed cost, the state of Python's ``random``, of NumPy's
global ``RandomState`` and of every extra generator the run passes (``utils.random_states``),
the run's configuration and the iterations it was asked for. A run stopped at any moment
(even by SIGKILL) and started again with the same arguments therefore ends with exactly the
parameters of a run never stopped.

Writing (`save_params`)
    To a temporary file, flushed, fsync'ed and renamed (``utils.files``): a crash leaves the
    old file or the new one. Only the newest `keep` are kept, a file deleted only once a newer
    one is written. What reading would skip is never written.

Reading (`load_saved_params`, `resume`)
    ``np.savez``'s arrays read without pickle, from regular files only (a FIFO, a folder or a
    device at a checkpoint's name is skipped, never waited on). What a file may cost is bounded
    before it is read: its members may not inflate beyond its size on disk (a zip bomb), each
    array must be exactly the size its header (and the run's configuration) implies, and the
    metadata is at most `META_MAX_CHARS` characters of JSON, `JSON_MAX_DEPTH` deep. Every field
    is checked: params of the configured shape and dtype, finite; the iteration of the file's
    name; a positive step; every random state read back exactly as saved by a generator of its
    kind, and not all zeros; records such as the cost history by their own ``check_state``. A
    file that fails is skipped with a one-line ``CheckpointWarning``, and the previous one used.

The folder lock is ``utils.folder_lock``; the kinds of generator, ``utils.random_states``.
"""
import contextlib
import json
import math
import os
import random
import re
import stat
import warnings
import zipfile
import zlib
from typing import NamedTuple

import numpy as np

from utils.arg_checks import check_count, positive_number
from utils.files import atomic_write, open_regular
from utils.random_states import (KINDS, StateError, check_global_states, check_state, dumps,
                                 is_optional, json_object_hook, kind_of, python_state)

DEFAULT_CHECKPOINT_DIR = "checkpoints"
DEFAULT_KEEP = 3                  # checkpoints sgd keeps: the newest, and two in case it is lost

CHECKPOINT_FORMAT = 1             # bumped when the file layout changes
META_MAX_CHARS = 1 << 21          # JSON metadata; the cost history of q3_run takes < 0.7 M
JSON_MAX_DEPTH = 32               # nesting of the metadata (q3_run's: 6)
_DIGITS_MAX = 40                  # a 128-bit state (PCG64) has 39 digits
CHECKPOINT_NAME = re.compile(r"^saved_params_(\d+)\.npz$")
# utils.files's ".<name>.<pid>.<random>.tmp", and ".<name>.<pid>.tmp" of earlier versions
_TEMP_RE = re.compile(r"^\.saved_params_\d+\.npz\.(\d+)(?:\.\w+)?\.tmp$")
_META_KEYS = ("format", "config", "python_random", "numpy_random", "generators")
_ARRAY_KEYS = ("params", "iteration", "step", "expcost", "numpy_random_keys", "meta")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


class CheckpointError(ValueError):
    """A checkpoint file cannot be read (truncated, corrupt, wrong layout, bad contents)."""


class _Vanished(CheckpointError):
    """The file was deleted between listing and reading (pruned by a running writer)."""


class CheckpointConfigError(ValueError):
    """The newest checkpoint was written by a run with a different configuration."""


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (unreadable or wrong contents), or an old one not deleted."""


# ---- metadata as JSON ----------------------------------------------------------------
def _loads(text):
    """Parse metadata whose cost is bounded first: its size, its nesting, its numbers' length
    (Python 3.10 parses a million-digit integer in quadratic time)."""
    if len(text) > META_MAX_CHARS:
        raise CheckpointError(f"its metadata has {len(text)} characters: more than "
                              f"{META_MAX_CHARS} characters")
    bare = np.frombuffer(_JSON_STRING.sub('""', text).encode("utf-8"), np.uint8)
    depth = np.cumsum((bare == ord("[")).astype(np.int64) + (bare == ord("{"))
                      - (bare == ord("]")) - (bare == ord("}")))
    if depth.size and depth.max() > JSON_MAX_DEPTH:
        raise CheckpointError(f"its metadata is nested {depth.max()} deep, more than "
                              f"{JSON_MAX_DEPTH}")
    if re.search(rb"[0-9]{%d}" % (_DIGITS_MAX + 1), bare.tobytes()):
        raise CheckpointError(f"its metadata holds a number of more than {_DIGITS_MAX} digits")
    try:
        return json.loads(text, object_hook=json_object_hook)
    except json.JSONDecodeError as err:
        raise CheckpointError(f"its metadata is not JSON ({err})") from None


# ---- checkpoint files ----------------------------------------------------------------
def checkpoint_path(iteration, checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """Path of the checkpoint of `iteration`: ``<dir>/saved_params_<iteration>.npz``."""
    return os.path.join(checkpoint_dir, f"saved_params_{int(iteration)}.npz")


def list_checkpoints(checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """``[(iteration, path), ...]`` of the checkpoint names in the folder, newest first."""
    if not os.path.isdir(checkpoint_dir):
        return []
    found = []
    for name in os.listdir(checkpoint_dir):
        m = CHECKPOINT_NAME.match(name)
        if m:
            found.append((int(m.group(1)), os.path.join(checkpoint_dir, name)))
    return sorted(found, reverse=True)


def save_params(iter, params, checkpoint_dir=DEFAULT_CHECKPOINT_DIR, step=None, config=None,
                generators=(), expcost=None, keep=None, iterations=None):
    """Write the checkpoint of iteration `iter` atomically; return its path.

    `iter` (the course's name) is the iterations completed; `params` (any shape, e.g.
    (2V, D)) real and finite; `step` the step of the *next* iteration, positive; `config` a
    JSON-compatible description of the run, checked on resume; `generators` the extra random
    generators whose state is saved (Python's ``random`` and NumPy's global state always
    are); `expcost` the smoothed cost; `iterations` those asked of the run. With `keep`,
    the oldest checkpoints are then deleted so that `keep` remain, this one included (only
    names listed before writing and older than `iter`). The folder is created if missing.

    Raises
    ------
    ValueError
        Bad `params`, `step` or `keep`, or metadata over `META_MAX_CHARS`: nothing is
        written (reading would skip such a file).
    CheckpointConfigError
        The folder holds a good checkpoint of a later iteration, which readers
        (``q4_sentiment.py``, a resumed run) would take instead: nothing is written.
    """
    params = np.asarray(params)
    problem = _params_problem(params)
    if problem:
        raise ValueError(f"save_params: refusing to write checkpoint {iter}: {problem}")
    path = checkpoint_path(iter, checkpoint_dir)
    listing = list_checkpoints(checkpoint_dir)         # listed once, before the new file exists
    for it, p in listing:   # the guarantee: the file written is the newest that readers take
        if it > int(iter) and _readable(p, it):
            raise CheckpointConfigError(
                f"the checkpoint folder {checkpoint_dir} holds {p}, a good checkpoint of a later "
                f"iteration than {iter}: q4_sentiment.py would read it, not this run's. Another "
                "program writes in this folder: stop it, or use another --checkpoint-dir.")
    if step is not None and not positive_number(step):
        raise ValueError(f"save_params: step must be a positive finite number, got {step!r}")
    if keep is not None:
        check_count("save_params", "keep", keep, 1)
    np_state = np.random.get_state(legacy=True)  # ('MT19937', keys (624,), pos, has_gauss, cached)
    meta = {
        "format": CHECKPOINT_FORMAT,
        "config": config if config is not None else {},
        "python_random": random.getstate(),
        "numpy_random": {"pos": int(np_state[2]), "has_gauss": int(np_state[3]),
                         "cached_gaussian": float(np_state[4])},
        "generators": [{"kind": name, "state": kind.get(g)}
                       for g in generators for name, kind in [kind_of(g)]],
    }
    if iterations is not None:
        meta["iterations"] = int(iterations)
    text = dumps(meta)
    if len(text) > META_MAX_CHARS:
        raise ValueError(f"save_params: the metadata of checkpoint {iter} would hold "
                         f"{len(text)} characters, more than {META_MAX_CHARS}")
    arrays = {
        "params": params,
        "iteration": np.int64(iter),
        "step": np.float64(np.nan if step is None else step),
        "expcost": np.float64(np.nan if expcost is None else expcost),
        "numpy_random_keys": np.asarray(np_state[1], dtype=np.uint32),
        "meta": np.array(text),  # 0-d unicode array: no pickle needed
    }
    os.makedirs(checkpoint_dir, exist_ok=True)
    atomic_write(path, lambda fh: _write_arrays(fh, arrays))
    older = [p for it, p in listing if it < int(iter)]        # only once this one is written
    for p in older[keep - 1:] if keep is not None else ():
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass                                      # pruned meanwhile by somebody else
        except OSError as err:
            warnings.warn(f"could not delete the old checkpoint {p} ({err.strerror}); delete "
                          "it by hand to free the space", CheckpointWarning, stacklevel=2)
    return path


def _readable(path, iteration):
    """Whether a checkpoint file passes every check (a damaged one: no reader takes it)."""
    try:
        return _read_checkpoint(path, iteration) is not None
    except CheckpointError:
        return False


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


def _write_arrays(fh, arrays):
    """``np.savez``'s layout (stored .npy members, no pickle), with the zip closed even when a
    write fails (a full disk): np.savez leaves its zip to the garbage collector then, which on
    Python 3.10 writes to the closed file and prints a traceback."""
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        for name, value in arrays.items():
            with z.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


# ---- reading -------------------------------------------------------------------------
def _read_member(z, info, expected=None):
    """One .npy member of the zip, read only once its size is what its header implies (and
    its shape and dtype `expected`, if given): a lying header allocates nothing."""
    with z.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        if version not in ((1, 0), (2, 0)):
            raise CheckpointError(f"{info.filename} has .npy version {version}")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(fp)
        if dtype.hasobject:
            raise CheckpointError(f"{info.filename} holds Python objects, which are never "
                                  "loaded (no pickle)")
        if expected is not None and [list(shape), str(dtype)] != list(expected):
            raise CheckpointError(f"params have shape {list(shape)} and dtype {dtype} but its "
                                  f"configuration says {expected[0]} and {expected[1]}")
        nbytes = math.prod(shape) * dtype.itemsize
        if fp.tell() + nbytes != info.file_size:
            raise CheckpointError(f"{info.filename} claims shape {shape} of {dtype}, "
                                  f"{nbytes} bytes, but holds {info.file_size - fp.tell()}")
        buf = bytearray(nbytes)                     # writable: sgd updates x in place
        if fp.readinto(buf) != nbytes:
            raise CheckpointError(f"{info.filename} is cut short")
        fp.read(1)                                  # at the end: the zip checks the CRC
    return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _read_arrays(fh):
    """The arrays of an opened checkpoint, its metadata parsed, within the bounds of the
    module docstring."""
    if fh.read(4) != b"PK\x03\x04":
        raise CheckpointError("not an .npz (zip) file")
    on_disk = os.fstat(fh.fileno()).st_size
    with zipfile.ZipFile(fh) as z:
        members = {i.filename: i for i in z.infolist()}
        missing = [k for k in _ARRAY_KEYS if k + ".npy" not in members]
        if missing:
            raise CheckpointError(f"it has no {', '.join(missing)} array")
        inflated = sum(i.file_size for i in members.values())
        if inflated > on_disk:
            raise CheckpointError(f"its members would inflate to {inflated} bytes from the "
                                  f"{on_disk} of the file (checkpoints are stored uncompressed)")
        if members["meta.npy"].file_size > 4 * META_MAX_CHARS + 1024:
            raise CheckpointError(f"its metadata takes {members['meta.npy'].file_size} bytes: "
                                  f"more than {META_MAX_CHARS} characters")
        text = _read_member(z, members["meta.npy"])
        if text.shape != () or text.dtype.kind != "U":
            raise CheckpointError("meta is not a JSON text")
        meta = _loads(str(text))
        if not isinstance(meta, dict):
            raise CheckpointError("its metadata is not a JSON object")
        problem = _config_problem(meta.get("config", {}))     # (a missing one: said later)
        if problem:
            raise CheckpointError(problem)
        run = meta.get("config", {}).get("sgd")
        expected = None if run is None else (run["shape"], run["dtype"])
        arrays = {k: _read_member(z, members[k + ".npy"], expected if k == "params" else None)
                  for k in _ARRAY_KEYS if k != "meta"}
    return arrays, meta


def _read_checkpoint(path, iteration, generators=()):
    """(params, state) from one file; CheckpointError saying what is wrong with it."""
    try:
        with open_regular(path, "checkpoint") as fh:
            arrays, meta = _read_arrays(fh)
        params, state = _checked_contents(arrays, meta)
        stored = state.pop("iteration")
        if stored != iteration:
            raise CheckpointError(f"holds iteration {stored}, not {iteration} as its name says")
        for saved in state["generators"]:           # records, by the run's own check_state
            check_state(saved["kind"], saved["state"], generators)
        return params, dict(state, path=path)
    except FileNotFoundError as err:      # gone (pruned meanwhile), or a link to nothing
        raise (CheckpointError("a symbolic link to a missing file") if os.path.islink(path)
               else _Vanished(str(err))) from err
    except (CheckpointError, StateError) as err:   # (the body never raises _Vanished)
        raise CheckpointError(str(err)) from err
    except OSError as err:            # a folder, a FIFO, a device at its name; no permission
        raise CheckpointError((err.strerror or type(err).__name__).split(";")[0]) from err
    except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            OverflowError, zipfile.BadZipFile, zlib.error, MemoryError) as err:
        raise CheckpointError(f"malformed ({type(err).__name__}: {err})") from err


def _scalar(arrays, key, kinds):
    """The value of a 0-d array of the file whose dtype kind is in `kinds`."""
    a = arrays[key]
    if a.shape != () or a.dtype.kind not in kinds:
        raise CheckpointError(f"{key} is not a single {'number' if 'f' in kinds else 'integer'}"
                              f" (shape {a.shape}, dtype {a.dtype})")
    return a.item()


def _is_int(value, low):
    return type(value) is int and value >= low


def _config_problem(config):
    """What is malformed in a configuration (``config["sgd"]`` is written by sgd), or None."""
    if not isinstance(config, dict):
        return "its configuration is not a JSON object"
    run = config.get("sgd")
    if run is None:
        return None                 # written by save_params alone: nothing recorded
    if not isinstance(run, dict):
        return "its sgd configuration is not a JSON object"
    if not (isinstance(run.get("shape"), list) and all(_is_int(n, 0) for n in run["shape"])):
        return f"its configured shape {run.get('shape')!r} is not a list of sizes"
    if not (isinstance(run.get("dtype"), str) and isinstance(run.get("generators"), list)
            and positive_number(run.get("step")) and _is_int(run.get("anneal_every"), 1)):
        return "its sgd configuration has a field of the wrong type"
    return None


def _checked_contents(arrays, meta):
    """(params, state) once every field of a file's contents is checked (module docstring),
    but for records' states (their class checks them) and the iteration of its name."""
    missing = [k for k in _META_KEYS if k not in meta]
    if missing:
        raise CheckpointError(f"its metadata lacks {', '.join(map(repr, missing))}")
    if meta["format"] != CHECKPOINT_FORMAT or type(meta["format"]) is not int:
        raise CheckpointError(f"unknown checkpoint format {meta['format']!r}")
    stored = _scalar(arrays, "iteration", "iu")
    total = meta.get("iterations")
    if total is not None and not _is_int(total, stored):
        raise CheckpointError(f"its run's iterations {total!r} is not a count >= {stored}")
    params = arrays["params"]           # of the configured shape and dtype (_read_member)
    problem = _params_problem(params)
    if problem:
        raise CheckpointError(problem)
    step, expcost = _scalar(arrays, "step", "iuf"), _scalar(arrays, "expcost", "iuf")
    if not (math.isnan(step) or positive_number(step)):      # NaN: no step recorded
        raise CheckpointError(f"step is {step!r}, not a positive finite number")
    if math.isinf(expcost):
        raise CheckpointError(f"the smoothed cost is {expcost}")
    keys = arrays["numpy_random_keys"]
    if keys.shape != (624,) or keys.dtype != np.uint32:
        raise CheckpointError(f"NumPy random state has shape {keys.shape} and dtype "
                              f"{keys.dtype}, expected (624,) uint32")
    numpy_random = check_global_states(meta["python_random"], keys, meta["numpy_random"])
    saved = meta["generators"]
    if not (isinstance(saved, list) and all(isinstance(s, dict) and isinstance(s.get("kind"), str)
                                            and "state" in s for s in saved)):
        raise CheckpointError("its generator states are not a list of {kind, state}")
    for s in saved:
        if s["kind"] in KINDS:
            check_state(s["kind"], s["state"])
    state = {
        "iteration": stored,
        "step": None if math.isnan(step) else float(step),
        "expcost": None if math.isnan(expcost) else float(expcost),
        "config": meta["config"],
        "iterations": total,
        "python_random": python_state(meta["python_random"]),
        "numpy_random": numpy_random,
        "generators": saved,
    }
    return params, state


def load_saved_params(checkpoint_dir=DEFAULT_CHECKPOINT_DIR, *, generators=(), stacklevel=2):
    """``(iteration, params, state)`` of the newest good checkpoint of a folder, or (0, None, None).

    Files that fail the checks of the module docstring are skipped with a ``CheckpointWarning``
    (raised `stacklevel` frames up: 2 names the caller's line) and the next older one is tried.
    No lock is needed: files are written atomically, and one pruned meanwhile by a running
    writer is looked for again. `generators`: those of a run about to resume, whose
    ``check_state`` checks their saved records.

    ``params`` (e.g. (2V, D) for ``q3_run.py``: input vectors ``params[:V]``, output vectors
    ``params[V:]``, V = ``state["config"]["run"]["vocab_size"]``). ``state``: ``path``,
    ``step`` (of the next iteration), ``expcost``, ``config`` (``{"sgd": {...}, "run": {...}}``),
    ``iterations`` (asked of the run; None in older files), ``python_random``,
    ``numpy_random`` and ``generators`` (saved states, in order).
    """
    for _ in range(3):
        vanished = False
        for iteration, path in list_checkpoints(checkpoint_dir):
            try:
                params, state = _read_checkpoint(path, iteration, generators)
            except _Vanished:
                vanished = True         # pruned after a newer one was written: list again
                break
            except CheckpointError as err:
                warnings.warn(f"skipping checkpoint {path}: {err}; trying the previous one",
                              CheckpointWarning, stacklevel=stacklevel)
                continue
            return iteration, params, state
        if not vanished:
            break
    return 0, None, None


def restore_random_state(state, generators=()):
    """Put Python's random, NumPy's global state and `generators` back to a checkpoint's.

    The saved states are matched to `generators` in order; an optional record (``is_optional``)
    that the checkpoint lacks keeps its state."""
    saved = list(state["generators"])
    pairs = []
    for gen in generators:
        name, kind = kind_of(gen)
        if saved and saved[0]["kind"] == name:
            pairs.append((gen, kind, saved.pop(0)))
        elif not is_optional(gen):
            saved = None
            break
    if saved is None or saved:
        raise CheckpointConfigError(
            f"checkpoint {state['path']} holds the states of "
            f"{[g['kind'] for g in state['generators']]} but this run has "
            f"{[kind_of(g)[0] for g in generators]}")
    random.setstate(state["python_random"])
    np.random.set_state(state["numpy_random"])
    for gen, kind, s in pairs:
        kind.set(gen, s["state"])


def _remove_stale_temps(checkpoint_dir):
    """Delete temporary files left by a writer killed mid-save: those whose name
    (``.saved_params_<iter>.npz.<pid>[.<random>].tmp``) holds the pid of a process
    that is gone, or our own (nothing is being written while a run starts)."""
    if not os.path.isdir(checkpoint_dir):
        return
    for name in os.listdir(checkpoint_dir):
        m = _TEMP_RE.match(name)
        if m and not _pid_alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(checkpoint_dir, name))


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


def removable_checkpoints(checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """``(to_delete, to_leave)``: the checkpoint names of the folder that starting fresh
    deletes (regular files, and symbolic links, whose targets are not touched), and those it
    leaves (a folder, a FIFO ... at such a name: not ours). Each a list of (iteration, path)."""
    delete, leave = [], []
    for it, path in list_checkpoints(checkpoint_dir):
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        (delete if stat.S_ISREG(mode) or stat.S_ISLNK(mode) else leave).append((it, path))
    return delete, leave


def remove_checkpoints(checkpoint_dir=DEFAULT_CHECKPOINT_DIR):
    """Delete the checkpoints of the folder that `removable_checkpoints` names (used to start
    fresh); warn about the names it leaves. Returns how many were deleted."""
    delete, leave = removable_checkpoints(checkpoint_dir)
    for _, path in leave:
        warnings.warn(f"{path} is not a regular file: left in place", CheckpointWarning,
                      stacklevel=3)
    for _, path in delete:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return len(delete)


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


# ---- starting a run ------------------------------------------------------------------
class Start(NamedTuple):
    """Where ``sgd`` starts (`resume`): `iteration` done already (0: a new run), `x` to start
    from (x's shape), the `step` of the next iteration, `expcost` (None: not computed yet),
    `last_saved` ``(iteration, path)`` of the checkpoint resumed from (or None), and the
    run's `config` for ``save_params``."""

    iteration: int
    x: np.ndarray
    step: float
    expcost: float | None
    last_saved: tuple | None
    config: dict


def resume(checkpoint_dir, x, step, iterations, *, anneal_every, config=None, generators=(),
           fresh=False):
    """Start a run of ``q3_sgd.sgd``: from the newest checkpoint of a folder, or from `x`.

    Builds the configuration stored in every checkpoint: x's shape and dtype, the initial
    `step`, `anneal_every`, the kinds of `generators`, and the caller's `config` under
    ``"run"`` (with `checkpoint_dir` None, only this: a `config` or a generator that cannot
    be stored fails at once). With a folder: deletes the temporary files of writers that
    died mid-save, and with `fresh` every checkpoint (printing how many); reads the newest
    good checkpoint (`load_saved_params`), checks it against the run, tells optional records
    where the run starts (``start_at(iteration)``: the checkpoint may lack their state) and
    puts every random state back, printing ``resuming from <path> (iteration N)``.

    Parameters
    ----------
    checkpoint_dir : str or None
    x : ndarray, any shape, e.g. (2V, D)
        Start point of a new run; a checkpoint's parameters are cast to its dtype.
    step : float
        Initial step; on resume ``step * 0.5 ** (iteration // anneal_every)``.
    iterations : int
        Iterations asked for, counting those done before a resume.
    anneal_every, config, generators, fresh : as ``sgd`` takes them

    Returns
    -------
    Start
        For a new run ``(0, x, step, None, None, config)``, `x` and `step` as given.

    Raises
    ------
    CheckpointConfigError
        The newest checkpoint comes from a run with another configuration, is beyond
        `iterations`, holds a step off the schedule, or another number of generator states.
    TypeError
        `config` is not JSON-compatible, or a generator cannot be checkpointed.
    """
    step0 = float(step)
    # a JSON round trip: the dict compared on resume is exactly the one a checkpoint gives back
    run_config = json.loads(dumps({
        "sgd": {"shape": list(x.shape), "dtype": str(x.dtype), "step": step0,
                "anneal_every": int(anneal_every),
                "generators": [kind_of(g)[0] for g in generators if not is_optional(g)]},
        "run": config if config is not None else {},
    }))
    new_run = Start(0, x, step, None, None, run_config)
    if checkpoint_dir is None:
        return new_run
    _remove_stale_temps(checkpoint_dir)
    if fresh and (n := remove_checkpoints(checkpoint_dir)):
        print(f"starting fresh: removed {n} checkpoint(s) from {checkpoint_dir}", flush=True)
    iteration, saved_x, state = load_saved_params(checkpoint_dir, generators=generators,
                                                  stacklevel=3)
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
    # the halvings already done, by integer division (a resume at 5000 of 20000 keeps the step)
    step = step0 * 0.5 ** (iteration // anneal_every)
    if state["step"] is not None and state["step"] != step:
        raise CheckpointConfigError(f"checkpoint {state['path']} has step {state['step']!r} but "
                                    f"the schedule gives {step!r} at iteration {iteration}")
    for gen in generators:
        if is_optional(gen) and hasattr(gen, "start_at"):
            gen.start_at(iteration)
    restore_random_state(state, generators)
    print(f"resuming from {state['path']} (iteration {iteration})", flush=True)
    return Start(iteration, x, step, state["expcost"], (iteration, state["path"]), run_config)
