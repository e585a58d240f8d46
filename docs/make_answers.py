"""Regenerate every figure and measured number quoted in ANSWERS.md.

    python docs/make_answers.py            # run everything, write docs/img/*.png, print the numbers
    python docs/make_answers.py --check    # also fail (exit 1) if ANSWERS.md quotes other results

It runs exactly the commands ANSWERS.md names, in a temporary folder (your own
checkpoints/ and outputs are not touched):

1. ``python q3_run.py`` with the course's defaults (fresh checkpoints in the temp folder);
2. ``python q4_sentiment.py --yourvectors`` on those vectors and ``--pretrained`` (GloVe);
3. ``python bench/bench_word2vec_losses.py`` (3c), ``python bench/bench_train.py`` and
   ``python bench/bench_sentiment.py`` (performance);
4. with ``--gensim-python PY`` (an interpreter that has gensim, see bench/bench_vs_gensim.py),
   ``PY bench/bench_vs_gensim.py`` (section 5's comparison with gensim).

Accuracies, the final smoothed cost and the nearest-neighbour lines are deterministic (fixed
seeds) and are checked exactly with --check (gensim's q4 lines too, for its 1-worker run,
when --gensim-python is given); timings are only printed (they vary from run to run).
Takes about three minutes.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# the sentiment words of the course's plot whose nearest neighbours ANSWERS.md 3(g) lists
NEIGHBOUR_WORDS = ["good", "great", "brilliant", "wonderful", "enjoyable", "boring", "bad",
                   "waste", "dumb", "annoying"]
IMG = os.path.join(ROOT, "docs", "img")


def run(cmd, cwd):
    """Run a command of this repo, echo it, return its stdout; stop on failure."""
    print(f"$ {' '.join(cmd)}", flush=True)
    proc = subprocess.run([sys.executable] + cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"make_answers: `{' '.join(cmd)}` failed (exit {proc.returncode}):\n"
                 f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc.stdout


def last_match(pattern, text, what):
    found = re.findall(pattern, text, flags=re.M)
    if not found:
        sys.exit(f"make_answers: no {what} in the output")
    return found[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless ANSWERS.md quotes exactly these accuracies and cost")
    parser.add_argument("--no-bench", action="store_true", help="skip the three timing benchmarks")
    parser.add_argument("--gensim-python", metavar="PY",
                        help="also run bench/bench_vs_gensim.py with this interpreter (one "
                             "that has gensim installed)")
    args = parser.parse_args(argv)
    os.makedirs(IMG, exist_ok=True)
    facts = {}   # quoted string -> what it is (for --check)

    with tempfile.TemporaryDirectory() as tmp:
        ck = os.path.join(tmp, "checkpoints")
        out = run(["q3_run.py", "--fresh", "--checkpoint-dir", ck,
                   "--plot-out", os.path.join(IMG, "q3_word_vectors.png"),
                   "--cost-plot-out", os.path.join(IMG, "q3_cost.png"),
                   "--vectors-out", os.path.join(tmp, "q3_word_vectors.txt"),
                   "--neighbours", *NEIGHBOUR_WORDS], ROOT)
        print("\n".join(out.strip().splitlines()[-(5 + len(NEIGHBOUR_WORDS)):]))
        cost = last_match(r"final smoothed cost (\d+\.\d+)", out, "final smoothed cost")
        facts[cost] = "q3_run.py final smoothed cost"
        for line in out.splitlines():
            if line.strip().split(":")[0] in NEIGHBOUR_WORDS and line.startswith("  "):
                facts[line.strip()] = "q3_run.py --neighbours line"

        for option in ("--yourvectors", "--pretrained"):
            name = option.lstrip("-")
            out_dir = os.path.join(tmp, name)
            out = run(["q4_sentiment.py", option, "--checkpoint-dir", ck, "--out-dir", out_dir], ROOT)
            for png in ("reg_acc.png", "dev_conf.png"):   # q4_<mode>_<png> -> <mode>_q4_<png>
                shutil.copyfile(os.path.join(out_dir, f"q4_{name}_{png}"),
                                os.path.join(IMG, f"{name}_q4_{png}"))
            choice = [ln for ln in out.splitlines() if ln.startswith(("  ", "using"))
                      and ("dev" in ln or ln.startswith("using"))]
            print("\n".join(choice))
            best = last_match(r"^best reg=.*$", out, "best line")
            print(best)
            facts[best] = f"q4_sentiment.py {option} final line"
            for line in choice:
                m = re.search(r"dev\s+(\d+\.\d+) %", line)
                if m:
                    facts[m.group(1)] = f"{option} model choice: {line.strip()}"

        if args.gensim_python:
            print(f"$ {args.gensim_python} bench/bench_vs_gensim.py", flush=True)
            proc = subprocess.run([args.gensim_python, "bench/bench_vs_gensim.py"], cwd=ROOT,
                                  capture_output=True, text=True)
            if proc.returncode != 0 or "SKIPPED" in proc.stdout:
                sys.exit(f"make_answers: bench_vs_gensim.py did not run (exit "
                         f"{proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
            print(proc.stdout)
            gensim_lines = re.findall(r"^gensim, .*workers=1 run:\n(?:.*\n)*?\s+(best reg=.*)$",
                                      proc.stdout, flags=re.M)
            for best in gensim_lines:
                facts[best.strip()] = "bench_vs_gensim.py: gensim (1 worker) q4 line"

        if not args.no_bench:
            for bench in ("bench/bench_word2vec_losses.py", "bench/bench_train.py",
                          "bench/bench_sentiment.py"):
                print(run([bench], ROOT))

    print(f"figures written to {os.path.relpath(IMG, ROOT)}/")
    if args.check:
        with open(os.path.join(ROOT, "ANSWERS.md"), encoding="utf-8") as fh:
            answers = fh.read()
        missing = [f"{what}: {value}" for value, what in facts.items()
                   if value.split("best ")[-1] not in answers]
        if missing:
            print("ANSWERS.md does not quote these results of the fresh run:\n  " + "\n  ".join(missing))
            return 1
        print(f"ANSWERS.md quotes all {len(facts)} deterministic results of this run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
