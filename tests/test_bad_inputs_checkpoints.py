"""Bad inputs to the checkpoints (issue 11, items 2, 5 and 9): refused clearly, or skipped.

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

The lock tests run two processes through a small driver that does what ``q3_run.py`` does:
``with checkpoint_lock(folder): sgd(..., useSaved=True, checkpoint_dir=folder)``, printing
``driver: error: <message>`` and exiting 2 on a ValueError. Self-contained: every helper is here.
"""
import io
import json
import os
import signal
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

import utils.files
from q3_sgd import TrainingDivergedError, sgd
from utils.files import atomic_write
from utils.checkpoint import CheckpointWarning, list_checkpoints, load_saved_params, save_params
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
     "allow_pickle=False"),
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
     "malformed metadata (ValueError: state vector is the wrong size)"),
    ("generator_unknown_kind", dict(meta_edit=_set("generators", 0, "state", "bit_generator",
                                                   "Nope")),
     "unknown bit generator 'Nope'"),
    ("generator_state_empty", dict(meta_edit=_set("generators", 0, "state", "state", {})),
     "malformed metadata (KeyError"),
    ("meta_not_json", dict(meta=np.array("{not json")), "malformed metadata (JSONDecodeError"),
    ("meta_a_list", dict(meta=np.array("[1, 2]")), "its metadata is not a JSON object"),
    ("meta_not_text", dict(meta=np.zeros(3)), "meta is not a JSON text"),
    ("config_not_an_object", dict(meta_edit=_set("config", [])),
     "its configuration is not a JSON object"),
    ("config_shape_edited", dict(meta_edit=_set("config", "sgd", "shape", [4, 5])),
     "params have shape [4, 2] and dtype float64 but its configuration says [4, 5]"),
    ("format_unknown", dict(meta_edit=_set("format", 2)), "unknown checkpoint format 2"),
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


def test_folder_named_like_a_checkpoint_skipped(tmp_path):
    train(tmp_path)
    (tmp_path / "saved_params_40.npz").mkdir()
    with pytest.warns(CheckpointWarning, match=r"saved_params_40\.npz: IsADirectoryError") as w:
        it, params, _ = load_saved_params(str(tmp_path))
    one_line(str(w[0].message))
    assert it == 30 and params.shape == (4, 2) and np.array_equal(params, quad_after(30))


def test_params_header_claiming_an_absurd_size_skipped(tmp_path):
    train(tmp_path)
    newest = tmp_path / "saved_params_30.npz"
    with np.load(newest, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    header = io.BytesIO()                 # a .npy header claiming 160 TiB, then 64 bytes
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 13, 2)})
    with zipfile.ZipFile(newest, "w") as z:
        for key, value in arrays.items():
            if key != "params":
                with z.open(f"{key}.npy", "w") as fh:
                    np.lib.format.write_array(fh, value, allow_pickle=False)
        z.writestr("params.npy", header.getvalue() + bytes(64))
    with pytest.warns(CheckpointWarning, match=r"saved_params_30\.npz: MemoryError") as caught:
        it, params, _ = load_saved_params(str(tmp_path))
    one_line(str(caught[0].message))
    assert it == 20 and params.shape == (4, 2) and np.array_equal(params, quad_after(20))


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


# ---- bad arguments: refused before any iteration and before anything is written ---------------
SGD_ARGUMENTS = [
    ("step_zero", dict(step=0), "sgd: step must be a positive finite number, got 0"),
    ("step_negative", dict(step=-0.1), "sgd: step must be a positive finite number, got -0.1"),
    ("step_nan", dict(step=float("nan")), "sgd: step must be a positive finite number, got nan"),
    ("step_inf", dict(step=float("inf")), "sgd: step must be a positive finite number, got inf"),
    ("step_text", dict(step="0.1"), "sgd: step must be a positive finite number, got '0.1'"),
    ("iterations_negative", dict(iterations=-1), "sgd: iterations must be an integer >= 0, got -1"),
    ("iterations_float", dict(iterations=2.5), "sgd: iterations must be an integer >= 0, got 2.5"),
    ("save_every_zero", dict(save_every=0), "sgd: save_every must be an integer >= 1, got 0"),
    ("anneal_every_zero", dict(anneal_every=0), "sgd: anneal_every must be an integer >= 1, got 0"),
    ("print_every_zero", dict(PRINT_EVERY=0), "sgd: PRINT_EVERY must be an integer >= 1, got 0"),
    ("smooth_every_negative", dict(smooth_every=-5),
     "sgd: smooth_every must be an integer >= 1, got -5"),
    ("keep_zero", dict(keep=0), "sgd: keep must be an integer >= 1, got 0"),
    ("keep_negative", dict(keep=-1), "sgd: keep must be an integer >= 1, got -1"),
    ("keep_float", dict(keep=2.0), "sgd: keep must be an integer >= 1, got 2.0"),
    ("keep_bool", dict(keep=True), "sgd: keep must be an integer >= 1, got True"),
]


@pytest.mark.parametrize("case, changed, says", SGD_ARGUMENTS, ids=[c[0] for c in SGD_ARGUMENTS])
def test_bad_sgd_argument_refused_before_any_iteration(tmp_path, case, changed, says):
    calls = []
    args = dict(step=0.1, iterations=20, save_every=10, PRINT_EVERY=QUIET)
    args.update(changed)
    with pytest.raises(ValueError) as err:
        sgd(lambda x: calls.append(1) or quad(x), X0, args.pop("step"), args.pop("iterations"),
            useSaved=True, checkpoint_dir=str(tmp_path / "ck"), **args)
    assert one_line(str(err.value)) == says
    assert calls == [] and not (tmp_path / "ck").exists()


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
