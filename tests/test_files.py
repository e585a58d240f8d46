"""utils.files: only regular files are read; writes are atomic and never replace what is not a
regular file; every OSError names its path and a fix."""
import errno
import os
import socket
import threading
import time

import pytest

from utils.files import (NotRegularFileError, atomic_write, atomic_writes, explain, open_regular,
                         output_problem, read_regular)


def test_reads_a_regular_file_and_through_a_symlink(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    assert read_regular(tmp_path / "f") == b"abc" == read_regular(tmp_path / "link")


@pytest.mark.parametrize("make, kind", [
    (lambda p: os.mkfifo(p), "a named pipe (FIFO)"),
    (lambda p: p.mkdir(), "a folder"),
    (lambda p: p.symlink_to("/dev/zero"), "a character device"),
])
def test_reading_a_special_file_is_refused_at_once(tmp_path, make, kind):
    path = tmp_path / "x"
    make(path)
    with pytest.raises(NotRegularFileError) as err:
        open_regular(path, "word-vector file")       # a FIFO without writer: no wait
    assert explain(err.value) == (f"{path}: {kind}, not a regular file; pass the word-vector "
                                  "file itself")


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        read_regular(tmp_path / "nope")
    assert explain(err.value) == f"{tmp_path / 'nope'}: No such file or directory; check the path"


def test_write_replaces_a_symlink_never_its_target(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out").symlink_to(victim)
    atomic_write(tmp_path / "out", lambda fh: fh.write(b"new"))
    assert victim.read_text() == "precious"
    assert not (tmp_path / "out").is_symlink() and (tmp_path / "out").read_bytes() == b"new"


def test_a_character_device_is_written_in_place_not_replaced():
    assert output_problem("/dev/null") is None
    atomic_write("/dev/null", lambda fh: fh.write(b"gone"))
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_a_pipe_with_a_reader_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader_ready = threading.Event()

    def read():
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)    # a reader from now on
        reader_ready.set()
        data, deadline = b"", time.monotonic() + 5
        while time.monotonic() < deadline:      # EOF before the writer opened: look again
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:             # the writer is there, its data not yet
                chunk = None
            if chunk:
                data += chunk
            elif chunk == b"" and data:
                break                           # EOF after the data: the writer is done
            else:
                time.sleep(0.005)
        os.close(fd)
        got.append(data)
    t = threading.Thread(target=read)
    t.start()
    reader_ready.wait(5)
    atomic_write(fifo, lambda fh: fh.write(b"through the pipe"))
    t.join(5)
    assert got == [b"through the pipe"] and fifo.is_fifo()


def test_a_pipe_without_reader_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert output_problem(fifo) == ("a named pipe (FIFO) that no process reads; start the reader "
                                    "first, or give a file name")
    with pytest.raises(OSError) as err:
        atomic_write(fifo, lambda fh: fh.write(b"x"))
    assert explain(err.value).startswith(f"{fifo}: a named pipe (FIFO) that no process reads")
    assert fifo.is_fifo()


@pytest.mark.parametrize("make, problem", [
    (lambda p: p.mkdir(), "is a folder; give a file name"),
    (lambda p: socket.socket(socket.AF_UNIX).bind(str(p)),
     "is a socket, which cannot hold the output; give a file name"),
])
def test_a_folder_or_a_socket_is_refused(tmp_path, make, problem):
    path = tmp_path / "x"
    make(path)
    assert output_problem(path) == problem
    with pytest.raises(OSError) as err:
        atomic_write(path, lambda fh: fh.write(b"x"))
    assert explain(err.value) == f"{path}: {problem}"
    assert os.listdir(tmp_path) == ["x"]


def test_output_problem_of_a_missing_folder_and_an_empty_path(tmp_path):
    assert output_problem(tmp_path / "no" / "f") == (
        f"the folder {tmp_path / 'no'} does not exist; create it or choose another path")
    assert output_problem("") == "the path is empty"
    assert output_problem(tmp_path / "new") is None


def test_a_full_disk_leaves_every_old_file_and_names_the_path(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).write_text("old " + name)

    def full(fh):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))    # as a write() gives it: no path
    with pytest.raises(OSError) as err:
        atomic_writes([(tmp_path / "a", lambda fh: fh.write(b"new a")),
                       (tmp_path / "b", lambda fh: fh.write(b"new b")),
                       (tmp_path / "c", full)])
    assert explain(err.value) == (f"{tmp_path / 'c'}: No space left on device; the disk is full: "
                                  "free some space, or write to another disk")
    assert sorted(os.listdir(tmp_path)) == ["a", "b", "c"]         # no temporary file left
    assert [(tmp_path / n).read_text() for n in "abc"] == ["old a", "old b", "old c"]


def test_an_interrupted_write_leaves_the_old_file(tmp_path):
    (tmp_path / "a").write_text("old")

    def interrupted(fh):
        fh.write(b"half")
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "a", interrupted)
    assert os.listdir(tmp_path) == ["a"] and (tmp_path / "a").read_text() == "old"


def test_text_mode_is_utf8_with_newlines(tmp_path):
    atomic_write(tmp_path / "t", lambda fh: fh.write("clichés\n"), binary=False)
    assert (tmp_path / "t").read_bytes() == "clichés\n".encode("utf-8")


def test_a_missing_folder_names_the_target_not_the_temporary_file(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        atomic_write(tmp_path / "no" / "out.png", lambda fh: fh.write(b"x"))
    assert explain(err.value) == (f"{tmp_path / 'no' / 'out.png'}: No such file or directory; "
                                  "check the path")
