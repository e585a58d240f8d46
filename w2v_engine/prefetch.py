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
parent handles it and closes the worker), and it exits by itself when the
parent dies, even by SIGKILL: its pipe from the parent then reads EOF.
"""
import json
import math
import mmap
import os
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


def worker_supported():
    """True where chunks can be produced in a forked worker (Linux with os.fork)."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


class PrefetchError(RuntimeError):
    """The worker process failed or died; the message says why."""


class Prefetcher:
    """Chunks of ``produce(rng)`` in order, produced ahead in a worker process (see module doc).

    Parameters
    ----------
    produce : callable
        ``produce(rng) -> dict name -> ndarray``; draws only from `rng`. Each array
        must fit its `capacity` entry. In a worker it runs in a forked copy of this
        process, so it must not need other threads (no multi-threaded BLAS calls).
    rng : numpy.random.Generator
        Its state is the start state of the first chunk. With a worker, this
        object is not advanced (the worker draws from its own copy).
    capacity : dict name -> (dtype, max_elements)
        Upper bound of every array `produce` returns (sizes the shared buffers).
    slots : int
        Shared buffers (>= 2): the chunk in use plus up to ``slots - 1`` ready ones.
    worker : bool or None
        None: a worker process where `worker_supported()`; False: always in this process.

    Notes
    -----
    The arrays of a chunk are views into shared memory that the worker refills
    once the *next* call of `next` has released them: use them before asking
    for another chunk (copy what must live longer).
    """

    def __init__(self, produce, rng, capacity, slots=DEFAULT_SLOTS, worker=None):
        if slots < 2:
            raise ValueError(f"Prefetcher: slots must be at least 2, got {slots}")
        self.produce, self.rng = produce, rng
        self.capacity = {name: (np.dtype(dt), int(n)) for name, (dt, n) in capacity.items()}
        self.slots = slots
        self.use_worker = worker_supported() if worker is None else (worker and worker_supported())
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
        `start_state` then tells the Generator state the chunk was drawn from.
        """
        if not self.use_worker:
            self._states = (self.rng.bit_generator.state, None)
            return self.produce(self.rng)
        if self._proc is None:
            self._start_worker()
        proc = self._proc
        if self._in_use is not None:      # the caller is done with the previous chunk
            proc.send(str(self._in_use).encode())
            self._in_use = None
        slot, shapes, self._states = proc.receive()
        views = self._views[slot]
        arrays = {name: views[name][:math.prod(shape)].reshape(shape)
                  for name, shape in shapes.items()}
        self._in_use = slot
        return arrays

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
        proc, self._proc = self._proc, None
        self._in_use = None
        if proc is not None:
            proc.stop()
            if self._states is not None:       # go on after the last chunk handed out
                self.rng.bit_generator.state = self._state(1)
                self._states = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

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
        if self._memory is None:
            self._allocate()
        ready_r, ready_w = Pipe(duplex=False)      # worker -> parent: chunk ready / error
        cmd_r, cmd_w = Pipe(duplex=False)          # parent -> worker: slot free / stop
        sys.stdout.flush()                         # nothing buffered gets written twice
        sys.stderr.flush()
        with warnings.catch_warnings():
            # Python >= 3.12 warns when a process with threads (here NumPy's BLAS threads) forks:
            # the child could deadlock on a lock such a thread held. The worker runs only
            # `produce` (NumPy indexing and random draws, no BLAS) and leaves with os._exit.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:                                # ---- the worker -------------------------
            code = 1
            try:
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
        cmd_r.close()
        self._proc = _WorkerHandle(pid, ready_r, cmd_w)


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
            # the small header first; the parent parses the states only when it needs them
            message = (json.dumps({"slot": slot, "shapes": shapes}) + "\n"
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
    """The parent's side of one worker: pid, the two pipe ends and the finalizer that reaps it."""

    def __init__(self, pid, ready, cmd):
        self.pid, self.ready, self.cmd = pid, ready, cmd
        # runs once: at stop(), or when the handle is garbage-collected, or at interpreter exit
        self._reap = weakref.finalize(self, _stop_and_reap, pid, ready, cmd)

    def send(self, data):
        try:
            self.cmd.send_bytes(data)
        except OSError:
            pass                                    # a dead worker shows up in receive()

    def receive(self):
        """The next chunk's ``(slot, shapes, states JSON bytes)``; PrefetchError if it failed."""
        try:
            message = self.ready.recv_bytes()
        except (EOFError, OSError):
            status = self.stop()
            raise PrefetchError(f"the batch worker process (pid {self.pid}) ended without "
                                f"sending a chunk ({status})") from None
        header, _, states = message.partition(b"\n")
        header = json.loads(header.decode())
        if "error" in header:
            self.stop()
            raise PrefetchError("drawing a chunk in the batch worker process failed:\n"
                                + header["error"])
        return header["slot"], header["shapes"], states

    def stop(self):
        """Ask the worker to stop and reap it (SIGKILL after a timeout); how it ended, or None."""
        return self._reap()


def _stop_and_reap(pid, ready, cmd):
    try:
        cmd.send_bytes(b"stop")
    except (OSError, ValueError):
        pass
    for conn in (cmd, ready):
        conn.close()
    deadline = time.monotonic() + _STOP_TIMEOUT
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:                   # not our child (any more)
            return "already reaped"
        if done:
            return _describe(status)
        if time.monotonic() > deadline:
            try:
                os.kill(pid, signal.SIGKILL)        # our own child, by pid, not yet reaped
            except ProcessLookupError:
                pass
            try:
                return _describe(os.waitpid(pid, 0)[1]) + " (killed after a timeout)"
            except ChildProcessError:
                return "already reaped"
        time.sleep(0.001)


def _describe(status):
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"
