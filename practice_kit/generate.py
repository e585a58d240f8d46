"""`python practice.py new DIR`: the learner's copy, generated from the solution with `ast`.

One source of truth: the question scripts are the solution, and the copy is made from them by
taking bodies out, never from a second hand-kept starter. For every hole of ``holes.HOLES``:

* a whole function (softmax, ..., softmaxRegression): its body is replaced by the learner's
  docstring (``holes.FUNCTION_DOCS``) and the course's ``### YOUR CODE HERE`` /
  ``raise NotImplementedError`` / ``### END YOUR CODE``; the ``def`` lines stay as they are;
* the update lines of sgd (the rule, `_sgd_holes`): in the loop that calls ``f(x)``, the
  statements from the first one that uses ``x``, ``step`` and ``grad`` together to the one that
  calls ``postprocessing``, and the statement that halves ``step``. A rule rather than markers,
  so that q3_sgd.py can be restructured freely; if the rule finds nothing, `new` says so.

Private helpers that only the removed bodies used are left out (they hold the solution), each
module docstring is replaced by the learner's, and one import line
(``practice_kit.unwritten``) makes a function not written yet a one-line message.

The copy holds the scripts, ``utils/`` (its ``datasets`` a link to the source's data),
``w2v_engine/``, ``tests/``, this package and ``practice.py``, a README for the learner, and
``.practice/``: the reference (the solution's question scripts, read-only) with a manifest of
their sha256 sums, which ``check`` compares against. ``ANSWERS.md``, ``docs/`` and ``bench/``
are left out.
"""
import ast
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile

from practice_kit.holes import (FUNCTION_DOCS, HOLE_BEGIN, HOLE_END, HOLE_RAISE, HOLES,
                                QUESTION_FILES, REWRITES, SGD_ANNEAL_COMMENT, SGD_UPDATE_COMMENT,
                                module_doc)
from practice_kit.reference import MANIFEST, MANIFEST_FORMAT, REFERENCE_DIR

KIT = "practice_kit"
HOOK_LINE = ("import practice_kit.unwritten  # noqa: F401  (practice copy: a function not written "
             "yet is a one-line message)")

TOP_FILES = ("practice.py", "q3_run.py", "q4_sentiment.py", "requirements.txt", "get_datasets.sh",
             ".gitignore")
COPY_DIRS = ("utils", "w2v_engine", "tests", KIT)
# tests about what the copy leaves out, or about this package (practice_learner.py holds answers)
LEFT_OUT_TESTS = ("test_answers.py", "test_layout.py", "test_practice.py", "practice_learner.py",
                  "test_bench_vs_gensim.py")
SKIP_NAMES = ("__pycache__", ".pytest_cache")
CONFTEST_HOOK = (
    "\n# practice copy: a test that reaches a function not written yet is skipped, with the reason\n"
    "from practice_kit.pytest_plugin import pytest_runtest_makereport  # noqa: E402,F401\n")


class GenerateError(ValueError):
    """The copy cannot be made: DIR is not usable, or the solution no longer fits a rule."""


# ==== the learner's question scripts ===========================================================

def _indent(text, pad):
    return [pad + line if line.strip() else "" for line in text.rstrip("\n").split("\n")]


def _hole_lines(pad):
    return [pad + HOLE_BEGIN, pad + HOLE_RAISE, pad + HOLE_END]


def _docstring_lines(doc, pad):
    first, *rest = doc.rstrip("\n").split("\n")
    return [pad + '"""' + first] + (_indent("\n".join(rest), pad) if rest else []) + [pad + '"""']


def _names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _calls(node, name):
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
               for n in ast.walk(node))


def _halves_step(node):
    return any(isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)
               and n.target.id == "step" and isinstance(n.op, ast.Mult)
               and isinstance(n.value, ast.Constant) and n.value.value == 0.5
               for n in ast.walk(node))


def _sgd_holes(tree):
    """(container function, loop, [(first, last) statement index ranges], period, it) of sgd.

    The rule: the ``for`` loop whose body calls ``f``; its update statements run from the first
    one that names ``x``, ``step`` and ``grad`` to the first one from there that calls
    ``postprocessing``; its anneal is the statement that does ``step *= 0.5``.
    """
    for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        for loop in (n for n in ast.walk(func) if isinstance(n, ast.For)):
            body = loop.body
            if not any(_calls(s, "f") for s in body):
                continue
            first = next((i for i, s in enumerate(body) if {"x", "step", "grad"} <= _names(s)), None)
            if first is None:
                continue
            last = next((i for i in range(first, len(body)) if _calls(body[i], "postprocessing")),
                        None)
            anneal = next((i for i, s in enumerate(body) if _halves_step(s)), None)
            if last is None or anneal is None or first <= anneal <= last:
                continue
            it = loop.target.id if isinstance(loop.target, ast.Name) else "it"
            period = sorted(_names(body[anneal].test) - {it}) if isinstance(body[anneal], ast.If) \
                else []
            return func, loop, [(first, last), (anneal, anneal)], \
                (period[0] if period else "ANNEAL_EVERY"), it
    return None


def _function_node(tree, name):
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def _start(node):
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _dead_private_helpers(tree, removed):
    """Private module functions that nothing outside the removed bodies (or other dead helpers)
    uses, e.g. softmax's _infinite_limit or gradcheck_naive's _compare_all."""
    helpers = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)
               and n.name.startswith("_") and not n.name.startswith("__")}
    dead = set()
    while True:
        skip = set(map(id, removed)) | {id(helpers[d]) for d in dead}
        used = set()

        def visit(node):
            if id(node) in skip:
                return
            if isinstance(node, ast.Name):
                used.add(node.id)
            for child in ast.iter_child_nodes(node):
                visit(child)
        visit(tree)
        more = {name for name in helpers if name not in used} - dead
        if not more:
            return [helpers[d] for d in sorted(dead)]
        dead |= more


def learner_source(file, text):
    """The learner's version of one question script, and its holes.

    Returns
    -------
    text : str
    holes : list of dict
        ``{"function", "container", "count"}``: the checked function, the function whose code
        holds the hole(s) (they differ only if sgd's loop moves into a helper), how many holes.

    Raises
    ------
    GenerateError
        A hole's function is missing, or sgd's update lines are not found by the rule.
    """
    tree = ast.parse(text)
    lines = text.split("\n")
    edits, removed, holes = [], [], []     # edits: (first line index, end index, new lines)
    for hole in (h for h in HOLES if h.file == file):
        if hole.whole:
            node = _function_node(tree, hole.function)
            if node is None:
                raise GenerateError(f"{file}: the solution has no function {hole.function} for "
                                    "its hole (practice_kit/holes.py names it)")
            pad = " " * node.body[0].col_offset
            new = _docstring_lines(FUNCTION_DOCS[hole.function], pad) + _hole_lines(pad)
            edits.append((node.body[0].lineno - 1, node.end_lineno, new))
            removed += node.body
            holes.append({"function": hole.function, "container": hole.function, "count": 1})
        else:
            found = _sgd_holes(tree)
            if found is None:
                raise GenerateError(f"{file}: the update lines of {hole.function} were not found "
                                    "(the rule in practice_kit/generate.py: a for loop calling f, "
                                    "statements using x, step and grad through the postprocessing "
                                    "call, and a `step *= 0.5`); update the rule")
            func, loop, ranges, period, it = found
            update = loop.body[ranges[0][0]:ranges[0][1] + 1]
            names = set().union(*map(_names, update))
            missing = {"x", "step", "grad", "postprocessing", "DENSE"} - names
            if missing:
                raise GenerateError(f"{file}: sgd's update lines no longer use {sorted(missing)}; "
                                    "update SGD_UPDATE_COMMENT in practice_kit/holes.py")
            comments = [SGD_UPDATE_COMMENT, SGD_ANNEAL_COMMENT.format(period=period, it=it)]
            for (a, b), comment in zip(ranges, comments):
                first, last = loop.body[a], loop.body[b]
                pad = " " * first.col_offset
                edits.append((first.lineno - 1, last.end_lineno,
                              _indent(comment, pad) + _hole_lines(pad)))
                removed += loop.body[a:b + 1]
            holes.append({"function": hole.function, "container": func.name, "count": 2})
    for (rfile, name), body in REWRITES.items():
        if rfile != file:
            continue
        node = _function_node(tree, name)
        if node is None or not isinstance(node.body[0], ast.Expr):
            raise GenerateError(f"{file}: no documented function {name} to rewrite for the copy "
                                "(practice_kit/holes.py REWRITES)")
        pad = " " * node.body[0].col_offset
        edits.append((node.body[0].end_lineno, node.end_lineno, _indent(body, pad)))
        removed += node.body[1:]
    for helper in _dead_private_helpers(tree, removed):
        edits.append((_start(helper) - 1, helper.end_lineno, []))
    doc = tree.body[0] if tree.body and isinstance(tree.body[0], ast.Expr) and \
        isinstance(tree.body[0].value, ast.Constant) and isinstance(tree.body[0].value.value, str) \
        else None
    header = _docstring_lines(module_doc(file), "") + [HOOK_LINE]
    edits.append((doc.lineno - 1, doc.end_lineno, header) if doc else (0, 0, header))
    edits.sort(key=lambda e: e[0])
    for (a1, b1, _), (a2, _, _) in zip(edits, edits[1:]):
        if a2 < b1:
            raise GenerateError(f"{file}: two edits overlap at line {a2 + 1}")
    for start, end, new in reversed(edits):
        lines[start:end] = new
    out = re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines))
    ast.parse(out)                           # a broken rule must never reach a learner
    return out, holes


# ==== the copy =================================================================================

def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def reference_sources(source_root):
    """{file: bytes} of the solution's question scripts: a practice copy's reference if
    `source_root` is one (a copy made from a copy), else the scripts themselves."""
    folder = os.path.join(source_root, REFERENCE_DIR)
    if not os.path.isdir(folder):
        folder = source_root
    sources = {}
    for file in QUESTION_FILES:
        path = os.path.join(folder, file)
        try:
            with open(path, "rb") as fh:
                sources[file] = fh.read()
        except OSError as err:
            raise GenerateError(f"{path}: cannot read the solution ({err.strerror})") from None
    return sources


def _ignore(folder, names):
    skip = {n for n in names if n in SKIP_NAMES or n.endswith((".pyc", ".tmp"))}
    base = os.path.basename(folder)
    if base == "utils":
        skip.add("datasets")
    if base == "tests":
        skip |= set(LEFT_OUT_TESTS)
    return skip


def check_destination(dest):
    """A GenerateError unless `dest` is a new name in an existing folder, or an empty folder."""
    if os.path.lexists(dest):
        if not os.path.isdir(dest) or os.path.islink(dest):
            raise GenerateError(f"{dest}: exists and is not a folder; choose a new folder name")
        if os.listdir(dest):
            raise GenerateError(f"{dest}: the folder is not empty, and practice.py never "
                                "overwrites; choose a new or an empty folder")
    parent = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(parent):
        raise GenerateError(f"{dest}: the folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GenerateError(f"{dest}: the folder {parent} is not writable; choose another place")


def _write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def make_copy(source_root, dest):
    """Write the learner's copy of the project at `source_root` into the new folder `dest`.

    Built in a temporary folder beside `dest` and renamed into place at the end, so a failure
    (or Ctrl-C) leaves nothing half-made.

    Returns
    -------
    holes : list of dict
        As `learner_source` gives them, with "question" and "file".
    """
    check_destination(dest)
    sources = reference_sources(source_root)
    learner, holes = {}, []
    for file in QUESTION_FILES:
        text, found = learner_source(file, sources[file].decode("utf-8"))
        learner[file] = text
        question = file.split("_")[0]
        holes += [dict(h, question=question, file=file) for h in found]
    parent = os.path.dirname(os.path.abspath(dest))
    tmp = tempfile.mkdtemp(prefix=".practice-new-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)              # mkdtemp's 0700 would be the copy's mode
    try:
        for name in TOP_FILES:
            src = os.path.join(source_root, name)
            if os.path.isfile(src):
                shutil.copy2(src, os.path.join(tmp, name))
        for name in COPY_DIRS:
            shutil.copytree(os.path.join(source_root, name), os.path.join(tmp, name),
                            ignore=_ignore, symlinks=True)
        with open(os.path.join(source_root, "conftest.py"), encoding="utf-8") as fh:
            conftest = fh.read()
        _write(os.path.join(tmp, "conftest.py"),
               conftest if CONFTEST_HOOK in conftest else conftest + CONFTEST_HOOK)
        for file, text in learner.items():
            _write(os.path.join(tmp, file), text)
        data = os.path.realpath(os.path.join(source_root, "utils", "datasets"))
        if os.path.isdir(data):
            os.symlink(data, os.path.join(tmp, "utils", "datasets"))
        with open(os.path.join(os.path.dirname(__file__), "README_COPY.md"), encoding="utf-8") as fh:
            _write(os.path.join(tmp, "README.md"), fh.read())
        ref = os.path.join(tmp, REFERENCE_DIR)
        os.makedirs(ref)
        for file, data_ in sources.items():
            path = os.path.join(ref, file)
            with open(path, "wb") as fh:
                fh.write(data_)
            os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)     # 0444: read-only
        manifest = {"format": MANIFEST_FORMAT,
                    "reference": {f: _sha256(d) for f, d in sources.items()},
                    "holes": holes}
        _write(os.path.join(tmp, MANIFEST), json.dumps(manifest, indent=1) + "\n")
        if os.path.isdir(dest):
            os.rmdir(dest)                  # empty (checked): the rename takes its place
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return holes
