"""Argument checks of q4_softmaxreg's public functions, kept out of the question script.

Each function takes lists as well as arrays (``np.asarray``); a bad argument raises, naming the
function and the argument: a TypeError for the wrong kind (a ``str`` sentence, ``K=2.5``,
strings where numbers belong), a ValueError for a wrong shape or value (1-D features, a bias row
passed without ``intercept=True``, labels outside 0..C-1), an IndexError for a word whose row
is outside the word vectors (NumPy would wrap a negative one round to the last rows).
"""
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np


def as_array(who, name, value, dtype=np.float64):
    """`value` as an array (of `dtype` unless None); a TypeError naming it unless it holds numbers
    (strings of digits are refused too, not parsed)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):            # a ragged list
        raise TypeError(f"{who}: {name} must be an array of numbers, not a ragged "
                        f"{type(value).__name__}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must hold numbers, not {array.dtype} values")
    return array if dtype is None else array.astype(dtype, copy=False)


def check_count(who, name, value, least):
    """An integer >= `least` (a count: K, n_classes, max_iter); not a bool, not 2.5."""
    wrong_kind = not isinstance(value, Integral) or isinstance(value, bool)
    if wrong_kind or value < least:
        raise (TypeError if wrong_kind else ValueError)(
            f"{who}: {name} must be an integer >= {least}, got {value!r}")


def check_nonnegative(who, name, value):
    """A finite real number >= 0 (regularization, a tolerance)."""
    if not isinstance(value, Real) or isinstance(value, bool):
        raise TypeError(f"{who}: {name} must be a number, got {value!r}")
    if not 0 <= value < np.inf:
        raise ValueError(f"{who}: {name} must be a finite number >= 0, got {value!r}")


def check_words(who, tokens, wordVectors, sentences):
    """wordVectors as a (V, D) array, after checking tokens and every sentence."""
    if not isinstance(tokens, Mapping):
        raise TypeError(f"{who}: tokens must be a dict word -> row, not {type(tokens).__name__}")
    wordVectors = as_array(who, "wordVectors", wordVectors, None)
    if wordVectors.ndim != 2:
        raise ValueError(f"{who}: wordVectors must be (V, D), got shape {wordVectors.shape}")
    if isinstance(sentences, (str, bytes)) or not isinstance(sentences, (list, tuple)):
        raise TypeError(f"{who}: sentences must be a list of sentences, not "
                        f"{type(sentences).__name__}")
    name = "sentence" if who == "getSentenceFeatures" else "sentences[{}]"
    for i, sentence in enumerate(sentences):
        if isinstance(sentence, (str, bytes)) or not isinstance(sentence, (list, tuple,
                                                                          np.ndarray)):
            raise TypeError(f"{who}: {name.format(i)} must be a list of words, not "
                            f"{type(sentence).__name__} (split a string first: s.split())")
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
