"""utils.checkpoint: resume(), and checkpoints written by the code before the restructure."""
import base64
import importlib.util
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

import q3_sgd
from q3_sgd import sgd
import utils.files
import utils.checkpoint
from utils.checkpoint import (DEFAULT_KEEP, META_MAX_CHARS, CheckpointConfigError,
                              CheckpointWarning, Start, list_checkpoints, load_saved_params,
                              resume, save_params)
from utils.cost_curve import MAX_POINTS, CostHistory
from utils.folder_lock import checkpoint_lock
from w2v_engine.sparse import SparseRows

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = 10 ** 9
# the last commit whose q3_sgd.py held the checkpoint code itself (before "Restructure step 0")
PRE_RESTRUCTURE = "38b8defc4a57487a732f89c122554e41ce5beab2"


@pytest.fixture(scope="module")
def old_sgd(tmp_path_factory):
    """q3_sgd as it was before the checkpoint code moved to utils/checkpoint.py."""
    try:
        source = subprocess.run(["git", "show", f"{PRE_RESTRUCTURE}:q3_sgd.py"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        if os.environ.get("CI"):
            pytest.fail(f"the pre-restructure q3_sgd.py is needed: {err}")
        pytest.skip(f"no git history with commit {PRE_RESTRUCTURE[:7]}: {err}")
    # utils/sparse.py has since moved, unchanged, to w2v_engine/sparse.py, and atomic_write
    # from utils/atomic.py to utils/files.py
    assert "from utils.sparse import" in source and "from utils.atomic import" in source
    source = source.replace("from utils.sparse import", "from w2v_engine.sparse import")
    source = source.replace("from utils.atomic import", "from utils.files import")
    path = tmp_path_factory.mktemp("old") / "old_q3_sgd.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_q3_sgd", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "def _read_checkpoint" in source and not hasattr(module, "resume")
    return module.sgd


def _problem(gen):
    """A stochastic cost on Python's random, NumPy's global state and a Generator; sparse grad."""
    def f(x):
        rows = gen.integers(0, x.shape[0], size=4)
        noise = random.random() + np.random.rand() + gen.standard_normal()
        diff = x[rows] - noise
        return float(np.sum(diff ** 2)), SparseRows(rows, 2 * diff)
    return f


def _run(run_sgd, folder, iterations, seed=7, lines=None):
    random.seed(seed)
    np.random.seed(seed)
    gen = np.random.default_rng(seed)
    progress = None if lines is None else (lambda i, c, info: lines.append((i, c)))
    return run_sgd(_problem(gen), np.zeros((6, 2)), 0.01, iterations, useSaved=True,
                   save_every=10, anneal_every=15, PRINT_EVERY=5, smooth_every=1,
                   checkpoint_dir=str(folder), config={"dim": 2, "model": "test"},
                   generators=[gen], progress=progress)


def _arrays(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("first, second", [("old", "new"), ("new", "old")])
def test_resume_across_the_restructure_is_exact(old_sgd, tmp_path, first, second):
    by_name = {"old": old_sgd, "new": sgd}
    lines_whole, lines_resumed = [], []
    whole = _run(sgd, tmp_path / "whole", 40, lines=lines_whole)
    _run(by_name[first], tmp_path / "split", 20)
    resumed = _run(by_name[second], tmp_path / "split", 40, seed=999, lines=lines_resumed)
    assert whole.shape == resumed.shape == (6, 2)
    assert np.array_equal(whole, resumed)
    assert lines_resumed == [line for line in lines_whole if line[0] > 20]
    assert np.array_equal(_run(old_sgd, tmp_path / "old_whole", 40), whole)


def test_file_format_unchanged_but_for_the_runs_iterations(old_sgd, tmp_path):
    # one key was added to the metadata since: the iterations asked of the run (readers of
    # both versions ignore keys they do not know, test_resume_across_the_restructure_is_exact)
    _run(old_sgd, tmp_path / "old", 30)
    _run(sgd, tmp_path / "new", 30)
    names = sorted(os.listdir(tmp_path / "old"))
    assert names == sorted(os.listdir(tmp_path / "new")) == [
        f"saved_params_{i}.npz" for i in (10, 20, 30)]
    for name in names:
        old, new = _arrays(tmp_path / "old" / name), _arrays(tmp_path / "new" / name)
        # the old code called np.savez(fh, allow_pickle=False, ...): before numpy 2.1 that is
        # not a keyword of savez, and it saved an array named allow_pickle (readers ignore it)
        if np.lib.NumpyVersion(np.__version__) < "2.1.0":
            assert old.pop("allow_pickle").item() is False
        assert sorted(old) == sorted(new)
        new_meta = json.loads(str(new.pop("meta")))
        assert new_meta.pop("iterations") == 30
        assert json.loads(str(old.pop("meta"))) == new_meta
        for key in old:
            assert old[key].dtype == new[key].dtype and np.array_equal(old[key], new[key]), key


# ---- resume() ------------------------------------------------------------------------
def test_without_a_folder_resume_only_builds_the_configuration():
    x = np.zeros((3, 2), dtype=np.float32)
    step = np.float32(0.5)                          # kept as given: same arithmetic in the loop
    start = resume(None, x, step, 10, anneal_every=4, config={"dim": (2,)},
                   generators=[np.random.default_rng(0), random.Random(0)])
    assert isinstance(start, Start)
    assert start[:5] == (0, x, step, None, None) and start.x is x and start.step is step
    assert start.config == {"sgd": {"shape": [3, 2], "dtype": "float32", "step": 0.5,
                                    "anneal_every": 4,
                                    "generators": ["Generator", "random.Random"]},
                            "run": {"dim": [2]}}          # JSON round trip: tuples are lists


def test_unstorable_config_or_generator_fails_even_without_checkpoints():
    with pytest.raises(TypeError, match="cannot store a object"):
        sgd(lambda x: (0.0, x), np.ones(2), 0.1, 1, PRINT_EVERY=QUIET, config={"a": object()})
    with pytest.raises(TypeError, match="cannot checkpoint a object"):
        sgd(lambda x: (0.0, x), np.ones(2), 0.1, 1, PRINT_EVERY=QUIET, generators=[object()])


def test_empty_folder_starts_at_zero_and_creates_nothing(tmp_path, capsys):
    x = np.ones(2)
    start = resume(str(tmp_path / "none"), x, 0.1, 10, anneal_every=5)
    assert start[:5] == (0, x, 0.1, None, None)
    assert not (tmp_path / "none").exists() and capsys.readouterr().out == ""


def test_resume_prints_and_restores(tmp_path, capsys):
    config = resume(None, np.ones(2), 1.0, 30, anneal_every=10).config
    np.random.seed(3)
    expected = np.random.rand()
    np.random.seed(3)
    save_params(20, np.full(2, 7.0), str(tmp_path), step=0.25, config=config, expcost=1.5)
    np.random.seed(4)
    start = resume(str(tmp_path), np.ones(2), 1.0, 30, anneal_every=10)
    path = os.path.join(str(tmp_path), "saved_params_20.npz")
    assert start.iteration == 20 and np.array_equal(start.x, [7.0, 7.0])
    assert start.step == 0.25 and start.expcost == 1.5 and start.last_saved == (20, path)
    assert np.random.rand() == expected
    assert capsys.readouterr().out == f"resuming from {path} (iteration 20)\n"


def test_step_off_the_schedule_refused(tmp_path):
    config = resume(None, np.ones(2), 1.0, 30, anneal_every=10).config
    save_params(20, np.ones(2), str(tmp_path), step=0.5, config=config)   # schedule: 0.25
    with pytest.raises(CheckpointConfigError, match=r"has step 0\.5 but the schedule gives "
                                                    r"0\.25 at iteration 20"):
        resume(str(tmp_path), np.ones(2), 1.0, 30, anneal_every=10)


def test_fresh_removes_and_says_so(tmp_path, capsys):
    sgd(lambda x: (0.0, x), np.ones(2), 0.1, 20, useSaved=True, save_every=10,
        PRINT_EVERY=QUIET, checkpoint_dir=str(tmp_path))
    capsys.readouterr()
    start = resume(str(tmp_path), np.ones(2), 0.1, 20, anneal_every=10, fresh=True)
    assert start.iteration == 0 and os.listdir(tmp_path) == []
    assert capsys.readouterr().out == f"starting fresh: removed 2 checkpoint(s) from {tmp_path}\n"
    resume(str(tmp_path), np.ones(2), 0.1, 20, anneal_every=10, fresh=True)
    assert capsys.readouterr().out == ""                   # nothing removed: nothing said


def test_stale_temporary_files_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    names = {"dead": f".saved_params_10.npz.{dead.pid}.3f9a0c1e.tmp",
             "dead_old_style": f".saved_params_20.npz.{dead.pid}.tmp",    # before O_EXCL names
             "ours": f".saved_params_10.npz.{os.getpid()}.77aa01bc.tmp",  # nothing is being written
             "no_such_pid": ".saved_params_10.npz.99999999999999999999.0a0a0a0a.tmp",
             "alive": f".saved_params_10.npz.{os.getppid()}.5e5e5e5e.tmp",   # a live writer's
             "alive_old_style": f".saved_params_30.npz.{os.getppid()}.tmp",
             "other": "notes.txt", "other_temp": f".notes.txt.{dead.pid}.12345678.tmp"}
    for name in names.values():
        (tmp_path / name).write_bytes(b"x")
    resume(str(tmp_path), np.ones(2), 0.1, 20, anneal_every=10)
    assert sorted(os.listdir(tmp_path)) == sorted(
        [names[k] for k in ("alive", "alive_old_style", "other", "other_temp")])


def test_temporary_names_written_by_atomic_write_are_recognised(tmp_path):
    # the name atomic_write gives a checkpoint's temporary file, left by a writer killed mid-save
    seen = []

    def killed(fh):
        seen.extend(os.listdir(tmp_path))       # the temporary file, while it is being written
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        utils.files.atomic_write(str(tmp_path / "saved_params_10.npz"), killed)
    assert len(seen) == 1 and seen[0].startswith(f".saved_params_10.npz.{os.getpid()}.")
    assert seen[0].endswith(".tmp") and utils.checkpoint._TEMP_RE.match(seen[0])


# ---- pruning -------------------------------------------------------------------------------
def _quad_run(folder, iterations, **kwargs):
    return sgd(lambda x: (float(np.sum(x ** 2)), 2 * x), np.ones(2), 0.1, iterations,
               useSaved=True, save_every=10, PRINT_EVERY=QUIET, checkpoint_dir=str(folder),
               **kwargs)


def _iterations(folder):
    return [it for it, _ in list_checkpoints(str(folder))]


@pytest.mark.parametrize("keep", [1, 2, 3, 5])
def test_pruning_keeps_the_newest_keep(tmp_path, keep):
    x = _quad_run(tmp_path, 70, keep=keep)
    assert _iterations(tmp_path) == [70, 60, 50, 40, 30][:keep]
    it, params, _ = load_saved_params(str(tmp_path))
    assert it == 70 and params.shape == (2,) and np.array_equal(params, x)


def test_default_keep_is_three_and_none_keeps_all(tmp_path):
    _quad_run(tmp_path / "default", 70)
    assert DEFAULT_KEEP == 3 and _iterations(tmp_path / "default") == [70, 60, 50]
    _quad_run(tmp_path / "all", 70, keep=None)
    assert _iterations(tmp_path / "all") == [70, 60, 50, 40, 30, 20, 10]


def test_prune_never_deletes_the_newest_or_a_later_one(tmp_path):
    config = resume(None, np.ones(2), 1.0, 30, anneal_every=10).config
    for it in (5, 10, 40):
        save_params(it, np.full(2, float(it)), str(tmp_path), config=config)
    (tmp_path / "saved_params_40.npz").write_bytes(b"damaged")   # readers skip it
    # 40 is later than the one just written (20): it cannot be shown older, it stays
    save_params(20, np.full(2, 20.0), str(tmp_path), config=config, keep=2)
    assert _iterations(tmp_path) == [40, 20, 10]
    save_params(30, np.full(2, 30.0), str(tmp_path), config=config, keep=1)
    assert _iterations(tmp_path) == [40, 30]


def test_a_good_later_checkpoint_would_be_the_one_readers_take_so_saving_refuses(tmp_path):
    # the guarantee q3_run relies on: the checkpoint just written is the newest good one (a
    # later one appeared meanwhile: another program writes in the folder)
    config = resume(None, np.ones(2), 1.0, 30, anneal_every=10).config
    save_params(10, np.full(2, 10.0), str(tmp_path), config=config)
    save_params(40, np.full(2, 40.0), str(tmp_path), config=config)
    with pytest.raises(CheckpointConfigError, match=r"holds .*saved_params_40\.npz, a good "
                                                    r"checkpoint of a later iteration than 20: "
                                                    r"q4_sentiment\.py would read it"):
        save_params(20, np.full(2, 20.0), str(tmp_path), config=config, keep=1)
    assert _iterations(tmp_path) == [40, 10]               # nothing written, nothing deleted


def test_prune_that_cannot_delete_warns_and_keeps_going(tmp_path, monkeypatch):
    config = resume(None, np.ones(2), 1.0, 30, anneal_every=10).config
    for it in (10, 20):
        save_params(it, np.ones(2), str(tmp_path), config=config)
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        if path.endswith("saved_params_10.npz"):
            raise PermissionError(13, "Permission denied", path)
        return real_unlink(path, *args, **kwargs)
    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.warns(CheckpointWarning, match=r"could not delete the old checkpoint .*"
                                               r"saved_params_10\.npz \(Permission denied\)"):
        save_params(30, np.ones(2), str(tmp_path), config=config, keep=1)
    assert _iterations(tmp_path) == [30, 10]


# ---- the folder lock (more in test_bad_inputs_checkpoints.py) ---------------------------------
def test_lock_file_holds_the_pid_and_is_not_a_checkpoint(tmp_path):
    with checkpoint_lock(str(tmp_path / "ck")):
        assert (tmp_path / "ck" / ".lock").read_text() == f"{os.getpid()}\n"
        _quad_run(tmp_path / "ck", 20)
    assert sorted(os.listdir(tmp_path / "ck")) == [".lock", "saved_params_10.npz",
                                                   "saved_params_20.npz"]
    assert _iterations(tmp_path / "ck") == [20, 10]
    with checkpoint_lock(str(tmp_path / "ck")):          # released: it can be taken again
        pass


def test_unreadable_checkpoint_warning_names_the_caller(tmp_path):
    sgd(lambda x: (0.0, x), np.ones(2), 0.1, 20, useSaved=True, save_every=10,
        PRINT_EVERY=QUIET, checkpoint_dir=str(tmp_path))
    (tmp_path / "saved_params_20.npz").write_bytes(b"garbage")
    with pytest.warns(CheckpointWarning, match="saved_params_20.npz") as through_sgd:
        sgd(lambda x: (0.0, x), np.ones(2), 0.1, 20, useSaved=True, save_every=10,
            PRINT_EVERY=QUIET, checkpoint_dir=str(tmp_path))
    assert through_sgd[0].filename == q3_sgd.__file__          # as before the restructure
    (tmp_path / "saved_params_20.npz").write_bytes(b"garbage")
    with pytest.warns(CheckpointWarning) as direct:
        assert load_saved_params(str(tmp_path))[0] == 10
    assert direct[0].filename == __file__


# ---- optional records (the cost history) -------------------------------------------------------

def quadratic(x):
    return float(np.sum(x ** 2)), 2 * x


def test_cost_history_resumes_exactly_and_an_older_checkpoint_without_it_still_resumes(tmp_path):
    x0 = np.array([1.0, -2.0])
    full = CostHistory(quadratic)
    sgd(full, x0, 0.1, 30, None, True, 10, checkpoint_dir=str(tmp_path / "a"), save_every=10)
    last, costs = full.points()
    assert full.n == 30 and np.array_equal(last, np.arange(1, 31)) and np.isfinite(costs).all()
    assert costs[0] == 5.0                                       # 1 + 4, by hand
    # stopped at 20, resumed: the history comes back from the checkpoint, bit for bit
    part = CostHistory(quadratic)
    sgd(part, x0, 0.1, 20, None, True, 10, checkpoint_dir=str(tmp_path / "b"), save_every=10,
        generators=[part])
    rest = CostHistory(quadratic)
    sgd(rest, x0, 0.1, 30, None, True, 10, checkpoint_dir=str(tmp_path / "b"), save_every=10,
        generators=[rest])
    assert rest.n == 30 and rest.points()[1].shape == (30,)
    assert np.array_equal(rest.points()[1], costs)
    # a checkpoint written without the history (an older run): it resumes, the costs before
    # the resume point unknown (NaN) and the later ones recorded at their iterations
    sgd(quadratic, x0, 0.1, 20, None, True, 10, checkpoint_dir=str(tmp_path / "c"),
        save_every=10)
    late = CostHistory(quadratic)
    sgd(late, x0, 0.1, 30, None, True, 10, checkpoint_dir=str(tmp_path / "c"), save_every=10,
        generators=[late])
    assert late.n == 30 and np.isnan(late.points()[1][:20]).all()
    assert np.array_equal(late.points()[1][20:], costs[20:])


def test_a_required_generator_missing_from_the_checkpoint_is_still_refused(tmp_path):
    x0 = np.array([1.0])
    sgd(quadratic, x0, 0.1, 10, None, True, 10, checkpoint_dir=str(tmp_path), save_every=10)
    with pytest.raises(CheckpointConfigError, match="generators"):
        sgd(quadratic, x0, 0.1, 20, None, True, 10, checkpoint_dir=str(tmp_path), save_every=10,
            generators=[np.random.default_rng(0)])


# ---- the cost history: bounded memory, exact across a resume ----------------------------------
def _costs_from(values):
    """An objective whose cost at call i is values[i % len(values)] (and a zero gradient)."""
    calls = iter(range(10 ** 12))
    return lambda x: (float(values[next(calls) % len(values)]), np.zeros_like(x))


def test_cost_history_merges_neighbours_when_full_and_a_resumed_run_keeps_the_same_sums(tmp_path):
    values = np.random.default_rng(3).random(1000)
    whole = CostHistory(_costs_from(values), max_points=8)
    sgd(whole, np.ones(2), 0.1, 100, PRINT_EVERY=QUIET)
    assert whole.n == 100 and whole.block == 16 and whole.sums.shape == (8,)
    last, means = whole.points()
    assert np.array_equal(last, [16, 32, 48, 64, 80, 96, 100])
    sums = np.add.reduceat(values[:100], [0, 16, 32, 48, 64, 80, 96])
    assert np.allclose(means * np.diff(last, prepend=0), sums, rtol=1e-14, atol=0)
    for stop in (7, 8, 37, 64, 65):       # stopped before, at and after merges, then resumed
        folder = tmp_path / f"stop{stop}"
        part = CostHistory(_costs_from(values), max_points=8)
        sgd(part, np.ones(2), 0.1, stop, None, True, QUIET, checkpoint_dir=str(folder),
            generators=[part])
        rest = CostHistory(_costs_from(values[stop:]), max_points=8)
        sgd(rest, np.ones(2), 0.1, 100, None, True, QUIET, checkpoint_dir=str(folder),
            generators=[rest])
        assert rest.get_state() == whole.get_state(), stop          # the same sums, bit for bit


def test_cost_history_memory_does_not_grow_with_the_iterations():
    block = 1 << 14                     # a point of a 10^9-iteration run sums 16,384 costs
    start = -(-10 ** 9 // block) * block - 3                         # as if 10^9 iterations ran
    history = CostHistory(_costs_from([2.0]), start=start)
    for _ in range(6):
        history(np.zeros(1))
    assert history.n == start + 6 and history.block == block
    assert history.sums.nbytes == 8 * MAX_POINTS == 512 * 1024       # whatever the iterations
    assert len(json.dumps(history.get_state())) < META_MAX_CHARS / 2
    last, means = history.points()
    assert last[-1] == start + 6 and np.isnan(means[:-1]).all()     # unknown before the start
    assert means[-1] == 2.0                                         # a point begun after it


def test_cost_history_of_an_older_version_longer_than_its_points_is_summed_on_resume():
    values = np.random.default_rng(4).random(70)
    whole = CostHistory(_costs_from(values), max_points=32)
    for _ in range(70):
        whole(np.zeros(1))
    older = {"n": 70, "costs": base64.b64encode(values.tobytes()).decode()}   # no "block"
    resumed = CostHistory(_costs_from(values), max_points=32)
    resumed.check_state(older)
    resumed.set_state(older)
    assert resumed.get_state() == whole.get_state() and resumed.block == 4


def test_cost_curve_of_a_long_run_plots_means(tmp_path):
    from utils.cost_curve import plot_cost_curve
    history = CostHistory(_costs_from(np.linspace(20, 10, 500)), max_points=64)
    for _ in range(500):
        history(np.zeros(1))
    assert history.block == 8
    plot_cost_curve(str(tmp_path / "cost.png"), history, 10, 200, final=10.5)
    assert (tmp_path / "cost.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
