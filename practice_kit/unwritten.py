"""In a practice copy, a function not written yet is one line, never a traceback.

The copy's question scripts import this module (one line under their docstring). It installs a
``sys.excepthook``: when a NotImplementedError raised in one of the course's holes ends a
program (a self-test, q3_run.py, q4_sentiment.py ...), it prints

    q1_softmax.py: softmax is not written yet; write it, then: python practice.py check q1

and the program exits with status 1. Any other exception keeps Python's usual report.
`describe` gives the same line for q3_run.py's probe and for the copy's tests (pytest_plugin.py).
"""
import os
import sys
import traceback

from practice_kit.holes import HOLES, check_command


def _hole_of(filename, code_name):
    base = os.path.basename(filename)
    for hole in HOLES:
        if hole.file == base and (code_name == hole.function or not hole.whole):
            return hole
    return None


def describe(err):
    """The one-line message for a NotImplementedError raised in a hole, else None."""
    if not isinstance(err, NotImplementedError):
        return None
    hole = None
    for frame, _ in traceback.walk_tb(err.__traceback__):
        hole = _hole_of(frame.f_code.co_filename, frame.f_code.co_name) or hole
    if hole is None:
        return None
    return (f"{hole.file}: {hole.function} is not written yet; write it, then: "
            f"{check_command(hole.question)}")


def _excepthook(exc_type, exc, tb, previous=sys.excepthook):
    text = describe(exc) if exc is not None else None
    if text is None:
        previous(exc_type, exc, tb)
        return
    print(text, file=sys.stderr)


if getattr(sys.excepthook, "__name__", "") != "_excepthook":
    sys.excepthook = _excepthook
