"""How the project opens files: it reads only regular files, and it writes so that nothing is
half-written or lost.

Reading (`open_regular`)
    A path that names a FIFO, a device, a socket or a folder is refused at once with an OSError
    naming it, never waited on (opening a FIFO for reading blocks until a writer comes) or read
    forever (``/dev/zero``). The check is made on the opened descriptor, so nothing can swap the
    file between the check and the read.

Writing (`atomic_write`, `atomic_writes`)
    A regular file (or a new name) is replaced atomically: the bytes go to a new temporary file
    ``.<name>.<pid>.<random>.tmp`` in the same folder (created with O_EXCL | O_NOFOLLOW, so never a
    file or a symlink somebody planted), which is flushed, fsync'ed and renamed over the name. A
    reader sees the old file or the new one, never half of one, and a failed write (a full disk,
    Ctrl-C) leaves the old one as it was. A symlink at the name is replaced, never followed: its
    target is not touched. A name that is not a regular file is never replaced by a rename: a
    character device (``/dev/null``) or a pipe with a reader (``>(gzip > v.gz)``) is written in
    place; a folder, a FIFO nobody reads, a socket or a block device is refused (`output_problem`
    says so before any work starts).

Errors
    Every OSError raised here carries the path (``err.filename``), and `explain` turns any OSError
    into one line with the path, the system's reason and the fix (``utils.cli`` prints it).
"""
import errno
import os
import secrets
import stat

# ".<name>.<pid>.<random>.tmp": the pid lets a cleaner tell a live writer's file from one left by a
# killed process (utils.checkpoint does); the random part makes the name unguessable
TEMP_SUFFIX = ".tmp"
_ATTEMPTS = 100                   # names tried before giving up (tempfile.mkstemp tries 10000)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

# The fix to suggest for the errors a user can meet, by errno.
_FIXES = {
    errno.ENOSPC: "the disk is full: free some space, or write to another disk",
    errno.EDQUOT: "the disk quota is used up: free some space, or write elsewhere",
    errno.EROFS: "the file system is read-only: choose a path on a writable disk",
    errno.EACCES: "check the permissions, or choose another path",
    errno.EPERM: "check the permissions, or choose another path",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EISDIR: "it is a folder: give a file name",
    errno.ENAMETOOLONG: "choose a shorter path",
    errno.ELOOP: "it is a loop of symbolic links: check the path",
    errno.EIO: "the disk reported an input/output error: check the disk, or use another one",
    errno.EMFILE: "too many open files: close other programs, or raise `ulimit -n`",
    errno.EFBIG: "the file is too large for this file system: write to another disk",
    errno.EXDEV: "the temporary file and the target are on different file systems",
}


def explain(err, path=None):
    """One line for the user from an OSError: ``<path>: <reason>; <fix>``.

    Parameters
    ----------
    err : OSError
    path : str, optional
        The path to name when `err` carries none (an error raised while writing through a
        file object has no filename).
    """
    name = err.filename if err.filename is not None else path
    reason = err.strerror or str(err) or type(err).__name__
    fix = _FIXES.get(err.errno)
    text = reason if fix is None or fix in reason else f"{reason}; {fix}"
    return f"{os.fsdecode(name)}: {text}" if name is not None else text


def _with_path(err, path):
    """`err` as an OSError of the same class that names `path` (or `err` itself if it does)."""
    if err.filename is not None or err.errno is None:
        return err
    return type(err)(err.errno, err.strerror or os.strerror(err.errno), os.fspath(path))


def _kind(mode):
    """What a non-regular file is, in words."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


class NotRegularFileError(OSError):
    """A path to read names a folder, a FIFO, a device or a socket, not a regular file."""


def open_regular(path, what="file"):
    """Open a regular file for reading in binary mode; refuse anything else without waiting.

    Parameters
    ----------
    path : str or os.PathLike
    what : str
        What the file is, for the message ("SST file", "checkpoint", "word-vector file").

    Returns
    -------
    file : io.BufferedReader

    Raises
    ------
    NotRegularFileError
        `path` is a folder, a FIFO, a device or a socket (the message says which).
    OSError
        It cannot be opened (missing, no permission ...), naming the path.
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(errno.EINVAL, f"{_kind(mode)}, not a regular file; pass "
                                      f"the {what} itself", os.fspath(path))
        if _NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path, what="file"):
    """The bytes of a regular file (`open_regular`'s checks)."""
    with open_regular(path, what) as fh:
        return fh.read()


def output_problem(path):
    """Why `path` cannot be an output file, or None: the check `atomic_write` makes, for a
    command to make before any work.

    None for a new name in an existing folder, a regular file (or a symlink, which is replaced),
    a character device or a pipe with a reader (both written in place).
    """
    path = os.fspath(path)
    if not path:
        return "the path is empty"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            return f"the folder {folder} does not exist; create it or choose another path"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"the folder {folder} is not writable; choose another path"
        return None
    except OSError as err:
        return explain(err)
    if stat.S_ISREG(mode):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"the folder {folder} is not writable; choose another path"
        return None
    if stat.S_ISDIR(mode):
        return "is a folder; give a file name"
    if stat.S_ISCHR(mode):
        return None
    if stat.S_ISFIFO(mode):
        try:
            os.close(_open_in_place(path))
        except OSError as err:
            return explain(err).partition(": ")[2]
        return None
    return f"is {_kind(mode)}, which cannot hold the output; give a file name"


def _open_in_place(path):
    """Open an existing character device or pipe for writing, without truncating or creating it.

    A FIFO without a reader gives ENXIO at once (O_NONBLOCK) instead of blocking forever.
    """
    try:
        fd = os.open(path, os.O_WRONLY | _NONBLOCK | _CLOEXEC)
    except OSError as err:
        if err.errno == errno.ENXIO:
            raise OSError(errno.ENXIO, "a named pipe (FIFO) that no process reads; start the "
                          "reader first, or give a file name", os.fspath(path)) from None
        raise
    if _NONBLOCK:
        os.set_blocking(fd, True)
    return fd


def _in_place(path):
    """True if `path` is an existing character device or FIFO (written in place, not replaced).

    Raises the refusal of `output_problem` for a folder, a socket or a block device.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISREG(mode):
        return False
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    raise NotRegularFileError(errno.EINVAL, output_problem(path), os.fspath(path))


def temp_prefix(path):
    """Prefix of this process's temporary files for `path`: ``.<basename>.<pid>.``."""
    return f".{os.path.basename(path)}.{os.getpid()}."


def _create_temp(folder, prefix, target):
    """Create and open a new temporary file ``<prefix><random>.tmp``; return (fd, path).

    An error names `target`, the file being written (the temporary name means nothing to a
    user: a missing folder, no permission, a full disk are the target's problems).

    O_EXCL | O_NOFOLLOW: the file is ours, never one somebody planted under a name we chose (or
    a symlink to elsewhere). Mode 0o666 lets the kernel apply the umask, so the final file gets
    the permissions ``open()`` would give it.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    for _ in range(_ATTEMPTS):
        tmp = os.path.join(folder, prefix + secrets.token_hex(4) + TEMP_SUFFIX)
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as err:
            raise type(err)(err.errno, err.strerror, os.fspath(target)) from None
    raise FileExistsError(errno.EEXIST, f"no free temporary file name {prefix}*{TEMP_SUFFIX} "
                          f"after {_ATTEMPTS} tries; delete the leftover temporary files there",
                          folder)


def _fdopen(fd, binary):
    if binary:
        return os.fdopen(fd, "wb")
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n")


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def atomic_writes(outputs):
    """Write several files as one: all new contents are written first, then all renamed.

    A failure while writing any of them (a full disk, an error in a writer, Ctrl-C) leaves
    every one of the files as it was.

    Parameters
    ----------
    outputs : sequence of (path, write) or (path, write, binary)
        ``write(fh)`` fills a file object opened for writing, binary by default, else text
        (UTF-8, "\\n" line ends).

    Raises
    ------
    OSError
        Naming the path (`explain` gives the line to print).
    """
    staged = []                                  # (path, temp path or None if written in place)
    try:
        for path, write, *binary in outputs:
            path = os.fspath(path)
            binary = binary[0] if binary else True
            try:
                if _in_place(path):
                    with _fdopen(_open_in_place(path), binary) as fh:
                        write(fh)
                    staged.append((path, None))
                    continue
                folder = os.path.dirname(os.path.abspath(path))
                fd, tmp = _create_temp(folder, temp_prefix(path), path)
                staged.append((path, tmp))
                with _fdopen(fd, binary) as fh:
                    write(fh)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as err:
                raise _with_path(err, path) from err
        folders = set()
        for path, tmp in staged:
            if tmp is not None:
                try:
                    os.replace(tmp, path)      # atomic on POSIX; replaces a symlink, not its target
                except OSError as err:
                    raise _with_path(err, path) from err
                folders.add(os.path.dirname(os.path.abspath(path)))
        staged = []
    finally:
        for _, tmp in staged:
            if tmp is not None:
                _unlink_quietly(tmp)
    for folder in folders:
        _fsync_dir(folder)


def atomic_write(path, write, binary=True):
    """Create or replace `path` so that no reader ever sees half a file (see the module doc).

    Parameters
    ----------
    path : str or os.PathLike
    write : callable
        ``write(fh)`` with ``fh`` a file object opened for writing.
    binary : bool
        Binary (default) or text mode (UTF-8, "\\n" line ends).
    """
    atomic_writes([(path, write, binary)])


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
