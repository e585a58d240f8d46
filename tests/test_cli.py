"""utils.cli: the start of every script (Ctrl-C, a closed or broken stdout, an ASCII terminal)
and the one-line error path. Each case runs a small script in a fresh process, as a user would."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def script(tmp_path, body, name="s.py"):
    """A guarded script: guard(__name__) first, then `body`."""
    path = tmp_path / name
    path.write_text(f"import sys\nsys.path.insert(0, {ROOT!r})\n"
                    "from utils.cli import guard\nguard(__name__)\n" + textwrap.dedent(body))
    return path


def run(path, *args, **kwargs):
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                          timeout=60, **kwargs)


CTRL_C = "import os, signal\nos.kill(os.getpid(), signal.SIGINT)\nimport time\ntime.sleep(30)\n"


@pytest.mark.parametrize("where, body", [
    ("at top level, as during the imports", CTRL_C),
    ("inside a function, with a finally that must run",
     "def work():\n    try:\n" + textwrap.indent(CTRL_C, "        ")
     + "    finally:\n        print('cleaned up', flush=True)\nwork()\n"),
    ("inside cli.run, whose main has no handler of its own",
     "from utils.cli import run\ndef main(argv):\n" + textwrap.indent(CTRL_C, "    ")
     + "sys.exit(run('s.py', main))\n"),
])
def test_ctrl_c_anywhere_is_one_line_and_130(tmp_path, where, body):
    proc = run(script(tmp_path, body))
    assert proc.returncode == 130, (where, proc.stderr)
    assert proc.stderr == "\ns.py: interrupted\n", (where, proc.stderr)
    assert "cleaned up" in proc.stdout or "finally" not in body


def test_atexit_handlers_run_after_an_interrupt(tmp_path):
    body = "import atexit\natexit.register(lambda: print('atexit ran', flush=True))\n" + CTRL_C
    proc = run(script(tmp_path, body))
    assert proc.returncode == 130 and proc.stdout == "atexit ran\n", proc


def test_broken_stdout_ends_quietly(tmp_path):
    path = script(tmp_path, "for i in range(200000):\n    print('line', i)\n")
    proc = subprocess.run(f"{sys.executable} {path} | head -1; echo status ${{PIPESTATUS[0]}}",
                          shell=True, executable="/bin/bash", capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout == "line 0\nstatus 141\n", proc
    assert proc.stderr == "", proc.stderr


def test_broken_stdout_inside_cli_run_ends_quietly(tmp_path):
    body = ("from utils.cli import run\ndef main(argv):\n    for i in range(200000):\n"
            "        print('line', i)\n    return 0\nsys.exit(run('s.py', main))\n")
    proc = subprocess.run(f"{sys.executable} {script(tmp_path, body)} | head -1; "
                          "echo status ${PIPESTATUS[0]}", shell=True, executable="/bin/bash",
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout == "line 0\nstatus 141\n" and proc.stderr == "", proc


def test_closed_stdout_runs_and_keeps_files_off_descriptor_1(tmp_path):
    body = ("print('to nowhere')\nfd = os.open('out.txt', os.O_WRONLY | os.O_CREAT)\n"
            "os.write(fd, str(fd).encode())\nos.close(fd)\nprint('still nowhere')\n")
    path = script(tmp_path, "import os\n" + body)
    proc = subprocess.run(f"{sys.executable} {path} >&-", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == "", proc
    assert int((tmp_path / "out.txt").read_text()) > 2      # not descriptor 1 or 2


def test_closed_stderr_and_an_error_still_exit_non_zero(tmp_path):
    body = ("from utils.cli import run\ndef main(argv):\n    raise ValueError('bad input')\n"
            "sys.exit(run('s.py', main))\n")
    proc = subprocess.run(f"{sys.executable} {script(tmp_path, body)} 2>&-", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout, proc


def test_an_ascii_terminal_prints_escapes_not_a_traceback(tmp_path):
    proc = run(script(tmp_path, "print('clichés')\n"), env={**os.environ,
                                                           "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0 and proc.stdout == "clich\\xe9s\n", proc


def test_guard_does_nothing_when_imported(tmp_path):
    script(tmp_path, "print('imported')\n", name="mod.py")
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); hook = sys.excepthook; "
            "import mod; assert sys.excepthook is hook; print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout == "imported\nok\n", proc


def test_debug_shows_the_traceback_of_an_interrupt(tmp_path):
    proc = run(script(tmp_path, CTRL_C), "--debug")
    assert "KeyboardInterrupt" in proc.stderr and "Traceback" in proc.stderr
    assert proc.returncode in (-signal.SIGINT, 130)


def test_other_errors_keep_their_traceback_outside_run(tmp_path):
    # a bug in a script is not a user error: it keeps Python's report
    proc = run(script(tmp_path, "raise RuntimeError('a bug')\n"))
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "a bug" in proc.stderr


# ---- the real commands -------------------------------------------------------------------------
from conftest import require_data  # noqa: E402
from utils.data_paths import DEFAULT_GLOVE_PATH, DEFAULT_SST_PATH  # noqa: E402


def processes_naming(text):
    """Pids of the live processes whose command line holds `text` (a run's own temp folder)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if text.encode() in fh.read():
                    pids.append(int(pid))
        except OSError:
            continue
    return pids


def interrupt_after(args, seconds, cwd):
    """Start a command, send it SIGINT (a Ctrl-C) after `seconds`; the finished process."""
    proc = subprocess.Popen([sys.executable, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    time.sleep(seconds)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


COMMANDS = {   # commands of a few seconds, from their imports to their last output
    "q3_run.py": ["--iterations", "20000", "--checkpoint-dir", "ck", "--vectors-out", "v.txt",
                  "--plot-out", "w.png", "--cost-plot-out", "c.png"],
    "q4_sentiment.py": ["--pretrained"],
    "q3_word2vec.py": [],
}
MOMENTS = [   # (script, seconds after its start): while Python loads NumPy, the data, training
    ("q3_word2vec.py", 0.05), ("q3_word2vec.py", 0.6), ("q4_sentiment.py", 0.15),
    ("q4_sentiment.py", 1.0), ("q4_sentiment.py", 1.8), ("q3_run.py", 0.3), ("q3_run.py", 1.0),
    ("q3_run.py", 2.2), ("q3_run.py", 2.8)]


@pytest.mark.parametrize("script, seconds", MOMENTS)
def test_ctrl_c_at_any_moment_of_a_command_is_one_line_and_130(tmp_path, script, seconds):
    require_data(DEFAULT_SST_PATH, "SST data")
    require_data(DEFAULT_GLOVE_PATH, "GloVe vectors")
    status, out, err = interrupt_after([os.path.join(ROOT, script), *COMMANDS[script]], seconds,
                                       tmp_path)
    if status == 0:
        pytest.skip(f"{script} finished within {seconds} s, before the Ctrl-C")
    if status == -signal.SIGINT and (err == "" or err.splitlines()[-2:-1] == [
            "    from utils.cli import guard"]):
        # Before guard() the interpreter is Python's: in its first milliseconds a Ctrl-C kills
        # it silently, or (while utils.cli itself loads, ~1 ms) with Python's traceback
        pytest.skip("the Ctrl-C came before the script's first line, guard(), had run")
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("warning:")]
    assert status == 130 and "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith(f"{script}: interrupted"), err
    assert processes_naming(str(tmp_path)) == []             # no worker left behind
    assert not [p for p in tmp_path.rglob("*.tmp")], "a half-written file was left"


def test_q3_run_with_stdout_closed_does_its_work(tmp_path):
    require_data(DEFAULT_SST_PATH, "SST data")
    proc = subprocess.run(f"{sys.executable} {ROOT}/q3_run.py "
                          "--iterations 20 --save-every 10 --checkpoint-dir ck --no-plot >&-",
                          shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert (tmp_path / "ck" / "saved_params_20.npz").is_file()
    assert (tmp_path / "q3_word_vectors.txt").read_text().startswith("19539 10\n")


def test_q3_run_into_head_ends_quietly(tmp_path):
    require_data(DEFAULT_SST_PATH, "SST data")
    proc = subprocess.run(f"{sys.executable} {ROOT}/q3_run.py "
                          "--iterations 2000 --print-every 1 --checkpoint-dir ck --no-plot "
                          "| head -1; echo status ${PIPESTATUS[0]}", shell=True,
                          executable="/bin/bash", cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.splitlines()[-1] == "status 141" and len(proc.stdout.splitlines()) == 2
    assert proc.stderr == "", proc.stderr
    assert processes_naming(str(tmp_path)) == []


def test_q3_run_on_an_ascii_terminal_prints_escapes(tmp_path):
    require_data(DEFAULT_SST_PATH, "SST data")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "q3_run.py"), "--iterations", "10",
                           "--checkpoint-dir", "ck", "--no-plot", "--neighbours", "clichés"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    assert "clich\\xe9s:" in proc.stdout


def test_ctrl_c_while_a_c_extension_initialises_is_an_interrupt_too(tmp_path):
    # NumPy's C module turns a Ctrl-C during its initialisation into "ImportError:
    # initialization failed", caused by the KeyboardInterrupt
    body = ("def init():\n    try:\n        raise KeyboardInterrupt\n    except KeyboardInterrupt "
            "as err:\n        raise ImportError('initialization failed') from err\ninit()\n")
    proc = run(script(tmp_path, body))
    assert proc.returncode == 130 and proc.stderr == "\ns.py: interrupted\n", proc
