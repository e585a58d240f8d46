"""Stanford Sentiment Treebank (SST) loader with the classic CS224n interface.

The classic methods (``tokens``, ``sentences``, ``allSentences``, ``getRandomContext``,
``sampleTable``, ``sampleTokenIdx``, ``sent_labels``, ``getTrainSentences`` ...) keep the names,
results and use of Python's ``random`` of the course's Python 2 loader, so seeded runs reproduce
its numbers. The training engine draws from the same corpus with ``sample_windows`` and
``sample_negatives``, the batched versions of ``getRandomContext`` and the ``sampleTokenIdx``
loop, which take a ``numpy.random.Generator``.

Inside, the sentences are CSR token arrays (``utils.sst_corpus``); the files are read and
checked by ``utils.sst_files`` (a damaged one raises DatasetFormatError naming it).
Data: ``utils/datasets/stanfordSentimentTreebank``, fetched by ``bash get_datasets.sh``.
"""
import itertools
import math
import os
import random
import warnings
from collections import Counter

import numpy as np

from utils.data_paths import DEFAULT_SST_PATH, FETCH_HINT
from utils.sst_corpus import (MAX_REDRAWS, Corpus, SamplingError, SentenceList, sample_negatives,
                              subsample)
from utils.sst_files import (DatasetFormatError, damaged, read_phrase_labels, read_sentences,
                             read_split)

# Also imported from here by the scripts and tests: DEFAULT_SST_PATH, DatasetFormatError,
# SamplingError, MissingLabelWarning.
__all__ = ["StanfordSentiment", "MissingLabelWarning", "DatasetFormatError", "SamplingError",
           "DEFAULT_SST_PATH", "N_COPIES", "SUBSAMPLE_RATE", "TABLE_POWER"]

# ---- classic constants -------------------------------------------------------------------
N_COPIES = 30             # allSentences(): every sentence 30 times, each copy subsampled anew
SUBSAMPLE_RATE = 1e-5     # word2vec subsampling threshold, times the word count
TABLE_POWER = 0.75        # negative-sampling table: unigram frequency ** 0.75
CLASS_CUTS = (0.2, 0.4, 0.6, 0.8)   # sentiment value <= cut -> class; above the last -> 4


class MissingLabelWarning(UserWarning):
    """Some sentences have no entry in dictionary.txt and are left out of the labelled splits."""


class StanfordSentiment:
    """The Stanford Sentiment Treebank, loaded lazily (classic CS224n interface).

    Parameters
    ----------
    path : str, optional
        Folder with the files of ``stanfordSentimentTreebank.zip``; default
        ``utils/datasets/stanfordSentimentTreebank``.
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
        self._sentences = self._split = self._sent_labels = None
        self._tokens = self._tokenfreq = self._revtokens = self._wordcount = None
        self._freq = None             # int64 (V,): count of each token
        self._csr = None              # sentences(): ids int32 (M,), offsets int64 (S+1,)
        self._rejectProb = None
        self._allsent = None          # allSentences() as a Corpus (CSR)
        self._allsentences = None     # ... and as a SentenceList view of it
        self._sampleTable = None

    def _file(self, name):
        return os.path.join(self.path, name)

    # ---- vocabulary and sentences ----------------------------------------------------------
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
            revtokens = list(dict.fromkeys(words)) + ["UNK"]     # first-appearance order
            counts = Counter(words)
            counts["UNK"] = 1
            freq = list(map(counts.__getitem__, revtokens))
            self._tokens = dict(zip(revtokens, range(len(revtokens))))
            self._revtokens = revtokens
            self._tokenfreq = dict(zip(revtokens, freq))
            self._freq = np.array(freq, dtype=np.int64)                          # (V,)
            self._wordcount = len(words) + 1
            ids = np.fromiter(map(self._tokens.__getitem__, words), dtype=np.int32,
                              count=len(words))                                  # (M,)
            offsets = np.zeros(len(sentences) + 1, dtype=np.int64)              # (S + 1,)
            np.cumsum(list(map(len, sentences)), out=offsets[1:])
            self._csr = ids, offsets
        return self._tokens

    @property
    def tokenfreq(self):
        """dict of str -> int: occurrences of each token in the sentences ("UNK": 1)."""
        self.tokens()
        return self._tokenfreq

    def sentences(self):
        """Return all sentences as lists of lower-cased words.

        Also reads datasetSplit.txt when it is there and checks that it has one line per
        sentence (DatasetFormatError naming the files otherwise).

        Returns
        -------
        sentences : list of list of str, length numSentences() (11,855 for SST)
        """
        if self._sentences is None:
            sentences = read_sentences(self._file("datasetSentences.txt"))
            # datasetSplit.txt is the other file that counts the sentences: checking it now
            # catches a datasetSentences.txt cut at a line boundary before anything trains on
            # it. Without it (a custom corpus) the sentences alone are used.
            if self._split is None and os.path.exists(self._file("datasetSplit.txt")):
                self._split = read_split(self._file("datasetSplit.txt"), len(sentences),
                                         self._file("datasetSentences.txt"))
            self._sentences = sentences
        return self._sentences

    def numSentences(self):
        """Return the number of sentences."""
        return len(self.sentences())

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
        return self._csr

    # ---- the subsampled corpus and its windows ---------------------------------------------
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
        self._corpus()
        return self._allsentences

    def all_sentences_csr(self):
        """Return ``allSentences()`` as CSR token arrays (built on first use, see allSentences).

        Returns
        -------
        ids : ndarray of int32, shape (M',)
        offsets : ndarray of int64, shape (len(allSentences()) + 1,)
            Sentence i of allSentences() is ``ids[offsets[i]:offsets[i + 1]]``.
        """
        corpus = self._corpus()
        return corpus.ids, corpus.offsets

    def _corpus(self):
        """allSentences() as a Corpus, built on first use."""
        if self._allsent is None:
            self._install_all_sentences(*subsample(*self.sentences_csr(), self.rejectProb(),
                                                   N_COPIES))
        return self._allsent

    def _install_all_sentences(self, ids, offsets):
        """Make (ids (M',), offsets (S'+1,)) the allSentences() corpus."""
        self._allsent = Corpus(ids, offsets)
        self._allsentences = SentenceList(ids, offsets, self._revtokens)

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

    def getRandomContext(self, C=5):
        """Draw one (centre word, context) pair with Python's ``random`` (classic method).

        A uniform sentence of allSentences(), a uniform centre position, up to C words on each
        side; occurrences of the centre word are removed from the context, and an empty
        context is drawn again.

        Returns
        -------
        centerword : str
        context : list of str, 1 .. 2C words in sentence order

        Raises
        ------
        SamplingError
            No window of allSentences() has a context word (checked after MAX_REDRAWS draws).
        """
        if C < 1:
            raise ValueError(f"C must be >= 1, got {C}")
        corpus = self._corpus()
        if len(corpus) == 0:
            corpus.check_context()                 # raises: no sentence to draw from
        for tries in itertools.count():
            if tries == MAX_REDRAWS:
                corpus.check_context()             # raises if no draw can ever succeed
            sentID = random.randint(0, len(corpus) - 1)
            sent = corpus.sentence(sentID)
            wordID = random.randint(0, len(sent) - 1)
            centre = sent[wordID]
            context = sent[max(0, wordID - C):wordID] + sent[wordID + 1:wordID + C + 1]
            context = [t for t in context if t != centre]
            if context:
                return self._revtokens[centre], [self._revtokens[t] for t in context]

    def sample_windows(self, rng, n, C):
        """Draw n (centre, context) windows of allSentences() at once: the batched
        getRandomContext, with C1 uniform in 1..C per window (see ``Corpus.sample_windows``).

        Returns
        -------
        centres : ndarray of int64, shape (n,)
        contexts : ndarray of int64, shape (n, 2C)
            Token indices of each context in sentence order, then -1 padding.
        """
        return self._corpus().sample_windows(rng, n, C)

    # ---- sentiment labels and splits -----------------------------------------------------
    def sent_labels(self):
        """Return the sentiment value in [0, 1] of every sentence.

        Looked up in dictionary.txt by the sentence text (-lrb-/-rrb- as ( )), then in
        sentiment_labels.txt. A sentence without a dictionary entry gets NaN, is left out of the
        labelled splits, and one MissingLabelWarning gives their count (normal: 5 on the offline
        mirror).

        Returns
        -------
        labels : list of float, length numSentences()
        """
        if self._sent_labels is None:
            dictionary_path = self._file("dictionary.txt")
            phrases, values = read_phrase_labels(dictionary_path,
                                                 self._file("sentiment_labels.txt"))
            labels, missing = [], []
            for i, sentence in enumerate(self.sentences()):
                full_sent = " ".join(sentence).replace("-lrb-", "(").replace("-rrb-", ")")
                if full_sent in phrases:
                    labels.append(values[phrases[full_sent]])
                else:
                    labels.append(math.nan)
                    missing.append(i + 1)
            sentences_path = self._file("datasetSentences.txt")
            if len(missing) == len(labels):
                raise damaged(dictionary_path, f"none of the {len(labels)} sentences of "
                                               f"{sentences_path} has an entry: it is not the "
                                               f"dictionary of these sentences")
            if missing:
                shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
                warnings.warn(
                    f"{len(missing)} sentences of {sentences_path} have no entry in "
                    f"dictionary.txt and are left out of the labelled splits "
                    f"(sentence_index {shown})", MissingLabelWarning, stacklevel=2)
            self._sent_labels = labels
        return self._sent_labels

    def dataset_split(self):
        """Return [train, test, dev]: lists of 0-based sentence indices (datasetSplit.txt)."""
        if self._split is None:
            n = self.numSentences()              # reads the split too when the file is there
            if self._split is None:              # missing: read_split names the file
                self._split = read_split(self._file("datasetSplit.txt"), n,
                                         self._file("datasetSentences.txt"))
        return self._split

    @staticmethod
    def categorify(label):
        """Map a sentiment value to a class: <= 0.2 -> 0, <= 0.4 -> 1, <= 0.6 -> 2, <= 0.8 -> 3,
        else 4."""
        if math.isnan(label):
            raise ValueError("cannot categorify a missing (NaN) sentiment value")
        for cls, cut in enumerate(CLASS_CUTS):
            if label <= cut:
                return cls
        return len(CLASS_CUTS)

    def getTrainSentences(self):
        """Return the training sentences as a list of (words, class) (8,544 minus unlabelled)."""
        return self.getSplitSentences(0)

    def getDevSentences(self):
        """Return the dev sentences as a list of (words, class) (1,101 minus unlabelled)."""
        return self.getSplitSentences(2)

    def getTestSentences(self):
        """Return the test sentences as a list of (words, class) (2,210 minus unlabelled)."""
        return self.getSplitSentences(1)

    def getSplitSentences(self, split=0):
        """Return [(words, class)] of split 0 (train), 1 (test) or 2 (dev), labelled ones only."""
        sentences, labels = self.sentences(), self.sent_labels()
        return [(sentences[i], self.categorify(labels[i]))
                for i in self.dataset_split()[split] if not math.isnan(labels[i])]

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
        """Draw K negative samples per target at once from the sample table: the batched
        ``sampleTokenIdx`` redraw loop (see ``utils.sst_corpus.sample_negatives``).

        Returns
        -------
        negatives : ndarray of int64, shape (len(targets), K)
        """
        return sample_negatives(self.sampleTable(), rng, targets, K)
