"""The one error path of the command-line scripts, and the start of every script a user runs.

Whatever a user can get wrong ends the same way: one line on stderr,
``<script>: error: <what, which file:line or argument, the fix>``, and a
non-zero exit status, never a Python traceback. That covers the project's own
errors (they all derive from ValueError: DatasetFormatError,
CheckpointConfigError, ...), ValueError from the data readers, IndexError /
KeyError (LookupError) from the library functions' index checks and OSError
from the file system (with the path and the fix, ``utils.files.explain``).
``--debug`` on the command line, or ``CS224N_DEBUG=1`` in the environment, lets
the exception through with its traceback instead.

`guard` is the first line of every script a user runs (question self-tests,
q3_run.py, q4_sentiment.py, practice.py), before its other imports, so that
from then on:

* Ctrl-C, wherever it comes (while NumPy loads, during training, while the
  outputs are written), ends in one line, ``<script>: interrupted``, and exit
  status 130; ``finally`` blocks run first (the sampling worker is stopped,
  temporary files are removed), and the atomic writes leave no half file;
* a stdout that a pipe stops reading (``| head -1``) ends the script quietly,
  as Unix tools end on SIGPIPE (status 141), without a traceback;
* a closed stdout or stderr (``>&-``) is replaced by /dev/null: the script does
  its work (its real outputs are files) and prints nothing;
* characters the terminal's encoding lacks (an ASCII locale, a word like
  "clichés") are printed as escapes instead of failing.

The output locations are checked before any work starts (`writable_file`,
`writable_folder`), so a bad path fails in a second, not after the training.
"""
import atexit
import functools
import os
import signal
import sys
# utils.files is imported where it is used: guard() must be ready before a slow import can be
# interrupted, and utils.files loads `secrets` (hashlib, OpenSSL) on its way

DEBUG_ENV = "CS224N_DEBUG"
INTERRUPTED = 130                # exit status after Ctrl-C: 128 + SIGINT, as shells report it
BROKEN_PIPE = 141                # exit status when stdout's reader is gone: 128 + SIGPIPE


class UsageError(ValueError):
    """A user input that cannot work; the message is the whole explanation."""


def describe(err):
    """One line for the user from an exception (OSError: what, which file, the system's reason)."""
    if isinstance(err, OSError) and (err.filename is not None or err.strerror):
        from utils.files import explain
        return explain(err)                     # the path, the system's reason and the fix
    text = str(err).strip() or type(err).__name__
    return " ".join(text.split("\n"))           # one line, even for a multi-line message


def one_line_warning(message, category, filename, lineno, file=None, line=None):
    """A ``warnings.showwarning`` for the scripts: ``warning: <message>``, without the source line
    that Python's default shows (a skipped checkpoint, a sentence without a label)."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def debug_requested(argv):
    return "--debug" in argv or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def run(prog, main, argv=None):
    """``main(argv)``'s exit status; a user error becomes ``prog: error: ...`` and status 1.

    Parameters
    ----------
    prog : str
        Script name for the message, e.g. ``"q3_run.py"``.
    main : callable
        ``main(argv) -> int``; it may handle its own KeyboardInterrupt for a message of its
        own (q3_run.py says how to resume); otherwise Ctrl-C gives ``prog: interrupted``, 130.
    argv : list of str, optional
        Defaults to ``sys.argv[1:]``.
    """
    argv = sys.argv[1:] if argv is None else argv
    try:
        status = main(argv)
        _ignore_interrupts()     # the work is done: a Ctrl-C while Python shuts down changes nothing
        return status
    except KeyboardInterrupt:
        if debug_requested(argv):
            raise
        _say(f"\n{prog}: interrupted")
        return INTERRUPTED
    except BrokenPipeError as err:
        if err.filename is None and not debug_requested(argv):   # stdout's reader is gone
            _silence_stdout()
            return BROKEN_PIPE
        print(f"{prog}: error: {describe(err)}", file=sys.stderr)
        return 1
    except (ValueError, LookupError, OSError, ImportError) as err:
        if debug_requested(argv):
            raise
        if interrupted(err):                     # a Ctrl-C that became another error
            _say(f"\n{prog}: interrupted")
            return INTERRUPTED
        if isinstance(err, ImportError):
            raise
        print(f"{prog}: error: {describe(err)}", file=sys.stderr)
        return getattr(err, "exit_status", 1)


def guard(module_name, prog=None):
    """Make a script end in one line on Ctrl-C, quietly on a broken stdout (module docstring).

    Call it first in a script, ``guard(__name__)``, before the slow imports. It does nothing
    when the module is imported (tests, other scripts): only ``__main__`` is guarded.

    Parameters
    ----------
    module_name : str
        The caller's ``__name__``.
    prog : str, optional
        The name in the messages; the script's file name by default.
    """
    if module_name != "__main__":
        return
    prog = prog or os.path.basename(sys.argv[0]) or "python"
    _reopen_closed_std_streams()
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")   # an ASCII locale: é -> \xe9
    sys.excepthook = functools.partial(_last_resort, prog, sys.excepthook)
    atexit.register(_ignore_interrupts)    # at exit, once the script has run to its end


def _ignore_interrupts():
    """Ignore Ctrl-C from now on: the script has finished its work (or is leaving after an
    interrupt), and a Ctrl-C in Python's shutdown would kill it with a status of -2."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def interrupted(err):
    """Whether `err` is a Ctrl-C, or an error it caused: a Ctrl-C while a C extension (NumPy)
    initialises reaches Python as ``ImportError: initialization failed``, caused by it."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def _last_resort(prog, default, kind, value, tb):
    """sys.excepthook of a guarded script: what no ``try`` caught (Ctrl-C during the imports,
    while the outputs are written; a broken stdout) ends as the module docstring says."""
    if interrupted(value) and not debug_requested(sys.argv):
        _say(f"\n{prog}: interrupted")
        _exit(INTERRUPTED)
    if issubclass(kind, BrokenPipeError) and value.filename is None:
        _silence_stdout()
        _exit(BROKEN_PIPE)
    default(kind, value, tb)


def _say(line):
    """Print to stderr; nothing if stderr itself is gone."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _silence_stdout():
    """Point stdout at /dev/null, so that flushing it at exit cannot fail again (the reader of
    the pipe is gone; what was buffered for it is dropped, as it would be after SIGPIPE)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def _exit(status):
    """Exit with `status` from an excepthook (which cannot choose the status): flush, run the
    atexit handlers (they stop worker processes), then leave."""
    _ignore_interrupts()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    atexit._run_exitfuncs()
    os._exit(status)


def _reopen_closed_std_streams():
    """Put /dev/null where stdin, stdout or stderr is closed (``>&-``): the script's prints go
    nowhere instead of failing, and no file the script opens later can take descriptor 1 or 2
    (a stray write to "stdout" would land in it)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
            closed = False
        except OSError:
            closed = True
        if closed:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if closed or getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", errors="backslashreplace",
                                    closefd=False))


def writable_folder(path, option):
    """Create folder `path` if needed and check that files can be written in it.

    Raises
    ------
    UsageError
        It is a file, cannot be created, or is not writable; the message names `option`.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a file, not a folder; choose a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise UsageError(f"{option} {path}: cannot create the folder ({err.strerror}); "
                         "choose a folder you can write to") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: the folder is not writable; choose another one")


def writable_file(path, option):
    """Check that file `path` can be created or replaced (``utils.files.output_problem``).

    Raises
    ------
    UsageError
        The message names `option` and what to change.
    """
    from utils.files import output_problem
    if not path:
        raise UsageError(f"{option}: the path is empty")
    problem = output_problem(path)
    if problem is not None:
        raise UsageError(f"{option} {path}: {problem}")
