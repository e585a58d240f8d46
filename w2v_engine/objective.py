"""The engine's one interface: the cost and gradient of the next SST minibatch, as ``sgd`` wants them."""
import numpy as np

from w2v_engine.batched import cbow_batch, skipgram_batch, word2vec_batch
from w2v_engine.prepared import skipgram_negsample_fast
from w2v_engine.sampler import BatchSampler
from w2v_engine.sparse import RowScatter, SparseRows

MODELS = {"skipgram": skipgram_batch, "cbow": cbow_batch}
LOSSES = ("negsample", "softmax")


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
        Draw the minibatches ahead in a worker process (same minibatches either way).

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
