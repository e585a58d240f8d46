"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Used for every file the project writes that a crash must not corrupt: checkpoints,
word vectors, plots, predictions, the GloVe text file.
"""
import os
import secrets

# ".<name>.<pid>.<random>.tmp": the pid lets a cleaner tell a live writer's file from one
# left by a killed process (utils.checkpoint does); the random part makes the name unguessable
TEMP_SUFFIX = ".tmp"
_ATTEMPTS = 100                   # names tried before giving up (tempfile.mkstemp tries 10000)


def temp_prefix(path):
    """Prefix of this process's temporary files for `path`: ``.<basename>.<pid>.``."""
    return f".{os.path.basename(path)}.{os.getpid()}."


def _create_temp(folder, prefix):
    """Create and open a new temporary file ``<prefix><random>.tmp``; return (fd, path).

    O_EXCL: the file is ours, never one somebody planted under a name we chose (or a
    symlink to elsewhere). Mode 0o666 lets the kernel apply the umask, so the final
    file gets the permissions ``open()`` would give it; ``tempfile.mkstemp`` would
    create it 0o600 and finding the umask to fix that is not thread-safe.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(_ATTEMPTS):
        tmp = os.path.join(folder, prefix + secrets.token_hex(4) + TEMP_SUFFIX)
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name {prefix}*{TEMP_SUFFIX} in {folder} "
                          f"after {_ATTEMPTS} tries; delete the leftover temporary files there")


def atomic_write(path, write, binary=True):
    """Create or replace `path` so that no reader ever sees half a file.

    ``write(fh)`` fills a new temporary file ``.<basename>.<pid>.<random>.tmp`` in
    the same folder (created with O_EXCL; permissions from the umask, as with
    ``open``); it is flushed, fsync'ed and renamed over `path` with ``os.replace``
    (atomic on POSIX), and the folder is fsync'ed so the rename itself survives a
    power cut. On any error the temporary file is removed and `path` is left as it
    was.

    Parameters
    ----------
    path : str
    write : callable
        ``write(fh)`` with ``fh`` a file object opened for writing.
    binary : bool
        Open the temporary file in binary (default) or text mode (UTF-8, "\\n").
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temp(folder, temp_prefix(path))
    try:
        mode = "wb" if binary else "w"
        kwargs = {} if binary else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def _fsync_dir(folder):
    """Persist a rename in `folder` (not possible on every OS: then skip)."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
