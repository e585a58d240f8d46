"""Each question script's self-test exits 0 as it is (and non-zero when broken: see its own checks)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# script -> a line its output must contain besides "passed" (a published number where there is one)
SELF_TESTS = {
    "q1_softmax.py": "all 7 checks passed",
    "q2_sigmoid.py": "all checks passed",
    "q2_gradcheck.py": "all checks passed",
    "q2_neural.py": "(Dx+1)*H + (H+1)*Dy = 115",
    "q3_word2vec.py": "cost    11.16610900153398   (published: 11.16610900153398)",
    "q3_sgd.py": "test result: 8.414836786079764e-10",     # the course's first quadratic result
    "q4_softmaxreg.py": "all checks passed",
}


@pytest.mark.parametrize("script", sorted(SELF_TESTS))
def test_self_test_exits_zero(script, tmp_path):
    # run from a temp dir: a self-test must not depend on, or write into, the CWD
    proc = subprocess.run([sys.executable, os.path.join(ROOT, script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" in proc.stdout
    assert SELF_TESTS[script] in proc.stdout
    assert list(tmp_path.iterdir()) == [], "self-test left files in the working directory"
