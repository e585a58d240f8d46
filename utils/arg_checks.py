"""Argument checks of the question scripts' public functions: each error names the function and
the argument, and the question scripts keep their math in view (one line of checks each).

Lists are taken as arrays. A wrong kind of argument is a TypeError: a ``str`` where a list of
words belongs (it would be read letter by letter), a float or a bool where a count belongs
(``K=2.5``, ``batchsize=True``), strings or None where numbers belong, something that is not a
function. A wrong shape or value is a ValueError (1-D features, ``batchsize=0``, a bias row
passed without ``intercept=True``). A word outside the vocabulary is a KeyError, and an index
outside the rows an IndexError: NumPy would wrap -1 round to the last row, silently.
"""
import math
import numbers
from collections.abc import Mapping

import numpy as np


# ---- kinds of argument ---------------------------------------------------------------------------
def positive_number(value):
    """True for a finite real number > 0 that is not a bool."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def check_count(who, name, value, least):
    """An integer >= `least` (K, batchsize, C, iterations ...): not a bool, not 2.5, not 2.0."""
    wrong_kind = not isinstance(value, numbers.Integral) or isinstance(value, bool)
    if wrong_kind or value < least:
        raise (TypeError if wrong_kind else ValueError)(
            f"{who}: {name} must be an integer >= {least}, got {value!r}")


def check_nonnegative(who, name, value):
    """A finite real number >= 0 (a regularization, a tolerance)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{who}: {name} must be a number, got {value!r}")
    if not 0 <= value < math.inf:
        raise ValueError(f"{who}: {name} must be a finite number >= 0, got {value!r}")


def check_positive(who, name, value):
    """A finite real number > 0 (a step, a finite-difference h)."""
    check_nonnegative(who, name, value)
    if not value > 0:
        raise ValueError(f"{who}: {name} must be a finite number > 0, got {value!r}")


def check_callable(who, name, value, optional=False):
    """TypeError unless `value` is callable (or None when `optional`)."""
    if not (callable(value) or (optional and value is None)):
        raise TypeError(f"{who}: {name} must be a function, got {type(value).__name__} "
                        f"{value!r:.40}")


def as_array(who, name, value, dtype=np.float64, ndim=None):
    """`value` as an array of numbers (of `dtype` unless None), of `ndim` dimensions if given.

    A TypeError naming it unless it holds numbers (strings of digits are refused, not parsed;
    None too: NumPy would make it NaN); a ValueError for another number of dimensions.
    """
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):            # a ragged list
        raise TypeError(f"{who}: {name} must be an array of numbers, not a ragged "
                        f"{type(value).__name__}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must hold numbers, not {array.dtype} values"
                        + (" (None)" if value is None else ""))
    if ndim is not None and array.ndim not in np.atleast_1d(ndim):
        shapes = " or ".join({0: "a number", 1: "(D,)", 2: "(N, D)"}.get(n, f"{n}-D")
                             for n in np.atleast_1d(ndim))
        raise ValueError(f"{who}: {name} must be {shapes}, got shape {array.shape}")
    return array if dtype is None else array.astype(dtype, copy=False)


def check_word_list(who, name, words):
    """A list (or tuple) of words; a ``str`` would be read as a list of its letters."""
    if isinstance(words, (str, bytes)) or not isinstance(words, (list, tuple, np.ndarray)):
        raise TypeError(f"{who}: {name} must be a list of words, not {type(words).__name__}"
                        + (" (split a string first: s.split())" if isinstance(words, str)
                           else ""))


def check_tokens(who, tokens):
    if not isinstance(tokens, Mapping):
        raise TypeError(f"{who}: tokens must be a dict word -> row, not {type(tokens).__name__}")


class UnknownWordError(KeyError):
    """A word that is not in `tokens`; its message is plain text (a KeyError's is quoted)."""

    def __str__(self):
        return str(self.args[0])


def word_rows(who, name, tokens, words):
    """The rows ``tokens[w]`` of `words`; a KeyError naming the first word not in `tokens`."""
    try:
        return [tokens[w] for w in words]
    except KeyError as err:
        raise UnknownWordError(f"{who}: {name}: {err.args[0]!r} is not in tokens (the "
                               "vocabulary)") from None


def check_index(idx, W, name):
    """`idx` (an index or a list) if all are in 0..W-1, else an IndexError (NumPy would wrap -1).

    A bool, a float or a string is not a word index: a TypeError."""
    i = np.asarray(idx)
    if i.dtype.kind not in "iu" or isinstance(idx, bool):
        raise TypeError(f"{name}: a word index must be an integer, got {idx!r:.40}")
    if i.size and (i.min() < 0 or i.max() >= W):
        raise IndexError(f"{name}: word index {i[(i < 0) | (i >= W)].flat[0]} is outside "
                         f"0..{W - 1}")
    return idx


# ---- question 2 ----------------------------------------------------------------------------------
def cost_and_grad(who, result, shape):
    """``(cost, grad)`` of what `f` returned, as (float, float64 array of `shape`)."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"{who}: f must return (cost, grad), got {type(result).__name__}")
    cost, grad = result
    if np.ndim(cost) != 0 or np.asarray(cost).dtype.kind not in "biuf":
        raise ValueError(f"{who}: f must return a number as its cost, got "
                         f"{type(cost).__name__} of shape {np.shape(cost)}")
    grad = as_array(who, "the gradient f returned", grad)
    if grad.shape != shape:
        raise ValueError(f"{who}: f returned a gradient of shape {grad.shape}, but x has shape "
                         f"{shape}")
    return float(cost), grad


def check_dimensions(who, dimensions):
    """[Dx, H, Dy]: three integers >= 1."""
    if not isinstance(dimensions, (list, tuple, np.ndarray)) or len(dimensions) != 3:
        raise ValueError(f"{who}: dimensions must be [Dx, H, Dy], got {dimensions!r}")
    for name, value in zip(("Dx", "H", "Dy"), dimensions):
        check_count(who, f"dimensions ({name})", int(value) if isinstance(value, np.integer)
                    else value, 1)
    return [int(d) for d in dimensions]


# ---- question 3: word2vec ------------------------------------------------------------------------
def check_loss_args(who, predicted, target, outputVectors, K=None):
    """(v_c (D,), U (W, D), o) of a loss (and K >= 1 if given), or an error naming the argument."""
    if K is not None:
        check_count(who, "K", K, 1)
    U = as_array(who, "outputVectors", outputVectors, ndim=2)
    v_c = as_array(who, "predicted", predicted)
    if v_c.shape != (U.shape[1],):
        raise ValueError(f"{who}: predicted must have shape (D,) and outputVectors (W, D); got "
                         f"predicted {v_c.shape}, outputVectors {U.shape}")
    return v_c, U, check_index(target, U.shape[0], f"{who}: target")


def check_window(who, currentWord, contextWords, tokens, inputVectors, outputVectors, loss):
    """The rows of the centre word and of the context words, V and U as arrays of one shape.

    Returns
    -------
    c : int
    context : list of int, one per context word
    V, U : ndarray, shape (W, D) each
    """
    check_tokens(who, tokens)
    check_word_list(who, "contextWords", contextWords)
    check_callable(who, "word2vecCostAndGradient", loss)
    V = as_array(who, "inputVectors", inputVectors, ndim=2)
    U = as_array(who, "outputVectors", outputVectors, ndim=2)
    if V.shape != U.shape:
        raise ValueError(f"{who}: inputVectors and outputVectors must both be (W, D); got "
                         f"{V.shape} and {U.shape}")
    W = len(V)
    c = check_index(word_rows(who, "currentWord", tokens, [currentWord])[0], W,
                    f"{who}: currentWord")
    context = check_index(word_rows(who, "contextWords", tokens, contextWords), W,
                          f"{who}: contextWords")
    return c, context, V, U


def check_sgd_wrapper(word2vecModel, wordVectors, C, loss, batchsize):
    """wordVectors as a (2W, D) array, after checking the other arguments of the wrapper."""
    who = "word2vec_sgd_wrapper"
    check_callable(who, "word2vecModel", word2vecModel)
    check_callable(who, "word2vecCostAndGradient", loss)
    check_count(who, "C", C, 1)
    check_count(who, "batchsize", batchsize, 1)
    wordVectors = as_array(who, "wordVectors", wordVectors)
    if wordVectors.ndim != 2 or len(wordVectors) % 2:
        raise ValueError(f"{who}: wordVectors must be (2W, D) (input rows then output rows); "
                         f"got shape {wordVectors.shape}")
    return wordVectors


# ---- question 3: sgd -----------------------------------------------------------------------------
def check_sgd_args(f, x0, step, iterations, postprocessing, progress, keep, counts):
    """Refuse, before any iteration, ``sgd`` arguments that would fail late or silently.

    Parameters
    ----------
    f, postprocessing, progress : the functions sgd calls (postprocessing, progress: or None)
    x0, step, iterations, keep : sgd's
    counts : dict of name -> value
        The periods (``save_every``, ``PRINT_EVERY`` ...): integers >= 1.

    Raises
    ------
    TypeError
        Not a function, x0 not real numbers, a count that is not an integer (2.5, True).
    ValueError
        Naming the argument: `step` not a positive finite number, `iterations` < 0, a period
        < 1, `keep` neither None nor >= 1.
    """
    check_callable("sgd", "f", f)
    check_callable("sgd", "postprocessing", postprocessing, optional=True)
    check_callable("sgd", "progress", progress, optional=True)
    dtype = np.asarray(x0).dtype
    if dtype.kind not in "biuf":
        raise TypeError(f"sgd: x0 must be a number or an array of real numbers, got dtype "
                        f"{dtype}")
    if not positive_number(step):
        raise ValueError(f"sgd: step must be a positive finite number, got {step!r}")
    check_count("sgd", "iterations", iterations, 0)
    for name, value in counts.items():
        check_count("sgd", name, value, 1)
    if keep is not None:
        check_count("sgd", "keep", keep, 1)


def as_x(value, shape):
    """What postprocessing returned, as sgd's x: C-ordered float64 (the sparse update uses a
    flat view of x) of x's `shape`; ValueError if it has another shape (the next update would
    broadcast it silently), TypeError if it is not real numbers."""
    if np.shape(value) != shape:
        raise ValueError(f"sgd: postprocessing returned shape {np.shape(value)}, but x has "
                         f"shape {shape}: it must return an array of x's shape")
    if np.asarray(value).dtype.kind not in "biuf":
        raise TypeError(f"sgd: postprocessing returned dtype {np.asarray(value).dtype}, not "
                        "real numbers")
    return np.asarray(value, dtype=np.float64, order="C")      # (0-d stays 0-d)


# ---- question 4: softmax regression --------------------------------------------------------------
def check_words(who, tokens, wordVectors, sentences):
    """wordVectors as a (V, D) array, after checking tokens and every sentence."""
    check_tokens(who, tokens)
    wordVectors = as_array(who, "wordVectors", wordVectors, None)
    if wordVectors.ndim != 2:
        raise ValueError(f"{who}: wordVectors must be (V, D), got shape {wordVectors.shape}")
    if isinstance(sentences, (str, bytes)) or not isinstance(sentences, (list, tuple)):
        raise TypeError(f"{who}: sentences must be a list of sentences, not "
                        f"{type(sentences).__name__}")
    name = "sentence" if who == "getSentenceFeatures" else "sentences[{}]"
    for i, sentence in enumerate(sentences):
        check_word_list(who, name.format(i), sentence)
    return wordVectors


def check_rows(who, tokens, rows, V):
    """IndexError naming the word if a row of `rows` (ints) is outside 0..V-1 (numpy would wrap
    a negative one round to the last rows)."""
    lo, hi = (int(np.min(rows)), int(np.max(rows))) if len(rows) else (0, 0)
    if not 0 <= lo <= hi < V:
        word = next(w for w, i in tokens.items() if i in (lo, hi))
        raise IndexError(f"{who}: tokens[{word!r}] = {tokens[word]} is outside the rows "
                         f"0..{V - 1} of wordVectors")


def check_features(who, features, intercept, regularization=0.0):
    """features as a (N, D) float array, after checking them, `intercept` and `regularization`."""
    if not isinstance(intercept, (bool, np.bool_)):
        raise TypeError(f"{who}: intercept must be True or False, got {intercept!r}")
    check_nonnegative(who, "regularization", regularization)
    features = as_array(who, "features", features)
    if features.ndim != 2:
        raise ValueError(f"{who}: features must be (N, D), got shape {features.shape} (one "
                         "sentence: features[None, :])")
    return features


def check_model(who, features, weights, intercept, labels=None, regularization=0.0):
    """features (N, D), labels (N,) in 0..C-1 (or None) and weights (D [+ 1], C) as arrays."""
    features = check_features(who, features, intercept, regularization)
    weights = as_array(who, "weights", weights)
    D = features.shape[1]
    if weights.ndim != 2 or weights.shape[0] != D + intercept or weights.shape[1] < 1:
        bias_row = weights.ndim == 2 and not intercept and len(weights) == D + 1
        fix = ("pass intercept=True if its last row is the bias" if bias_row else
               f"expected ({D}{' + 1' if intercept else ''}, C) for features of dimension {D} "
               f"({'with' if intercept else 'without'} intercept)")
        raise ValueError(f"{who}: weights have shape {weights.shape}; {fix}")
    if labels is not None:
        labels = as_array(who, "labels", labels, None)
        if labels.shape != (len(features),):
            raise ValueError(f"{who}: labels have shape {labels.shape}, expected "
                             f"({len(features)},)")
        C = weights.shape[1]
        if not labels.size:
            labels = labels.astype(np.intp)
        elif labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= C:
            raise ValueError(f"{who}: labels must be integers in 0..{C - 1}")
    return features, labels, weights
