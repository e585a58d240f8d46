"""Bad inputs to the library functions (issue 11, item 8): each one raises a clear one-line error.

One case per bad input: the exact exception type (IndexError for a word index outside 0..W-1,
which NumPy would otherwise wrap round to the last rows; ValueError for everything else) and a
fragment of its message naming the argument. Self-contained: the small problem is built here.
"""
import random

import numpy as np
import pytest

from q1_softmax import softmax
from q2_neural import forward_backward_prop, param_count
from q3_word2vec import (cbow, getNegativeSamples, negSamplingCostAndGradient, skipgram,
                         softmaxCostAndGradient)
from w2v_engine import Objective
from w2v_engine.batched import (cbow_batch, negsample_core, skipgram_batch, softmax_loss,
                                word2vec_batch)
from w2v_engine.prepared import prepare_skipgram_negsample
from w2v_engine.sampler import BatchSampler

W, D, K = 5, 3, 2                  # vocabulary, dimension, negatives per target
RNG = np.random.default_rng(0)
V, U = RNG.standard_normal((W, D)), RNG.standard_normal((W, D))
VECTORS = np.vstack((V, U))        # (2W, D)
v_c = RNG.standard_normal(D)
TOKENS = {"a": 0, "b": 1, "c": W - 1, "minus": -1, "past": W}   # the last two: bad indices
INF, NAN = np.inf, np.nan


class Draws:
    """sampleTokenIdx() replays `draws`; counts the calls (none may happen before a K check)."""

    def __init__(self, draws):
        self.draws, self.calls = list(draws), 0

    def sampleTokenIdx(self):
        self.calls += 1
        return self.draws.pop(0)


class WindowsWith:
    """A dataset for BatchSampler whose windows hold `bad` at one place (a corrupted vocabulary)."""

    def __init__(self, bad_centre=0):
        self.bad_centre = bad_centre

    def sample_windows(self, rng, n, C):
        centres = rng.integers(0, W, size=n)
        centres[-1] = self.bad_centre
        return centres, rng.integers(0, W, size=(n, 2 * C))

    def sample_negatives(self, rng, targets, K):
        return rng.integers(0, W, size=(len(targets), K))

    def tokens(self):
        return {f"w{i}": i for i in range(W)}


def one_hot(idx, n):
    return np.eye(n)[idx]


CENTRES = np.array([0, W - 1, 2])
CONTEXTS = np.array([[1, -1], [W - 1, 0], [-1, -1]])    # -1: padding; 3 valid entries
NEG_SG = np.array([[2, 3], [0, W - 1], [1, 1]])          # skip-gram: one row per valid entry
NEG_CB = np.array([[2, 3], [0, W - 1], [1, 4]])          # CBOW: one row per window
DIMS = [3, 2, 4]


def labels_with(row):
    labels = one_hot([0, 1, 3], 4)
    labels[1] = row
    return labels


def with_entry(array, index, value):
    out = np.array(array)
    out[index] = value
    return out


# id -> (call, exception type, message fragment)
CASES = {
    # ---- q1_softmax.softmax: NaN and rows with no limit (a +inf row has one: test_softmax.py)
    "softmax-nan-vector": (lambda: softmax([1.0, NAN]), ValueError, "the vector holds NaN"),
    "softmax-nan-row": (lambda: softmax([[1.0, 2.0], [NAN, INF]]), ValueError, "row 1 holds NaN"),
    "softmax-row-all-minus-inf": (lambda: softmax([[1.0, 2.0], [-INF, -INF]]), ValueError,
                                  "row 1 is all -inf"),
    "softmax-vector-all-minus-inf": (lambda: softmax([-INF]), ValueError, "the vector is all -inf"),
    "softmax-no-columns": (lambda: softmax(np.zeros((2, 0))), ValueError, "D >= 1"),
    "softmax-scalar": (lambda: softmax(3.0), ValueError, "1-D vector or a 2-D matrix"),
    # ---- q2_neural.forward_backward_prop: labels that are not one-hot
    "neural-two-ones": (lambda: forward_backward_prop(np.ones((3, 3)), labels_with([0, 1, 1, 0]),
                                                      np.zeros(param_count(DIMS)), DIMS),
                        ValueError, "one-hot (each row one 1, the rest 0); row 1"),
    "neural-all-zero-row": (lambda: forward_backward_prop(np.ones((3, 3)), labels_with([0, 0, 0, 0]),
                                                          np.zeros(param_count(DIMS)), DIMS),
                            ValueError, "row 1"),
    "neural-soft-labels": (lambda: forward_backward_prop(np.ones((3, 3)), labels_with([.5, .5, 0, 0]),
                                                         np.zeros(param_count(DIMS)), DIMS),
                           ValueError, "one-hot"),
    "neural-sum-one-not-binary": (lambda: forward_backward_prop(
        np.ones((3, 3)), labels_with([-1, 1, 1, 0]), np.zeros(param_count(DIMS)), DIMS),
        ValueError, "one-hot"),
    "neural-nan-label": (lambda: forward_backward_prop(np.ones((3, 3)), labels_with([NAN, 1, 0, 0]),
                                                       np.zeros(param_count(DIMS)), DIMS),
                         ValueError, "row 1"),
    # ---- q3_word2vec: the per-window losses and models
    "softmaxCAG-target-minus-1": (lambda: softmaxCostAndGradient(v_c, -1, U, None), IndexError,
                                  "softmaxCostAndGradient: target: word index -1 is outside 0..4"),
    "softmaxCAG-target-W": (lambda: softmaxCostAndGradient(v_c, W, U, None), IndexError,
                            "softmaxCostAndGradient: target: word index 5"),
    "softmaxCAG-target-numpy-int": (lambda: softmaxCostAndGradient(v_c, np.int64(-3), U, None),
                                    IndexError, "word index -3"),
    "negsampling-target-minus-1": (lambda: negSamplingCostAndGradient(v_c, -1, U, Draws([1, 2]), K),
                                   IndexError, "negSamplingCostAndGradient: target: word index -1"),
    "negsampling-target-W": (lambda: negSamplingCostAndGradient(v_c, W, U, Draws([1, 2]), K),
                             IndexError, "negSamplingCostAndGradient: target: word index 5"),
    "negsampling-sample-minus-1": (lambda: negSamplingCostAndGradient(v_c, 0, U, Draws([1, -1]), K),
                                   IndexError, "a negative sample from dataset: word index -1"),
    "negsampling-sample-W": (lambda: negSamplingCostAndGradient(v_c, 0, U, Draws([W, 1]), K),
                             IndexError, "a negative sample from dataset: word index 5"),
    "negsampling-K-0": (lambda: negSamplingCostAndGradient(v_c, 0, U, Draws([1]), 0), ValueError,
                        "K = 0 negative samples: K must be at least 1"),
    "negsampling-K-negative": (lambda: negSamplingCostAndGradient(v_c, 0, U, Draws([1]), -2),
                               ValueError, "K = -2"),
    "getNegativeSamples-K-0": (lambda: getNegativeSamples(0, Draws([1]), 0), ValueError,
                               "K must be at least 1"),
    "skipgram-centre-minus-1": (lambda: skipgram("minus", 1, ["a"], TOKENS, V, U, None), IndexError,
                                "skipgram: currentWord: word index -1"),
    "skipgram-centre-W": (lambda: skipgram("past", 1, ["a"], TOKENS, V, U, None), IndexError,
                          "skipgram: currentWord: word index 5"),
    "skipgram-context-minus-1": (lambda: skipgram("a", 1, ["b", "minus"], TOKENS, V, U, None),
                                 IndexError, "skipgram: contextWords: word index -1"),
    "skipgram-context-W": (lambda: skipgram("a", 1, ["past", "b"], TOKENS, V, U, None), IndexError,
                           "skipgram: contextWords: word index 5"),
    "cbow-centre-minus-1": (lambda: cbow("minus", 1, ["a"], TOKENS, V, U, None), IndexError,
                            "cbow: currentWord: word index -1"),
    "cbow-centre-W": (lambda: cbow("past", 1, ["a"], TOKENS, V, U, None), IndexError,
                      "cbow: currentWord: word index 5"),
    "cbow-context-minus-1": (lambda: cbow("a", 1, ["minus", "b"], TOKENS, V, U, None), IndexError,
                             "cbow: contextWords: word index -1"),
    "cbow-context-W": (lambda: cbow("a", 1, ["b", "past"], TOKENS, V, U, None), IndexError,
                       "cbow: contextWords: word index 5"),
    # ---- w2v_engine.batched: centres, contexts (negative = padding), negatives, K
    "skipgram_batch-centre-minus-1": (lambda: skipgram_batch(with_entry(CENTRES, 1, -1), CONTEXTS,
                                                             V, U, NEG_SG),
                                      IndexError, "skipgram_batch: centres holds word index -1"),
    "skipgram_batch-centre-W": (lambda: skipgram_batch(with_entry(CENTRES, 0, W), CONTEXTS, V, U),
                                IndexError, "skipgram_batch: centres holds word index 5"),
    "skipgram_batch-context-W": (lambda: skipgram_batch(CENTRES, with_entry(CONTEXTS, (0, 1), W),
                                                        V, U),
                                 IndexError, "skipgram_batch: contexts holds word index 5, outside "
                                             "0..4 (negative entries are padding)"),
    "skipgram_batch-negative-minus-1": (lambda: skipgram_batch(CENTRES, CONTEXTS, V, U,
                                                               with_entry(NEG_SG, (2, 1), -1)),
                                        IndexError, "skipgram_batch: negatives holds word index -1"),
    "skipgram_batch-negative-W": (lambda: skipgram_batch(CENTRES, CONTEXTS, V, U,
                                                         with_entry(NEG_SG, (0, 0), W)),
                                  IndexError, "skipgram_batch: negatives holds word index 5"),
    "skipgram_batch-K-0": (lambda: skipgram_batch(CENTRES, CONTEXTS, V, U, NEG_SG[:, :0]),
                           ValueError, "skipgram_batch: negatives must have K >= 1 columns"),
    "cbow_batch-centre-minus-1": (lambda: cbow_batch(with_entry(CENTRES, 2, -1), CONTEXTS, V, U),
                                  IndexError, "cbow_batch: centres holds word index -1"),
    "cbow_batch-context-W": (lambda: cbow_batch(CENTRES, with_entry(CONTEXTS, (1, 0), W), V, U,
                                                NEG_CB),
                             IndexError, "cbow_batch: contexts holds word index 5"),
    "cbow_batch-negative-minus-1": (lambda: cbow_batch(CENTRES, CONTEXTS, V, U,
                                                       with_entry(NEG_CB, (1, 1), -1)),
                                    IndexError, "cbow_batch: negatives holds word index -1"),
    "cbow_batch-K-0": (lambda: cbow_batch(CENTRES, CONTEXTS, V, U, NEG_CB[:, :0]), ValueError,
                       "cbow_batch: negatives must have K >= 1 columns"),
    # stacked (2W, D): without the check, centre -1 would read the last *output* row
    "word2vec_batch-centre-minus-1": (lambda: word2vec_batch(skipgram_batch, with_entry(CENTRES, 0, -1),
                                                             CONTEXTS, VECTORS, NEG_SG),
                                      IndexError, "skipgram_batch: centres holds word index -1"),
    "word2vec_batch-negative-minus-1": (lambda: word2vec_batch(cbow_batch, CENTRES, CONTEXTS, VECTORS,
                                                               with_entry(NEG_CB, (0, 0), -1)),
                                        IndexError, "cbow_batch: negatives holds word index -1"),
    "negsample_core-target-minus-1": (lambda: negsample_core(np.ones((2, D)), np.array([0, -1]),
                                                             np.array([[1, 2], [3, 4]]), U),
                                      IndexError, "negsample_core: targets holds word index -1"),
    "negsample_core-negative-W": (lambda: negsample_core(np.ones((2, D)), np.array([0, 1]),
                                                         np.array([[1, 2], [W, 4]]), U),
                                  IndexError, "negsample_core: negatives holds word index 5"),
    "negsample_core-K-0": (lambda: negsample_core(np.ones((2, D)), np.array([0, 1]),
                                                  np.zeros((2, 0), dtype=int), U),
                           ValueError, "negsample_core: negatives must have K >= 1 columns"),
    "softmax_loss-target-minus-1": (lambda: softmax_loss(np.ones((2, D)), np.array([W - 1, -1]), U),
                                    IndexError, "softmax_loss: targets holds word index -1"),
    # ---- w2v_engine.prepared: the fast path's chunk preparation (checked once per chunk)
    "prepare-centre-minus-1": (lambda: prepare_skipgram_negsample(with_entry(CENTRES, 0, -1), CONTEXTS,
                                                                  NEG_SG, W, 2),
                               IndexError, "prepare_skipgram_negsample: centres holds word index -1"),
    "prepare-context-W": (lambda: prepare_skipgram_negsample(CENTRES, with_entry(CONTEXTS, (0, 0), W),
                                                             NEG_SG, W, 2),
                          IndexError, "prepare_skipgram_negsample: contexts holds word index 5"),
    "prepare-negative-minus-1": (lambda: prepare_skipgram_negsample(CENTRES, CONTEXTS,
                                                                    with_entry(NEG_SG, (1, 0), -1), W, 2),
                                 IndexError, "prepare_skipgram_negsample: negatives holds word index -1"),
    "prepare-negative-W": (lambda: prepare_skipgram_negsample(CENTRES, CONTEXTS,
                                                              with_entry(NEG_SG, (1, 0), W), W, 2),
                           IndexError, "prepare_skipgram_negsample: negatives holds word index 5"),
    "prepare-K-0": (lambda: prepare_skipgram_negsample(CENTRES, CONTEXTS, NEG_SG[:, :0], W, 2),
                    ValueError, "with K >= 1"),
    "prepare-float-indices": (lambda: prepare_skipgram_negsample(CENTRES, CONTEXTS, NEG_SG + 0.5, W, 2),
                              ValueError, "must be integer word indices"),
    # ---- w2v_engine.sampler / Objective: settings, and a dataset that draws a bad index
    "sampler-K-0": (lambda: BatchSampler(WindowsWith(), np.random.default_rng(0), 4, 2, 0,
                                         skipgram_batch, True),
                    ValueError, "BatchSampler: K must be an integer >= 1; got 0"),
    "sampler-K-negative": (lambda: BatchSampler(WindowsWith(), np.random.default_rng(0), 4, 2, -1,
                                                cbow_batch, True),
                           ValueError, "K must be an integer >= 1; got -1"),
    "sampler-batch-0": (lambda: BatchSampler(WindowsWith(), np.random.default_rng(0), 0, 2, 3,
                                             skipgram_batch, True),
                        ValueError, "BatchSampler: batch must be an integer >= 1; got 0"),
    "sampler-C-0": (lambda: BatchSampler(WindowsWith(), np.random.default_rng(0), 4, 0, 3,
                                         skipgram_batch, False),
                    ValueError, "BatchSampler: C must be an integer >= 1; got 0"),
    "sampler-chunk-0": (lambda: BatchSampler(WindowsWith(), np.random.default_rng(0), 4, 2, 3,
                                             cbow_batch, True, chunk=0),
                        ValueError, "BatchSampler: chunk must be an integer >= 1; got 0"),
    "sampler-prepare-for-W-0": (lambda: BatchSampler(WindowsWith(), np.random.default_rng(0), 4, 2, 3,
                                                     skipgram_batch, True, prepare_for=(0, D)),
                                ValueError, "prepare_for (W, D) must be >= 1 each"),
    "objective-K-0": (lambda: Objective(WindowsWith(), "skipgram", "negsample", 4, 2, 0, D,
                                        np.random.default_rng(0), worker=False),
                      ValueError, "K must be an integer >= 1"),
    "sampler-prepared-bad-centre": (lambda: BatchSampler(
        WindowsWith(bad_centre=-1), np.random.default_rng(0), 4, 2, 3, skipgram_batch, True,
        chunk=2, prepare_for=(W, D)).next_prepared(),
        IndexError, "prepare_skipgram_negsample: centres holds word index -1"),
    "sampler-raw-bad-centre-reaches-batch": (lambda: word2vec_batch(cbow_batch, *BatchSampler(
        WindowsWith(bad_centre=W), np.random.default_rng(0), 4, 2, 3, cbow_batch, True,
        chunk=1).next_batch()[:2], VECTORS), IndexError, "cbow_batch: centres holds word index 5"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_library_input_raises_a_clear_error(case):
    call, exc_type, fragment = CASES[case]
    with pytest.raises(exc_type) as info:
        call()
    assert info.type is exc_type, f"{case}: {info.type.__name__} instead of {exc_type.__name__}"
    message = str(info.value)
    assert fragment in message, f"{case}: {message!r} lacks {fragment!r}"
    assert "\n" not in message, f"{case}: the message is not one line: {message!r}"


def test_bad_K_consumes_no_randomness():
    # the K check comes before any draw: a caller's random stream is left where it was
    dataset = Draws([1, 2, 3])
    state = random.getstate()
    with pytest.raises(ValueError):
        negSamplingCostAndGradient(v_c, 0, U, dataset, 0)
    assert dataset.calls == 0
    assert random.getstate() == state


def test_bad_index_leaves_the_vectors_untouched():
    before = VECTORS.copy()
    with pytest.raises(IndexError):
        word2vec_batch(skipgram_batch, CENTRES, CONTEXTS, VECTORS, with_entry(NEG_SG, (0, 1), -1))
    assert np.array_equal(VECTORS, before)
