"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Used for every file the project writes that a crash must not corrupt: checkpoints,
word vectors, plots, predictions, the GloVe text file.
"""
import os


def atomic_write(path, write, binary=True):
    """Create or replace `path` so that no reader ever sees half a file.

    ``write(fh)`` fills a temporary file in the same folder; it is flushed,
    fsync'ed and renamed over `path` with ``os.replace`` (atomic on POSIX), and
    the folder is fsync'ed so the rename itself survives a power cut. On any
    error the temporary file is removed and `path` is left as it was.

    Parameters
    ----------
    path : str
    write : callable
        ``write(fh)`` with ``fh`` a file object opened for writing.
    binary : bool
        Open the temporary file in binary (default) or text mode (UTF-8, "\\n").
    """
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    # os.open with 0o666 lets the umask decide the final permissions, like open()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
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
