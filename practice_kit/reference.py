"""The reference the checker compares against: where it lives, and how nothing can change it.

It lives in the practice copy, in ``.practice/reference/``: the solution's question scripts as
they were when the copy was made (read-only files), with their sha256 sums in
``.practice/manifest.json``. The checker reads them once, before it runs any of the learner's
code, and refuses them if a sum differs (`read_reference`). From then on it works from those
bytes in its own memory: it computes the expected outputs in its own process, which never
imports a learner's module, and it hands the same bytes to each child process, which builds the
reference modules from them (`load_modules`) rather than from files the learner's code could
have touched. A child's code can only change its own process; after each child the checker
checks the files again, so that a copy whose reference was changed is refused next time.
"""
import ast
import hashlib
import json
import os
import sys
import types

from practice_kit.holes import QUESTION_FILES

PRACTICE_DIR = ".practice"
REFERENCE_DIR = os.path.join(PRACTICE_DIR, "reference")
MANIFEST = os.path.join(PRACTICE_DIR, "manifest.json")
MANIFEST_FORMAT = 1
PSEUDO_DIR = "<reference>"            # the file name a reference module reports in tracebacks


class ReferenceProblem(ValueError):
    """The folder is not a practice copy, or its reference was changed."""


def read_manifest(copy_dir):
    path = os.path.join(copy_dir, MANIFEST)
    if not os.path.isfile(path):
        raise ReferenceProblem(
            f"{copy_dir}: not a practice copy (it has no {MANIFEST}); make one with "
            "`python practice.py new DIR` in the project, then check it with "
            "`python practice.py check DIR`")
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as err:
        raise ReferenceProblem(f"{path}: cannot be read ({err}); make a new practice copy") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT \
            or not isinstance(manifest.get("reference"), dict):
        raise ReferenceProblem(f"{path}: not a manifest this checker knows (format "
                              f"{manifest.get('format') if isinstance(manifest, dict) else '?'}); "
                              "make a new practice copy with this version of practice.py")
    return manifest


def read_reference(copy_dir, manifest=None):
    """{file: source bytes} of the reference, each checked against the manifest's sha256."""
    manifest = manifest or read_manifest(copy_dir)
    sources = {}
    for file in QUESTION_FILES:
        path = os.path.join(copy_dir, REFERENCE_DIR, file)
        want = manifest["reference"].get(file)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as err:
            raise ReferenceProblem(f"{path}: the reference cannot be read ({err.strerror}); make "
                                  "a new practice copy and move your functions into it") from None
        if want is None or hashlib.sha256(data).hexdigest() != want:
            raise ReferenceProblem(
                f"{path}: the reference was changed (its sha256 is not the one in {MANIFEST}); "
                "the checker compares your functions with it, so it refuses a changed one. Make "
                "a new practice copy (python practice.py new DIR2) and move your functions into it")
        sources[file] = data
    return sources


def changed_files(copy_dir, manifest):
    """The reference files whose bytes no longer match the manifest (after a child ran)."""
    bad = []
    for file, want in manifest["reference"].items():
        try:
            with open(os.path.join(copy_dir, REFERENCE_DIR, file), "rb") as fh:
                ok = hashlib.sha256(fh.read()).hexdigest() == want
        except OSError:
            ok = False
        if not ok:
            bad.append(file)
    return bad


def needed(sources, file):
    """The question scripts `file` imports, directly or not, and itself, in loading order."""
    names = {f[:-3] for f in QUESTION_FILES}
    found, todo = set(), [file[:-3]]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for node in ast.walk(ast.parse(sources[name + ".py"])):
            if isinstance(node, ast.ImportFrom) and node.module in names:
                todo.append(node.module)
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name in names]
    return [f for f in QUESTION_FILES if f[:-3] in found]


def load_modules(sources, keep_installed=(), files=QUESTION_FILES):
    """The reference modules of `files`, built from `sources` ({file: bytes}), by name.

    Each is executed under its real name (``q1_softmax`` ...), in the order the scripts import
    one another, so that their imports of each other find the reference. Afterwards
    ``sys.modules`` is put back as it was, except for the names in `keep_installed` (the child
    keeps the reference installed for the modules that are not the learner's under check).
    """
    names = [f[:-3] for f in QUESTION_FILES]
    saved = {n: sys.modules.get(n) for n in names}
    modules = {}
    try:
        for file in files:
            name = file[:-3]
            module = types.ModuleType(name)
            module.__file__ = f"{PSEUDO_DIR}/{file}"
            sys.modules[name] = module
            code = compile(sources[file], module.__file__, "exec")
            exec(code, module.__dict__)                  # noqa: S102 (our own reference)
            modules[name] = module
    finally:
        for name in names:
            if name in keep_installed and name in modules:
                continue
            if saved[name] is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = saved[name]
    return types.SimpleNamespace(**modules)
