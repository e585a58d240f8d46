"""The minibatches of a training run, drawn (and prepared) a chunk of iterations at a time.

``BatchSampler`` draws the windows and negative samples of SAMPLE_CHUNK
iterations at once from a ``numpy.random.Generator``
(``StanfordSentiment.sample_windows`` / ``sample_negatives``), optionally in a
worker process running ahead of training (``prefetch.Prefetcher``), and hands
them out one iteration at a time. Its state is checkpointed with the run, so a
resumed run sees exactly the minibatches an uninterrupted one would.
"""
import numpy as np

from w2v_engine.batched import negative_sample_targets, pair_bounds, skipgram_batch
from w2v_engine.prefetch import Prefetcher
from w2v_engine.prepared import PreparedChunk, prepare_skipgram_negsample
from w2v_engine.sparse import pair_layout

SAMPLE_CHUNK = 50        # iterations drawn (and prepared) in one go: amortises the draws; 3 chunks
                         # in flight hold ~15 MB of index arrays at the course's settings
CHUNK_BYTES = 32 << 20   # fewer iterations per chunk if its arrays could exceed this (large settings)


class BatchSampler:
    """Windows and negative samples for SGD, drawn `chunk` iterations at a time.

    Chunk k is drawn from the Generator in the state chunk k-1 left it in
    (``sample_windows`` for ``chunk * batch`` windows, then ``sample_negatives``
    for their targets), so the batches depend only on the seed and the
    settings, never on timing or on where they were drawn.

    Two kinds of chunks:

    * raw: ``next_batch()`` returns the arrays of one iteration: centres
      (batch,), contexts (batch, 2C) padded with -1 and negatives -- (P, K)
      for skip-gram (one row per valid context entry, the order of
      ``contexts[contexts >= 0]``), (batch, K) for CBOW, None for the softmax
      loss;
    * prepared (``prepare_for=(W, D)``, skip-gram with negative sampling
      only): the chunk is also turned into the index arrays of
      ``prepare_skipgram_negsample`` and ``next_prepared()`` returns one
      iteration's ``SkipgramPrepared``: all the work of an iteration that does
      not depend on the parameters.

    With ``prefetch=True`` the chunks are drawn (and prepared) ahead in a
    worker process, in parallel with training; the chunks are the same as
    without it, also when the worker is lost midway (killed, stopped, hung:
    the rest is drawn in this process, see ``prefetch``). Call `close` at the
    end (it stops the worker).

    Its state for checkpoints (``get_state``/``set_state``) is the Generator's
    state at the start of the current chunk plus the number of batches used
    from it: restoring redraws the chunk and skips those batches.

    Parameters
    ----------
    dataset : StanfordSentiment (or any object with its ``sample_windows`` / ``sample_negatives``)
    rng : numpy.random.Generator
    batch, C, K : int
        Windows per iteration, largest half-width, negatives per target; each an integer >= 1
        (K only with `negsample`), like `chunk`. A ValueError names the one that is not.
    model : ``batched.skipgram_batch`` or ``batched.cbow_batch``
    negsample : bool
        Draw negatives (negative-sampling loss) or not (softmax).
    chunk : int or None
        Iterations per chunk; None: `default_chunk` (SAMPLE_CHUNK for the course's settings).
        It fixes the random stream, so a checkpoint records it.
    prepare_for : (W, D) or None
        Vocabulary size and vector dimension the prepared index arrays are for.
    prefetch : bool
        Draw chunks ahead in a worker process where the OS allows it.
    """

    def __init__(self, dataset, rng, batch, C, K, model, negsample, chunk=None, prepare_for=None,
                 prefetch=False):
        counts = {"batch": batch, "C": C, "K": K if negsample else 1, "chunk": 1 if chunk is None else chunk}
        for name, value in counts.items():     # once per run: a bad setting never reaches a chunk
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"BatchSampler: {name} must be an integer >= 1; got {value!r}")
        self.dataset, self.rng = dataset, rng
        self.batch, self.C, self.K = batch, C, K
        self.model, self.negsample = model, negsample
        self.prepared = prepare_for is not None
        if self.prepared and not (negsample and model is skipgram_batch):
            raise ValueError("BatchSampler: prepare_for is for skip-gram with negative sampling only")
        if self.prepared:
            if min(prepare_for) < 1:
                raise ValueError(f"BatchSampler: prepare_for (W, D) must be >= 1 each; got {prepare_for}")
            self.W, self.cols = prepare_for[0], pair_layout(prepare_for[1], np.float64)[1]
        self.chunk = self.default_chunk(self._capacity(1)) if chunk is None else int(chunk)
        self._source = Prefetcher(self._produce, rng, self._capacity(self.chunk),
                                  worker=bool(prefetch))
        self._start_state = rng.bit_generator.state
        self._pos = 0            # batches used from the current chunk
        self._chunk = None       # None: draw (or redraw) the chunk at the next call

    @staticmethod
    def default_chunk(capacity_of_one):
        """SAMPLE_CHUNK iterations, fewer if a chunk could exceed CHUNK_BYTES (large settings)."""
        per_iteration = sum(np.dtype(dt).itemsize * n for dt, n in capacity_of_one.values())
        return max(1, min(SAMPLE_CHUNK, CHUNK_BYTES // max(per_iteration, 1)))

    def _capacity(self, chunk):
        """Largest arrays of a chunk: name -> (dtype, elements); a window has <= 2C context words."""
        n, C2, K = chunk * self.batch, 2 * self.C, self.K
        P = n * C2                                      # (centre, context) pairs, at most
        if self.prepared:
            return {"bounds": (np.int64, chunk + 1), "rows": (np.int64, P * (K + 2)),
                    "flat": (np.int64, P * (K + 2) * self.cols)}
        capacity = {"centres": (np.int64, n), "contexts": (np.int64, n * C2)}
        if self.negsample:
            capacity["bounds"] = (np.int64, chunk + 1)
            capacity["negatives"] = (np.int64, (P if self.model is skipgram_batch else n) * K)
        return capacity

    def _produce(self, rng):
        """Draw one chunk from `rng`: windows, then negatives (then the index arrays if prepared)."""
        n = self.chunk * self.batch
        centres, contexts = self.dataset.sample_windows(rng, n, self.C)   # (n,), (n, 2C)
        centres = centres.astype(np.int64, copy=False)
        contexts = contexts.astype(np.int64, copy=False)
        if not self.negsample:
            return {"centres": centres, "contexts": contexts}
        targets = negative_sample_targets(self.model, centres, contexts)
        # (len(targets), K): one row of negatives per target
        negatives = self.dataset.sample_negatives(rng, targets, self.K).astype(np.int64, copy=False)
        if self.prepared:
            bounds, rows, flat = prepare_skipgram_negsample(centres, contexts, negatives, self.W,
                                                            self.cols, self.batch)
            return {"bounds": bounds, "rows": rows, "flat": flat}
        if self.model is skipgram_batch:                  # negative rows of each minibatch
            bounds = pair_bounds(contexts, self.batch)
        else:
            bounds = np.arange(self.chunk + 1, dtype=np.int64) * self.batch
        return {"centres": centres, "contexts": contexts, "negatives": negatives,
                "bounds": bounds}

    def get_state(self):
        """JSON-compatible state: the Generator's state at the chunk start, batches used."""
        start = self._source.start_state if self._start_state is None else self._start_state
        return {"chunk_start": start, "used": self._pos}

    def set_state(self, state):
        """Go back to a `get_state` result (the chunk is redrawn at the next call)."""
        self._source.restart(state["chunk_start"])
        self._start_state = state["chunk_start"]
        self._pos = int(state["used"])
        self._chunk = None

    def close(self):
        """Stop the worker process, if any (a later call starts a new one where this one was)."""
        self._source.close()

    def _fetch(self):
        arrays = self._source.next()
        self._start_state = None                 # the source knows it (parsed only if asked)
        if self.prepared:
            self._chunk = PreparedChunk(arrays["bounds"], arrays["rows"], arrays["flat"])
        else:
            bounds = arrays.get("bounds")
            self._chunk = (arrays["centres"], arrays["contexts"], arrays.get("negatives"),
                           None if bounds is None else bounds.tolist())

    def _advance(self):
        """Make sure the current chunk has a batch left; return its index in the chunk."""
        if self._chunk is None:
            used = self._pos
            self._fetch()
            if used == self.chunk:   # the restored chunk was used up: go on with the next one
                self._fetch()
                used = 0
            self._pos = used
        elif self._pos == self.chunk:
            self._fetch()
            self._pos = 0
        i = self._pos
        self._pos += 1
        return i

    def next_batch(self):
        """(centres (batch,), contexts (batch, 2C), negatives or None) of the next iteration."""
        if self.prepared:
            raise RuntimeError("BatchSampler: a prepared sampler gives next_prepared(), not raw batches")
        i = self._advance()
        centres, contexts, negatives, bounds = self._chunk
        b = self.batch
        neg = None if negatives is None else negatives[bounds[i]:bounds[i + 1]]
        return centres[i * b:(i + 1) * b], contexts[i * b:(i + 1) * b], neg

    def next_prepared(self):
        """The `SkipgramPrepared` of the next iteration (views: valid until the next chunk)."""
        i = self._advance()
        return self._chunk.batch(i)
