"""The engine's one interface: the cost and gradient of the next SST minibatch, as ``sgd`` wants them."""
import re
import warnings

import numpy as np

from w2v_engine.batched import cbow_batch, skipgram_batch, word2vec_batch
from w2v_engine.prepared import skipgram_negsample_fast
from w2v_engine.sampler import BatchSampler
from w2v_engine.sparse import RowScatter, SparseRows

MODELS = {"skipgram": skipgram_batch, "cbow": cbow_batch}
LOSSES = ("negsample", "softmax")
FAST_NUMPY = (1, 25)     # older numpy: ufunc.at and take make training 4-5x slower (bench/README.md)


def slow_numpy_note(version=np.__version__):
    """A one-line warning if this NumPy makes the engine several times slower, else None.

    NumPy 1.25 made ``ufunc.at`` (the scatter of every update) and ``take`` (the gather) many
    times faster; requirements.txt asks for more than that, but an old environment may not
    have followed it.
    """
    found = re.match(r"(\d+)\.(\d+)", version)
    if found is None or (int(found[1]), int(found[2])) >= FAST_NUMPY:
        return None
    return (f"NumPy {version} makes this training 4-5 times slower than NumPy >= "
            f"{FAST_NUMPY[0]}.{FAST_NUMPY[1]} (ufunc.at and take); install the versions of "
            "requirements.txt: pip install -r requirements.txt")


class Objective:
    """``f(wordVectors) -> (cost, grad)`` of q3_run.py's fast path: one fresh minibatch per call.

    Each call draws the next minibatch of `batch` windows (the sampler's) and
    returns the mean over its windows of the cost and of the gradient, exactly
    as ``q3_word2vec.word2vec_sgd_wrapper`` averages its per-window results,
    but with the gradient sparse: an object with ``add_to(x, factor)``, the
    protocol of ``q3_sgd.sgd``. Skip-gram with negative sampling (the course's
    default) uses the prepared fast path; CBOW and the softmax loss use
    ``word2vec_batch`` on the drawn windows.

    Parameters
    ----------
    dataset : StanfordSentiment
        With its ``sample_windows`` / ``sample_negatives`` (and ``tokens()``).
    model : {"skipgram", "cbow"}
    loss : {"negsample", "softmax"}
    batch, C, K, dim : int
        Windows per minibatch, largest context half-width, negatives per target, vector size.
    rng : numpy.random.Generator
        The only source of randomness of the minibatches.
    worker : bool
        Draw the minibatches ahead in a worker process (same minibatches either way, even if
        the worker is lost midway).

    Warns (one line) when NumPy is older than 1.25, which makes training 4-5 times slower
    (`slow_numpy_note`).

    Attributes
    ----------
    sampler : BatchSampler
        Its ``get_state()`` / ``set_state()`` are the random state to checkpoint with the run
        (pass it to ``sgd(..., generators=[objective.sampler])``).
    chunk : int
        Iterations drawn at a time; it fixes the random stream, so a checkpoint records it.
    """

    def __init__(self, dataset, model, loss, batch, C, K, dim, rng, worker=True):
        if model not in MODELS or loss not in LOSSES:
            raise ValueError(f"Objective: model must be one of {sorted(MODELS)} and loss one of "
                             f"{list(LOSSES)}; got {model!r}, {loss!r}")
        self.model = MODELS[model]
        note = slow_numpy_note()
        if note:
            warnings.warn(note, stacklevel=2)
        negsample = loss == "negsample"
        fast = negsample and self.model is skipgram_batch
        prepare_for = (len(dataset.tokens()), dim) if fast else None
        self.sampler = BatchSampler(dataset, rng, batch, C, K, self.model, negsample,
                                    prepare_for=prepare_for, prefetch=worker)
        self.chunk = self.sampler.chunk
        self._inv_batch = 1.0 / batch
        self._scatter = RowScatter()       # one per run: its buffers serve every update
        self._call = self._fast if fast else self._batched

    def __call__(self, wordVectors):
        """Cost (float) and gradient of the next minibatch, both means over its windows."""
        return self._call(wordVectors)

    def _fast(self, wordVectors):
        return skipgram_negsample_fast(wordVectors, self.sampler.next_prepared(), self._inv_batch,
                                       self._scatter)

    def _batched(self, wordVectors):
        centres, contexts, negatives = self.sampler.next_batch()
        cost, grad = word2vec_batch(self.model, centres, contexts, wordVectors, negatives)
        # in place: word2vec_batch made grad.values for this call only (saves a copy)
        np.multiply(grad.values, self._inv_batch, out=grad.values)
        return cost * self._inv_batch, SparseRows(grad.rows, grad.values, self._scatter)

    def close(self):
        """Stop the sampler's worker process, if any."""
        self.sampler.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
