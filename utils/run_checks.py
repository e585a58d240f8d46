"""What ``q3_run.py`` checks before it trains: its outputs, and what ``--fresh`` would delete.

`check_outputs` refuses, before any work, an output that cannot be written, two outputs that
name one file (through any spelling or symbolic link: their real paths are compared), and an
output that would take the place of the checkpoint folder or of one of its files (a
checkpoint that ``q4_sentiment.py`` reads, the lock).

`confirm_fresh` says what ``--fresh`` deletes before anything is deleted: how many
checkpoints, and the run they hold (how far it got, of how many iterations, its settings and
cost), so that nobody loses a finished run unawares; at a terminal it asks first.
"""
import os
import sys

from utils.checkpoint import CHECKPOINT_NAME, load_saved_params, removable_checkpoints
from utils.cli import UsageError
from utils.files import output_problem
from utils.folder_lock import LOCK_NAME


def check_outputs(outputs, checkpoint_dir):
    """Raise UsageError naming the option unless every output can be written apart.

    Parameters
    ----------
    outputs : list of (option, path)
        e.g. ``[("--vectors-out", "q3_word_vectors.txt"), ...]``.
    checkpoint_dir : str
        The run's checkpoint folder (it may not exist yet).
    """
    folder, seen = os.path.realpath(checkpoint_dir), {}
    for option, path in outputs:
        real = os.path.realpath(path)
        # a device such as /dev/null is written in place: two outputs may share it
        if real in seen and (os.path.isfile(real) or not os.path.exists(real)):
            raise UsageError(f"{option} {path} and {seen[real]} name the same file ({real}); "
                             "give each output its own path")
        seen[real] = f"{option} {path}"
        name = os.path.basename(real)
        if folder == real or folder.startswith(real + os.sep) or (
                os.path.dirname(real) == folder and (CHECKPOINT_NAME.match(name)
                                                     or name == LOCK_NAME)):
            raise UsageError(f"{option} {path} would take the place of the checkpoint folder "
                             f"{checkpoint_dir} or of one of its files ({real}), which "
                             "q4_sentiment.py and a resumed run read; write it elsewhere")
        problem = output_problem(path)
        if problem:
            raise UsageError(f"{option} {path}: {problem}")


def describe_run(state, iteration, settings, iterations):
    """One phrase about the run of a checkpoint: how far it got, its settings and cost."""
    run, total = state["config"].get("run", {}), state["iterations"]
    done = "" if not total else f" of {total:,}, " + ("finished" if total == iteration
                                                      else "unfinished")
    what = (f"the newest at iteration {iteration:,}{done}: {run.get('model')}/"
            f"{run.get('loss')}, dim {run.get('dim')}, seed {run.get('seed')}")
    if state["expcost"] is not None:
        what += f", smoothed cost {state['expcost']:.4f}"
    if run.items() >= settings.items() and total == iterations:
        what += "; this command would train the same vectors again"
    return what


def confirm_fresh(checkpoint_dir, settings, iterations):
    """Before --fresh deletes anything: print what it deletes and, at a terminal, ask.

    Parameters
    ----------
    checkpoint_dir : str
    settings : dict
        This command's run settings (``q3_run.run_settings``), to say if it would train the
        same vectors again.
    iterations : int
        This command's --iterations.

    Raises
    ------
    UsageError
        The person at the terminal did not answer yes: nothing is deleted.
    """
    delete, _ = removable_checkpoints(checkpoint_dir)
    if not delete:
        return
    iteration, _, state = load_saved_params(checkpoint_dir)
    what = ("none of them readable" if state is None
            else describe_run(state, iteration, settings, iterations))
    names = ", ".join(os.path.basename(path) for _, path in sorted(delete))
    print(f"--fresh deletes {len(delete)} checkpoint(s) in {checkpoint_dir} ({what}): {names}. "
          "q4_sentiment.py --yourvectors then reads the new run's.", flush=True)
    if sys.stdin is None or not (sys.stdin.isatty() and sys.stderr.isatty()):
        return                                  # no one to ask: --fresh was the answer
    print("Delete them and train again? [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UsageError(f"--fresh: nothing deleted; the run in {checkpoint_dir} is kept "
                         "(use another --checkpoint-dir to train beside it)")
