"""Bad input to the commands: a clear one-line error and a non-zero exit, never a traceback or a
silently wrong result, and nothing lost.

Each case runs the command as a user would (a fresh process) and asserts the exit status, the
message (``<script>: error: ...`` naming the argument, file or line, and the fix), that no
traceback is printed, and, where there is something to lose, that it is intact.
"""
import os
import resource
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import SST_TINY_DIR, require_data
from utils.glove import DEFAULT_GLOVE_PATH
from utils.treebank import DEFAULT_SST_PATH

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--data", SST_TINY_DIR, "--iterations", "20", "--save-every", "10", "--no-worker"]


def command(script, *args, cwd, env=None):
    """Run `script` (a file of the repository) with `args`; the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


def assert_refused(proc, script, *fragments, status=1):
    """Exit `status`, one `script: error:` line holding every fragment, no traceback."""
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    if status == 2:      # argparse's own usage error
        assert f"{script}: error:" in proc.stderr, proc.stderr
    else:
        lines = [line for line in proc.stderr.splitlines() if line.startswith(f"{script}: error:")]
        assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr


# ---- q3_run.py: arguments and output locations, checked before any training ---------------------

def test_q3_negative_seed_is_a_usage_error(tmp_path):
    proc = command("q3_run.py", *TINY, "--seed", "-1", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "--seed must be in 0 .. 2**32 - 1, got -1", status=2)
    assert not (tmp_path / "checkpoints").exists()


def test_q3_checkpoint_dir_under_a_file_fails_at_once(tmp_path):
    (tmp_path / "afile").write_text("x")
    proc = command("q3_run.py", *TINY, "--checkpoint-dir", tmp_path / "afile" / "ck",
                   "--no-plot", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "cannot use", "afile/ck as the checkpoint folder (Not a "
                   "directory", "choose another --checkpoint-dir")
    assert "iter" not in proc.stdout                        # no training happened
    assert (tmp_path / "afile").read_text() == "x"


def test_q3_checkpoint_dir_that_is_a_file(tmp_path):
    (tmp_path / "ck").write_text("x")
    proc = command("q3_run.py", *TINY, "--checkpoint-dir", "ck", "--no-plot", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "cannot use ck as the checkpoint folder (a file of that "
                   "name is in the way); choose another --checkpoint-dir")


@pytest.mark.parametrize("option", ["--vectors-out", "--plot-out"])
def test_q3_output_in_a_missing_folder_fails_before_training(tmp_path, option):
    proc = command("q3_run.py", *TINY, "--checkpoint-dir", "ck", option,
                   tmp_path / "missing" / "out", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", f"{option} ", "does not exist; create it")
    assert not (tmp_path / "ck").exists()                   # refused before anything was made


def test_q3_output_that_is_a_folder(tmp_path):
    (tmp_path / "out").mkdir()
    proc = command("q3_run.py", *TINY, "--checkpoint-dir", "ck", "--vectors-out", "out",
                   cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "--vectors-out out: is a folder; give a file name")


def test_q3_missing_data_folder(tmp_path):
    proc = command("q3_run.py", "--data", tmp_path / "nothing", "--checkpoint-dir", "ck",
                   "--no-plot", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "nothing not found", "get_datasets.sh")


def test_q3_corpus_with_nothing_to_train_on(tmp_path):
    # in the tiny fixture every word is frequent, so subsampling leaves no two-word sentence
    proc = command("q3_run.py", *TINY, "--checkpoint-dir", "ck", "--no-plot", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "leaves no sentence of two or more words to train on")
    assert not [n for n in os.listdir(tmp_path / "ck") if n.startswith("saved_params_")]


def test_q3_debug_shows_the_traceback(tmp_path):
    args = ["--data", tmp_path / "nothing", "--checkpoint-dir", "ck", "--no-plot"]
    proc = command("q3_run.py", *args, "--debug", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" in proc.stderr
    proc = command("q3_run.py", *args, cwd=tmp_path, env={"CS224N_DEBUG": "1"})
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_q3_second_run_on_a_checkpoint_folder_is_refused_and_the_first_keeps_its_files(tmp_path):
    # the case 2: two runs (different --dim) on one folder used to both exit 0
    require_data(DEFAULT_SST_PATH, "SST data")
    common = ["--iterations", "20000", "--save-every", "2000", "--no-plot", "--checkpoint-dir",
              "C2"]
    first = subprocess.Popen([sys.executable, os.path.join(ROOT, "q3_run.py"), *common,
                              "--vectors-out", "a.txt"], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60     # the first run holds the lock once it has its folder
        while not (tmp_path / "C2" / ".lock").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        second = command("q3_run.py", *common, "--dim", "20", "--vectors-out", "b.txt",
                         cwd=tmp_path)
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert_refused(second, "q3_run.py", "the checkpoint folder C2 is in use by another run",
                   "--checkpoint-dir")
    assert first.returncode == 0, out + err
    assert not (tmp_path / "b.txt").exists()
    with np.load(tmp_path / "C2" / "saved_params_20000.npz") as z:
        assert z["params"].shape[1] == 10                       # the first run's vectors, 10-d
    kept = sorted(n for n in os.listdir(tmp_path / "C2") if n.startswith("saved_params_"))
    assert kept == [f"saved_params_{i}.npz" for i in (16000, 18000, 20000)]   # --keep 3


def test_q3_keep_must_be_positive(tmp_path):
    proc = command("q3_run.py", *TINY, "--keep", "0", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "--keep must be at least 1, got 0", status=2)


def test_q3_truncated_sentences_file_is_blamed(tmp_path):
    # the case 3: a datasetSentences.txt cut at 600,000 bytes used to train on 5,312
    require_data(DEFAULT_SST_PATH, "SST data")
    shutil.copytree(DEFAULT_SST_PATH, tmp_path / "t")
    with open(os.path.join(DEFAULT_SST_PATH, "datasetSentences.txt"), "rb") as f:
        (tmp_path / "t" / "datasetSentences.txt").write_bytes(f.read(600000))
    proc = command("q3_run.py", "--data", tmp_path / "t", "--iterations", "20",
                   "--checkpoint-dir", "ck", "--no-plot", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "datasetSentences.txt:5313:", "cut short")
    assert "datasetSplit.txt" not in proc.stderr
    assert not (tmp_path / "q3_word_vectors.txt").exists()


# issue 18, case 2 and its family: outputs that collide with one another or with the checkpoint
# folder's files are refused before any training (TINY data would fail later: the refusal is first)
def _link(target, name):
    def make(tmp_path):
        (tmp_path / name).symlink_to(tmp_path / target)
    return make


def _finished(tmp_path):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "saved_params_1000.npz").write_bytes(b"the final checkpoint")


COLLISIONS = [   # (case, make(tmp_path) or None, arguments, what the error says)
    ("vectors_and_plot_one_file", None, ["--vectors-out", "out", "--plot-out", "out"],
     "--plot-out out and --vectors-out out name the same file"),
    ("another_spelling", None, ["--vectors-out", "out.png", "--plot-out", "./sub/../out.png"],
     "--plot-out ./sub/../out.png and --vectors-out out.png name the same file"),
    ("through_a_symlink", _link("v.txt", "link.png"),
     ["--vectors-out", "v.txt", "--cost-plot-out", "link.png"],
     "--cost-plot-out link.png and --vectors-out v.txt name the same file"),
    ("vectors_over_the_final_checkpoint", _finished,
     ["--vectors-out", "ck/saved_params_1000.npz"],
     "--vectors-out ck/saved_params_1000.npz would take the place of the checkpoint folder ck "
     "or of one of its files"),
    ("plot_over_a_checkpoint_name", None, ["--plot-out", "ck/saved_params_7.npz"],
     "--plot-out ck/saved_params_7.npz would take the place of the checkpoint folder"),
    ("plot_over_the_lock", None, ["--plot-out", "ck/.lock"],
     "--plot-out ck/.lock would take the place of the checkpoint folder"),
    ("vectors_as_the_checkpoint_folder", None, ["--vectors-out", "ck"],
     "--vectors-out ck would take the place of the checkpoint folder"),
    ("vectors_above_the_checkpoint_folder", None,
     ["--vectors-out", "v", "--checkpoint-dir", "v/ck"],
     "--vectors-out v would take the place of the checkpoint folder v/ck"),
    ("through_a_linked_checkpoint_folder", _link("ck", "ck_link"),
     ["--vectors-out", "ck_link/saved_params_5.npz"],
     "would take the place of the checkpoint folder ck or of one of its files"),
]


@pytest.mark.parametrize("case, make, args, says", COLLISIONS, ids=[c[0] for c in COLLISIONS])
def test_q3_outputs_that_collide_refused_before_training(tmp_path, case, make, args, says):
    (tmp_path / "sub").mkdir()
    if make:
        make(tmp_path)
    kept = {p: p.read_bytes() for p in tmp_path.glob("ck/*")}
    proc = command("q3_run.py", *TINY, "--checkpoint-dir", "ck", *args, cwd=tmp_path)
    assert_refused(proc, "q3_run.py", says, "elsewhere" if "place" in says else "its own path")
    assert "SST" not in proc.stdout                         # refused before loading anything
    assert {p: p.read_bytes() for p in tmp_path.glob("ck/*")} == kept


def test_q3_dev_null_may_take_two_outputs(tmp_path):
    proc = command("q3_run.py", *TINY, "--checkpoint-dir", "ck", "--vectors-out", os.devnull,
                   "--plot-out", os.devnull, "--cost-plot-out", os.devnull, cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "leaves no sentence of two or more words")   # got past


# issue 18, case 12: arguments whose time or memory cannot be met are refused at once, with the
# figure; plotting is checked before training
def test_q3_iterations_that_would_take_years_refused_at_once(tmp_path):
    proc = command("q3_run.py", "--iterations", "1000000000000", "--checkpoint-dir", "ck",
                   cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "--iterations 1,000,000,000,000 would take at least 116 "
                   "days, even at 100,000 iterations a second; ask for at most "
                   "259,200,000,000 (30 days)", status=2)
    assert not (tmp_path / "ck").exists()


def test_q3_step_that_is_not_a_number_refused(tmp_path):
    proc = command("q3_run.py", *TINY, "--step", "inf", cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "--step must be a positive number, got inf", status=2)


def test_q3_vectors_larger_than_the_memory_refused_before_training(tmp_path):
    require_data(DEFAULT_SST_PATH, "SST data")
    proc = command("q3_run.py", "--dim", "100000000", "--no-plot", "--checkpoint-dir", "ck",
                   cwd=tmp_path)
    assert_refused(proc, "q3_run.py", "these settings need about 105,22", " GiB of memory (the "
                   "vectors: 2 x 19,539 words x 100,000,000 dimensions; ", "GiB is available; "
                   "choose a smaller --dim")
    assert "iter" not in proc.stdout and os.listdir(tmp_path / "ck") == [".lock"]


def test_q3_plotting_that_cannot_work_refused_before_training(tmp_path):
    (tmp_path / "mpl").mkdir()
    (tmp_path / "mpl" / "matplotlibrc").write_text("text.usetex: True\n")   # no LaTeX here
    if shutil.which("latex"):
        pytest.skip("LaTeX is installed: text.usetex works")
    proc = command("q3_run.py", *TINY, "--checkpoint-dir", "ck", cwd=tmp_path,
                   env={"MPLCONFIGDIR": str(tmp_path / "mpl")})
    assert_refused(proc, "q3_run.py", "matplotlib cannot draw the plots here (RuntimeError: ",
                   "latex could not be found", "fix its configuration, or pass --no-plot")
    assert "SST" not in proc.stdout and not (tmp_path / "ck").exists()


# ---- q4_sentiment.py: vector files, outputs ------------------------------------------------------

@pytest.fixture(scope="module")
def glove_head(tmp_path_factory):
    """The first 20,000 lines of the real GloVe file (enough SST words for a sweep)."""
    require_data(DEFAULT_SST_PATH, "SST data")
    require_data(DEFAULT_GLOVE_PATH, "GloVe vectors")
    path = tmp_path_factory.mktemp("glove") / "head.txt"
    with open(DEFAULT_GLOVE_PATH, "rb") as src, open(path, "wb") as dst:
        for _, line in zip(range(20000), src):
            dst.write(line)
    return path


def q4_file(tmp_path, vectors, *extra):
    return command("q4_sentiment.py", "--pretrained", "--vectors", vectors, "--regs", "1e-3",
                   "--intercept", "no", "--out-dir", tmp_path / "out", *extra, cwd=tmp_path)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, glove_head):
    """q4_file on `glove_head` as it is: the run the others compare with (its outputs in out/)."""
    tmp_path = tmp_path_factory.mktemp("clean")
    proc = q4_file(tmp_path, glove_head)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, tmp_path / "out"


def with_the(glove_head, path, value):
    """`glove_head` with the vector of 'the' (line 1) made of 50 times `value` (bytes)."""
    lines = glove_head.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"the " + b" ".join([value] * 50) + b"\n" + b"".join(lines[1:]))
    return path


def dev_accuracy(proc):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return float(proc.stdout.split("dev=")[1].split()[0])


@pytest.mark.parametrize("value", [b"nan", b"1e308", b"1e20"])
def test_q4_vector_of_nan_or_huge_values_is_refused_with_its_line(tmp_path, glove_head, value):
    # the reproductions: all NaN (issue 11), or all 1e308 / 1e20 (issue 18, case 3) in
    # the vector of "the" used to give dev 12.62 / 24.25 and exit 0 (the bound itself, 1e3, and
    # inf are tried on the reader, tests/test_glove.py, and on the fit, tests/test_softmaxreg.py)
    proc = q4_file(tmp_path, with_the(glove_head, tmp_path / "n.txt", value))
    shown = "NaN or infinite" if value == b"nan" else \
        f"{float(value):.3g}, beyond the 1000 in magnitude that the model handles"
    assert_refused(proc, "q4_sentiment.py", f"n.txt:1: the vector of 'the' holds {shown}")
    assert "best" not in proc.stdout and not (tmp_path / "out" / "q4_vectors_dev_pred.txt").exists()


@pytest.mark.parametrize("case", ["a UTF-8 byte-order mark", "'the' at the bound, 1000"])
def test_q4_file_that_is_fine_gives_the_right_result(tmp_path, glove_head, clean_run, case):
    """Issue 18, case 4: a BOM used to lose 'the' (9,120 -> 9,119 tokens, dev 36.88 -> 36.15)."""
    clean = clean_run[0]
    path = tmp_path / "v.txt"
    if case.startswith("a UTF-8"):
        path.write_bytes(b"\xef\xbb\xbf" + glove_head.read_bytes())
        proc = q4_file(tmp_path, path)
        assert proc.stdout.splitlines()[-1] == clean.stdout.splitlines()[-1]   # the same model
    else:
        proc = q4_file(tmp_path, with_the(glove_head, path, b"1000"))
        assert abs(dev_accuracy(proc) - dev_accuracy(clean)) <= 1.5     # not chance (~25 %)
    assert "9120 of 19539 SST tokens have a vector" in proc.stdout


@pytest.mark.parametrize("content,fragment", [
    (b"", "no word vectors in the file"),
    (b"400000 50\n", "no word vectors in the file"),                       # header only
    (b"the 1 2 3\nof 1 2\n", "v.txt:2: expected a word and 3 numbers"),    # mixed dimensions
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "v.txt:1: expected a word and"),   # binary
    ("the 1 2\nclich\u00e9 3 4\n".encode("latin-1"), "v.txt:2: the word is not UTF-8"),
    (b"3 2\nthe 1 2\nof 3 4\n", "v.txt:1: the header says 3 vectors but the file holds 2"),
    (b"the 1 x\n", "v.txt:1: not a number in the vector of 'the'"),
    (b"zzzz 1 2\n", "none of the"),                                        # no SST word
    (b"\x1f\x8b\x08\x00", "v.txt: a gzip-compressed file; decompress it first (gunzip)"),
])   # the other foreign files (.bin, tab-separated, UTF-16 ...): tests/test_glove.py
def test_q4_malformed_vectors_file(tmp_path, content, fragment):
    require_data(DEFAULT_SST_PATH, "SST data")
    path = tmp_path / "v.txt"
    path.write_bytes(content)
    assert_refused(q4_file(tmp_path, path), "q4_sentiment.py", fragment)


@pytest.mark.parametrize("kind, fragment", [
    ("missing", "none.txt not found; pass an existing file to --vectors"),
    ("fifo", "none.txt: a named pipe (FIFO), not a regular file"),   # nobody writes: no wait
])   # a folder and a device: tests/test_glove.py
def test_q4_vectors_file_that_is_missing_or_not_a_file_is_refused_at_once(tmp_path, kind,
                                                                          fragment):
    require_data(DEFAULT_SST_PATH, "SST data")
    path = tmp_path / "none.txt"
    if kind == "fifo":
        os.mkfifo(path)
    assert_refused(q4_file(tmp_path, path), "q4_sentiment.py", fragment)


def test_q4_out_dir_that_is_a_file_fails_before_the_sweep(tmp_path, glove_head):
    (tmp_path / "out").write_text("keep me")
    proc = q4_file(tmp_path, glove_head)
    assert_refused(proc, "q4_sentiment.py", "--out-dir", "is a file, not a folder")
    assert "sentences:" not in proc.stdout                  # refused before the SST load
    assert (tmp_path / "out").read_text() == "keep me"


def test_q4_output_that_is_a_folder_fails_before_the_sweep(tmp_path, glove_head):
    (tmp_path / "out" / "q4_vectors_dev_conf.png").mkdir(parents=True)
    proc = q4_file(tmp_path, glove_head)
    assert_refused(proc, "q4_sentiment.py", "cannot write ", "q4_vectors_dev_conf.png: is a "
                   "folder; give a file name, or choose another --out-dir")
    assert "sentences:" not in proc.stdout


def test_q4_full_disk_leaves_every_previous_output(tmp_path, glove_head, clean_run):
    """Issue 18, case 9: writes fail past 80 kB (RLIMIT_FSIZE, as on a full disk), so the two
    plots (about 60 kB each) could be written but the predictions (about 120 kB) cannot."""
    out = shutil.copytree(clean_run[1], tmp_path / "out")     # a previous run's outputs
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) == 3 and max(map(len, before.values())) > 80_000
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (80_000, 80_000))  # noqa: E731
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "q4_sentiment.py"), "--pretrained",
                           "--vectors", str(glove_head), "--regs", "1e-2", "--intercept", "no",
                           "--out-dir", str(out)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, preexec_fn=limit)
    assert_refused(proc, "q4_sentiment.py", f"{out / 'q4_vectors_dev_pred.txt'}: File too large; ")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before    # all old, no temp file


def test_q4_bad_regs_is_a_usage_error(tmp_path, glove_head):
    proc = command("q4_sentiment.py", "--pretrained", "--vectors", glove_head, "--regs", "nan",
                   cwd=tmp_path)
    assert_refused(proc, "q4_sentiment.py", "--regs", status=2)


def test_q4_empty_labelled_split_is_refused(monkeypatch):
    import q4_sentiment

    class NoDev:
        path = "SST"

        def getTrainSentences(self):
            return [(["good"], 3)]

        def getDevSentences(self):
            return []

        def getTestSentences(self):
            return [(["bad"], 1)]
    with pytest.raises(q4_sentiment.SetupError, match="no labelled sentence in the dev split"):
        q4_sentiment._splits(NoDev())


def test_q4_with_a_good_file_still_runs(clean_run):
    proc, out = clean_run
    assert "best reg=1.00e-03" in proc.stdout
    predictions = (out / "q4_vectors_dev_pred.txt").read_text().splitlines()
    assert len(predictions) > 1000
    assert np.isfinite(float(proc.stdout.split("dev=")[1].split()[0]))


def test_q3_full_disk_at_a_checkpoint_names_it_and_keeps_the_last_good_one(tmp_path):
    """Issue 18, case 9, for q3_run.py: writes fail past a size (RLIMIT_FSIZE, as on a full
    disk) that the checkpoint of iteration 1,000 fits and that of 2,000 (its cost history is
    8 kB longer) does not: one line naming the file and the fix; iteration 1,000 kept whole."""
    require_data(DEFAULT_SST_PATH, "SST data")
    args = ["--save-every", "1000", "--checkpoint-dir", "ck", "--no-plot", "--no-worker"]
    first = command("q3_run.py", "--iterations", "1000", *args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    kept = (tmp_path / "ck" / "saved_params_1000.npz").read_bytes()
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (len(kept) + 4000,) * 2)  # noqa
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "q3_run.py"), "--iterations",
                           "2000", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, preexec_fn=limit, stdin=subprocess.DEVNULL)
    assert_refused(proc, "q3_run.py", f"{os.path.join('ck', 'saved_params_2000.npz')}: File too "
                   "large; the file is too large for this file system: write to another disk")
    assert sorted(os.listdir(tmp_path / "ck")) == [".lock", "saved_params_1000.npz"]
    assert (tmp_path / "ck" / "saved_params_1000.npz").read_bytes() == kept
