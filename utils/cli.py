"""The one error path of the command-line scripts (q3_run.py, q4_sentiment.py).

Whatever a user can get wrong ends the same way: one line on stderr,
``<script>: error: <what, which file:line or argument, the fix>``, and a
non-zero exit status, never a Python traceback. That covers the project's own
errors (they all derive from ValueError: DatasetFormatError,
CheckpointConfigError, ...), ValueError from the data readers, IndexError /
KeyError (LookupError) from the library functions' index checks and OSError
from the file system. ``--debug`` on the command line, or ``CS224N_DEBUG=1`` in the
environment, lets the exception through with its traceback instead.

The output locations are checked before any work starts (`writable_file`,
`writable_folder`), so a bad path fails in a second, not after the training.
"""
import os
import sys

from utils.files import explain

DEBUG_ENV = "CS224N_DEBUG"


class UsageError(ValueError):
    """A user input that cannot work; the message is the whole explanation."""


def describe(err):
    """One line for the user from an exception (OSError: what, which file, the system's reason)."""
    if isinstance(err, OSError) and (err.filename is not None or err.strerror):
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
        ``main(argv) -> int``; it handles its own KeyboardInterrupt if it wants a message.
    argv : list of str, optional
        Defaults to ``sys.argv[1:]``.
    """
    argv = sys.argv[1:] if argv is None else argv
    try:
        return main(argv)
    except (ValueError, LookupError, OSError) as err:
        if debug_requested(argv):
            raise
        print(f"{prog}: error: {describe(err)}", file=sys.stderr)
        return getattr(err, "exit_status", 1)


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
    """Check that file `path` can be created or replaced: its folder exists and is writable.

    Raises
    ------
    UsageError
        The message names `option` and what to change.
    """
    if not path:
        raise UsageError(f"{option}: the path is empty")
    if os.path.isdir(path):
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: the folder {folder} does not exist; create it "
                         "or choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: the folder {folder} is not writable; choose "
                         "another path")
