"""Draw chunks of random arrays ahead of use, in a worker process, deterministically.

``Prefetcher(produce, rng, capacity)`` hands out the chunks ``produce(rng)``
returns, in order: chunk k is ``produce(rng)`` with the Generator in the
state that chunk k-1 left it in, exactly as if it were called in this
process. ``start_state`` tells the state the last chunk was drawn from, so a
caller can checkpoint "the state at the start of the current chunk" and
later `restart` from it.

Where ``os.fork`` is dependable (Linux), a worker process runs `produce`
while this process trains on the previous chunk, so drawing the samples costs
the training loop nothing. The worker writes each chunk into one of `slots`
buffers of anonymous shared memory (``mmap``; nothing named, nothing to clean
up on disk or in /dev/shm) and sends a short JSON message (slot, array
shapes, start and end states) through a pipe; this process reads the arrays
in place, without copies, and frees the slot with a message when it asks for
the next chunk. Elsewhere, or with ``worker=False``, `produce` simply runs in
this process: same chunks, same states, only slower.

Lifetime: the worker is forked at the first `next`, stopped by `close`
(also called when the Prefetcher is garbage-collected or Python exits) and
reaped, so it never outlives the run as a zombie. It ignores Ctrl-C (the
parent handles it and closes the worker). It dies with the parent, even when
the parent is killed by SIGKILL: the kernel then sends it SIGKILL
(``PR_SET_PDEATHSIG``, which also ends a stopped or hung worker), and its pipe
from the parent reads EOF.

Faults: a worker that dies (``kill -9``, the OOM killer), stops (``kill
-STOP``), hangs, fails or cannot be forked costs the run its speed, never its
result. A chunk is
a function of the Generator state alone, so `next` kills and reaps such a
worker, warns once (`WorkerLostWarning`, one line) and draws every later
chunk in this process, from the end state of the last chunk it handed out:
the chunks are the ones the worker would have sent, bit for bit. That beats
stopping the run with "run the same command again": the user gets the right
result from the one command, at the speed of ``--no-worker`` for the rest of
the run. No new worker is forked: whatever ended this one (the OOM killer, a
user's signal, a lock held at the fork) could end the next, and drawing here
always makes progress. A chunk that fails in the worker is drawn again here,
so a real error (bad data) is raised with its own type and message, as
without a worker. A dead worker is seen at once (its pipe reads EOF); a
stopped one within two looks (`_LOOK` apart); a silent one after `_SILENCE`
seconds without a chunk, or `_SILENCE_CHUNKS` times the slowest chunk it has
drawn if that is longer. Only time this process spent waiting counts: when
the whole run was stopped (Ctrl-Z, then ``fg``) the worker is not blamed.
Waiting costs the normal run one ``poll`` call per chunk (under a
microsecond; the worker is usually ahead and the chunk already there).
"""
import ctypes
import json
import math
import mmap
import os
import select
import signal
import sys
import time
import traceback
import warnings
import weakref
from multiprocessing.connection import Pipe

import numpy as np

DEFAULT_SLOTS = 3            # chunks in flight: one in use, up to two ready
_ALIGN = 64                  # byte alignment of every array in a slot (a cache line)
_STOP_TIMEOUT = 2.0          # seconds close() waits for the worker before SIGKILL
_IDLE_NAP = 0.001            # seconds an idle worker sleeps between looks at its pipe
_LOOK = 0.25                 # seconds between looks at a worker while waiting for its chunk
_SILENCE = 10.0              # seconds without a chunk after which a worker counts as hung ...
_SILENCE_CHUNKS = 20         # ... or this many times its slowest chunk so far, if longer
_PR_SET_PDEATHSIG = 1        # prctl option (linux/prctl.h): a signal for us when the parent dies


def worker_supported():
    """True where chunks can be produced in a forked worker (Linux with os.fork)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


class WorkerLostWarning(UserWarning):
    """The worker process died, stopped, hung or failed; the chunks are now drawn in this process."""


class _WorkerLost(Exception):
    """Raised by `_WorkerHandle.receive`: the worker will send no chunk; the message says why."""

    def __init__(self, what, died=False, retry_here=False):
        super().__init__(what)
        self.died = died                 # it ended by itself (else it is killed now)
        self.retry_here = retry_here     # its chunk failed: drawing it here may raise the real error


class Prefetcher:
    """Chunks of ``produce(rng)`` in order, produced ahead in a worker process (see module doc).

    Parameters
    ----------
    produce : callable
        ``produce(rng) -> dict name -> ndarray``; draws only from `rng`, and its result
        depends only on the state of `rng` (a lost worker's chunks are drawn again here).
        Each array must fit its `capacity` entry. In a worker it runs in a forked copy of
        this process, so it must not need other threads (no multi-threaded BLAS calls).
    rng : numpy.random.Generator
        Its state is the start state of the first chunk. With a worker, this
        object is not advanced (the worker draws from its own copy).
    capacity : dict name -> (dtype, max_elements)
        Upper bound of every array `produce` returns (sizes the shared buffers).
    slots : int
        Shared buffers (>= 2): the chunk in use plus up to ``slots - 1`` ready ones.
    worker : bool or None
        None: a worker process where `worker_supported()`; False: always in this process.
    silence : float
        Seconds of waiting for a chunk after which the worker counts as hung (at least;
        see the module doc).

    Notes
    -----
    The arrays of a chunk are views into shared memory that the worker refills
    once the *next* call of `next` has released them: use them before asking
    for another chunk (copy what must live longer).
    """

    def __init__(self, produce, rng, capacity, slots=DEFAULT_SLOTS, worker=None,
                 silence=_SILENCE):
        if slots < 2:
            raise ValueError(f"Prefetcher: slots must be at least 2, got {slots}")
        if not silence > 0:
            raise ValueError(f"Prefetcher: silence must be a positive number of seconds, "
                             f"got {silence!r}")
        self.produce, self.rng = produce, rng
        self.capacity = {name: (np.dtype(dt), int(n)) for name, (dt, n) in capacity.items()}
        self.slots, self.silence = slots, float(silence)
        self.use_worker = worker_supported() if worker is None else (worker and worker_supported())
        self.lost = None             # why the worker was lost (str), once it has been
        self._proc = None            # _WorkerHandle while a worker runs
        self._layout = None          # name -> (offset in slot, dtype, max elements)
        self._slot_bytes = 0
        self._memory = None
        self._views = None           # per slot: name -> 1-D view of the whole region
        self._in_use = None          # slot whose arrays the caller holds
        self._states = None          # (start, end) states of the last chunk, or their JSON bytes

    # ---- public ---------------------------------------------------------------
    def next(self):
        """The next chunk: what ``produce`` returned, a dict name -> ndarray.

        With a worker the arrays are views into shared memory (see the class notes).
        `start_state` then tells the Generator state the chunk was drawn from. If the
        worker is lost, the chunk (and every later one) is drawn in this process instead:
        the same arrays.
        """
        if self.use_worker:
            try:
                return self._next_from_worker()
            except _WorkerLost as lost:
                self._lose_worker(lost)
                if lost.retry_here:           # its chunk failed there: a real error fails here too
                    chunk = self._next_here()
                    self._warn_lost()
                    return chunk
                self._warn_lost()
        return self._next_here()

    @property
    def start_state(self):
        """``rng.bit_generator.state`` just before the last chunk of `next` was drawn (a dict)."""
        return self._state(0)

    def _state(self, which):
        """Start (0) or end (1) state of the last chunk; a worker's are JSON, parsed on demand
        (a checkpoint needs them, an iteration does not)."""
        states = self._states
        if isinstance(states, bytes):
            states = self._states = json.loads(states.decode())
        return states[which]

    def restart(self, state):
        """Continue from a Generator state (a chunk's start state): the next chunk starts there."""
        self.close()
        self._states = None
        self.rng.bit_generator.state = state

    def close(self):
        """Stop and reap the worker (if any); `next` starts a new one from the last chunk's end.

        Safe to call more than once. Chunks the worker drew ahead are dropped: the
        rng is set to the state after the last chunk handed out, so `next` goes on
        with the chunk that would have come next.
        """
        self._drop_worker(kill=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ---- in this process, or from the worker ------------------------------------
    def _next_here(self):
        self._states = (self.rng.bit_generator.state, None)
        return self.produce(self.rng)

    def _next_from_worker(self):
        if self._proc is None:
            self._start_worker()
        proc = self._proc
        if self._in_use is not None:      # the caller is done with the previous chunk
            proc.send(str(self._in_use).encode())
            self._in_use = None
        slot, shapes, states = proc.receive(self.silence)
        self._states = states
        views = self._views[slot]
        arrays = {name: views[name][:math.prod(shape)].reshape(shape)
                  for name, shape in shapes.items()}
        self._in_use = slot
        return arrays

    def _drop_worker(self, kill):
        """Stop (or kill at once) and reap the worker; the rng goes on after the last chunk."""
        proc, self._proc = self._proc, None
        self._in_use = None
        status = None
        if proc is not None:
            status = proc.kill() if kill else proc.stop()
            if self._states is not None:       # go on after the last chunk handed out
                self.rng.bit_generator.state = self._state(1)
                self._states = None
        return status

    def _lose_worker(self, lost):
        """The worker will send nothing more: kill and reap it; from now on, chunks are drawn here."""
        who = "the batch worker process" + (f" (pid {self._proc.pid})" if self._proc else "")
        status = self._drop_worker(kill=True)
        self.use_worker = False
        # the caller's arrays from the last chunk keep the shared memory alive as long as they live
        self._memory = self._views = None
        how = "" if status is None else f" ({status})" if lost.died else " and has been killed"
        self.lost = (f"{who} {lost}{how}; the batches are now drawn in this process: the same "
                     "batches, so the same result, only slower")

    def _warn_lost(self):
        warnings.warn(WorkerLostWarning(self.lost), stacklevel=3)

    # ---- worker ---------------------------------------------------------------
    def _allocate(self):
        """One anonymous shared mapping holding `slots` slots, each with every array's region."""
        layout, offset = {}, 0
        for name, (dtype, n) in self.capacity.items():
            layout[name] = (offset, dtype, n)
            offset += -(-max(n, 1) * dtype.itemsize // _ALIGN) * _ALIGN
        self._layout, self._slot_bytes = layout, offset
        # MAP_SHARED | MAP_ANONYMOUS: shared with the forked worker; pages exist once touched
        self._memory = mmap.mmap(-1, self.slots * offset)
        self._views = [{name: np.frombuffer(self._memory, dtype=dtype, count=max(n, 1),
                                            offset=s * offset + off)
                        for name, (off, dtype, n) in layout.items()}
                       for s in range(self.slots)]

    def _start_worker(self):
        """Fork the worker; _WorkerLost if the system refuses (no memory, too many processes)."""
        try:
            if self._memory is None:
                self._allocate()
            ready_r, ready_w = Pipe(duplex=False)      # worker -> parent: chunk ready / error
            cmd_r, cmd_w = Pipe(duplex=False)          # parent -> worker: slot free / stop
        except OSError as err:
            raise _WorkerLost(f"could not be started ({err.strerror or err})") from None
        prctl = _prctl()
        parent = os.getpid()
        sys.stdout.flush()                         # nothing buffered gets written twice
        sys.stderr.flush()
        with warnings.catch_warnings():
            # Python >= 3.12 warns when a process with threads (here NumPy's BLAS threads) forks:
            # the child could deadlock on a lock such a thread held. The worker runs only
            # `produce` (NumPy indexing and random draws, no BLAS) and leaves with os._exit;
            # if it hung all the same, the parent would notice (see the module doc).
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                pid = os.fork()
            except OSError as err:
                for conn in (ready_r, ready_w, cmd_r, cmd_w):
                    conn.close()
                raise _WorkerLost(f"could not be started ({err.strerror or err})") from None
        if pid == 0:                                # ---- the worker -------------------------
            code = 1
            try:
                # SIGKILL when the parent dies (strictly: the thread that forked), even if stopped
                if prctl is not None:
                    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                if os.getppid() != parent:          # it died before that: nobody to draw for
                    os._exit(0)
                ready_r.close()
                cmd_w.close()
                signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle
                _worker_loop(self.produce, self.rng, self._views, self.capacity, ready_w, cmd_r,
                             self.slots)
                code = 0
            except BaseException:                   # never unwind into the parent's frames
                code = 1
            finally:
                os._exit(code)
        ready_w.close()
        # cmd_r stays open here too: a write to the worker's pipe then never fails with SIGPIPE
        # (a script may let SIGPIPE kill it, as Unix tools do on a closed stdout); a dead
        # worker shows up in receive() instead. The worker still reads EOF when this process
        # dies: that depends on the write end only.
        self._proc = _WorkerHandle(pid, ready_r, cmd_w, cmd_r)


def _prctl():
    """libc's prctl, or None where there is none (the worker then relies on its pipe's EOF)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _worker_loop(produce, rng, views, capacity, ready, cmd, n_slots):
    """Fill free slots with chunks in order; wait for a free slot; exit on stop or EOF."""
    free = list(range(n_slots))
    while True:
        while True:
            if cmd.poll():                          # non-blocking: a message or EOF is there
                try:
                    msg = cmd.recv_bytes()
                except (EOFError, OSError):         # the parent closed the pipe or died
                    return
                if msg == b"stop":
                    return
                free.append(int(msg))
            elif free:
                break
            else:
                # Nap instead of blocking on the pipe: a process blocked on it must be woken by
                # the parent's write, which costs the parent tens of microseconds on a VM (an
                # interrupt to the sleeping CPU) once per chunk, on the training loop's time.
                time.sleep(_IDLE_NAP)
        slot = free.pop(0)
        start = rng.bit_generator.state
        t0 = time.perf_counter()
        try:
            arrays = produce(rng)
            end = rng.bit_generator.state
            shapes = {}
            for name, a in arrays.items():
                dtype, n = capacity[name]
                if a.size > n or a.dtype != dtype:
                    raise ValueError(f"produce() returned {name} {a.dtype} of {a.size} elements; "
                                     f"the capacity is {dtype} x {n}")
                np.copyto(views[slot][name][:a.size], a.reshape(-1))
                shapes[name] = list(a.shape)
            # the small header first; the parent parses the states only when it needs them.
            # With PCG64 states the message is far under PIPE_BUF, so it is written in one
            # piece: a worker killed or stopped never leaves half a message in the pipe.
            message = (json.dumps({"slot": slot, "shapes": shapes,
                                   "seconds": time.perf_counter() - t0}) + "\n"
                       + json.dumps([start, end])).encode()
        except Exception:
            message = json.dumps({"error": traceback.format_exc()}).encode()
        try:
            ready.send_bytes(message)
        except OSError:                             # the parent is gone
            return
        if not message.startswith(b'{"slot"'):
            return


class _WorkerHandle:
    """The parent's side of one worker: pid, the pipe ends and the finalizer that reaps it."""

    def __init__(self, pid, ready, cmd, cmd_reader):
        self.pid, self.ready, self.cmd = pid, ready, cmd
        self.slowest = 0.0                          # seconds of the slowest chunk it has drawn
        self._poller = select.poll()
        self._poller.register(ready.fileno(), select.POLLIN)
        # runs once: at stop() or kill(), when the handle is garbage-collected, or at exit
        self._reap = weakref.finalize(self, _stop_and_reap, pid, ready, cmd, cmd_reader)

    def send(self, data):
        try:
            self.cmd.send_bytes(data)
        except OSError:
            pass                                    # a dead worker shows up in receive()

    def receive(self, silence):
        """The next chunk's ``(slot, shapes, states JSON bytes)``.

        Raises
        ------
        _WorkerLost
            The worker died, is stopped, sent nothing for too long, or its chunk failed.
        """
        if not self._poller.poll(0):                # not there yet (rare: the worker runs ahead)
            self._wait(silence)
        try:
            message = self.ready.recv_bytes()
        except (EOFError, OSError):
            raise _WorkerLost("died", died=True) from None
        header, _, states = message.partition(b"\n")
        header = json.loads(header.decode())
        if "error" in header:
            last = header["error"].strip().splitlines()[-1]
            raise _WorkerLost(f"failed to draw a chunk ({last})", retry_here=True)
        self.slowest = max(self.slowest, header["seconds"])
        return header["slot"], header["shapes"], states

    def _wait(self, silence):
        """Wait for the pipe to have something (a chunk, an error or EOF); _WorkerLost if the
        worker is stopped, or silent for longer than `silence` (or _SILENCE_CHUNKS times its
        slowest chunk). Time this process itself did not run (stopped with the whole run by
        Ctrl-Z, say) is not counted."""
        limit = max(silence, _SILENCE_CHUNKS * self.slowest)
        waited, stopped_looks = 0.0, 0
        last = time.monotonic()
        while not self._poller.poll(int(_LOOK * 1000)):
            now = time.monotonic()
            if now - last > 4 * _LOOK:              # this process was not running meanwhile
                stopped_looks = 0
            else:
                waited += now - last
                state = _process_state(self.pid)
                stopped_looks = stopped_looks + 1 if state == "T" else 0
                if stopped_looks >= 2:              # stopped at two looks in a row
                    raise _WorkerLost("was stopped (SIGSTOP)")
                if waited > limit:
                    raise _WorkerLost(f"sent nothing for {waited:.0f} s")
            last = now

    def stop(self):
        """Ask the worker to stop and reap it (SIGKILL after a timeout); how it ended, or None."""
        return self._reap()

    def kill(self):
        """Kill the worker at once (our own child, by pid) and reap it; how it ended."""
        if self._reap.alive:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return self._reap()


def _process_state(pid):
    """One-letter state of a process from /proc (R, S, D, T: stopped, Z, ...), or "?"."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError):
        return "?"


def _stop_and_reap(pid, ready, cmd, cmd_reader):
    try:
        cmd.send_bytes(b"stop")
    except (OSError, ValueError):
        pass
    for conn in (cmd, cmd_reader, ready):
        conn.close()
    deadline = time.monotonic() + _STOP_TIMEOUT
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:                   # not our child (any more)
            return "already reaped"
        if done:
            return _describe(status)
        if time.monotonic() > deadline or _process_state(pid) == "T":   # a stopped one never exits
            try:
                os.kill(pid, signal.SIGKILL)        # our own child, by pid, not yet reaped
            except ProcessLookupError:
                pass
            try:
                return _describe(os.waitpid(pid, 0)[1]) + " (killed: it did not stop)"
            except ChildProcessError:
                return "already reaped"
        time.sleep(0.001)


def _describe(status):
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"
