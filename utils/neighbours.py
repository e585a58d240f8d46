"""Nearest words by cosine similarity (gensim's ``most_similar``), for trained word vectors."""
import difflib

import numpy as np

from utils.arg_checks import as_array, check_count, check_rows, check_word_list


def check_words(words, tokens, option="--neighbours"):
    """Raise ValueError naming the first word of `words` that is not in `tokens`, with close
    spellings from the vocabulary if there are any."""
    check_word_list(option, "the words", words)
    for word in words:
        if word not in tokens:
            close = difflib.get_close_matches(word, tokens.keys(), n=3)   # error path only
            hint = f"; did you mean {', '.join(close)}?" if close else "; pick a word of the SST"
            raise ValueError(f"{option}: {word!r} is not in the vocabulary{hint}")


def nearest_words(vectors, tokens, words, k=5):
    """The `k` words nearest to each of `words` by cosine similarity, the word itself left out.

    Parameters
    ----------
    vectors : ndarray, shape (V, D)
        Row ``tokens[w]`` is the vector of word w.
    tokens : dict of str -> int
        word -> row, rows 0 .. V-1.
    words : list of str, length Q
        Query words, all in `tokens` (see `check_words`).
    k : int
        Neighbours per word (at most V - 1).

    Returns
    -------
    neighbours : list of Q lists of (word, cosine similarity), most similar first
    """
    vectors = as_array("nearest_words", "vectors", vectors, ndim=2)
    check_word_list("nearest_words", "words", words)
    check_count("nearest_words", "k", k, 1)
    check_words(words, tokens, "nearest_words: words")
    V = vectors.shape[0]
    k = min(k, V - 1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)            # (V, 1)
    unit = vectors / np.where(norms > 0, norms, 1.0)                   # (V, D); a zero row stays 0
    q = np.array([tokens[w] for w in words], dtype=np.intp)            # (Q,)
    cos = unit @ unit[q].T                                             # (V, D) @ (D, Q) -> (V, Q)
    cos[q, np.arange(q.size)] = -np.inf                                # not its own neighbour
    top = np.argpartition(-cos, k - 1, axis=0)[:k]                     # (k, Q), unordered
    top_cos = np.take_along_axis(cos, top, axis=0)                     # (k, Q)
    order = np.argsort(-top_cos, axis=0, kind="stable")
    top, top_cos = np.take_along_axis(top, order, axis=0), np.take_along_axis(top_cos, order, 0)
    rows = list(tokens.values())
    check_rows("nearest_words", tokens, rows, V)
    index_word = np.empty(V, dtype=object)
    index_word[rows] = list(tokens.keys())                             # row -> word
    return [list(zip(index_word[top[:, j]].tolist(), top_cos[:, j].tolist()))
            for j in range(q.size)]
