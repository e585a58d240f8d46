"""practice.py: the learner's copy (new), the checker (check, --json, the time limit), the planted
bugs each flagged on exactly their function, the "not written yet" line, and q3_run's probe."""
import ast
import json
import os
import random
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest

import q3_word2vec
from practice_kit.generate import GenerateError, LEFT_OUT_TESTS, learner_source, make_copy
from practice_kit.holes import FUNCTION_DOCS, HOLES, MODULE_DOCS, QUESTION_FILES
from practice_kit.probe import ProbeError, check_engine_matches_course
from practice_kit.reference import MANIFEST, REFERENCE_DIR
from practice_kit.runner import check_copy
from practice_learner import BUGS, CORRECT, answer, fill
from w2v_helpers import flip_target_row

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# callers of each function among the holes (a learner's function may call these): a bug planted
# in a function must leave its callers passing, so a batch never holds a bug and its caller's
CALLERS = {"softmax": {"forward_backward_prop", "softmaxCostAndGradient", "softmaxRegression"},
           "sigmoid": {"forward_backward_prop", "negSamplingCostAndGradient"},
           "sigmoid_grad": {"forward_backward_prop"},
           "softmaxCostAndGradient": {"skipgram", "cbow"},
           "negSamplingCostAndGradient": {"skipgram", "cbow"}}


def batches_of(bugs):
    """The bugs in groups to plant together: at most one per function, none with its caller."""
    batches = []
    for bug in bugs:
        for batch in batches:
            names = {b.function for b in batch}
            related = CALLERS.get(bug.function, set()) | {f for f in names
                                                          if bug.function in CALLERS.get(f, ())}
            if bug.function not in names and not related & names:
                batch.append(bug)
                break
        else:
            batches.append([bug])
    return batches


BATCHES = batches_of(BUGS)


def checked_in(batches):
    """Which functions each batch's check judges: its bugged functions, every function that could
    run their code (their callers, the functions of the same file), and the right answers not yet
    judged in an earlier batch -- every function passes with its right answer in some batch."""
    file = {h.function: h.file for h in HOLES}
    seen, plans = set(), []
    for batch in batches:
        bugged = {b.function for b in batch}
        names = set(bugged)
        for f in bugged:
            names |= CALLERS.get(f, set()) | {g for g in file if file[g] == file[f]}
        names |= {h.function for h in HOLES} - bugged - seen
        seen |= names - bugged
        plans.append([h for h in HOLES if h.function in names])
    return plans


CHECKED = checked_in(BATCHES)


@pytest.fixture(scope="module")
def base_copy(tmp_path_factory):
    """A fresh practice copy of this project, and its manifest."""
    folder = tmp_path_factory.mktemp("practice") / "copy"
    make_copy(ROOT, str(folder))
    with open(folder / MANIFEST, encoding="utf-8") as fh:
        return folder, json.load(fh)


def copy_of(base_copy, dest, answers=(), bugs=()):
    """A copy of the fresh copy in `dest`, with the right answers written into the holes of the
    functions in `answers` (all if answers is None) and the `bugs` planted."""
    base, manifest = base_copy
    shutil.copytree(base, dest, symlinks=True)
    containers = {h["function"]: h["container"] for h in manifest["holes"]}
    planted = {b.function: b for b in bugs}
    for hole in HOLES:
        if answers is None or hole.function in answers or hole.function in planted:
            fill(os.path.join(dest, hole.file), hole.function,
                 answer(hole.function, planted.get(hole.function)), containers[hole.function])
    return dest


def run(folder, *args, timeout=120):
    return subprocess.run([sys.executable, "practice.py", *map(str, args)], cwd=folder,
                          capture_output=True, text=True, timeout=timeout)


def check_json(folder, *args):
    """(exit status, stdout, {function: (status, message)}) of ``practice.py check --json``."""
    proc = run(folder, "check", *args, "--json", "out.json")
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    with open(os.path.join(folder, "out.json"), encoding="utf-8") as fh:
        data = json.load(fh)
    return proc.returncode, proc.stdout, {f["function"]: (f["status"], f["message"])
                                          for f in data["functions"]}


# ---- new ---------------------------------------------------------------------------------------

def test_new_copy_is_complete_and_every_function_is_not_started(base_copy):
    folder, manifest = base_copy
    names = set(os.listdir(folder))
    assert {"README.md", "practice.py", "practice_kit", "w2v_engine", "tests", "utils",
            "q3_run.py", "q4_sentiment.py", ".practice"} <= names
    assert "ANSWERS.md" not in names and "docs" not in names and "bench" not in names
    with open(folder / "README.md", encoding="utf-8") as fh:
        readme = " ".join(fh.read().split())
    assert "holds a batched solution of question 3" in readme and "python practice.py check" in readme
    # the data is linked when this tree has it (without it, `new` says how to fetch it)
    assert os.path.islink(folder / "utils" / "datasets") == os.path.isdir(
        os.path.join(ROOT, "utils", "datasets"))
    tests = set(os.listdir(folder / "tests"))
    assert {"test_softmax.py", "test_word2vec.py", "test_engine.py", "conftest.py"} <= tests
    assert not tests & set(LEFT_OUT_TESTS) and "practice_learner.py" not in tests   # answers
    for file in QUESTION_FILES:                   # the reference: read-only, with its sha256
        path = folder / REFERENCE_DIR / file
        assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        assert file in manifest["reference"]
    proc = run(folder, "check")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("q")]
    assert len(lines) == len(HOLES) == 13
    for hole, line in zip(HOLES, lines):
        assert line.split()[:3] == [hole.question, hole.file, hole.function]
        assert line.endswith(" not started"), line
    assert "13 functions: 13 not started" in proc.stdout
    assert "next: softmax (q1_softmax.py); then python practice.py check q1" in proc.stdout


def _functions(path):
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}, tree


def test_holes_keep_the_signature_and_a_learner_docstring_without_the_gradients(base_copy):
    folder, _ = base_copy
    for file in QUESTION_FILES:
        mine, tree = _functions(folder / file)
        solution, _ = _functions(os.path.join(ROOT, file))
        assert ast.get_docstring(tree).startswith(MODULE_DOCS[file].split("\n")[0])
        for hole in (h for h in HOLES if h.file == file and h.whole):
            node, ref = mine[hole.function], solution[hole.function]
            assert ast.dump(node.args) == ast.dump(ref.args), f"{hole.function}: signature changed"
            doc = ast.get_docstring(node)
            assert doc == ast.get_docstring(ast.parse(f'def f():\n    """{FUNCTION_DOCS[hole.function]}"""')
                                            .body[0])
            params = [a.arg for a in ref.args.args + ref.args.kwonlyargs]
            missing = [p for p in params if p not in FUNCTION_DOCS[hole.function]]
            assert not missing, f"{hole.function}: the learner's docstring misses {missing}"
            body = [s for s in node.body[1:]]
            assert len(body) == 1 and isinstance(body[0], ast.Raise)
    with open(folder / "q1_softmax.py", encoding="utf-8") as fh:
        q1 = fh.read()
    assert "### YOUR CODE HERE\n    raise NotImplementedError\n    ### END YOUR CODE" in q1
    assert "_infinite_limit" not in q1                      # a helper only the solution used
    with open(folder / "q2_gradcheck.py", encoding="utf-8") as fh:
        assert "_compare_all" not in fh.read()
    with open(folder / "q3_sgd.py", encoding="utf-8") as fh:
        sgd = fh.read()
    assert sgd.count("### YOUR CODE HERE") == 2 and "step *= 0.5" not in sgd
    assert "x -= step * grad" not in sgd.split("# ---- self-test")[0].split("def sgd(")[1] \
        .split("### END YOUR CODE")[0].split("### YOUR CODE HERE")[0]
    # the gradients a question asks for appear nowhere in the learner's scripts
    for file in QUESTION_FILES:
        with open(folder / file, encoding="utf-8") as fh:
            text = fh.read()
        for formula in ("U^T (y_hat - y)", "(y_hat - y) v_c^T", "X^T delta", "s * (1 - s)",
                        "sigma(x) (1 - sigma(x))", "delta1 = dJ/dtheta1", "(sigma(u_o . v_c) - 1)",
                        "dJ/dW = X^T"):
            assert formula not in text, f"{file} gives away {formula!r}"


def test_learner_source_refuses_a_solution_without_its_hole():
    with open(os.path.join(ROOT, "q1_softmax.py"), encoding="utf-8") as fh:
        text = fh.read().replace("def softmax(", "def soft_max(")
    with pytest.raises(GenerateError, match="no function softmax"):
        learner_source("q1_softmax.py", text)
    with open(os.path.join(ROOT, "q3_sgd.py"), encoding="utf-8") as fh:
        text = fh.read().replace("step *= 0.5", "step = step / 2")
    with pytest.raises(GenerateError, match="update lines of sgd were not found"):
        learner_source("q3_sgd.py", text)


def test_new_never_overwrites(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.py").write_text("keep\n")
    (tmp_path / "file").write_text("keep\n")
    for target in ("full", "file"):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "practice.py"), "new", target],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"practice.py: error: {target}:"), proc.stderr
    assert (tmp_path / "full" / "mine.py").read_text() == "keep\n"
    assert (tmp_path / "file").read_text() == "keep\n"
    assert sorted(os.listdir(tmp_path)) == ["file", "full"]          # no temp folder left


# ---- check -------------------------------------------------------------------------------------

def test_the_projects_own_functions_all_pass(base_copy, tmp_path):
    folder = tmp_path / "solved"
    shutil.copytree(base_copy[0], folder, symlinks=True)
    for file in QUESTION_FILES:                    # the solution itself, holes and all
        shutil.copyfile(folder / REFERENCE_DIR / file, folder / file)
    status, out, found = check_json(folder)
    assert status == 0, out
    assert set(found) == {h.function for h in HOLES}
    assert all(s == ("pass", "") for s in found.values()), found
    assert "13 functions: 13 pass" in out


@pytest.mark.parametrize("batch,holes", list(zip(BATCHES, CHECKED)),
                         ids=["+".join(b.name.split()[0] + "-" + b.function[:8] for b in batch)
                              for batch in BATCHES])
def test_planted_bugs_are_flagged_on_exactly_their_function(base_copy, tmp_path, batch, holes):
    folder = copy_of(base_copy, tmp_path / "learner", answers=None, bugs=batch)
    results = check_copy(folder, holes, jobs=2)            # what `practice.py check` prints
    found = {r.function: (r.status, r.as_json()["message"]) for r in results}
    planted = {b.function: b for b in batch}
    for function, (got, message) in found.items():
        bug = planted.get(function)
        if bug is None:
            assert got == "pass", f"{function} is right here, yet {got}: {message}"
        else:
            assert got == bug.status and bug.expect in message, \
                f"bug {bug.name!r} in {function}: {got}: {message}"
            assert message.startswith("check: ") and "\nhint: " in message, message


def test_every_function_has_planted_bugs_and_is_right_in_some_batch():
    assert len(BUGS) >= 15
    assert {b.function for b in BUGS} == {h.function for h in HOLES} == set(CORRECT)
    for hole in HOLES:                              # judged with its right answer somewhere
        assert any(hole in holes and hole.function not in {b.function for b in batch}
                   for batch, holes in zip(BATCHES, CHECKED))


def test_the_readmes_show_what_check_prints(base_copy, tmp_path):
    bug = next(b for b in BUGS if b.name == "a negative drawn twice counted once")
    folder = copy_of(base_copy, tmp_path / "readme", answers=set(), bugs=[bug])
    proc = run(folder, "check", "negSamplingCostAndGradient")
    block = "\n".join(proc.stdout.splitlines()[1:5])
    assert block.startswith("q3  q3_word2vec.py    negSamplingCostAndGradient  fail"), proc.stdout
    for readme in (os.path.join(ROOT, "README.md"), os.path.join(ROOT, "practice_kit", "README_COPY.md")):
        with open(readme, encoding="utf-8") as fh:
            assert block in fh.read(), f"{readme} shows another output than\n{block}"


def test_time_limit_exceptions_and_broken_files_are_errors(base_copy, tmp_path):
    folder = copy_of(base_copy, tmp_path / "broken", answers={"sigmoid_grad"})
    fill(folder / "q1_softmax.py", "softmax", ["while True:\n    pass"])
    fill(folder / "q2_sigmoid.py", "sigmoid", ["return 1 / 0"])
    fill(folder / "q3_sgd.py", "sgd", ["os._exit(3)", "pass"])
    fill(folder / "q2_gradcheck.py", "gradcheck_naive", ["sys.exit(2)"])
    with open(folder / "q2_neural.py", "a", encoding="utf-8") as fh:
        fh.write("\ndef broken(:\n")
    status, out, found = check_json(folder, "--timeout", "1.5", "softmax", "q2", "sgd",
                                    "normalizeRows")
    assert status == 1
    assert list(found) == ["softmax", "sigmoid", "sigmoid_grad", "gradcheck_naive",
                           "forward_backward_prop", "normalizeRows", "sgd"]
    assert found["softmax"][0] == "error" and "no answer within 1.5 s" in found["softmax"][1]
    assert found["sigmoid"][0] == "error"
    assert "ZeroDivisionError at q2_sigmoid.py:" in found["sigmoid"][1]
    assert "(in sigmoid): division by zero" in found["sigmoid"][1]
    assert found["sigmoid_grad"] == ("pass", "")
    assert found["gradcheck_naive"][0] == "error"
    assert "it called sys.exit(2), which ends the program" in found["gradcheck_naive"][1]
    assert found["forward_backward_prop"][0] == "error"
    assert "q2_neural.py line" in found["forward_backward_prop"][1] and \
        "SyntaxError" in found["forward_backward_prop"][1]
    assert found["sgd"][0] == "error" and "exit status 3" in found["sgd"][1]
    assert found["normalizeRows"] == ("not started",
                                      "q3_word2vec.py: normalizeRows is not written yet")


def test_choosing_functions_and_bad_arguments(base_copy, tmp_path):
    folder, _ = base_copy
    proc = run(folder, "check", "q1")
    assert [line.split()[2] for line in proc.stdout.splitlines() if line.startswith("q")] == \
        ["softmax"]
    proc = run(folder, "check", ".", "cbow", "q3_sgd.py")
    assert [line.split()[2] for line in proc.stdout.splitlines() if line.startswith("q")] == \
        ["cbow", "sgd"]
    proc = run(folder, "check", "softmx")
    assert proc.returncode == 1
    assert proc.stderr.startswith("practice.py: error: 'softmx' is neither a question"), proc.stderr
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "practice.py"), "check", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "not a practice copy" in proc.stderr, proc.stderr
    proc = run(folder, "check", "--json", str(tmp_path / "no" / "out.json"))
    assert proc.returncode == 1 and "--json" in proc.stderr and "does not exist" in proc.stderr


def test_a_changed_reference_is_refused(base_copy, tmp_path):
    folder = tmp_path / "changed"
    shutil.copytree(base_copy[0], folder, symlinks=True)
    path = folder / REFERENCE_DIR / "q1_softmax.py"
    os.chmod(path, 0o644)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("# changed\n")
    proc = run(folder, "check", "q1")
    assert proc.returncode == 1 and "the reference was changed" in proc.stderr, proc.stderr


def test_learner_code_cannot_change_the_reference_unnoticed(base_copy, tmp_path):
    folder = copy_of(base_copy, tmp_path / "writer", answers=set())
    target = os.path.join(REFERENCE_DIR, "q4_softmaxreg.py")
    fill(folder / "q4_softmaxreg.py", "getSentenceFeatures",
         [f"import os\nos.chmod({target!r}, 0o644)\nopen({target!r}, 'a').write('# mine')\n"
          "return np.zeros(wordVectors.shape[1])"])
    status, _, found = check_json(folder, "getSentenceFeatures")
    assert status == 1 and found["getSentenceFeatures"][0] == "error"
    assert "changed while getSentenceFeatures was checked" in found["getSentenceFeatures"][1]
    proc = run(folder, "check", "q4")
    assert proc.returncode == 1 and "the reference was changed" in proc.stderr


# ---- the copy's scripts and tests ----------------------------------------------------------------

def test_an_unwritten_function_is_one_line_in_scripts_and_a_skip_in_tests(base_copy):
    folder, _ = base_copy
    for script, line in (("q1_softmax.py", "q1_softmax.py: softmax is not written yet; write it, "
                                           "then: python practice.py check q1"),
                         ("q3_sgd.py", "q3_sgd.py: sgd is not written yet; write it, then: "
                                       "python practice.py check q3")):
        proc = subprocess.run([sys.executable, script], cwd=folder, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 1 and proc.stderr == line + "\n", proc.stderr
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "tests/test_sigmoid.py"], cwd=folder, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "q2_sigmoid.py: sigmoid is not written yet; write it, then: python practice.py " \
           "check q2" in proc.stdout
    assert " passed" not in proc.stdout and "skipped" in proc.stdout


def test_new_from_a_copy_makes_a_fresh_copy(base_copy, tmp_path):
    folder = copy_of(base_copy, tmp_path / "mine", answers={"softmax"})
    proc = run(folder, "new", tmp_path / "again")
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "again" / "q1_softmax.py", encoding="utf-8") as fh:
        assert "raise NotImplementedError" in fh.read()            # the learner's answer stays behind
    with open(tmp_path / "again" / "conftest.py", encoding="utf-8") as fh:
        assert fh.read().count("pytest_runtest_makereport") == 1


# ---- q3_run's probe ------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["negsample", "softmax"])
@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_probe_passes_the_project_and_leaves_the_random_states(model, loss):
    random.seed(5)
    np.random.seed(5)
    check_engine_matches_course(model, loss)
    after = (random.random(), np.random.rand())
    random.seed(5)
    np.random.seed(5)
    assert after == (random.random(), np.random.rand())


def _mean_of(right):
    def mean(*args):                                  # the context averaged (not the handout's)
        cost, gin, gout = right(*args)
        n = len(args[2])
        return cost / n, gin / n, gout / n
    return mean


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_probe_names_a_wrong_loss(monkeypatch, model):
    monkeypatch.setattr(q3_word2vec, "negSamplingCostAndGradient",
                        flip_target_row(q3_word2vec.negSamplingCostAndGradient))
    with pytest.raises(ProbeError) as err:
        check_engine_matches_course(model, "negsample")
    text = str(err.value)
    assert text.startswith("q3_word2vec.negSamplingCostAndGradient disagrees with the training "
                           "engine"), text
    assert "--classic" in text and "python q3_word2vec.py" in text and "\n" not in text
    check_engine_matches_course(model, "softmax")         # the other loss is not concerned


def test_probe_names_a_wrong_model_a_wrong_sigmoid_and_a_loop(monkeypatch):
    monkeypatch.setattr(q3_word2vec, "skipgram", _mean_of(q3_word2vec.skipgram))
    with pytest.raises(ProbeError, match=r"^q3_word2vec\.skipgram disagrees"):
        check_engine_matches_course("skipgram", "softmax")
    monkeypatch.undo()
    import q2_sigmoid
    monkeypatch.setattr(q2_sigmoid, "sigmoid", lambda x: 1 / (1 + np.exp(np.asarray(x))))
    monkeypatch.setattr(q3_word2vec, "sigmoid", q2_sigmoid.sigmoid)
    with pytest.raises(ProbeError, match=r"^q2_sigmoid\.sigmoid disagrees"):
        check_engine_matches_course("cbow", "negsample")
    monkeypatch.undo()

    def endless(*args):
        while True:
            pass
    monkeypatch.setattr(q3_word2vec, "cbow", endless)
    with pytest.raises(ProbeError, match=r"q3_word2vec\.cbow gave no answer within 0\.3 s"):
        check_engine_matches_course("cbow", "softmax", seconds=0.3)


def test_probe_says_not_written_yet_for_a_hole():
    namespace = {}
    exec(compile("def skipgram(*args):\n    raise NotImplementedError\n",
                 os.path.join(ROOT, "q3_word2vec.py"), "exec"), namespace)
    right = q3_word2vec.skipgram
    q3_word2vec.skipgram = namespace["skipgram"]
    try:
        with pytest.raises(ProbeError) as err:
            check_engine_matches_course("skipgram", "negsample")
    finally:
        q3_word2vec.skipgram = right
    assert str(err.value) == ("q3_word2vec.py: skipgram is not written yet; write it, then: "
                              "python practice.py check q3")


# ---- q3_run.py with the probe ----------------------------------------------------------------------

def _project_copy(dest):
    """This project's scripts and packages in `dest` (the data linked), to plant a bug in."""
    os.makedirs(dest)
    for name in os.listdir(ROOT):
        if name.endswith(".py"):
            shutil.copy2(os.path.join(ROOT, name), dest)
    for folder in ("utils", "w2v_engine", "practice_kit"):
        shutil.copytree(os.path.join(ROOT, folder), os.path.join(dest, folder),
                        ignore=shutil.ignore_patterns("datasets", "__pycache__"))
    return dest


def test_q3_run_refuses_to_train_the_engine_in_place_of_a_wrong_course_function(sst, tmp_path):
    folder = _project_copy(tmp_path / "project")
    path = os.path.join(folder, "q3_word2vec.py")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    assert text.count("grad[o] += delta_o * v_c") == 1
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text.replace("grad[o] += delta_o * v_c", "grad[o] -= delta_o * v_c"))  # the bug
    args = [sys.executable, "q3_run.py", "--data", sst.path, "--iterations", "20",
            "--print-every", "10", "--save-every", "10", "--no-plot", "--neighbours",
            "--checkpoint-dir", "ck", "--vectors-out", "v.txt"]
    proc = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(
        "q3_run.py: error: q3_word2vec.negSamplingCostAndGradient disagrees with the training "
        "engine"), proc.stderr
    assert "--classic" in proc.stderr and "python q3_word2vec.py" in proc.stderr
    assert "training" not in proc.stdout and not os.path.exists(os.path.join(folder, "v.txt"))
    proc = subprocess.run(args + ["--classic"], cwd=folder, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "training: 20 iterations" in proc.stdout


def test_q3_run_in_a_practice_copy_says_which_function_is_not_written(base_copy):
    folder, _ = base_copy
    proc = subprocess.run([sys.executable, "q3_run.py", "--iterations", "10", "--no-plot"],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr == ("q3_run.py: error: q3_word2vec.py: skipgram is not written yet; write "
                           "it, then: python practice.py check q3\n"), proc.stderr
