"""Bad inputs to the checkpoints (issues 11 and 18): refused clearly, or skipped.

* A second run on a locked checkpoint folder, and a folder that cannot be used, are refused
  with one line naming the folder (a ValueError subclass, which the command-line scripts print
  as ``script: error: ...``); the first run's checkpoints are left intact.
* A checkpoint whose contents are wrong (a valid npz whose params disagree with its metadata,
  NaN or infinite values, a missing key, a bad step, ...) is skipped with a one-line
  ``CheckpointWarning`` naming the file and the problem; the previous good one is used, so the
  run ends exactly as one never disturbed.
* Bad arguments of ``sgd`` and ``save_params`` are refused before anything is computed or
  written; parameters gone NaN are never saved as "the last good checkpoint".
* Only the newest checkpoints are kept; temporary files are created with O_EXCL.
* A checkpoint's cost is bounded before it is read (a zip bomb, a lying .npy header, JSON too
  long, too deep or with a huge number); every field of its random states, configuration and
  cost history is checked; a FIFO, a folder or a device at a checkpoint's name is skipped at
  once. The lock file is never followed through a symbolic link, nor truncated unless it is a
  lock file of ours.

The lock tests run two processes through a small driver that does what ``q3_run.py`` does:
``with checkpoint_lock(folder): sgd(..., useSaved=True, checkpoint_dir=folder)``, printing
``driver: error: <message>`` and exiting 2 on a ValueError. Self-contained: every helper is here.
"""
import base64
import io
import json
import os
import signal
import subprocess
import sys
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

import utils.files
from q3_sgd import TrainingDivergedError, sgd
from utils.cost_curve import CostHistory
from utils.files import atomic_write
from utils.checkpoint import (META_MAX_CHARS, CheckpointWarning, list_checkpoints,
                              load_saved_params, save_params)
from utils.folder_lock import CheckpointDirError, CheckpointLockedError, checkpoint_lock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = 10 ** 9                      # PRINT_EVERY that never prints
X0 = np.ones((4, 2))                 # x of the small runs: 4 "words", 2 dimensions


def quad(x):
    """sum(x^2) and its gradient: deterministic, so a resumed run equals a whole one."""
    return float(np.sum(x ** 2)), 2 * x


def quad_after(n):
    """x after n steps of 0.1 on quad from X0, with sgd's arithmetic (x -= 0.1 * 2x)."""
    x = X0.copy()
    for _ in range(n):
        x -= 0.1 * (2 * x)
    return x


def train(folder, iterations=30, **kwargs):
    """sgd on quad with a checkpoint every 10 iterations (and an extra Generator checkpointed)."""
    return sgd(quad, X0, 0.1, iterations, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
               checkpoint_dir=str(folder), generators=[np.random.default_rng(0)], **kwargs)


def names(folder):
    return sorted(n for n in os.listdir(folder) if n.startswith("saved_params_"))


def rewrite(path, meta_edit=None, **arrays_changed):
    """Rewrite a checkpoint as a valid npz with arrays replaced (None: removed) or meta edited."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    if meta_edit is not None:
        meta = json.loads(str(arrays["meta"]))
        meta_edit(meta)
        arrays["meta"] = np.array(json.dumps(meta))
    for key, value in arrays_changed.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def one_line(message):
    assert "\n" not in message and "Traceback" not in message, message
    return message


# ---- item 5: checkpoint contents checked against the metadata -------------------------------
def _with_nan(p):
    p = p.copy()
    p[1, 0] = np.nan
    return p


def _with_inf(p):
    p = p.copy()
    p[3, 1] = -np.inf
    return p


def _set(*keys_and_value):
    """A meta_edit setting meta[k1][k2]... = value."""
    *keys, value = keys_and_value

    def edit(meta):
        target = meta
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
    return edit


def _drop(key):
    return lambda meta: meta.pop(key)


def _meta_with_run(meta, text):
    """The metadata array `meta` with its (empty) run configuration replaced by JSON `text`."""
    assert '"run": {}' in str(meta)
    return np.array(str(meta).replace('"run": {}', f'"run": {text}'))


# (case, how the newest checkpoint is damaged, what the warning must say)
CONTENT_CASES = [
    ("params_narrower", dict(params=lambda p: p[:, :1]),
     "params have shape [4, 1] and dtype float64 but its configuration says [4, 2] and float64"),
    ("params_fewer_rows", dict(params=lambda p: p[:3]),
     "params have shape [3, 2] and dtype float64 but its configuration says [4, 2]"),
    ("params_float32", dict(params=lambda p: p.astype(np.float32)),
     "dtype float32 but its configuration says [4, 2] and float64"),
    ("params_nan", dict(params=_with_nan),
     "params hold 1 NaN or infinite value(s) (the first at index (1, 0))"),
    ("params_inf", dict(params=_with_inf),
     "params hold 1 NaN or infinite value(s) (the first at index (3, 1))"),
    ("params_text", dict(params=lambda p: np.full(p.shape, "a")),
     "params have shape [4, 2] and dtype <U1 but its configuration says [4, 2] and float64"),
    ("params_pickled_objects", dict(params=lambda p: np.array([{"a": 1}] * 4, dtype=object)),
     "params.npy holds Python objects, which are never loaded (no pickle)"),
    ("no_step_array", dict(step=None), "it has no step array"),
    ("step_negative", dict(step=np.float64(-0.1)), "step is -0.1, not a positive finite number"),
    ("step_zero", dict(step=np.float64(0.0)), "step is 0.0, not a positive finite number"),
    ("step_inf", dict(step=np.float64(np.inf)), "step is inf, not a positive finite number"),
    ("step_text", dict(step=np.array("fast")), "step is not a single number (shape (), dtype <U4)"),
    ("step_two_values", dict(step=np.array([0.1, 0.1])),
     "step is not a single number (shape (2,), dtype float64)"),
    ("iteration_other_than_name", dict(iteration=np.int64(20)),
     "holds iteration 20, not 30 as its name says"),
    ("iteration_float", dict(iteration=np.float64(30.0)),
     "iteration is not a single integer (shape (), dtype float64)"),
    ("expcost_inf", dict(expcost=np.float64(np.inf)), "the smoothed cost is inf"),
    ("numpy_keys_short", dict(numpy_random_keys=lambda k: k[:600]),
     "NumPy random state has shape (600,) and dtype uint32, expected (624,) uint32"),
    ("numpy_position_past_the_keys", dict(meta_edit=_set("numpy_random", "pos", 700)),
     "NumPy random state has position 700"),
    ("numpy_position_negative", dict(meta_edit=_set("numpy_random", "pos", -1)),
     "NumPy random state has position -1"),
    ("python_random_short", dict(meta_edit=_set("python_random", 1, [1, 2, 3])),
     "the random.Random state is malformed (ValueError: state vector is the wrong size)"),
    ("generator_unknown_kind", dict(meta_edit=_set("generators", 0, "state", "bit_generator",
                                                   "Nope")),
     "unknown bit generator 'Nope'"),
    ("generator_state_empty", dict(meta_edit=_set("generators", 0, "state", "state", {})),
     "the Generator state is malformed (KeyError"),
    ("meta_not_json", dict(meta=np.array("{not json")), "its metadata is not JSON (Expecting"),
    ("meta_a_list", dict(meta=np.array("[1, 2]")), "its metadata is not a JSON object"),
    ("meta_not_text", dict(meta=np.zeros(3)), "meta is not a JSON text"),
    ("config_not_an_object", dict(meta_edit=_set("config", [])),
     "its configuration is not a JSON object"),
    ("config_shape_edited", dict(meta_edit=_set("config", "sgd", "shape", [4, 5])),
     "params have shape [4, 2] and dtype float64 but its configuration says [4, 5]"),
    ("format_unknown", dict(meta_edit=_set("format", 2)), "unknown checkpoint format 2"),
    ("format_true", dict(meta_edit=_set("format", True)), "unknown checkpoint format True"),
    # issue 18: tampered random states, configuration and run length
    ("python_random_key_out_of_range", dict(meta_edit=_set("python_random", 1, 0, 2 ** 40)),
     "the random.Random state does not read back as saved (a value out of range"),
    ("python_random_index_out_of_range", dict(meta_edit=_set("python_random", 1, 624, 700)),
     "the random.Random state is malformed (ValueError: invalid state)"),
    ("python_random_all_zeros", dict(meta_edit=_set("python_random", 1, [0] * 624 + [624])),
     "the random.Random state is all zeros (it would draw only zeros)"),
    ("python_random_gauss_text", dict(meta_edit=_set("python_random", 2, "x")),
     "the random.Random state caches 'x' as its next normal draw"),
    ("numpy_cached_gaussian_nan", dict(meta_edit=_set("numpy_random", "cached_gaussian",
                                                      float("nan"))), "and cached value nan"),
    ("numpy_has_gauss_true", dict(meta_edit=_set("numpy_random", "has_gauss", True)),
     "has_gauss True"),
    ("numpy_keys_all_zero", dict(numpy_random_keys=lambda k: np.zeros_like(k)),
     "the RandomState state is all zeros"),
    ("generator_state_float", dict(meta_edit=_set("generators", 0, "state", "state", "state",
                                                  1.5)),
     "the Generator state does not read back as saved"),
    ("generator_state_too_large", dict(meta_edit=_set("generators", 0, "state", "state", "inc",
                                                      2 ** 130)),
     "the Generator state is malformed (OverflowError"),
    ("generator_kind_not_text", dict(meta_edit=_set("generators", 0, "kind", 5)),
     "its generator states are not a list of {kind, state}"),
    ("generators_not_a_list", dict(meta_edit=_set("generators", {})),
     "its generator states are not a list of {kind, state}"),
    ("run_iterations_fewer", dict(meta_edit=_set("iterations", 10)),
     "its run's iterations 10 is not a count >= 30"),
    ("run_iterations_text", dict(meta_edit=_set("iterations", "30")),
     "its run's iterations '30' is not a count >= 30"),
    ("config_shape_text", dict(meta_edit=_set("config", "sgd", "shape", "big")),
     "its configured shape 'big' is not a list of sizes"),
    ("config_anneal_every_true", dict(meta_edit=_set("config", "sgd", "anneal_every", True)),
     "its sgd configuration has a field of the wrong type"),
    ("array_of_a_huge_dtype", dict(meta_edit=_set("config", "run", {"__ndarray__": ["a"],
                                                                    "dtype": "U999999999"})),
     "an array of dtype 'U999999999' in its metadata"),
    # issue 18: metadata whose parsing would cost too much
    ("meta_nested_too_deep", dict(meta=lambda m: _meta_with_run(m, "[" * 5000 + "]" * 5000)),
     "its metadata is nested 5002 deep, more than 32"),
    ("meta_huge_number", dict(meta=lambda m: _meta_with_run(m, "7" * 200_000)),
     "its metadata holds a number of more than 40 digits"),
    ("meta_too_long", dict(meta=lambda m: _meta_with_run(m, '"' + "x" * META_MAX_CHARS + '"')),
     f"more than {META_MAX_CHARS} characters"),
] + [(f"meta_without_{key}", dict(meta_edit=_drop(key)), f"its metadata lacks '{key}'")
     for key in ("format", "config", "python_random", "numpy_random", "generators")]


@pytest.mark.parametrize("case, damage, says", CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES])
def test_wrong_contents_skipped_and_previous_good_used(tmp_path, case, damage, says):
    whole = train(tmp_path)
    newest = tmp_path / "saved_params_30.npz"
    previous = (tmp_path / "saved_params_20.npz").read_bytes()
    damage = dict(damage)
    meta_edit = damage.pop("meta_edit", None)
    with np.load(newest, allow_pickle=False) as data:
        changed = {k: (v(data[k]) if callable(v) else v) for k, v in damage.items()}
    rewrite(newest, meta_edit, **changed)

    with pytest.warns(CheckpointWarning) as caught:
        it, params, state = load_saved_params(str(tmp_path))
    message = one_line(str(caught[0].message))
    assert message.startswith(f"skipping checkpoint {newest}: ") and says in message, message
    assert message.endswith("; trying the previous one")
    assert it == 20 and state["path"] == str(tmp_path / "saved_params_20.npz")
    assert params.shape == (4, 2) and np.array_equal(params, quad_after(20))
    assert (tmp_path / "saved_params_20.npz").read_bytes() == previous      # nothing lost

    with pytest.warns(CheckpointWarning, match="saved_params_30.npz"):
        resumed = train(tmp_path)                   # from 20; rewrites 30
    assert resumed.shape == whole.shape == (4, 2) and np.array_equal(resumed, whole)
    assert names(tmp_path) == [f"saved_params_{i}.npz" for i in (10, 20, 30)]
    assert load_saved_params(str(tmp_path))[0] == 30                      # good again


# ---- issue 18: what a file may cost is bounded before it is read -----------------------------
def _members(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _npy(array, header_shape=None, data=None):
    """The bytes of an .npy member: `array`'s, or a header claiming `header_shape` over `data`."""
    out = io.BytesIO()
    if header_shape is None:
        np.lib.format.write_array(out, array, allow_pickle=False)
    else:
        np.lib.format.write_array_header_1_0(
            out, {"descr": "<f8", "fortran_order": False, "shape": header_shape})
        out.write(data)
    return out.getvalue()


def _rezip(path, compression=zipfile.ZIP_STORED, **replaced):
    """Write the checkpoint at `path` again as a zip, members replaced by raw .npy bytes."""
    members = {k: _npy(v) for k, v in _members(path).items()}
    members.update(replaced)
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for key, raw in members.items():
            z.writestr(f"{key}.npy", raw)


def _padded_meta(path, spaces):
    meta = str(_members(path)["meta"])
    return _npy(np.array(meta[:-1] + " " * spaces + meta[-1]))      # JSON allows the spaces


COSTLY_FILES = [   # (case, damage(path), what the warning says)
    ("header_claims_160_TiB_of_another_shape",
     lambda p: _rezip(p, params=_npy(None, (10 ** 13, 2), bytes(64))),
     "params have shape [10000000000000, 2] and dtype float64 but its configuration says "
     "[4, 2] and float64"),
    ("header_claims_more_bytes_than_it_holds",
     lambda p: _rezip(p, params=_npy(None, (4, 2), bytes(32))),
     "params.npy claims shape (4, 2) of float64, 64 bytes, but holds 32"),
    ("zip_bomb_of_metadata", lambda p: _rezip(p, zipfile.ZIP_DEFLATED,
                                              meta=_padded_meta(p, 10_000_000)),
     "its members would inflate to"),
    ("written_by_savez_compressed", lambda p: np.savez_compressed(p, **_members(p)),
     "(checkpoints are stored uncompressed)"),
    ("metadata_of_more_than_its_bound", lambda p: _rezip(p, meta=_padded_meta(p, 2_200_000)),
     f"more than {META_MAX_CHARS} characters"),
]


@pytest.mark.parametrize("case, damage, says", COSTLY_FILES, ids=[c[0] for c in COSTLY_FILES])
def test_costly_checkpoint_refused_before_it_is_read(tmp_path, case, damage, says):
    whole = train(tmp_path)
    damage(tmp_path / "saved_params_30.npz")
    tracemalloc.start()
    try:
        with pytest.warns(CheckpointWarning) as caught:
            it, params, _ = load_saved_params(str(tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = one_line(str(caught[0].message))
    assert "saved_params_30.npz: " in message and says in message, message
    assert peak < 20 * 2 ** 20, f"reading took {peak / 2 ** 20:.0f} MB"   # the bomb: 40 MB
    assert it == 20 and params.shape == (4, 2) and np.array_equal(params, quad_after(20))
    with pytest.warns(CheckpointWarning, match="saved_params_30.npz"):
        assert np.array_equal(train(tmp_path), whole)            # resumed from 20, exactly


# ---- issue 18: special files where a checkpoint is expected: skipped at once, never waited on ----
def _fifo(path):
    os.mkfifo(path)


SPECIAL_FILES = [   # (case, make(path), what the warning says)
    ("a_folder", lambda p: p.mkdir(), "a folder, not a regular file"),
    ("a_fifo", _fifo, "a named pipe (FIFO), not a regular file"),
    ("a_link_to_dev_zero", lambda p: p.symlink_to("/dev/zero"),
     "a character device, not a regular file"),
    ("a_link_to_a_fifo", lambda p: (_fifo(p.parent / "pipe"), p.symlink_to(p.parent / "pipe")),
     "a named pipe (FIFO), not a regular file"),
    ("a_link_to_nothing", lambda p: p.symlink_to(p.parent / "missing"),
     "a symbolic link to a missing file"),
]


@pytest.fixture
def no_hang():
    """Fail, instead of waiting forever, if the test blocks for 20 s (a FIFO opened to read)."""
    def timeout(signum, frame):
        raise TimeoutError("the test waited 20 s: something blocked")
    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("case, make, says", SPECIAL_FILES, ids=[c[0] for c in SPECIAL_FILES])
def test_special_file_named_like_a_checkpoint_skipped_at_once(tmp_path, no_hang, case, make,
                                                              says):
    whole = train(tmp_path)
    make(tmp_path / "saved_params_40.npz")
    with pytest.warns(CheckpointWarning) as caught:
        it, params, _ = load_saved_params(str(tmp_path))
    message = one_line(str(caught[0].message))
    assert message == (f"skipping checkpoint {tmp_path / 'saved_params_40.npz'}: {says}; "
                       "trying the previous one")
    assert it == 30 and params.shape == (4, 2) and np.array_equal(params, whole)
    not_ours = case in ("a_folder", "a_fifo")           # --fresh deletes files and links only
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(tmp_path, iterations=30, fresh=True)
    assert os.path.lexists(tmp_path / "saved_params_40.npz") == not_ours
    assert any("is not a regular file: left in place" in str(w.message) for w in caught) == \
        not_ours


def test_every_checkpoint_damaged_starts_again_and_says_so(tmp_path):
    whole = train(tmp_path)
    for name in names(tmp_path):
        rewrite(tmp_path / name, params=np.full((4, 2), np.nan))
    with pytest.warns(CheckpointWarning) as caught:
        again = train(tmp_path)
    skipped = [str(w.message).split(":")[0] for w in caught]
    assert skipped == [f"skipping checkpoint {tmp_path / n}" for n in
                       ("saved_params_30.npz", "saved_params_20.npz", "saved_params_10.npz")]
    assert again.shape == (4, 2) and np.array_equal(again, whole)
    assert load_saved_params(str(tmp_path))[0] == 30


# ---- NaN during training: never saved, never named as the last good checkpoint ---------------
def test_parameters_gone_nan_at_a_save_are_not_saved(tmp_path):
    def f(x):                          # a finite cost with an infinite gradient at iteration 20
        f.calls += 1
        return float(np.sum(x ** 2)), (np.full_like(x, np.inf) if f.calls == 20 else 2 * x)
    f.calls = 0
    with pytest.raises(TrainingDivergedError) as err:
        sgd(f, X0, 0.1, 40, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
            checkpoint_dir=str(tmp_path))
    assert one_line(str(err.value)) == (
        f"sgd: at iteration 20 x holds NaN or infinite values: it is not saved; the last good "
        f"checkpoint {tmp_path / 'saved_params_10.npz'} (iteration 10) is kept. "
        "Try a smaller step.")
    assert names(tmp_path) == ["saved_params_10.npz"]
    it, params, _ = load_saved_params(str(tmp_path))
    assert it == 10 and params.shape == (4, 2) and np.array_equal(params, quad_after(10))


def test_divergence_after_skipping_a_nan_checkpoint_names_a_good_one(tmp_path):
    train(tmp_path, iterations=20)
    rewrite(tmp_path / "saved_params_20.npz", params=np.full((4, 2), np.nan))

    def f(x):                          # diverges at iteration 15 of the resumed run
        f.calls += 1
        return (np.nan if f.calls == 5 else float(np.sum(x ** 2))), 2 * x
    f.calls = 0
    with pytest.warns(CheckpointWarning, match="saved_params_20"), \
            pytest.raises(TrainingDivergedError) as err:
        sgd(f, X0, 0.1, 30, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
            checkpoint_dir=str(tmp_path), generators=[np.random.default_rng(0)])
    message = one_line(str(err.value))
    assert message.startswith("sgd: at iteration 15 the cost is nan")
    assert f"last good checkpoint {tmp_path / 'saved_params_10.npz'} (iteration 10)" in message
    assert "saved_params_20" not in message


# issue 18, case 11: a NaN or infinite gradient with a finite cost stops training; it is seen in
# x (at a checkpoint, and at the end), where NaN stays: no check is added to the iterations
class NanRows:
    """A sparse gradient whose values hold NaN (the protocol add_to(x, factor))."""
    def add_to(self, x, factor):
        x[1] += factor * np.array([np.nan, 1.0])


def _bad_at(n, grad):
    """quad, but with the gradient `grad(x)` at call n."""
    def f(x):
        f.calls += 1
        finite = np.where(np.isfinite(x), x, 0.0)               # the cost stays finite
        return float(np.sum(finite ** 2)), (grad(x) if f.calls == n else 2 * finite)
    f.calls = 0
    return f


BAD_GRADIENTS = [   # (case, gradient at iteration 3, useSaved, message)
    ("nan_dense", lambda x: np.full_like(x, np.nan), False,
     "sgd: after iteration 20 x holds NaN or infinite values (a gradient was, with a finite "
     "cost). Try a smaller step."),
    ("inf_dense", lambda x: np.full_like(x, -np.inf), False,
     "sgd: after iteration 20 x holds NaN or infinite values"),
    ("nan_in_one_entry", lambda x: np.where(np.arange(x.size).reshape(x.shape) == 5, np.nan,
                                            2 * x), False,
     "sgd: after iteration 20 x holds NaN or infinite values"),
    ("nan_sparse", lambda x: NanRows(), False,
     "sgd: after iteration 20 x holds NaN or infinite values"),
    ("nan_dense_with_checkpoints", lambda x: np.full_like(x, np.nan), True,
     "sgd: at iteration 10 x holds NaN or infinite values: it is not saved. Try a smaller step."),
]


@pytest.mark.parametrize("case, grad, saved, says", BAD_GRADIENTS,
                         ids=[c[0] for c in BAD_GRADIENTS])
def test_non_finite_gradient_stops_training(tmp_path, case, grad, saved, says):
    with pytest.raises(TrainingDivergedError) as err:
        sgd(_bad_at(3, grad), X0, 0.1, 20, useSaved=saved, save_every=10, PRINT_EVERY=QUIET,
            checkpoint_dir=str(tmp_path))
    assert one_line(str(err.value)).startswith(says), str(err.value)
    assert names(tmp_path) == []                             # no NaN is ever saved


# ---- bad arguments: refused before any iteration and before anything is written ---------------
SGD_ARGUMENTS = [   # (case, arguments changed, error, message)
    ("step_zero", dict(step=0), ValueError, "sgd: step must be a positive finite number, got 0"),
    ("step_negative", dict(step=-0.1), ValueError,
     "sgd: step must be a positive finite number, got -0.1"),
    ("step_nan", dict(step=float("nan")), ValueError,
     "sgd: step must be a positive finite number, got nan"),
    ("step_inf", dict(step=float("inf")), ValueError,
     "sgd: step must be a positive finite number, got inf"),
    ("step_text", dict(step="0.1"), ValueError,
     "sgd: step must be a positive finite number, got '0.1'"),
    ("step_bool", dict(step=True), ValueError,
     "sgd: step must be a positive finite number, got True"),
    ("iterations_negative", dict(iterations=-1), ValueError,
     "sgd: iterations must be an integer >= 0, got -1"),
    ("iterations_float", dict(iterations=2.5), TypeError,
     "sgd: iterations must be an integer >= 0, got 2.5"),
    ("iterations_whole_float", dict(iterations=20.0), TypeError,
     "sgd: iterations must be an integer >= 0, got 20.0"),
    ("iterations_bool", dict(iterations=True), TypeError,
     "sgd: iterations must be an integer >= 0, got True"),
    ("save_every_zero", dict(save_every=0), ValueError,
     "sgd: save_every must be an integer >= 1, got 0"),
    ("save_every_bool", dict(save_every=True), TypeError,
     "sgd: save_every must be an integer >= 1, got True"),
    ("anneal_every_zero", dict(anneal_every=0), ValueError,
     "sgd: anneal_every must be an integer >= 1, got 0"),
    ("anneal_every_float", dict(anneal_every=2.5), TypeError,
     "sgd: anneal_every must be an integer >= 1, got 2.5"),
    ("print_every_zero", dict(PRINT_EVERY=0), ValueError,
     "sgd: PRINT_EVERY must be an integer >= 1, got 0"),
    ("print_every_float", dict(PRINT_EVERY=10.0), TypeError,
     "sgd: PRINT_EVERY must be an integer >= 1, got 10.0"),
    ("smooth_every_negative", dict(smooth_every=-5), ValueError,
     "sgd: smooth_every must be an integer >= 1, got -5"),
    ("keep_zero", dict(keep=0), ValueError, "sgd: keep must be an integer >= 1, got 0"),
    ("keep_negative", dict(keep=-1), ValueError, "sgd: keep must be an integer >= 1, got -1"),
    ("keep_float", dict(keep=2.0), TypeError, "sgd: keep must be an integer >= 1, got 2.0"),
    ("keep_bool", dict(keep=True), TypeError, "sgd: keep must be an integer >= 1, got True"),
    ("f_not_a_function", dict(f=5), TypeError, "sgd: f must be a function, got int 5"),
    ("postprocessing_not_a_function", dict(postprocessing="normalizeRows"), TypeError,
     "sgd: postprocessing must be a function, got str 'normalizeRows'"),
    ("progress_not_a_function", dict(progress=[]), TypeError,
     "sgd: progress must be a function, got list []"),
    ("x0_text", dict(x0=np.array(["a", "b"])), TypeError,
     "sgd: x0 must be a number or an array of real numbers, got dtype <U1"),
    ("x0_objects", dict(x0=[1.0, None]), TypeError,
     "sgd: x0 must be a number or an array of real numbers, got dtype object"),
]


@pytest.mark.parametrize("case, changed, error, says", SGD_ARGUMENTS,
                         ids=[c[0] for c in SGD_ARGUMENTS])
def test_bad_sgd_argument_refused_before_any_iteration(tmp_path, case, changed, error, says):
    calls = []
    args = dict(f=lambda x: calls.append(1) or quad(x), x0=X0, step=0.1, iterations=20,
                save_every=10, PRINT_EVERY=QUIET)
    args.update(changed)
    with pytest.raises(error) as err:
        sgd(args.pop("f"), args.pop("x0"), args.pop("step"), args.pop("iterations"),
            useSaved=True, checkpoint_dir=str(tmp_path / "ck"), **args)
    assert type(err.value) is error and one_line(str(err.value)) == says
    assert calls == [] and not (tmp_path / "ck").exists()


POSTPROCESSING = [   # (case, postprocessing, error, message): refused at the first iteration
    ("shrinks_a_row", lambda x: x[:-1], ValueError,
     "sgd: postprocessing returned shape (3, 2), but x has shape (4, 2): it must return an "
     "array of x's shape"),
    ("returns_a_number", lambda x: float(x.sum()), ValueError,
     "sgd: postprocessing returned shape (), but x has shape (4, 2)"),
    ("returns_a_column", lambda x: x[:, :1], ValueError,
     "sgd: postprocessing returned shape (4, 1), but x has shape (4, 2)"),
    ("returns_none", lambda x: None, ValueError,
     "sgd: postprocessing returned shape (), but x has shape (4, 2)"),
    ("returns_text", lambda x: np.full(x.shape, "a"), TypeError,
     "sgd: postprocessing returned dtype <U1, not real numbers"),
]


@pytest.mark.parametrize("case, post, error, says", POSTPROCESSING,
                         ids=[c[0] for c in POSTPROCESSING])
def test_bad_postprocessing_refused_at_the_first_iteration(tmp_path, case, post, error, says):
    calls = []
    with pytest.raises(error) as err:
        sgd(lambda x: calls.append(1) or quad(x), X0, 0.1, 20, postprocessing=post,
            useSaved=True, save_every=1, PRINT_EVERY=QUIET, checkpoint_dir=str(tmp_path))
    assert one_line(str(err.value)).startswith(says)
    assert calls == [1] and names(tmp_path) == []                 # nothing saved


SAVE_ARGUMENTS = [
    ("params_nan", dict(params=np.array([1.0, np.nan])),
     "save_params: refusing to write checkpoint 5: params hold 1 NaN or infinite value(s) "
     "(the first at index (1,))"),
    ("params_text", dict(params=np.array(["a", "b"])),
     "save_params: refusing to write checkpoint 5: params have dtype <U1, not a real number type"),
    ("step_negative", dict(step=-1.0),
     "save_params: step must be a positive finite number, got -1.0"),
    ("keep_zero", dict(keep=0), "save_params: keep must be an integer >= 1, got 0"),
]


@pytest.mark.parametrize("case, kwargs, says", SAVE_ARGUMENTS, ids=[c[0] for c in SAVE_ARGUMENTS])
def test_save_params_refuses_what_loading_would_skip(tmp_path, case, kwargs, says):
    args = dict(params=np.ones(2), step=0.5)
    args.update(kwargs)
    with pytest.raises(ValueError) as err:
        save_params(5, args.pop("params"), str(tmp_path), **args)
    assert one_line(str(err.value)) == says
    assert os.listdir(tmp_path) == []                         # nothing written


# ---- item 2: one run per checkpoint folder --------------------------------------------------
DRIVER = """\
import os, sys, time
sys.path.insert(0, {root!r})
import numpy as np
from q3_sgd import sgd
from utils.folder_lock import checkpoint_lock

folder, iterations, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    with checkpoint_lock(folder):
        x = sgd(lambda x: (float(np.sum(x ** 2)), 2 * x), np.ones((4, 2)), 0.1, iterations,
                useSaved=True, save_every=10, PRINT_EVERY=10 ** 9, checkpoint_dir=folder)
        if mode == "hold":
            child = os.fork()
            if child == 0:             # outlives this process, like the sampler's worker
                os.closerange(0, 3)
                time.sleep(60)
                os._exit(0)
            print("child", child, flush=True)
        print("trained", flush=True)
        if mode == "hold":
            sys.stdin.readline()       # holds the lock until the test closes stdin
except ValueError as err:
    print(f"driver: error: {{err}}", file=sys.stderr)
    sys.exit(2)
"""


@pytest.fixture
def driver(tmp_path):
    path = tmp_path / "driver.py"
    path.write_text(DRIVER.format(root=ROOT))
    started = []

    def start(folder, iterations, mode="run"):
        proc = subprocess.Popen([sys.executable, str(path), str(folder), str(iterations), mode],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        started.append(proc)
        if mode == "hold":
            child = int(proc.stdout.readline().split()[1])
            started.append(child)
            assert proc.stdout.readline() == "trained\n"
            return proc, child
        out, err = proc.communicate(timeout=60)
        return proc.returncode, out, err
    yield start
    for p in started:                  # only what this test started, by pid
        try:
            if isinstance(p, int):
                os.kill(p, signal.SIGKILL)
            else:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                for pipe in (p.stdin, p.stdout, p.stderr):
                    pipe.close()
        except ProcessLookupError:
            pass


def test_second_run_on_a_locked_folder_refused_and_first_intact(tmp_path, driver):
    folder = tmp_path / "ck"
    first, _ = driver(folder, 30, "hold")
    before = {n: (folder / n).read_bytes() for n in names(folder)}

    status, out, err = driver(folder, 40)
    assert status == 2 and out == "" and "Traceback" not in err
    assert err == (f"driver: error: the checkpoint folder {folder} is in use by another run "
                   f"(process {first.pid}): wait for it to finish, or use another folder "
                   "(--checkpoint-dir)\n")
    assert {n: (folder / n).read_bytes() for n in names(folder)} == before     # nothing touched
    assert list(before) == [f"saved_params_{i}.npz" for i in (10, 20, 30)]

    first.stdin.close()                # the first run ends: the folder is free again
    assert first.wait(timeout=30) == 0
    status, out, err = driver(folder, 40)
    resumed = f"resuming from {folder / 'saved_params_30.npz'} (iteration 30)\n"
    assert (status, out, err) == (0, resumed + "trained\n", "")
    it, params, _ = load_saved_params(str(folder))
    assert it == 40 and params.shape == (4, 2) and np.array_equal(params, quad_after(40))


def test_lock_released_by_kill_9_even_with_a_forked_child_alive(tmp_path, driver):
    folder = tmp_path / "ck"
    holder, child = driver(folder, 30, "hold")
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=30) == -signal.SIGKILL
    os.kill(child, 0)                  # the forked child still runs (raises if it is gone) ...
    status, out, err = driver(folder, 40)      # ... and does not hold the lock
    resumed = f"resuming from {folder / 'saved_params_30.npz'} (iteration 30)\n"
    assert (status, out, err) == (0, resumed + "trained\n", "")
    assert load_saved_params(str(folder))[0] == 40


def test_nested_lock_in_one_process_refused_and_outer_lock_kept(tmp_path, driver):
    folder = tmp_path / "ck"
    with checkpoint_lock(str(folder)):
        with pytest.raises(CheckpointLockedError) as err:
            with checkpoint_lock(str(folder)):
                pass
        assert one_line(str(err.value)) == (
            f"the checkpoint folder {folder} is in use by another run (this process: "
            "checkpoint_lock does not nest): wait for it to finish, or use another folder "
            "(--checkpoint-dir)")
        status, _, err = driver(folder, 10)        # the failed attempt did not free the lock
        assert status == 2 and "is in use by another run" in err
    assert driver(folder, 10)[0] == 0


def test_lock_released_when_the_run_fails(tmp_path):
    folder = tmp_path / "ck"
    with pytest.raises(TrainingDivergedError):
        with checkpoint_lock(str(folder)):
            sgd(lambda x: (np.nan, x), X0, 0.1, 5, useSaved=True, PRINT_EVERY=QUIET,
                checkpoint_dir=str(folder))
    with checkpoint_lock(str(folder)) as held:
        assert held == str(folder)


def test_checkpoint_folder_that_is_a_file_refused(tmp_path):
    path = tmp_path / "ck"
    path.write_text("notes")
    with pytest.raises(CheckpointDirError) as err:
        with checkpoint_lock(str(path)):
            pass
    assert one_line(str(err.value)) == (f"cannot use {path} as the checkpoint folder (a file "
                                        "of that name is in the way); choose another "
                                        "--checkpoint-dir")
    assert path.read_text() == "notes"


def test_checkpoint_folder_inside_a_file_refused(tmp_path):
    (tmp_path / "hostname").write_text("box")
    path = tmp_path / "hostname" / "ck"             # like --checkpoint-dir /etc/hostname/ck
    with pytest.raises(CheckpointDirError) as err:
        with checkpoint_lock(str(path)):
            pass
    assert one_line(str(err.value)).startswith(f"cannot use {path} as the checkpoint folder "
                                               "(Not a directory: ")
    assert (tmp_path / "hostname").read_text() == "box"


def test_read_only_checkpoint_folder_refused(tmp_path, monkeypatch):
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / ".lock").write_text("")               # left by an earlier run: still openable
    folder.chmod(0o555)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # root ignores the mode: answer as for a user
        import utils.folder_lock as lock
        monkeypatch.setattr(lock.os, "access", lambda path, mode: False)
    try:
        with pytest.raises(CheckpointDirError) as err:
            with checkpoint_lock(str(folder)):
                pass
    finally:
        folder.chmod(0o755)
    assert one_line(str(err.value)) == (f"cannot write in the checkpoint folder {folder} (no "
                                        "permission, or a read-only disk); choose another "
                                        "--checkpoint-dir")




# issue 18, case 1: the lock file is never followed through a link, nor truncated unless it is a
# lock file of ours; what is at its name otherwise stays as it was
def _precious(folder):
    (folder.parent / "precious.txt").write_text("KEEP\n")
    return folder.parent / "precious.txt"


LOCK_FILES = [   # (case, make(folder) -> a file that must stay intact or None, refusal or None)
    ("link_to_a_file", lambda d: (d / ".lock").symlink_to(_precious(d)) or _precious(d),
     "is a symbolic link (to "),
    ("link_to_nothing", lambda d: (d / ".lock").symlink_to(d.parent / "nothing") or None,
     "is a symbolic link (to "),
    ("fifo", lambda d: os.mkfifo(d / ".lock"), "is not a regular file; it is left as it is"),
    ("hard_link_to_a_file", lambda d: os.link(_precious(d), d / ".lock") or _precious(d),
     "has 2 names (a hard link to another file)"),
    ("a_file_of_notes", lambda d: (d / ".lock").write_text("my notes\n"),
     "holds something other than a process id; it is left as it is: move it away"),
    ("a_folder", lambda d: (d / ".lock").mkdir(), "(Is a directory: "),
    ("ours_from_an_earlier_run", lambda d: (d / ".lock").write_text("12345\n"), None),
    ("ours_empty", lambda d: (d / ".lock").write_text(""), None),
]


@pytest.mark.parametrize("case, make, refusal", LOCK_FILES, ids=[c[0] for c in LOCK_FILES])
def test_lock_file_never_followed_nor_truncated_unless_ours(tmp_path, no_hang, case, make,
                                                           refusal):
    folder = tmp_path / "ck"
    folder.mkdir()
    precious = make(folder)
    precious = precious if isinstance(precious, os.PathLike) else None
    if refusal is None:
        with checkpoint_lock(str(folder)):
            assert (folder / ".lock").read_text() == f"{os.getpid()}\n"
        return
    with pytest.raises(CheckpointDirError) as err:
        with checkpoint_lock(str(folder)):
            pass
    assert refusal in one_line(str(err.value)) and "--checkpoint-dir" in str(err.value)
    assert not (tmp_path / "nothing").exists()                       # no file made at a target
    if precious is not None:
        assert precious.read_text() == "KEEP\n"                      # never truncated
    if case == "a_file_of_notes":
        assert (folder / ".lock").read_text() == "my notes\n"


# ---- item 9: bounded number of checkpoints; temp files made with O_EXCL ----------------------
def test_frequent_saves_keep_only_the_newest_three(tmp_path):
    x = sgd(quad, X0, 0.1, 60, useSaved=True, save_every=2, PRINT_EVERY=QUIET,
            checkpoint_dir=str(tmp_path))              # 30 saves; the default keep is 3
    assert names(tmp_path) == [f"saved_params_{i}.npz" for i in (56, 58, 60)]
    it, params, _ = load_saved_params(str(tmp_path))
    assert it == 60 and params.shape == (4, 2) and np.array_equal(params, x)


def test_pruning_spares_a_later_iteration_it_cannot_prove_older(tmp_path):
    (tmp_path / "saved_params_999.npz").write_bytes(b"another run's, or damaged")
    with pytest.warns(CheckpointWarning, match="saved_params_999"):
        train(tmp_path, iterations=50, keep=2)
    assert names(tmp_path) == ["saved_params_40.npz", "saved_params_50.npz",
                               "saved_params_999.npz"]
    assert (tmp_path / "saved_params_999.npz").read_bytes() == b"another run's, or damaged"


def test_temporary_file_at_a_planted_name_is_not_used(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    planted = tmp_path / f".out.bin.{os.getpid()}.aaaa0000.tmp"
    planted.symlink_to(victim)                     # a name the writer would pick first
    draws = iter(["aaaa0000", "bbbb1111"])
    monkeypatch.setattr(utils.files.secrets, "token_hex", lambda n: next(draws))
    atomic_write(str(tmp_path / "out.bin"), lambda fh: fh.write(b"new"))
    assert (tmp_path / "out.bin").read_bytes() == b"new"
    assert victim.read_text() == "precious" and planted.is_symlink()
    assert sorted(os.listdir(tmp_path)) == sorted([planted.name, "out.bin", "victim.txt"])


def test_no_free_temporary_name_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "out.bin").write_bytes(b"old")
    (tmp_path / f".out.bin.{os.getpid()}.aaaa0000.tmp").write_bytes(b"x")
    monkeypatch.setattr(utils.files.secrets, "token_hex", lambda n: "aaaa0000")
    with pytest.raises(FileExistsError) as err:
        atomic_write(str(tmp_path / "out.bin"), lambda fh: fh.write(b"new"))
    assert utils.files.explain(err.value) == (
        f"{tmp_path}: no free temporary file name .out.bin.{os.getpid()}.*.tmp after 100 "
        "tries; delete the leftover temporary files there")
    assert (tmp_path / "out.bin").read_bytes() == b"old"


def test_reader_finds_the_newest_when_a_listed_file_was_pruned(tmp_path, monkeypatch):
    train(tmp_path)
    import utils.checkpoint as ck
    real = ck.list_checkpoints
    stale = [(40, str(tmp_path / "saved_params_40.npz"))] + real(str(tmp_path))
    listings = iter([stale])                # the first listing names a file already gone
    monkeypatch.setattr(ck, "list_checkpoints", lambda d: next(listings, None) or real(d))
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # not "unreadable": it is simply looked for again
        it, params, _ = load_saved_params(str(tmp_path))
    assert it == 30 and params.shape == (4, 2) and np.array_equal(params, quad_after(30))
    assert [i for i, _ in list_checkpoints(str(tmp_path))] == [30, 20, 10]


# ---- issue 18: a tampered cost history is skipped like any damaged checkpoint ------------------
def _history_run(folder, iterations):
    history = CostHistory(quad)
    x = sgd(history, X0, 0.1, iterations, useSaved=True, save_every=10, PRINT_EVERY=QUIET,
            checkpoint_dir=str(folder), generators=[history])
    return x, history


def _history_edit(**changed):
    def edit(meta):
        (state,) = [g["state"] for g in meta["generators"] if g["kind"] == "CostHistory"]
        state.update(changed)
    return edit


BAD_HISTORIES = [   # (case, change to the saved history of the newest checkpoint, message)
    ("n_negative", dict(n=-1), "the cost history has n=-1"),
    ("n_text", dict(n="30"), "the cost history has n='30'"),
    ("block_not_a_power_of_two", dict(block=3), "block=3"),
    ("block_zero", dict(block=0), "block=0"),
    ("costs_not_base64", dict(costs="not base64!"), "the cost history is not base64"),
    ("costs_cut_short", dict(costs=base64.b64encode(bytes(8 * 29)).decode()),
     "the cost history holds 232 bytes for 30 iterations in points of 1"),
    ("costs_longer", dict(costs=base64.b64encode(bytes(8 * 31)).decode()),
     "the cost history holds 248 bytes for 30 iterations"),
    ("costs_infinite", dict(costs=base64.b64encode(np.full(30, np.inf).tobytes()).decode()),
     "the cost history holds an infinite cost"),
]


@pytest.mark.parametrize("case, change, says", BAD_HISTORIES, ids=[c[0] for c in BAD_HISTORIES])
def test_tampered_cost_history_skipped_and_previous_good_used(tmp_path, case, change, says):
    whole, whole_history = _history_run(tmp_path / "whole", 30)
    _history_run(tmp_path / "ck", 30)
    rewrite(tmp_path / "ck" / "saved_params_30.npz", _history_edit(**change))
    with pytest.warns(CheckpointWarning) as caught:
        x, history = _history_run(tmp_path / "ck", 30)      # resumes from 20, trains 10 more
    message = one_line(str(caught[0].message))
    assert "saved_params_30.npz: " in message and says in message, message
    assert np.array_equal(x, whole) and history.get_state() == whole_history.get_state()
