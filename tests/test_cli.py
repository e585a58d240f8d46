"""utils.cli: the start of every script (Ctrl-C, a closed or broken stdout, an ASCII terminal)
and the one-line error path. Each case runs a small script in a fresh process, as a user would."""
import os
import signal
import subprocess
import sys
import textwrap

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
