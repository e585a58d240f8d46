"""Practice mode's two time targets: q3_run's probe and `practice.py check`.

    python bench/bench_practice.py [--runs N]

* **The probe adds at most 50 ms to q3_run.py's start-up.** In a fresh process that has imported
  what q3_run.py imports anyway (numpy, the question scripts, the engine), the time of importing
  practice_kit.probe and running the probe once, for each model and loss; the median of N fresh
  processes. That is all the probe adds to a run: it draws nothing from the run's generators and
  leaves every random state as it was.
* **`practice.py check` of all questions takes at most 60 s**: a practice copy whose holes hold
  the project's own functions (13 functions, every check run), the median of N runs, and a fresh
  copy (nothing written: no process started) for comparison.

Prints the medians and the load average (the machine may be shared), and exits 1 if a target is
missed.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from practice_kit.generate import make_copy                       # noqa: E402
from practice_kit.holes import QUESTION_FILES                     # noqa: E402
from practice_kit.reference import REFERENCE_DIR                  # noqa: E402

PROBE_TARGET = 0.050     # seconds added to q3_run's start-up
CHECK_TARGET = 60.0      # seconds for `practice.py check` of all questions
# what q3_run.py imports anyway (the probe's own dependencies among them), then the probe
PROBE_SNIPPET = """
import sys, time
import numpy, q1_softmax, q2_sigmoid, q3_sgd, q3_word2vec, utils.cli, w2v_engine
assert "practice_kit.probe" not in sys.modules
t = time.perf_counter()
from practice_kit.probe import check_engine_matches_course
check_engine_matches_course({model!r}, {loss!r})
print(time.perf_counter() - t)
"""


def probe_seconds(model, loss, runs):
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE_SNIPPET.format(model=model, loss=loss)],
                             cwd=ROOT, capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip()))
    return statistics.median(times), min(times), max(times)


def check_seconds(folder, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "practice.py", "check"], cwd=folder,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times), proc


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=7, help="fresh processes per measurement")
    args = p.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")
    missed = []
    print(f"probe (its import + one run, after q3_run.py's own imports), median of {args.runs} "
          "fresh processes:")
    for model in ("skipgram", "cbow"):
        for loss in ("negsample", "softmax"):
            med, lo, hi = probe_seconds(model, loss, args.runs)
            default = " (the default run)" if (model, loss) == ("skipgram", "negsample") else ""
            print(f"  {model:8} {loss:9} {med * 1e3:6.1f} ms  (min {lo * 1e3:.1f}, max "
                  f"{hi * 1e3:.1f}){default}")
            if med > PROBE_TARGET:
                missed.append(f"probe {model}/{loss}: {med * 1e3:.1f} ms > {PROBE_TARGET * 1e3:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = os.path.join(tmp, "fresh")
        make_copy(ROOT, fresh)
        solved = os.path.join(tmp, "solved")
        shutil.copytree(fresh, solved, symlinks=True)
        for file in QUESTION_FILES:
            shutil.copyfile(os.path.join(solved, REFERENCE_DIR, file), os.path.join(solved, file))
        runs = max(1, args.runs // 2)
        med, proc = check_seconds(solved, runs)
        print(f"practice.py check, all 13 functions written (the project's own): {med:.2f} s, "
              f"median of {runs}; exit {proc.returncode}")
        if proc.returncode != 0:
            missed.append("check of the project's own functions did not pass:\n" + proc.stdout)
        if med > CHECK_TARGET:
            missed.append(f"check: {med:.1f} s > {CHECK_TARGET:.0f} s")
        med_fresh, _ = check_seconds(fresh, runs)
        print(f"practice.py check, a fresh copy (13 not started): {med_fresh:.2f} s")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for line in missed:
        print(f"MISSED: {line}", file=sys.stderr)
    print("targets met" if not missed else "a target was missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
