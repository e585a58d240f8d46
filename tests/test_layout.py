"""The layout promised to readers: the README's Layout section matches the tree, the question
scripts stay small enough to read in one sitting, and they never need the engine."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# line caps of the question scripts (docstrings and self-test included)
CAPS = {"q3_word2vec.py": 400, "q3_sgd.py": 250, "q4_softmaxreg.py": 360, "q3_run.py": 450}
QUESTION_SCRIPTS = ["q1_softmax.py", "q2_sigmoid.py", "q2_gradcheck.py", "q2_neural.py",
                    "q3_word2vec.py", "q3_sgd.py", "q4_softmaxreg.py"]


def readme_layout():
    """Paths named in the README's Layout block: 'name' entries, nested under 'folder/' lines."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    block = re.search(r"<!-- layout -->\s*```text\n(.*?)```", text, flags=re.S)
    assert block, "README.md has no ```text block after <!-- layout -->"
    paths, folder = set(), ""
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        name = line.split()[0]
        if line.startswith("  "):
            paths.add(folder + name)
        else:
            folder = name if name.endswith("/") else ""
            paths.add(name)
    return paths


def tree():
    """The files a reader opens: top-level scripts, and the modules of utils/, w2v_engine/ and
    practice_kit/."""
    found = {n for n in os.listdir(ROOT)
             if (n.endswith(".py") and n != "conftest.py") or n == "get_datasets.sh"}
    for folder in ("utils", "w2v_engine", "practice_kit"):
        found.add(folder + "/")
        found |= {f"{folder}/{n}" for n in os.listdir(os.path.join(ROOT, folder))
                  if n.endswith(".py") and n != "__init__.py" or
                  (n == "__init__.py" and folder == "w2v_engine")}
    found |= {d + "/" for d in ("tests", "bench", "docs")}
    return found


def test_readme_layout_matches_the_tree():
    layout, actual = readme_layout(), tree()
    assert layout == actual, (f"in README's Layout but not in the tree: {sorted(layout - actual)}; "
                              f"in the tree but not in the Layout: {sorted(actual - layout)}")


@pytest.mark.parametrize("script", sorted(CAPS))
def test_question_script_fits_its_cap(script):
    with open(os.path.join(ROOT, script), encoding="utf-8") as fh:
        lines = sum(1 for _ in fh)
    assert lines <= CAPS[script], f"{script} has {lines} lines, more than its cap {CAPS[script]}"


@pytest.mark.parametrize("script", QUESTION_SCRIPTS)
def test_question_script_loads_no_engine_code(script):
    module = script[:-3]
    code = (f"import sys, {module}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'w2v_engine'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
