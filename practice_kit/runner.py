"""`python practice.py check`: judge the learner's functions, each in its own process.

For each function: a static look first (the file parses, the function is there, its hole still
holds only ``raise NotImplementedError``: "not started"); then its checks run in a child process
(child.py) with a time limit, while this process computes the expected outputs with the
reference (reference.py); `checks.judge` compares them. The statuses:

* ``pass``: every check of the function passed;
* ``fail``: the first failing check, in words, with the numbers and a hint;
* ``not started``: the hole still raises NotImplementedError;
* ``error``: the learner's code raised an exception, or gave no answer within the time limit
  (the child is killed), or the file does not import.
"""
import ast
import concurrent.futures
import contextlib
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
from typing import List, NamedTuple

import numpy as np

from practice_kit import cases  # noqa: F401  (registers the checks)
from practice_kit.checks import CHECKS, decode, judge
from practice_kit.holes import HOLES, QUESTIONS, check_command
from practice_kit.reference import changed_files, load_modules, read_manifest, read_reference

TIMEOUT = 10.0           # seconds per function: our functions need well under one
KIT_DIR = os.path.dirname(os.path.abspath(__file__))
BOOT = ("import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('practice_kit', sys.argv[1], "
        "submodule_search_locations=[sys.argv[2]])\n"
        "kit = importlib.util.module_from_spec(spec)\n"
        "sys.modules['practice_kit'] = kit\n"
        "spec.loader.exec_module(kit)\n"
        "from practice_kit.child import main\n"
        "main()\n")
STATUSES = ("pass", "fail", "not started", "error")


class Result(NamedTuple):
    """The verdict on one function; `lines` explain anything but a pass."""
    question: str
    file: str
    function: str
    status: str
    lines: List[str]

    def as_json(self):
        message = "\n".join(self.lines)
        if self.status == "not started" and not message:
            message = f"{self.file}: {self.function} is not written yet"
        return {"question": self.question, "file": self.file, "function": self.function,
                "status": self.status, "message": message}


def select(names):
    """The holes named by question ("q3"), function ("cbow") or file ("q3_sgd.py"); all if none.

    Raises ValueError naming an unknown name and what exists.
    """
    if not names:
        return list(HOLES)
    chosen = []
    for name in names:
        found = [h for h in HOLES if name in (h.question, h.function, h.file, h.file[:-3])]
        if not found:
            raise ValueError(f"{name!r} is neither a question ({', '.join(QUESTIONS)}) nor a "
                             "function of the assignment (" + ", ".join(h.function for h in HOLES)
                             + ")")
        chosen += [h for h in found if h not in chosen]
    return [h for h in HOLES if h in chosen]          # in the assignment's order


# ---- the static look ----------------------------------------------------------------------------

def _is_hole_raise(node):
    exc = node.exc if isinstance(node, ast.Raise) else None
    if isinstance(exc, ast.Call):
        exc = exc.func
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def static_status(copy_dir, hole, holes_made):
    """A Result if the function need not run (not started, or its file is broken), else None."""
    path = os.path.join(copy_dir, hole.file)
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
        tree = ast.parse(source, filename=hole.file)
    except SyntaxError as err:
        return _result(hole, "error", [f"{hole.file} line {err.lineno}: SyntaxError: {err.msg}",
                                       f"hint: python {hole.file} shows where"])
    except (OSError, UnicodeDecodeError) as err:
        return _result(hole, "error", [f"{hole.file}: cannot be read ({err})"])
    made = next((h for h in holes_made if h["function"] == hole.function), None)
    container = made["container"] if made else hole.function
    node = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == container),
                None)
    if node is None:
        return _result(hole, "error", [f"{hole.file} has no function {container} (renamed or "
                                       "deleted?); the checker calls it by that name"])
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                         and isinstance(s.value.value, str))]
    raises = [n for n in ast.walk(node) if _is_hole_raise(n)]
    count = made["count"] if made else 1
    untouched = (len(body) == 1 and _is_hole_raise(body[0])) if hole.whole else len(raises) >= count
    if untouched:
        return _result(hole, "not started", [])
    return None


def _result(hole, status, lines):
    return Result(hole.question, hole.file, hole.function, status, lines)


# ---- the two runs ---------------------------------------------------------------------------------

def expected_outputs(function, ref):
    """The reference's run of each check of `function` (in this process, no learner code)."""
    out = []
    for check in CHECKS[function]:
        py_state, np_state = random.getstate(), np.random.get_state()
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                out.append(check.run(getattr(_module_of(ref, function), function), ref))
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
    return out


def _module_of(ref, function):
    hole = next(h for h in HOLES if h.function == function)
    return getattr(ref, hole.file[:-3])


def run_child(copy_dir, hole, sources, timeout, workdir):
    """Run `hole`'s checks in a child process; (records, timed_out, returncode, stderr tail)."""
    result = os.path.join(workdir, f"{hole.function}.jsonl")
    job = {"function": hole.function, "file": hole.file, "result": result,
           "reference": {f: s.decode("utf-8") for f, s in sources.items()}}
    # one BLAS thread: two children at once on two cores, and a faster start
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1")
    errors = os.path.join(workdir, f"{hole.function}.stderr")
    with open(errors, "wb") as err_fh:
        proc = subprocess.Popen([sys.executable, "-c", BOOT, os.path.join(KIT_DIR, "__init__.py"),
                                 KIT_DIR], cwd=copy_dir, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=err_fh, env=env,
                                start_new_session=True)
        timed_out = False
        try:
            proc.stdin.write(json.dumps(job).encode("utf-8"))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc)
    records = []
    if os.path.exists(result):
        with open(result, encoding="utf-8") as fh:
            for line in fh:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    break
    with open(errors, "rb") as fh:
        tail = fh.read()[-600:].decode("utf-8", "replace").strip()
    return records, timed_out, proc.returncode, tail


def _kill(proc):
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)  # the child and anything it started (its session)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


# ---- the verdict ----------------------------------------------------------------------------------

def _place(exc):
    if exc.get("where"):
        file, line, func = exc["where"]
        return f" at {file}:{line} (in {func})"
    return ""


def verdict(hole, expected, run, timeout):
    """The Result of one function from the expected outputs and the child's records."""
    records, timed_out, returncode, tail = run
    checks = CHECKS[hole.function]
    if records and "import" in records[0]:
        exc = records[0]["import"]
        if exc["not_implemented"]:
            return _result(hole, "not started", [])
        return _result(hole, "error", [f"{hole.file} cannot be imported: {exc['type']}{_place(exc)}: "
                                       f"{exc['message']}", f"hint: python {hole.file} shows the "
                                                           "traceback"])
    for i, check in enumerate(checks):
        if i >= len(records):
            if timed_out:
                return _result(hole, "error", [
                    f"check: {check.title}", f"no answer within {timeout:g} s: the process was "
                    "stopped", "hint: an endless loop? (a while loop whose condition never "
                    "changes, or a loop that draws until a value that never comes)"])
            detail = f"; its last words: {tail.splitlines()[-1]}" if tail else ""
            return _result(hole, "error", [f"check: {check.title}", f"the process ended without "
                                           f"an answer (exit status {returncode}: did the code "
                                           f"call sys.exit or os._exit?){detail}"])
        record = records[i]
        if "exception" in record:
            exc = record["exception"]
            if exc["not_implemented"] and exc.get("where") and exc["where"][0] == hole.file:
                return _result(hole, "not started", [
                    f"{hole.file} line {exc['where'][1]} still raises NotImplementedError"])
            lines = [f"check: {check.title}",
                     f"{exc['type']}{_place(exc)}: {exc['message']}"]
            if check.error_hint:
                lines.append(f"hint: {check.error_hint}")
            return _result(hole, "error", lines)
        if "failure" in record:
            lines = [f"check: {check.title}", record["failure"]]
            if check.hint:
                lines.append(f"hint: {check.hint}")
            return _result(hole, "fail", lines)
        got = {"out": {k: decode(v) for k, v in record["out"].items()},
               "warnings": record.get("warnings", [])}
        lines = judge(check, expected[i], got)
        if lines:
            return _result(hole, "fail", lines)
    return _result(hole, "pass", [])


def check_copy(copy_dir, holes, timeout=TIMEOUT, jobs=2, report=None):
    """Judge `holes` in the practice copy `copy_dir`; a list of Results in the given order.

    `report(result)` is called for each result in order, as soon as it and those before it are
    known. Raises reference.ReferenceProblem if `copy_dir` is not a usable practice copy.
    """
    copy_dir = os.path.abspath(copy_dir)
    manifest = read_manifest(copy_dir)
    sources = read_reference(copy_dir, manifest)
    ref = load_modules(sources)
    made = manifest.get("holes", [])
    results = [static_status(copy_dir, h, made) for h in holes]
    todo = [h for h, r in zip(holes, results) if r is None]
    expected = {h.function: expected_outputs(h.function, ref) for h in todo}
    done, shown = {}, [0]

    def show():
        while shown[0] < len(holes):
            r = results[shown[0]] or done.get(holes[shown[0]].function)
            if r is None:
                return
            results[shown[0]] = r
            if report:
                report(r)
            shown[0] += 1
    show()
    with tempfile.TemporaryDirectory(prefix="practice-check-") as workdir, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_child, copy_dir, h, sources, timeout, workdir): h for h in todo}
        for future in concurrent.futures.as_completed(futures):
            hole = futures[future]
            result = verdict(hole, expected[hole.function], future.result(), timeout)
            changed = changed_files(copy_dir, manifest)
            if changed:
                result = _result(hole, "error", [
                    f"the reference file(s) {', '.join(changed)} in .practice/reference changed "
                    f"while {hole.function} was checked: does your code write files? This check "
                    "used the reference as it was; the next check will refuse this copy"])
            done[hole.function] = result
            show()
    return results


def summary(results):
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    text = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return f"{len(results)} function{'s' * (len(results) != 1)}: {text}"


def format_result(result):
    """The status line of a function, then its explanation indented."""
    head = f"{result.question}  {result.file:<17} {result.function:<27} {result.status}"
    return "\n".join([head] + ["      " + line for line in result.lines])


def next_step(results):
    """One line on what to do next, or None when everything passed."""
    for wanted in (("fail", "error"), ("not started",)):
        for r in results:
            if r.status in wanted:
                return f"next: {r.function} ({r.file}); then {check_command(r.question)}"
    return None
