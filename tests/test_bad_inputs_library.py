"""Bad inputs to the library functions (issue 11, item 8): each one raises a clear one-line error.

One case per bad input: the exact exception type (IndexError for a word index outside 0..W-1,
which NumPy would otherwise wrap round to the last rows; ValueError for everything else) and a
fragment of its message naming the argument. Self-contained: the small problem is built here.
"""
import random

import numpy as np
import pytest

from q1_softmax import softmax
from q2_gradcheck import gradcheck_naive
from q2_neural import forward_backward_prop, param_count
from q2_sigmoid import sigmoid, sigmoid_grad
from q3_word2vec import (cbow, getNegativeSamples, negSamplingCostAndGradient, normalizeRows,
                         skipgram, softmaxCostAndGradient, word2vec_sgd_wrapper)
from utils.arg_checks import UnknownWordError
from utils.neighbours import nearest_words
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
WORDS = {"a": 0, "b": 1, "c": 2, "d": 3, "e": 4}                 # a whole vocabulary of W words
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
                        "negSamplingCostAndGradient: K must be an integer >= 1, got 0"),
    "negsampling-K-negative": (lambda: negSamplingCostAndGradient(v_c, 0, U, Draws([1]), -2),
                               ValueError, "negSamplingCostAndGradient: K must be an integer >= 1, got -2"),
    "getNegativeSamples-K-0": (lambda: getNegativeSamples(0, Draws([1]), 0), ValueError,
                               "getNegativeSamples: K must be an integer >= 1, got 0"),
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
    # ---- issue 18: kinds of argument (a str where words belong, K=2.5, None for numbers ...)
    "softmax-strings": (lambda: softmax(["1", "2"]), TypeError,
                        "softmax: x must hold numbers, not <U1 values"),
    "sigmoid-None": (lambda: sigmoid(None), TypeError, "sigmoid: x must hold numbers, not object "
                     "values (None)"),
    "sigmoid_grad-strings": (lambda: sigmoid_grad(["x"]), TypeError, "sigmoid_grad: s must hold"),
    "gradcheck-f-not-a-function": (lambda: gradcheck_naive(3, np.ones(2)), TypeError,
                                   "gradcheck_naive: f must be a function, got int 3"),
    "gradcheck-f-returns-a-number": (lambda: gradcheck_naive(lambda x: 1.0, np.ones(2)),
                                     TypeError, "gradcheck_naive: f must return (cost, grad)"),
    "gradcheck-vector-cost": (lambda: gradcheck_naive(lambda x: (x, x), np.ones(2)), ValueError,
                              "gradcheck_naive: f must return a number as its cost, got ndarray"),
    "gradcheck-grad-shape": (lambda: gradcheck_naive(lambda x: (0.0, x[:1]), np.ones(2)),
                             ValueError, "f returned a gradient of shape (1,), but x has shape"),
    "gradcheck-h-0": (lambda: gradcheck_naive(lambda x: (0.0, x), np.ones(2), h=0), ValueError,
                      "gradcheck_naive: h must be a finite number > 0, got 0"),
    "gradcheck-x-text": (lambda: gradcheck_naive(lambda x: (0.0, x), "ab"), TypeError,
                         "gradcheck_naive: x must hold numbers"),
    "neural-dimensions-float": (lambda: forward_backward_prop(np.ones((2, 3)), one_hot([0, 1], 2),
                                                              np.zeros(17), [3, 2.5, 2]),
                                TypeError, "dimensions (H) must be an integer >= 1, got 2.5"),
    "neural-two-dimensions": (lambda: forward_backward_prop(np.ones((2, 3)), one_hot([0, 1], 2),
                                                            np.zeros(10), [3, 2]),
                              ValueError, "dimensions must be [Dx, H, Dy], got [3, 2]"),
    "normalizeRows-strings": (lambda: normalizeRows(["a"]), TypeError, "normalizeRows: x must"),
    "softmaxCAG-target-float": (lambda: softmaxCostAndGradient(v_c, 1.5, U, None), TypeError,
                                "softmaxCostAndGradient: target: a word index must be an integer"),
    "softmaxCAG-target-bool": (lambda: softmaxCostAndGradient(v_c, True, U, None), TypeError,
                               "a word index must be an integer, got True"),
    "softmaxCAG-target-word": (lambda: softmaxCostAndGradient(v_c, "a", U, None), TypeError,
                               "a word index must be an integer, got 'a'"),
    "softmaxCAG-U-1-D": (lambda: softmaxCostAndGradient(v_c, 0, U[0], None), ValueError,
                         "softmaxCostAndGradient: outputVectors must be (N, D), got shape (3,)"),
    "negsampling-K-float": (lambda: negSamplingCostAndGradient(v_c, 0, U, Draws([1, 2, 3]), 2.5),
                            TypeError, "negSamplingCostAndGradient: K must be an integer >= 1, "
                                       "got 2.5"),
    "negsampling-K-text": (lambda: negSamplingCostAndGradient(v_c, 0, U, Draws([1]), "3"),
                           TypeError, "K must be an integer >= 1, got '3'"),
    "negsampling-no-dataset": (lambda: negSamplingCostAndGradient(v_c, 0, U, None, 2), TypeError,
                               "getNegativeSamples: dataset must have sampleTokenIdx(), got "
                               "NoneType"),
    "getNegativeSamples-K-bool": (lambda: getNegativeSamples(0, Draws([1]), True), TypeError,
                                  "getNegativeSamples: K must be an integer >= 1, got True"),
    "skipgram-context-a-str": (lambda: skipgram("a", 1, "bc", TOKENS, V, U, None), TypeError,
                               "skipgram: contextWords must be a list of words, not str (split a "
                               "string first: s.split())"),
    "skipgram-unknown-word": (lambda: skipgram("zz", 1, ["b"], TOKENS, V, U, None),
                              UnknownWordError, "skipgram: currentWord: 'zz' is not in tokens"),
    "skipgram-V-U-shapes": (lambda: skipgram("a", 1, ["b"], TOKENS, V, U[:, :2], None),
                            ValueError, "skipgram: inputVectors and outputVectors must both be "
                                        "(W, D); got (5, 3) and (5, 2)"),
    "skipgram-loss-not-a-function": (lambda: skipgram("a", 1, ["b"], TOKENS, V, U, None, "neg"),
                                     TypeError, "skipgram: word2vecCostAndGradient must be a "
                                                "function"),
    "cbow-context-a-str": (lambda: cbow("a", 1, "bc", TOKENS, V, U, None), TypeError,
                           "cbow: contextWords must be a list of words, not str"),
    "cbow-unknown-context-word": (lambda: cbow("a", 1, ["b", "zz"], TOKENS, V, U, None),
                                  UnknownWordError, "cbow: contextWords: 'zz' is not in tokens"),
    "wrapper-batchsize-0": (lambda: word2vec_sgd_wrapper(skipgram, TOKENS, VECTORS, None, 2,
                                                         softmaxCostAndGradient, 0),
                            ValueError, "word2vec_sgd_wrapper: batchsize must be an integer >= 1, "
                                        "got 0"),
    "wrapper-batchsize-float": (lambda: word2vec_sgd_wrapper(skipgram, TOKENS, VECTORS, None, 2,
                                                             softmaxCostAndGradient, 2.5),
                                TypeError, "batchsize must be an integer >= 1, got 2.5"),
    "wrapper-C-0": (lambda: word2vec_sgd_wrapper(skipgram, TOKENS, VECTORS, None, 0), ValueError,
                    "word2vec_sgd_wrapper: C must be an integer >= 1, got 0"),
    "wrapper-C-float": (lambda: word2vec_sgd_wrapper(skipgram, TOKENS, VECTORS, None, 2.5),
                        TypeError, "word2vec_sgd_wrapper: C must be an integer >= 1, got 2.5"),
    "wrapper-model-not-a-function": (lambda: word2vec_sgd_wrapper("skipgram", TOKENS, VECTORS,
                                                                  None, 2),
                                     TypeError, "word2vecModel must be a function"),
    "wrapper-odd-rows": (lambda: word2vec_sgd_wrapper(skipgram, TOKENS, VECTORS[:-1], None, 2),
                         ValueError, "wordVectors must be (2W, D) (input rows then output rows); "
                                     "got shape (9, 3)"),
    "softmax_loss-strings": (lambda: softmax_loss([["a", "b", "c"]], [0], U), TypeError,
                             "softmax_loss: v_hat must hold numbers"),
    "word2vec_batch-number": (lambda: word2vec_batch(skipgram_batch, [0], [[1]], 3.0), ValueError,
                              "word2vec_batch: wordVectors must be (2W, D); got shape ()"),
    "nearest-k-float": (lambda: nearest_words(V, WORDS, ["a"], 2.5), TypeError,
                        "nearest_words: k must be an integer >= 1, got 2.5"),
    "nearest-k-0": (lambda: nearest_words(V, WORDS, ["a"], 0), ValueError,
                    "nearest_words: k must be an integer >= 1, got 0"),
    "nearest-words-a-str": (lambda: nearest_words(V, WORDS, "ab", 2), TypeError,
                            "nearest_words: words must be a list of words, not str"),
    "nearest-a-row-past-the-vectors": (lambda: nearest_words(V, TOKENS, ["a"], 2), IndexError,
                                       "nearest_words: tokens['minus'] = -1 is outside the rows "
                                       "0..4 of wordVectors"),
}


# Lists are taken as arrays: each call with lists gives what it gives with arrays.
LIST_CALLS = {
    "softmax": lambda a: softmax(a(V)),
    "sigmoid": lambda a: sigmoid(a(V)),
    "sigmoid_grad": lambda a: sigmoid_grad(a([0.5, 0.25])),
    "normalizeRows": lambda a: normalizeRows(a(V)),
    "forward_backward_prop": lambda a: forward_backward_prop(
        a(V), a(one_hot([0, 1, 2, 3, 0], 4)), a(np.linspace(-1, 1, param_count([3, 2, 4]))),
        [3, 2, 4]),
    "softmaxCostAndGradient": lambda a: softmaxCostAndGradient(a(v_c), 2, a(U), None),
    "skipgram": lambda a: skipgram("a", 1, ["b", "c"], TOKENS, a(V), a(U), None),
    "cbow": lambda a: cbow("a", 1, ["b", "c"], TOKENS, a(V), a(U), None),
    "gradcheck_naive": lambda a: gradcheck_naive(lambda x: (float(np.sum(x ** 2)), 2 * x),
                                                 a(v_c), verbose=False),
    "skipgram_batch": lambda a: skipgram_batch(a(CENTRES), a(CONTEXTS), a(V), a(U), a(NEG_SG)),
    "cbow_batch": lambda a: cbow_batch(a(CENTRES), a(CONTEXTS), a(V), a(U), a(NEG_CB)),
    "word2vec_batch": lambda a: word2vec_batch(cbow_batch, a(CENTRES), a(CONTEXTS), a(VECTORS)),
    "softmax_loss": lambda a: softmax_loss(a(V[:2]), a([0, 4]), a(U)),
    "nearest_words": lambda a: nearest_words(a(V), WORDS, ["a", "b"], 2),
}


def _flat(result):
    """The numbers of a result (arrays, SparseRows, tuples, lists of pairs), for comparing."""
    if isinstance(result, (tuple, list)):
        return [x for part in result for x in _flat(part)]
    if hasattr(result, "rows") and hasattr(result, "values"):
        return _flat((result.rows, result.values))
    if isinstance(result, str):
        return [result]
    return np.ravel(result).tolist()


@pytest.mark.parametrize("name", sorted(LIST_CALLS))
def test_lists_are_taken_as_arrays(name):
    as_list = lambda x: np.asarray(x).tolist()    # noqa: E731
    assert _flat(LIST_CALLS[name](as_list)) == _flat(LIST_CALLS[name](np.asarray))


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
