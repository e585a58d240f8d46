"""The process that runs the learner's code: one function's checks, then it exits.

The checker starts it in the practice copy's folder with a job on stdin (JSON): the function,
its question script, the reference sources, and a file for the results. Every question module
but the learner's is the reference (installed before the learner's module is imported, so its
imports find them), and in the learner's module every other public function of the script is
replaced by the reference's: the function under check is the only learner code that runs.

Each check's result is appended to the results file as one JSON line as soon as it is known, so
that after a time-out the checker knows which check never answered. Outputs travel as numbers
(.npy bytes, no pickle). Whatever the learner's code prints is captured and dropped.
"""
import contextlib
import importlib
import inspect
import io
import json
import os
import random
import sys
import traceback
import warnings

import numpy as np

from practice_kit import cases  # noqa: F401  (registers the checks)
from practice_kit.checks import CHECKS, CheckFailure, encode
from practice_kit.reference import load_modules, needed


def _where(tb, copy_dir):
    """(file, line, function) of the innermost frame in a file of the copy, or None."""
    found = None
    for frame, line in traceback.walk_tb(tb):
        path = os.path.abspath(frame.f_code.co_filename)
        if path.startswith(copy_dir + os.sep) and f"{os.sep}practice_kit{os.sep}" not in path:
            found = (os.path.relpath(path, copy_dir), line, frame.f_code.co_name)
    return found


def exception_record(err, copy_dir):
    where = _where(err.__traceback__, copy_dir)
    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, SystemExit):
        text = f"it called sys.exit({err.code!r}), which ends the program"
    return {"type": type(err).__name__, "message": text[:300],
            "where": list(where) if where else None,
            "not_implemented": isinstance(err, NotImplementedError)}


def install(job, copy_dir):
    """The function under check, with the reference everywhere else; and the reference."""
    sources = {f: s.encode("utf-8") for f, s in job["reference"].items()}
    module_name = job["file"][:-3]
    files = needed(sources, job["file"])           # the script and what it imports, no more
    others = [f[:-3] for f in files if f[:-3] != module_name]
    ref = load_modules(sources, keep_installed=others, files=files)
    module = importlib.import_module(module_name)          # the learner's, from the copy
    mine = getattr(ref, module_name)
    for name, value in vars(mine).items():
        if name.startswith("_") or name == job["function"] or not inspect.isfunction(value):
            continue
        if value.__module__ == module_name and hasattr(module, name):
            setattr(module, name, value)
    # names imported into the learner's module from the other scripts are the reference already
    fn = getattr(module, job["function"], None)
    if not callable(fn):
        raise LookupError(f"{job['file']} has no function {job['function']} (was it renamed?)")
    return fn, ref


def run_check(check, fn, ref, copy_dir):
    printed = io.StringIO()
    py_state, np_state = random.getstate(), np.random.get_state()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                result = check.run(fn, ref)
            record = {"out": {k: encode(v) for k, v in result["out"].items()}}
        except CheckFailure as err:
            record = {"failure": str(err)}
        except (Exception, SystemExit) as err:
            record = {"exception": exception_record(err, copy_dir)}
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
    record["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught][:5]
    return record


def main():
    job = json.loads(sys.stdin.read())
    copy_dir = os.path.abspath(os.getcwd())
    with open(job["result"], "a", encoding="utf-8") as out:
        def emit(record):
            out.write(json.dumps(record) + "\n")
            out.flush()
        try:
            with contextlib.redirect_stdout(io.StringIO()):      # module-level prints
                fn, ref = install(job, copy_dir)
        except (Exception, SystemExit) as err:
            emit({"import": exception_record(err, copy_dir)})
            return
        for check in CHECKS[job["function"]]:
            emit(run_check(check, fn, ref, copy_dir))

