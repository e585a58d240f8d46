"""Each question script's self-test exits 0 as it is (and non-zero when broken: see its own checks)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SELF_TESTS = ["q1_softmax.py", "q2_sigmoid.py", "q2_gradcheck.py", "q2_neural.py",
              "q3_word2vec.py", "q3_sgd.py", "q4_softmaxreg.py"]


@pytest.mark.parametrize("script", SELF_TESTS)
def test_self_test_exits_zero(script, tmp_path):
    # run from a temp dir: a self-test must not depend on, or write into, the CWD
    proc = subprocess.run([sys.executable, os.path.join(ROOT, script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" in proc.stdout
    assert list(tmp_path.iterdir()) == [], "self-test left files in the working directory"
