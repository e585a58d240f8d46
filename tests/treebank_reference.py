"""Readable, slow reference versions of the SST loader's vectorised steps (tests only)."""
import random

import numpy as np

from utils.treebank import N_COPIES, TABLE_POWER


def subsample_reference(sentences, tokens, reject_prob, copies=N_COPIES):
    """Per-word version of ``utils.sst_corpus.subsample``, on word lists: the classic loop."""
    kept = []
    for sentence in sentences * copies:
        words = [w for w in sentence
                 if reject_prob[tokens[w]] <= 0 or random.random() >= reject_prob[tokens[w]]]
        if len(words) > 1:
            kept.append(words)
    return kept


def sample_table_reference(freq, tablesize):
    """Per-entry version of the table built by ``StanfordSentiment.sampleTable``.

    Parameters
    ----------
    freq : sequence of int, length V
        Count of each token, in index order.
    tablesize : int

    Returns
    -------
    table : list of int, length tablesize
        ``table[i]`` = first token j whose cumulative weight (``freq ** 0.75``, normalised,
        times tablesize) is >= i.
    """
    weights = np.array(freq, dtype=np.float64) ** TABLE_POWER
    weights /= np.sum(weights)
    cumulative = np.cumsum(weights) * tablesize
    table, j = [], 0
    for i in range(tablesize):
        while i > cumulative[j]:
            j += 1
        table.append(j)
    return table


def set_all_sentences(dataset, sentences):
    """Make the given word lists `dataset.allSentences()` (the real one is random)."""
    tokens = dataset.tokens()
    ids = np.array([tokens[w] for s in sentences for w in s], dtype=np.int32)
    offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sentences], out=offsets[1:])
    dataset._install_all_sentences(ids, offsets)
