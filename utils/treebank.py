"""Stanford Sentiment Treebank (SST) loader with the classic CS224n interface, plus batched samplers.

The classic methods (``tokens``, ``sentences``, ``allSentences``, ``getRandomContext``,
``sampleTable``, ``sampleTokenIdx``, ``getTrainSentences`` ...) keep the names, results and use of
Python's ``random`` of the course's Python 2 loader, so seeded runs reproduce its numbers. Inside,
sentences are stored as one flat array of token indices plus offsets (CSR):

    ids[offsets[i]:offsets[i + 1]]   # token indices of sentence i

which makes building the x30 subsampled corpus and drawing windows vectorised. The trainer uses
:meth:`StanfordSentiment.sample_windows` and :meth:`StanfordSentiment.sample_negatives`, which take a
``numpy.random.Generator`` and return arrays with the same distributions as the classic methods.

Data: ``utils/datasets/stanfordSentimentTreebank`` (fetched by ``bash get_datasets.sh``).
"""
import contextlib
import itertools
import math
import os
import random
import re
import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np

DEFAULT_SST_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "datasets", "stanfordSentimentTreebank")
FETCH_HINT = "run `bash get_datasets.sh` in the repository root to fetch the data"

# ---- classic constants -------------------------------------------------------------------
N_COPIES = 30             # allSentences(): every sentence 30 times, each copy subsampled anew
SUBSAMPLE_RATE = 1e-5     # word2vec subsampling threshold, times the word count
TABLE_POWER = 0.75        # negative-sampling table: unigram frequency ** 0.75
CLASS_CUTS = (0.2, 0.4, 0.6, 0.8)   # sentiment value <= cut -> class; above the last -> 4
MAX_REDRAW_ROUNDS = 1000  # batched samplers give up (error) after this many redraw rounds

# Python 2's bytes.split() whitespace: ASCII only, so the no-break space in "8 1\/2" stays
# inside its word (str.split() would cut it in two).
_WORD_RE = re.compile(r"[^ \t\n\r\x0b\x0c]+")


class DatasetFormatError(ValueError):
    """A dataset file has a malformed line; the message starts with ``path:line:``."""


class MissingLabelWarning(UserWarning):
    """Some sentences have no entry in dictionary.txt and are left out of the labelled splits."""


def _read_bytes(path):
    """Return the contents of a dataset file; a missing file names the fetch command."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"SST file {path} not found; {FETCH_HINT}")
    with open(path, "rb") as f:
        return f.read()


def _lines(raw):
    """Split file contents into lines, dropping the empty string after a final newline."""
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _check_header(path, lines, expected):
    if not lines or lines[0].strip().lower() != expected:
        got = lines[0][:60] if lines else b"an empty file"
        raise DatasetFormatError(f"{path}:1: expected the header {expected.decode()!r}, got {got!r}")


def _undo_double_utf8(data):
    """Repair UTF-8 that was encoded twice ('clichÃ©s' -> 'clichés'), as the classic loader's
    ``w.decode('utf-8').encode('latin1')`` did. Raises UnicodeError if `data` is not such text."""
    return data.decode("utf-8").encode("latin-1").decode("utf-8")


def read_sentences(path):
    """Parse ``datasetSentences.txt`` into lists of lower-cased, repaired words.

    Reproduces the classic Python 2 tokenisation: split each line on ASCII whitespace, drop the
    index, lower-case ASCII letters only (``bytes.lower``), undo the double UTF-8 encoding.

    Parameters
    ----------
    path : str
        The ``datasetSentences.txt`` file.

    Returns
    -------
    sentences : list of list of str, length numSentences
    """
    lines = _lines(_read_bytes(path))
    _check_header(path, lines, b"sentence_index\tsentence")
    if len(lines) == 1:
        return []
    body = b"\n".join(lines[1:]).lower()        # ASCII-only lower-casing, as bytes.lower() did
    try:
        text = _undo_double_utf8(body)
    except UnicodeError:
        for lineno, line in enumerate(body.split(b"\n"), start=2):
            try:
                _undo_double_utf8(line)
            except UnicodeError as err:
                raise DatasetFormatError(
                    f"{path}:{lineno}: not double-encoded UTF-8 like the official file ({err})"
                ) from None
        raise
    sentences = []
    for lineno, line in enumerate(text.split("\n"), start=2):
        fields = _WORD_RE.findall(line)
        if not fields or fields[0] != str(lineno - 1):
            raise DatasetFormatError(f"{path}:{lineno}: expected sentence index {lineno - 1}, "
                                     f"a tab and the sentence, got {line[:60]!r}")
        sentences.append(fields[1:])
    return sentences


def read_dictionary(path):
    """Parse ``dictionary.txt`` (``phrase|phrase_id``) into {ASCII-lower-cased phrase: id}."""
    phrases = {}
    text = _read_bytes(path).lower()
    for lineno, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        phrase, bar, phrase_id = line.rpartition(b"|")
        if not bar or not phrase_id.strip().isdigit():
            raise DatasetFormatError(f"{path}:{lineno}: expected 'phrase|phrase_id', got {line[:60]!r}")
        try:
            phrases[phrase.decode("utf-8")] = int(phrase_id)
        except UnicodeError as err:
            raise DatasetFormatError(f"{path}:{lineno}: not UTF-8 ({err})") from None
    return phrases


def read_sentiment_labels(path):
    """Parse ``sentiment_labels.txt`` (``phrase_id|value``, value in [0, 1]) into {id: value}."""
    lines = _lines(_read_bytes(path))
    _check_header(path, lines, b"phrase ids|sentiment values")
    labels = {}
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        phrase_id, bar, value = line.partition(b"|")
        try:
            phrase_id, value = int(phrase_id), float(value)
            if not bar or not 0.0 <= value <= 1.0:
                raise ValueError
        except ValueError:
            raise DatasetFormatError(f"{path}:{lineno}: expected 'phrase_id|value' with a value "
                                     f"in [0, 1], got {line[:60]!r}") from None
        labels[phrase_id] = value
    return labels


def read_split(path, n_sentences):
    """Parse ``datasetSplit.txt`` (``sentence_index,label``; 1 train, 2 test, 3 dev).

    Returns
    -------
    split : list of 3 lists of int
        0-based sentence indices of [train, test, dev], in file order (the classic layout).
    """
    lines = _lines(_read_bytes(path))
    _check_header(path, lines, b"sentence_index,splitset_label")
    split = [[], [], []]
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        index, comma, label = line.strip().partition(b",")
        if (not comma or not index.isdigit() or label not in (b"1", b"2", b"3")
                or not 1 <= int(index) <= n_sentences):
            raise DatasetFormatError(
                f"{path}:{lineno}: expected 'sentence_index,label' with an index in "
                f"1..{n_sentences} and a label 1 (train), 2 (test) or 3 (dev), got {line[:60]!r}")
        split[int(label) - 1].append(int(index) - 1)
    return split


def sentence_key(words):
    """Dictionary key of a sentence: its words joined by spaces, -lrb-/-rrb- back to ( )."""
    return " ".join(words).replace("-lrb-", "(").replace("-rrb-", ")")


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


def subsample(ids, offsets, reject_prob, copies=N_COPIES):
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
    copies : int, optional

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


class StanfordSentiment:
    """The Stanford Sentiment Treebank, loaded lazily (classic CS224n interface).

    Parameters
    ----------
    path : str, optional
        Folder with the files of ``stanfordSentimentTreebank.zip``; default
        ``utils/datasets/stanfordSentimentTreebank`` next to this module.
    tablesize : int, optional
        Length of the negative-sampling table.

    Notes
    -----
    Every classic method caches its result. ``allSentences()`` (also built by ``sampleTable()``,
    as in the classic code) draws from Python's ``random`` the first time it runs; the batched
    samplers draw only from the ``numpy.random.Generator`` they are given.
    """

    def __init__(self, path=None, tablesize=1000000):
        self.path = DEFAULT_SST_PATH if path is None else os.fspath(path)
        self.tablesize = int(tablesize)
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"SST folder {self.path} not found; {FETCH_HINT}")
        self._sentences = None
        self._tokens = self._tokenfreq = self._revtokens = self._wordcount = None
        self._ids = self._offsets = self._freq = None
        self._sentlengths = None
        self._rejectProb = None
        self._allsent = None          # (ids int32 (M',), offsets int64 (S'+1,))
        self._allsent_lengths = None  # int32 (S',)   (int32: less memory traffic in sample_windows)
        self._allsent_offsets32 = None  # int32 (S'+1,)
        self._window_cache = {}       # C -> _allsent ids padded with C x -1 on each end
        self._allsentences = None     # SentenceList view of _allsent
        self._sampleTable = None
        self._split = None
        self._sent_labels = None

    def _file(self, name):
        return os.path.join(self.path, name)

    # ---- sentences and vocabulary --------------------------------------------------------
    def sentences(self):
        """Return all sentences as lists of lower-cased words.

        Returns
        -------
        sentences : list of list of str, length numSentences() (11,855 for SST)
        """
        if self._sentences is None:
            self._sentences = read_sentences(self._file("datasetSentences.txt"))
            self._sentlengths = np.fromiter(map(len, self._sentences), dtype=np.int64,
                                            count=len(self._sentences))
        return self._sentences

    def numSentences(self):
        """Return the number of sentences."""
        return len(self.sentences())

    def tokens(self):
        """Return the vocabulary: word -> index in order of first appearance, then "UNK".

        Also sets ``tokenfreq`` (word -> count; "UNK" counts 1), ``_revtokens`` (index -> word)
        and ``_wordcount`` (number of words in the sentences + 1 for UNK).

        Returns
        -------
        tokens : dict of str -> int, length V (19,539 for SST)
        """
        if self._tokens is None:
            sentences = self.sentences()
            words = list(itertools.chain.from_iterable(sentences))
            revtokens = list(dict.fromkeys(words))           # first-appearance order
            revtokens.append("UNK")
            counts = Counter(words)
            counts["UNK"] = 1
            self._tokens = dict(zip(revtokens, range(len(revtokens))))
            self._revtokens = revtokens
            freq = list(map(counts.__getitem__, revtokens))
            self._tokenfreq = dict(zip(revtokens, freq))
            self._freq = np.array(freq, dtype=np.int64)                          # (V,)
            self._wordcount = len(words) + 1
            self._ids = np.fromiter(map(self._tokens.__getitem__, words), dtype=np.int32,
                                    count=len(words))        # (M,)
            self._offsets = np.zeros(len(sentences) + 1, dtype=np.int64)  # (S + 1,)
            np.cumsum(self._sentlengths, out=self._offsets[1:])
        return self._tokens

    @property
    def tokenfreq(self):
        """dict of str -> int: occurrences of each token in the sentences ("UNK": 1)."""
        self.tokens()
        return self._tokenfreq

    def sentences_csr(self):
        """Return the sentences as CSR token arrays.

        Returns
        -------
        ids : ndarray of int32, shape (M,)
            Token indices of all words (M = 227,242 for SST).
        offsets : ndarray of int64, shape (numSentences() + 1,)
            Sentence i is ``ids[offsets[i]:offsets[i + 1]]``.
        """
        self.tokens()
        return self._ids, self._offsets

    # ---- subsampled corpus and windows ---------------------------------------------------
    def rejectProb(self):
        """Return each token's subsampling reject probability.

        Returns
        -------
        rejectProb : ndarray of float64, shape (V,)
            ``max(0, 1 - sqrt(threshold / freq))`` with ``threshold = 1e-5 * wordcount``.
        """
        if self._rejectProb is None:
            self.tokens()
            threshold = SUBSAMPLE_RATE * self._wordcount
            self._rejectProb = np.maximum(0.0, 1.0 - np.sqrt(threshold / self._freq))
        return self._rejectProb

    def all_sentences_csr(self):
        """Return ``allSentences()`` as CSR token arrays (built on first use, see allSentences).

        Returns
        -------
        ids : ndarray of int32, shape (M',)
        offsets : ndarray of int64, shape (len(allSentences()) + 1,)
            Sentence i of allSentences() is ``ids[offsets[i]:offsets[i + 1]]``.
        """
        if self._allsent is None:
            ids, offsets = self.sentences_csr()
            self._install_all_sentences(*subsample(ids, offsets, self.rejectProb(), N_COPIES))
        return self._allsent

    def _install_all_sentences(self, ids, offsets):
        """Make (ids (M',), offsets (S'+1,)) the allSentences() corpus, with its derived arrays."""
        self._allsent = (ids, offsets)
        self._window_cache = {}
        self._allsent_lengths = np.diff(offsets).astype(np.int32)     # (S',)
        self._allsent_offsets32 = offsets.astype(np.int32)            # (S'+1,)
        self._allsentences = SentenceList(ids, offsets, self._revtokens)

    def allSentences(self):
        """Return the training corpus: every sentence 30 times with frequent words subsampled.

        Each word is dropped with probability ``rejectProb()[word]`` (one ``random.random()``
        per word whose probability is > 0, as in the classic code); sentences left with fewer
        than two words are dropped. Built on first call, then cached.

        Returns
        -------
        allsentences : SentenceList
            Sequence of lists of str (``len``, indexing, iteration).
        """
        self.all_sentences_csr()
        return self._allsentences

    def getRandomContext(self, C=5):
        """Draw one (centre word, context) pair with Python's ``random`` (classic method).

        A uniform sentence of allSentences(), a uniform centre position, up to C words on each
        side; occurrences of the centre word are removed from the context, and an empty
        context is drawn again.

        Returns
        -------
        centerword : str
        context : list of str, 1 .. 2C words in sentence order
        """
        if C < 1:
            raise ValueError(f"C must be >= 1, got {C}")
        ids, offsets = self.all_sentences_csr()
        n_sentences = offsets.size - 1
        if n_sentences == 0:
            raise RuntimeError("allSentences() is empty: no window can be drawn")
        while True:
            sentID = random.randint(0, n_sentences - 1)
            sent = ids[offsets[sentID]:offsets[sentID + 1]].tolist()
            wordID = random.randint(0, len(sent) - 1)
            centre = sent[wordID]
            context = sent[max(0, wordID - C):wordID] + sent[wordID + 1:wordID + C + 1]
            context = [t for t in context if t != centre]
            if context:
                return self._revtokens[centre], [self._revtokens[t] for t in context]

    def _padded_ids(self, C):
        """Return the allSentences ids with C entries of -1 on each end, int32 (M' + 2C,)."""
        if C not in self._window_cache:
            self._window_cache[C] = np.pad(self.all_sentences_csr()[0], C, constant_values=-1)
        return self._window_cache[C]

    def sample_windows(self, rng, n, C):
        """Draw n (centre, context) windows at once; fast version of getRandomContext.

        Per window: C1 uniform in 1..C, then as ``getRandomContext(C1)`` (uniform sentence of
        allSentences(), uniform centre, up to C1 words each side, centre-word occurrences
        removed, windows with an empty context drawn again with the same C1).

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
        """
        if C < 1:
            raise ValueError(f"C must be >= 1, got {C}")
        _, offsets = self.all_sentences_csr()
        if offsets.size == 1:
            raise RuntimeError("allSentences() is empty: no window can be drawn")
        padded = self._padded_ids(C)                             # (M' + 2C,)
        offsets32, lengths32 = self._allsent_offsets32, self._allsent_lengths   # int32, cached
        # Windows are built column-wise, (2C+1, k): each of the 2C+1 positions is one
        # contiguous row, so the running count below is a cheap sum down axis 0.
        shifts = np.arange(-C, C + 1, dtype=np.int32)[:, None]   # (2C+1, 1) offset from centre
        half = rng.integers(1, C + 1, size=n, dtype=np.int32)    # (n,) C1 of each window
        centres = np.empty(n, dtype=np.int64)
        buffer = np.full(n * 2 * C + 1, -1, dtype=np.int64)      # contexts, then a dump slot
        dump = n * 2 * C
        todo = np.arange(n)
        for _ in range(MAX_REDRAW_ROUNDS):
            if todo.size == 0:
                return centres, buffer[:dump].reshape(n, 2 * C)
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
        raise RuntimeError(f"no window with a non-empty context after {MAX_REDRAW_ROUNDS} rounds")

    # ---- negative sampling ---------------------------------------------------------------
    def sampleTable(self):
        """Return the negative-sampling table (builds allSentences() first, as the classic did).

        ``table[i]`` is the first token j whose cumulative weight reaches i, with weights
        ``freq ** 0.75`` normalised and scaled to tablesize, so token j fills a share of the
        table proportional to its weight.

        Returns
        -------
        table : ndarray of int32, shape (tablesize,)
        """
        if self._sampleTable is None:
            self.tokens()
            self.allSentences()   # classic side effect: fixes when Python's random is consumed
            weights = self._freq.astype(np.float64) ** TABLE_POWER     # (V,)
            weights /= np.sum(weights)
            cumulative = np.cumsum(weights) * self.tablesize            # (V,)
            table = np.searchsorted(cumulative, np.arange(self.tablesize), side="left")
            self._sampleTable = np.minimum(table, weights.size - 1).astype(np.int32)
        return self._sampleTable

    def sampleTokenIdx(self):
        """Draw one token index from the sample table with Python's ``random`` (classic)."""
        return int(self.sampleTable()[random.randint(0, self.tablesize - 1)])

    def sample_negatives(self, rng, targets, K):
        """Draw K negative samples per target at once; fast version of the sampleTokenIdx loop.

        Each sample is ``table[u]`` with u uniform over the table, drawn again while it equals
        its row's target (as the classic ``while newidx == target`` loop).

        Parameters
        ----------
        rng : numpy.random.Generator
        targets : array_like of int, shape (n,)
        K : int

        Returns
        -------
        negatives : ndarray of int64, shape (n, K)
        """
        table = self.sampleTable()
        targets = np.asarray(targets, dtype=np.int64).reshape(-1)
        negatives = table[rng.integers(0, self.tablesize, size=(targets.size, K))].astype(np.int64)
        flat = negatives.reshape(-1)                                    # view, (n*K,)
        clash = np.flatnonzero(flat == np.repeat(targets, K))
        for _ in range(MAX_REDRAW_ROUNDS):
            if clash.size == 0:
                return negatives
            flat[clash] = table[rng.integers(0, self.tablesize, size=clash.size)]
            clash = clash[flat[clash] == targets[clash // K]]
        raise RuntimeError(f"could not draw negatives different from their target after "
                           f"{MAX_REDRAW_ROUNDS} rounds (is the target the only token in the table?)")

    # ---- sentiment labels and splits -----------------------------------------------------
    def sent_labels(self):
        """Return the sentiment value in [0, 1] of every sentence.

        Looked up in dictionary.txt by the sentence text (-lrb-/-rrb- as ( )), then in
        sentiment_labels.txt. A sentence without a dictionary entry gets NaN, is left out of the
        labelled splits, and one MissingLabelWarning gives their count.

        Returns
        -------
        labels : list of float, length numSentences()
        """
        if self._sent_labels is None:
            phrases = read_dictionary(self._file("dictionary.txt"))
            values = read_sentiment_labels(self._file("sentiment_labels.txt"))
            labels, missing = [], []
            for i, words in enumerate(self.sentences()):
                phrase_id = phrases.get(sentence_key(words))
                if phrase_id is None:
                    missing.append(i + 1)
                    labels.append(math.nan)
                elif phrase_id not in values:
                    raise DatasetFormatError(
                        f"{self._file('sentiment_labels.txt')}: no line for phrase id {phrase_id} "
                        f"(sentence {i + 1} of datasetSentences.txt)")
                else:
                    labels.append(values[phrase_id])
            if missing:
                shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
                warnings.warn(
                    f"{len(missing)} sentences of {self._file('datasetSentences.txt')} have no "
                    f"entry in dictionary.txt and are left out of the labelled splits "
                    f"(sentence_index {shown})", MissingLabelWarning, stacklevel=2)
            self._sent_labels = labels
        return self._sent_labels

    def dataset_split(self):
        """Return [train, test, dev]: lists of 0-based sentence indices (datasetSplit.txt)."""
        if self._split is None:
            self._split = read_split(self._file("datasetSplit.txt"), self.numSentences())
        return self._split

    @staticmethod
    def categorify(label):
        """Map a sentiment value to a class: <= 0.2 -> 0, <= 0.4 -> 1, <= 0.6 -> 2, <= 0.8 -> 3, else 4."""
        if math.isnan(label):
            raise ValueError("cannot categorify a missing (NaN) sentiment value")
        for cls, cut in enumerate(CLASS_CUTS):
            if label <= cut:
                return cls
        return len(CLASS_CUTS)

    def getSplitSentences(self, split=0):
        """Return [(words, class)] for split 0 (train), 1 (test) or 2 (dev), labelled sentences only."""
        sentences, labels = self.sentences(), self.sent_labels()
        return [(sentences[i], self.categorify(labels[i]))
                for i in self.dataset_split()[split] if not math.isnan(labels[i])]

    def getTrainSentences(self):
        """Return the training sentences as a list of (words, class) (8,544 minus unlabelled)."""
        return self.getSplitSentences(0)

    def getDevSentences(self):
        """Return the dev sentences as a list of (words, class) (1,101 minus unlabelled)."""
        return self.getSplitSentences(2)

    def getTestSentences(self):
        """Return the test sentences as a list of (words, class) (2,210 minus unlabelled)."""
        return self.getSplitSentences(1)
