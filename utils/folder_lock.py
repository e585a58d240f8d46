"""One run per checkpoint folder: an exclusive lock on ``<folder>/.lock``.

``checkpoint_lock(folder)`` takes ``flock(LOCK_EX | LOCK_NB)`` on the folder's ``.lock`` file for
a run that writes there; a second run is refused at once with a `CheckpointLockedError` naming
the folder and the holder's pid. The kernel frees the lock when the holder exits in any way,
``kill -9`` included; forked children (the sampler's worker) do not hold it. Readers need no
lock: checkpoints are written atomically.

The lock file is never a path to somewhere else: it is opened with ``O_NOFOLLOW`` (a symbolic
link there is refused, its target untouched), and only a file that is a lock file of ours (a
regular file with one link, empty or holding a pid) is rewritten with the pid. Anything else
at that name (a FIFO, a hard link to another file, a file with other contents) is refused,
never truncated.
"""
import contextlib
import errno
import os
import re
import stat

try:
    import fcntl
except ImportError:               # not POSIX: no folder lock (documented in checkpoint_lock)
    fcntl = None

LOCK_NAME = ".lock"
_PID_TEXT = re.compile(rb"\A(\d{1,20}\n?)?\Z")   # what a lock file of ours holds
_OPEN = (os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
         | getattr(os, "O_CLOEXEC", 0))
_LOCK_FDS = set()                 # lock files this process holds open


class CheckpointLockedError(ValueError):
    """Another run holds the lock of the checkpoint folder."""


class CheckpointDirError(ValueError):
    """The checkpoint folder cannot be created, written or locked."""


def _close_locks_in_child():
    """In a forked child (the sampler's worker): close the inherited lock descriptors.
    A flock belongs to the open file, which the child shares: were the child to keep it,
    the folder would stay locked after the parent's death until the child noticed it.
    Closing (not unlocking) leaves the parent's lock in place."""
    for fd in _LOCK_FDS:
        try:
            os.close(fd)
        except OSError:
            pass
    _LOCK_FDS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_locks_in_child)


@contextlib.contextmanager
def checkpoint_lock(checkpoint_dir):
    """Hold the exclusive lock of a checkpoint folder for a run that writes there.

    Creates the folder if missing. Entering it also proves the folder usable before any
    training. Without ``fcntl`` (not POSIX) the folder is checked but not locked.

    Parameters
    ----------
    checkpoint_dir : str

    Yields
    ------
    checkpoint_dir : str

    Raises
    ------
    CheckpointLockedError
        Another process holds the lock: the message names the folder and that process, and
        says to wait for it or use another ``--checkpoint-dir``.
    CheckpointDirError
        The folder cannot be created or written, or its ``.lock`` is not a lock file of ours
        (a symbolic link, a FIFO, another file): the message says which and the fix.

    Examples
    --------
    >>> with checkpoint_lock(args.checkpoint_dir):          # doctest: +SKIP
    ...     x = sgd(f, x0, step, iterations, useSaved=True, checkpoint_dir=args.checkpoint_dir)
    """
    fd = _acquire_lock(checkpoint_dir)
    owner = os.getpid()
    try:
        yield checkpoint_dir
    finally:
        if fd is not None and os.getpid() == owner:   # never from a forked child's unwinding
            _LOCK_FDS.discard(fd)
            os.close(fd)                               # the last descriptor: the lock is freed


def _unusable(checkpoint_dir, reason):
    return CheckpointDirError(f"cannot use {checkpoint_dir} as the checkpoint folder ({reason}); "
                              "choose another --checkpoint-dir")


def _open_lock_file(checkpoint_dir):
    """The descriptor of ``<checkpoint_dir>/.lock`` (created if missing), never through a link."""
    path = os.path.join(checkpoint_dir, LOCK_NAME)
    try:
        os.makedirs(checkpoint_dir, exist_ok=True)
        return os.open(path, _OPEN | os.O_CREAT, 0o666)
    except OSError as err:
        if os.path.islink(path):
            raise CheckpointDirError(
                f"the lock file {path} of the checkpoint folder is a symbolic link (to "
                f"{os.readlink(path)}); it is not followed: delete the link, or choose another "
                "--checkpoint-dir") from None
        reason = ("a file of that name is in the way" if isinstance(err, FileExistsError)
                  else f"{err.strerror}: {err.filename}")
        raise _unusable(checkpoint_dir, reason) from None


def _not_ours(fd):
    """Why the opened ``.lock`` is not a lock file of ours (never to be rewritten), or None."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_nlink != 1:
        return f"has {st.st_nlink} names (a hard link to another file)"
    if st.st_size > 64 or not _PID_TEXT.match(os.pread(fd, 64, 0)):
        return "holds something other than a process id"
    return None


def _acquire_lock(checkpoint_dir):
    """Open, check and lock ``<checkpoint_dir>/.lock``; return its descriptor (None without
    fcntl)."""
    path = os.path.join(checkpoint_dir, LOCK_NAME)
    fd = _open_lock_file(checkpoint_dir)
    try:
        problem = _not_ours(fd)
    except OSError as err:
        problem = f"cannot be read ({err.strerror})"
    if problem:
        os.close(fd)
        raise CheckpointDirError(f"the lock file {path} of the checkpoint folder {problem}; it "
                                 "is left as it is: move it away, or choose another "
                                 "--checkpoint-dir")
    if not os.access(checkpoint_dir, os.W_OK | os.X_OK):      # the lock file may be older
        os.close(fd)
        raise CheckpointDirError(f"cannot write in the checkpoint folder {checkpoint_dir} (no "
                                 "permission, or a read-only disk); choose another "
                                 "--checkpoint-dir")
    if fcntl is None:
        os.close(fd)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        try:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            holder = ""
        os.close(fd)
        if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise CheckpointDirError(f"cannot lock the checkpoint folder {checkpoint_dir} "
                                     f"({err.strerror}); choose another --checkpoint-dir, "
                                     "on a local disk") from None
        who = (" (this process: checkpoint_lock does not nest)" if holder == str(os.getpid())
               else f" (process {holder})" if holder.isdigit() else "")
        raise CheckpointLockedError(
            f"the checkpoint folder {checkpoint_dir} is in use by another run{who}: wait for "
            "it to finish, or use another folder (--checkpoint-dir)") from None
    _LOCK_FDS.add(fd)
    try:                            # a lock file of ours (checked above): the pid replaces its text
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    except OSError:
        pass                        # only the message of a refused run would lack the pid
    return fd
