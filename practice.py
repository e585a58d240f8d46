"""Practise the assignment: a copy with the course's holes, and a checker that names the wrong function.

    python practice.py new DIR                     # a copy of the assignment to write yourself
    python practice.py check [DIR] [QUESTION|FUNCTION ...] [--json FILE]

``new`` writes a working copy of the project into the new (or empty) folder DIR, with the
course's 13 functions taken out of the question scripts (``### YOUR CODE HERE``), the data, the
tests and a README for the learner. ``check`` judges the functions of a practice copy (DIR, by
default the current folder): one line per function, ``pass``, ``fail`` (the first failing check,
with the numbers and a hint), ``not started`` or ``error``; exit status 0 only when every
function checked passes. Each function runs in its own process with a time limit, against the
reference versions of everything it calls. practice_kit/ holds the machinery.
"""
import argparse
import json
import os
import sys

from utils.cli import guard
guard(__name__)  # as a script: Ctrl-C, a closed or broken stdout end in one line (utils/cli.py)
from practice_kit.generate import make_copy
from practice_kit.holes import HOLES, QUESTIONS
from practice_kit.runner import TIMEOUT, check_copy, format_result, next_step, select, summary
from utils.cli import DEBUG_ENV, UsageError, run
from utils.files import atomic_write, output_problem

ROOT = os.path.dirname(os.path.abspath(__file__))


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="practice.py",
        description="Practise CS224n assignment 1: make a copy with the course's holes, write "
                    "the functions, and let the checker say which one is wrong and why.")
    p.add_argument("--debug", action="store_true",
                   help=f"show the Python traceback of an error (or set {DEBUG_ENV}=1)")
    sub = p.add_subparsers(dest="command", required=True, metavar="{new,check}")
    new = sub.add_parser("new", help="write a practice copy into DIR (new or empty)",
                         description="Write a working copy of the assignment, with the course's "
                                     "holes, into DIR (a new or an empty folder; never overwrites).")
    new.add_argument("dir", metavar="DIR")
    chk = sub.add_parser(
        "check", help="judge the functions of a practice copy",
        description="Judge the functions of a practice copy, each in its own process with a time "
                    "limit: pass, fail (the first failing check, the numbers and a hint), not "
                    "started, or error. Exit status 0 only when all pass.")
    chk.add_argument("targets", nargs="*", metavar="[DIR] [QUESTION|FUNCTION]",
                     help=f"the copy (default: the current folder), then questions "
                          f"({', '.join(QUESTIONS)}) or functions (default: all); e.g. "
                          "`check q3` or `check ../mycopy negSamplingCostAndGradient`")
    chk.add_argument("--json", metavar="FILE",
                     help='also write {"functions": [{"question", "file", "function", "status", '
                          '"message"}, ...]} to FILE')
    chk.add_argument("--timeout", type=float, default=TIMEOUT,
                     help="seconds each function's checks may take before it is an error "
                          "(default: %(default)g)")
    chk.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                     help="functions checked at the same time (default: %(default)s)")
    args = p.parse_args(argv)
    if args.command == "check":
        if not args.timeout > 0:
            p.error(f"--timeout must be positive, got {args.timeout:g}")
        if args.jobs < 1:
            p.error(f"--jobs must be at least 1, got {args.jobs}")
    return args


def split_targets(targets):
    """(DIR, names): the first target is the folder when it is not a question or function name."""
    known = {h.function for h in HOLES} | set(QUESTIONS) | {h.file for h in HOLES} \
        | {h.file[:-3] for h in HOLES}
    if targets and targets[0] not in known and os.path.isdir(targets[0]):
        return targets[0], targets[1:]
    return ".", list(targets)


def cmd_new(args):
    holes = make_copy(ROOT, args.dir)
    print(f"practice copy written to {args.dir}: {len(holes)} functions to write")
    for q in QUESTIONS:
        names = [h["function"] for h in holes if h["question"] == q]
        print(f"  {q}  {', '.join(names)}")
    if not os.path.isdir(os.path.join(args.dir, "utils", "datasets")):
        print(f"no data to link (utils/datasets is empty here): run `bash get_datasets.sh` in "
              f"{args.dir} before q3_run.py and q4_sentiment.py")
    print(f"start here: cd {args.dir} && python practice.py check   "
          f"(its README.md says how it works)")
    return 0


def cmd_check(args):
    copy_dir, names = split_targets(args.targets)
    holes = select(names)
    if args.json:
        problem = output_problem(args.json)
        if problem:
            raise UsageError(f"--json {args.json}: {problem}")
    shown = "the current folder" if copy_dir == "." else copy_dir
    print(f"checking {len(holes)} function{'s' * (len(holes) != 1)} in {shown}, each in its own "
          f"process (at most {args.timeout:g} s each)", flush=True)
    results = check_copy(copy_dir, holes, timeout=args.timeout, jobs=args.jobs,
                         report=lambda r: print(format_result(r), flush=True))
    print(summary(results))
    step = next_step(results)
    if step:
        print(step)
    if args.json:
        data = json.dumps({"functions": [r.as_json() for r in results]}, indent=1) + "\n"
        atomic_write(args.json, lambda fh: fh.write(data), binary=False)
    return 0 if all(r.status == "pass" for r in results) else 1


def main(argv=None):
    args = parse_args(argv)
    return cmd_new(args) if args.command == "new" else cmd_check(args)


if __name__ == "__main__":
    sys.exit(run("practice.py", main))
