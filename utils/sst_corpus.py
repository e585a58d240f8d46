"""The corpus as CSR token arrays, and the batched samplers that draw from it.

Sentences are one flat array of token indices plus offsets (CSR):

    ids[offsets[i]:offsets[i + 1]]   # token indices of sentence i

which makes building the x30 subsampled corpus (`subsample`) and drawing windows
(`Corpus.sample_windows`) and negative samples (`sample_negatives`) vectorised. The samplers take
a ``numpy.random.Generator`` and give the distributions of the classic per-window methods of
``utils.treebank.StanfordSentiment`` (``getRandomContext``, ``sampleTokenIdx``), which tests
prove; `subsample` consumes Python's ``random`` exactly as the classic per-word loop does.

A draw that cannot succeed is never waited on: after MAX_REDRAWS rounds of redraws, the sampler
checks whether success is possible at all (a window with a context word, a word other than the
target in the table) and raises SamplingError if not; if it is, it draws on.
"""
import contextlib
import itertools
import random
from collections.abc import Sequence

import numpy as np

MAX_REDRAWS = 1000   # redraws before checking that a draw can succeed at all


class SamplingError(ValueError):
    """The corpus cannot give what is asked: no window has a context word, or the sampling
    table holds no word but the target."""


@contextlib.contextmanager
def python_random_as_numpy():
    """Lend the state of Python's global ``random`` to a ``numpy.random.RandomState``.

    Both are MT19937 and ``RandomState.random_sample()`` computes its doubles like
    ``random.random()`` (53 bits from two 32-bit outputs), so n draws of the yielded generator
    are the next n values of ``random.random()``. On exit Python's ``random`` continues after them.
    """
    version, internal, gauss_next = random.getstate()
    rs = np.random.RandomState()
    rs.set_state(("MT19937", np.array(internal[:-1], dtype=np.uint32), internal[-1]))
    yield rs
    _, key, pos, _, _ = rs.get_state()
    random.setstate((version, tuple(key.tolist()) + (int(pos),), gauss_next))


def subsample(ids, offsets, reject_prob, copies):
    """Vectorised classic subsampling: ``copies`` copies of every sentence, frequent words dropped.

    Consumes Python's ``random`` exactly as the classic per-word loop (kept readable in
    tests/treebank_reference.py): one ``random.random()`` per word whose reject probability is
    > 0, in corpus order, copy after copy; a word is kept if its probability is <= 0 or the draw
    is >= it. Sentences left with fewer than two words are dropped.

    Parameters
    ----------
    ids : ndarray of int, shape (M,)
        Token indices of all sentences, concatenated.
    offsets : ndarray of int, shape (S + 1,)
        Sentence i is ``ids[offsets[i]:offsets[i + 1]]``.
    reject_prob : ndarray of float, shape (V,)
        Reject probability of each token.
    copies : int

    Returns
    -------
    kept_ids : ndarray of int32, shape (M',)
    kept_offsets : ndarray of int64, shape (S' + 1,)
    """
    ids = np.asarray(ids)
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)                                   # (S,)
    sentence_of_word = np.repeat(np.arange(lengths.size), lengths)  # (M,)
    p = np.asarray(reject_prob, dtype=np.float64)[ids]           # (M,)
    drawn = np.flatnonzero(p > 0)                                # words that consume a draw
    p_drawn = p[drawn]
    parts, part_lengths = [], []
    with python_random_as_numpy() as rs:
        for _ in range(copies):  # loop over copies (30), all words of a copy at once
            keep = np.ones(ids.size, dtype=bool)
            keep[drawn] = rs.random_sample(drawn.size) >= p_drawn
            counts = np.concatenate([[0], np.cumsum(keep)])
            new_lengths = counts[offsets[1:]] - counts[offsets[:-1]]   # (S,)
            long_enough = new_lengths > 1
            parts.append(ids[keep & long_enough[sentence_of_word]])
            part_lengths.append(new_lengths[long_enough])
    kept_ids = np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, np.int32)
    kept_lengths = np.concatenate(part_lengths) if part_lengths else np.zeros(0, np.int64)
    kept_offsets = np.zeros(kept_lengths.size + 1, dtype=np.int64)
    np.cumsum(kept_lengths, out=kept_offsets[1:])
    return kept_ids, kept_offsets


class SentenceList(Sequence):
    """Read-only list of sentences (lists of words) backed by CSR token arrays.

    ``len()``, ``[i]`` (negative too), slices and iteration behave like a list of lists of str;
    the words of a sentence are built only when it is accessed.
    """

    def __init__(self, ids, offsets, revtokens):
        self.ids, self.offsets, self._revtokens = ids, offsets, revtokens

    def __len__(self):
        return self.offsets.size - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        i = int(i)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"sentence index out of range (there are {n})")
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return [self._revtokens[t] for t in self.ids[lo:hi].tolist()]

    def __repr__(self):
        return f"<SentenceList of {len(self)} sentences>"


class Corpus:
    """Sentences as CSR token arrays, with the batched window sampler.

    Parameters
    ----------
    ids : ndarray of int32, shape (M,)
    offsets : ndarray of int64, shape (S + 1,)
        Sentence i is ``ids[offsets[i]:offsets[i + 1]]``.
    """

    def __init__(self, ids, offsets):
        self.ids, self.offsets = ids, offsets
        self._lengths32 = np.diff(offsets).astype(np.int32)    # (S,) int32: less memory traffic
        self._offsets32 = offsets.astype(np.int32)              # (S + 1,)
        self._padded = {}         # C -> ids with C entries of -1 on each end, (M + 2C,)

    def __len__(self):
        return self.offsets.size - 1

    def sentence(self, i):
        """Token indices of sentence i, a list of int."""
        return self.ids[self.offsets[i]:self.offsets[i + 1]].tolist()

    def check_context(self):
        """Raise SamplingError if no window of any half-width has a context word.

        A window has one iff its sentence has a word other than its centre within C >= 1, so
        some window has one iff some sentence holds two different words, side by side somewhere.
        """
        if len(self) == 0:
            raise SamplingError("the corpus is empty: no window can be drawn")
        differs = self.ids[1:] != self.ids[:-1]                 # (M - 1,) word j+1 != word j
        starts = self.offsets[1:-1]
        differs[starts[(starts > 0) & (starts < self.ids.size)] - 1] = False   # across sentences
        if not differs.any():
            raise SamplingError(
                f"none of the {len(self)} sentences holds two different words, so no window has a "
                f"context word: word2vec needs sentences of two different words or more")

    def sample_windows(self, rng, n, C):
        """Draw n (centre, context) windows at once; batched version of getRandomContext.

        Per window: C1 uniform in 1..C, then as ``getRandomContext(C1)`` (uniform sentence,
        uniform centre, up to C1 words each side, centre-word occurrences removed, windows with
        an empty context drawn again with the same C1).

        Parameters
        ----------
        rng : numpy.random.Generator
        n : int
            Number of windows.
        C : int
            Largest window half-width.

        Returns
        -------
        centres : ndarray of int64, shape (n,)
            Token index of each centre word.
        contexts : ndarray of int64, shape (n, 2C)
            Token indices of each context in sentence order, then -1 padding.

        Raises
        ------
        SamplingError
            No window has a context word (after MAX_REDRAWS rounds, or an empty corpus).
        """
        if C < 1:
            raise ValueError(f"C must be >= 1, got {C}")
        if len(self) == 0:
            self.check_context()                                  # raises: nothing to draw from
        if C not in self._padded:
            self._padded[C] = np.pad(self.ids, C, constant_values=-1)
        padded = self._padded[C]                                  # (M + 2C,)
        offsets32, lengths32 = self._offsets32, self._lengths32
        # Windows are built column-wise, (2C+1, k): each of the 2C+1 positions is one
        # contiguous row, so the running count below is a cheap sum down axis 0.
        shifts = np.arange(-C, C + 1, dtype=np.int32)[:, None]   # (2C+1, 1) offset from centre
        half = rng.integers(1, C + 1, size=n, dtype=np.int32)    # (n,) C1 of each window
        centres = np.empty(n, dtype=np.int64)
        buffer = np.full(n * 2 * C + 1, -1, dtype=np.int64)      # contexts, then a dump slot
        dump = n * 2 * C
        todo = np.arange(n)
        for rounds in itertools.count():
            if todo.size == 0:
                return centres, buffer[:dump].reshape(n, 2 * C)
            if rounds == MAX_REDRAWS:
                self.check_context()
            k = todo.size
            sent = rng.integers(0, lengths32.size, size=k)        # (k,) uniform sentence
            L = lengths32[sent]                                   # (k,)
            pos = rng.integers(0, L, dtype=np.int32)              # (k,) uniform in 0..L-1
            word = padded[(offsets32[sent] + pos) + (shifts + C)]  # (2C+1, k) ids around centre
            centre = word[C]                                      # (k,)
            h = half[todo]
            lo = np.maximum(-pos, -h)                             # window clipped to sentence
            hi = np.minimum(L - 1 - pos, h)
            valid = (shifts >= lo) & (shifts <= hi) & (word != centre)   # (2C+1, k)
            # Pack the valid words of each window to the front of its row, in window order:
            # the j-th valid word goes to column j-1; invalid ones go to the dump slot.
            rank = np.cumsum(valid, axis=0, dtype=np.int32)       # (2C+1, k)
            found = rank[-1] > 0
            buffer[np.where(valid, todo * (2 * C) - 1 + rank, dump)] = word
            centres[todo[found]] = centre[found]
            todo = todo[~found]


def check_table(table, target):
    """Raise SamplingError if the negative-sampling table holds no word but `target`."""
    if np.all(table == target):
        raise SamplingError(
            f"every entry of the negative-sampling table is word {target}, so no negative sample "
            f"can differ from it: the table needs a second word (a larger vocabulary or tablesize)")


def sample_negatives(table, rng, targets, K):
    """Draw K negative samples per target at once; batched version of the sampleTokenIdx loop.

    Each sample is ``table[u]`` with u uniform over the table, drawn again while it equals
    its row's target (as the classic ``while newidx == target`` loop).

    Parameters
    ----------
    table : ndarray of int, shape (T,)
        The negative-sampling table.
    rng : numpy.random.Generator
    targets : array_like of int, shape (n,)
    K : int

    Returns
    -------
    negatives : ndarray of int64, shape (n, K)

    Raises
    ------
    SamplingError
        The table holds no word but a target (checked after MAX_REDRAWS rounds).
    """
    targets = np.asarray(targets, dtype=np.int64).reshape(-1)
    negatives = table[rng.integers(0, table.size, size=(targets.size, K))].astype(np.int64)
    flat = negatives.reshape(-1)                                    # view, (n*K,)
    clash = np.flatnonzero(flat == np.repeat(targets, K))
    for rounds in itertools.count():
        if clash.size == 0:
            return negatives
        if rounds == MAX_REDRAWS:
            check_table(table, targets[clash[0] // K])
        flat[clash] = table[rng.integers(0, table.size, size=clash.size)]
        clash = clash[flat[clash] == targets[clash // K]]
