"""Stanford Sentiment Treebank (SST) loader with the classic CS224n interface, plus batched samplers.

The classic methods (``tokens``, ``sentences``, ``allSentences``, ``getRandomContext``,
``sampleTable``, ``sampleTokenIdx``, ``getTrainSentences`` ...) keep the names, results and use of
Python's ``random`` of the course's Python 2 loader, so seeded runs reproduce its numbers. Inside,
sentences are stored as one flat array of token indices plus offsets (CSR):

    ids[offsets[i]:offsets[i + 1]]   # token indices of sentence i

which makes building the x30 subsampled corpus and drawing windows vectorised. The trainer uses
:meth:`StanfordSentiment.sample_windows` and :meth:`StanfordSentiment.sample_negatives`, which take a
``numpy.random.Generator`` and return arrays with the same distributions as the classic methods.

Data: ``utils/datasets/stanfordSentimentTreebank`` (fetched by ``bash get_datasets.sh``). Each file
is checked as it is read, and datasetSplit.txt against datasetSentences.txt (one line per
sentence): a damaged file raises :class:`DatasetFormatError` naming it (and the line), never a
later symptom. The checks are vectorised or ride on the parsing loop that was already there.
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

from utils.data_paths import DEFAULT_SST_PATH, FETCH_HINT


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
    """A dataset file is damaged or malformed, or two files disagree.

    The message starts with the file to blame (``path:line:`` when one line is to blame; both
    files when the data cannot tell which of two is wrong) and ends with the fix.
    """


class MissingLabelWarning(UserWarning):
    """Some sentences have no entry in dictionary.txt and are left out of the labelled splits."""


def _refetch(path, what="it"):
    """The fix for a damaged file: get_datasets.sh for the installed copy, a good copy elsewhere."""
    here = os.path.dirname(os.path.abspath(path)) == os.path.abspath(DEFAULT_SST_PATH)
    return (f"re-run `bash get_datasets.sh` to replace {what}" if here else
            f"replace {what} with a good copy (`bash get_datasets.sh` installs one in "
            f"{DEFAULT_SST_PATH})")


_BOM = b"\xef\xbb\xbf"
_WITNESS = "SOStr.txt"    # one line per sentence in the official archive: a third count
_MAX_ID = 2 ** 62         # larger "indices" are damage, and would not fit NumPy's int64


def _read_bytes(path):
    """Return the contents of a dataset file; a missing file names the fetch command."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"SST file {path} not found (or not a file); {FETCH_HINT}")
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise type(err)(f"SST file {path} cannot be read ({err.strerror}); check its "
                        f"permissions or {FETCH_HINT}") from None


def _read_text_file(path, header=None):
    """Return what follows the header line of an SST file (all of it without `header`), after
    the checks all four files share.

    The file must be non-empty text (no NUL byte, no byte-order mark), end with a newline (a copy
    cut short mid-line ends without one), start with `header` (lower-cased, if given) and hold at
    least one non-blank line after it.
    """
    raw = _read_bytes(path)
    if not raw:
        raise DatasetFormatError(f"{path}: the file is empty; {_refetch(path)}")
    nul = raw.find(b"\0")
    if nul >= 0:
        lineno = raw.count(b"\n", 0, nul) + 1
        raise DatasetFormatError(f"{path}:{lineno}: a NUL byte: the file is binary, UTF-16 or "
                                 f"damaged, not SST text; {_refetch(path)}")
    if raw.startswith(_BOM):
        raise DatasetFormatError(f"{path}:1: the file starts with a byte-order mark, which the "
                                 f"official file has not; save it without one, or "
                                 f"{_refetch(path)}")
    if not raw.endswith(b"\n"):
        lineno = raw.count(b"\n") + 1
        raise DatasetFormatError(
            f"{path}:{lineno}: the last line has no newline at its end: the file is cut short "
            f"(a truncated copy); {_refetch(path)}, or end it with a newline if it is complete")
    body = raw
    if header is not None:
        first, _, body = raw.partition(b"\n")
        if first.strip().lower() != header:
            raise DatasetFormatError(f"{path}:1: expected the header {header.decode()!r}, got "
                                     f"{first[:60]!r}: not this SST file; {_refetch(path)}")
    if not body or body.isspace():
        raise DatasetFormatError(f"{path}: no data" + (" after the header" if header else "")
                                 + f"; {_refetch(path)}")
    return body


def _lines(raw):
    """Split file contents into lines, dropping the empty string after a final newline."""
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _pairs_fast(body, sep, allowed):
    """Split a body whose every line is exactly ``left<sep>right``, without a Python loop.

    Returns (lefts, rights), lists of bytes, or None when a line is not like that (a blank line,
    CRLF, spaces, a byte outside `allowed`, no or two separators...): the caller's line-by-line
    parser then takes over, accepts the tolerated variants and names the first bad line.
    """
    if body.translate(None, allowed + sep + b"\n"):
        return None
    a = np.frombuffer(body, dtype=np.uint8)
    newlines = np.flatnonzero(a == ord("\n"))                   # (L,)
    seps = np.flatnonzero(a == sep[0])
    # One separator strictly inside each line, with a byte on each side of it: then the i-th
    # separator belongs to the i-th line and every line has exactly one.
    starts = np.concatenate(([0], newlines[:-1] + 1))           # (L,)
    if seps.size != newlines.size or np.any(seps <= starts) or np.any(seps + 1 >= newlines):
        return None
    fields = body.replace(sep, b"\n").split(b"\n")              # 2L fields, then b""
    return fields[0:-1:2], fields[1:-1:2]


def _undo_double_utf8(data):
    """Repair UTF-8 that was encoded twice ('clichÃ©s' -> 'clichés'), as the classic loader's
    ``w.decode('utf-8').encode('latin1')`` did. Raises UnicodeError if `data` is not such text."""
    return data.decode("utf-8").encode("latin-1").decode("utf-8")


def read_sentences(path):
    """Parse ``datasetSentences.txt`` into lists of lower-cased, repaired words.

    Reproduces the classic Python 2 tokenisation: split each line on ASCII whitespace, drop the
    index, lower-case ASCII letters only (``bytes.lower``), undo the double UTF-8 encoding.
    The lines must be numbered 1, 2, 3, ... in order (each sentence once).

    Parameters
    ----------
    path : str
        The ``datasetSentences.txt`` file.

    Returns
    -------
    sentences : list of list of str, length numSentences (at least 1)

    Raises
    ------
    DatasetFormatError
        Naming the line: empty, binary, cut short, wrong header, not double-encoded UTF-8,
        a sentence index out of sequence (missing, repeated or out of order).
    """
    lines = _lines(_read_text_file(path, b"sentence_index\tsentence"))
    body = b"\n".join(lines).lower()        # ASCII-only lower-casing, as bytes.lower() did
    try:
        text = _undo_double_utf8(body)
    except UnicodeError:
        for lineno, line in enumerate(body.split(b"\n"), start=2):
            try:
                _undo_double_utf8(line)
            except UnicodeError as err:
                raise DatasetFormatError(
                    f"{path}:{lineno}: not double-encoded UTF-8 like the official file "
                    f"({err.reason}); {_refetch(path)}") from None
        raise
    sentences = []
    for lineno, line in enumerate(text.split("\n"), start=2):
        fields = _WORD_RE.findall(line)
        if not fields or fields[0] != str(lineno - 1):
            raise DatasetFormatError(f"{path}:{lineno}: {_sequence_problem(fields, lineno - 1)}, "
                                     f"got {line[:60]!r}; {_refetch(path)}")
        sentences.append(fields[1:])
    return sentences


def _sequence_problem(fields, expected):
    """Say why a datasetSentences.txt line does not start with the sentence index `expected`."""
    if not fields:
        return f"a blank line where sentence {expected} should be"
    if fields[0].isascii() and fields[0].isdigit() and 0 < int(fields[0]) < expected:
        return (f"sentence index {int(fields[0])} again (expected {expected}): a repeated or "
                f"out-of-order line; the sentences must be numbered 1, 2, 3, ... once each")
    return (f"expected sentence index {expected}, a tab and the sentence (the sentences must "
            f"be numbered 1, 2, 3, ... in order)")


def read_dictionary(path):
    """Parse ``dictionary.txt`` (``phrase|phrase_id``) into {ASCII-lower-cased phrase: id}.

    Raises
    ------
    DatasetFormatError
        Naming the line: empty, binary, cut short, a line without ``|id``, not UTF-8.
    """
    phrases = {}
    text = _read_text_file(path).lower()
    for lineno, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        phrase, bar, phrase_id = line.rpartition(b"|")
        phrase_id = phrase_id.strip()
        if not bar or not phrase_id.isdigit() or len(phrase_id) > 18:
            raise DatasetFormatError(f"{path}:{lineno}: expected 'phrase|phrase_id', got "
                                     f"{line[:60]!r}; {_refetch(path)}")
        try:
            phrases[phrase.decode("utf-8")] = int(phrase_id)
        except UnicodeError as err:
            raise DatasetFormatError(f"{path}:{lineno}: not UTF-8 ({err.reason}); "
                                     f"{_refetch(path)}") from None
    return phrases


def read_sentiment_labels(path):
    """Parse ``sentiment_labels.txt`` (``phrase_id|value``, value in [0, 1]) into {id: value}.

    Raises
    ------
    DatasetFormatError
        Naming the line: empty, binary, cut short, wrong header, not ``id|number``, a value
        outside [0, 1], a phrase id given twice.
    """
    body = _read_text_file(path, b"phrase ids|sentiment values")
    pairs = _pairs_fast(body, b"|", b"0123456789.eE+-")
    try:
        ids = np.array(list(map(int, pairs[0])), dtype=np.int64)          # (P,)
        values = list(map(float, pairs[1]))
        linenos = np.arange(2, ids.size + 2)
    except (TypeError, ValueError, OverflowError):   # pairs is None, or a field is not a number
        ids, values, linenos = _read_pair_lines(path, body, b"|", _label_fields,
                                                "'phrase_id|value' with a number value")
    v = np.array(values)                                                     # (P,)
    bad = np.flatnonzero(~((v >= 0) & (v <= 1)) | (ids < 0))   # NaN fails both comparisons
    if bad.size:
        lineno = int(linenos[bad[0]])
        raise DatasetFormatError(
            f"{path}:{lineno}: expected 'phrase_id|value' with an id >= 0 and a value in [0, 1], "
            f"got {_lines(body)[lineno - 2][:60]!r}; {_refetch(path)}")
    labels = dict(zip(ids.tolist(), values))
    if len(labels) != ids.size:
        raise DatasetFormatError(_repeat_message(path, ids, linenos, "phrase id"))
    return labels


def _label_fields(left, right):
    """(phrase id, value) of a sentiment_labels.txt line; ValueError if not numbers."""
    return int(left), float(right)


def _split_fields(left, right):
    """(sentence index, label) of a datasetSplit.txt line; ValueError unless ``digits,1|2|3``."""
    if not left.strip().isdigit() or right.strip() not in (b"1", b"2", b"3"):
        raise ValueError
    return int(left), int(right)


def _read_pair_lines(path, body, sep, parse, expected):
    """Line-by-line parser of ``left<sep>right`` lines (blank lines skipped), for the files the
    fast path does not take. Returns (lefts (P,) int64, rights list, line numbers (P,))."""
    lefts, rights, linenos = [], [], []
    for lineno, line in enumerate(_lines(body), start=2):
        if not line.strip():
            continue
        left, bar, right = line.partition(sep)
        try:
            a, b = parse(left, right)
            if not bar or not -_MAX_ID < a < _MAX_ID:
                raise ValueError
        except ValueError:
            raise DatasetFormatError(f"{path}:{lineno}: expected {expected}, got "
                                     f"{line[:60]!r}; {_refetch(path)}") from None
        lefts.append(a)
        rights.append(b)
        linenos.append(lineno)
    return np.array(lefts, dtype=np.int64), rights, np.array(linenos)


def _repeat_message(path, keys, linenos, what):
    """Message naming the first line whose key (phrase id, sentence index) was seen before."""
    order = np.argsort(keys, kind="stable")                      # repeats follow their first
    ks = keys[order]
    again = order[1:][ks[1:] == ks[:-1]]
    k = again.min()
    first = order[np.searchsorted(ks, keys[k])]
    return (f"{path}:{linenos[k]}: {what} {keys[k]} appears a second time (first on line "
            f"{linenos[first]}); each must appear once; {_refetch(path)}")


def read_split(path, n_sentences, sentences_path="datasetSentences.txt"):
    """Parse ``datasetSplit.txt`` (``sentence_index,label``; 1 train, 2 test, 3 dev).

    Every sentence 1..n_sentences must have exactly one line.

    Parameters
    ----------
    path : str
    n_sentences : int
        Number of sentences of ``datasetSentences.txt``.
    sentences_path : str, optional
        That file, named in the messages when the two files disagree.

    Returns
    -------
    split : list of 3 lists of int
        0-based sentence indices of [train, test, dev], in file order (the classic layout).

    Raises
    ------
    DatasetFormatError
        Naming the line (malformed, an index repeated or out of range) or the file (an index
        without a line); when the files disagree on the number of sentences, the file that
        ``SOStr.txt`` contradicts, or both when that cannot be told.
    """
    body = _read_text_file(path, b"sentence_index,splitset_label")
    pairs = _pairs_fast(body, b",", b"0123456789")
    try:
        index = np.array(list(map(int, pairs[0])), dtype=np.int64)        # (N,)
        label = np.array(list(map(int, pairs[1])), dtype=np.int64)        # (N,)
        linenos = np.arange(2, index.size + 2)
        if not np.all((label >= 1) & (label <= 3)):
            raise ValueError
    except (TypeError, ValueError, OverflowError):   # pairs is None, or a field is out of range
        index, label, linenos = _read_pair_lines(
            path, body, b",", _split_fields,
            "'sentence_index,label' with a label 1 (train), 2 (test) or 3 (dev)")
        label = np.array(label, dtype=np.int64)
    _check_split_covers(path, index, linenos, n_sentences, sentences_path)
    return [(index[label == k] - 1).tolist() for k in (1, 2, 3)]


def _check_split_covers(path, index, linenos, n, sentences_path):
    """Raise unless `index` (N,) holds each of 1..n exactly once; blame the right file."""
    counts = np.bincount(np.clip(index, 0, n + 1), minlength=n + 2)       # (n + 2,)
    if index.size == n and np.all(counts[1:n + 1] == 1):
        return
    if index.size > np.unique(index).size:
        raise DatasetFormatError(_repeat_message(path, index, linenos, "sentence index"))
    if counts[0]:
        k = int(np.argmax(index == 0))
        raise DatasetFormatError(f"{path}:{linenos[k]}: sentence index 0; the indices start "
                                 f"at 1; {_refetch(path)}")
    top = int(index.max())
    if index.size == top:   # exactly 1..top: a complete split, for another number of sentences
        _blame_count(path, top, linenos[-1], sentences_path, n)
    if top > n:
        k = int(np.argmax(index > n))
        raise DatasetFormatError(f"{path}:{linenos[k]}: sentence index {index[k]} is beyond the "
                                 f"{n} sentences of {sentences_path}; {_refetch(path)}")
    missing = np.flatnonzero(counts[1:n + 1] == 0) + 1
    more = f" (and {missing.size - 1} more)" if missing.size > 1 else ""
    raise DatasetFormatError(f"{path}: no line for sentence index {missing[0]}{more}; every "
                             f"sentence of {sentences_path} needs exactly one; {_refetch(path)}")


def _extra(one, many, first, last):
    """'sentence 7 is extra' or 'sentences 7..9 are extra'."""
    return f"{one} {first} is extra" if first == last else f"{many} {first}..{last} are extra"


def _blame_count(split_path, n_split, last_line, sentences_path, n):
    """Raise DatasetFormatError: datasetSplit.txt lists sentences 1..n_split, but
    datasetSentences.txt has n. Which file is wrong?

    Both files are consistent on their own, so a third count decides: SOStr.txt, one line per
    sentence, in the same folder in the official archive. Without it (or if it agrees with
    neither) the message says that it cannot be told and names both files.
    """
    witness = os.path.join(os.path.dirname(os.path.abspath(split_path)), _WITNESS)
    w = None
    with contextlib.suppress(OSError):
        with open(witness, "rb") as f:
            raw = f.read()
        w = raw.count(b"\n") + (not raw.endswith(b"\n"))
    if w == n_split:
        extra = _extra("sentence", "sentences", n_split + 1, n)
        where = (f"{sentences_path}:{n + 1}: the file ends after sentence {n}" if n < n_split else
                 f"{sentences_path}:{n_split + 2}: {extra}")
        raise DatasetFormatError(f"{where}, but {split_path} and {witness} (one line per "
                                 f"sentence) count {n_split} sentences; "
                                 f"{_refetch(sentences_path)}")
    if w == n:
        where = (f"{split_path}:{last_line}: the file ends at sentence index {n_split}"
                 if n_split < n else
                 f"{split_path}: {_extra('sentence index', 'sentence indices', n + 1, n_split)}")
        raise DatasetFormatError(f"{where}, but {sentences_path} and {witness} (one line per "
                                 f"sentence) count {n} sentences; {_refetch(split_path)}")
    short, long_ = (sentences_path, split_path) if n < n_split else (split_path, sentences_path)
    third = (f"{witness} has {w} lines, agreeing with neither" if w is not None else
             f"there is no {witness} to tell which")
    raise DatasetFormatError(
        f"{sentences_path} has {n} sentences but {split_path} lists {n_split}: either {short} is "
        f"cut short or {long_} has extra lines, and {third}; {_refetch(split_path, 'both')}")


def _phrase_id_of(line):
    """The phrase id of a valid dictionary.txt line, or None."""
    phrase_id = line.rpartition(b"|")[2].strip()
    return int(phrase_id) if phrase_id.isdigit() else None


def _check_phrase_ids(dictionary_path, phrases, labels_path, values):
    """Raise unless every phrase id of dictionary.txt has a line in sentiment_labels.txt."""
    ids = np.fromiter(phrases.values(), dtype=np.int64, count=len(phrases))     # (D,)
    known = np.fromiter(values.keys(), dtype=np.int64, count=len(values))       # (P,)
    if np.array_equal(known, np.arange(known.size)):   # the official layout: ids 0..P-1
        missing = ids >= known.size
        have = f"ids 0..{known.size - 1}"
    else:
        missing = ~np.isin(ids, known)
        have = f"{known.size} ids"
    if not missing.any():
        return
    bad = int(ids[np.argmax(missing)])
    lineno = next(no for no, line in enumerate(_lines(_read_bytes(dictionary_path)), start=1)
                  if _phrase_id_of(line) == bad)
    more = f" (and {int(missing.sum()) - 1} more)" if missing.sum() > 1 else ""
    raise DatasetFormatError(
        f"{dictionary_path}:{lineno}: phrase id {bad}{more} has no line in {labels_path} "
        f"({have}): either {labels_path} is cut short or {dictionary_path} has a wrong id; "
        f"{_refetch(dictionary_path, 'the damaged one')}")


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

        Also reads datasetSplit.txt when it is there and checks that it has one line per
        sentence (DatasetFormatError naming the file to blame otherwise).

        Returns
        -------
        sentences : list of list of str, length numSentences() (11,855 for SST)
        """
        if self._sentences is None:
            sentences = read_sentences(self._file("datasetSentences.txt"))
            # datasetSplit.txt is the other file that counts the sentences: checking it now
            # catches a datasetSentences.txt cut at a line boundary before anything trains on
            # it. Without it (a custom corpus) the sentences alone are used, as before.
            if self._split is None and os.path.isfile(self._file("datasetSplit.txt")):
                self._split = read_split(self._file("datasetSplit.txt"), len(sentences),
                                         self._file("datasetSentences.txt"))
            self._sentences = sentences
            self._sentlengths = np.fromiter(map(len, sentences), dtype=np.int64,
                                            count=len(sentences))
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
        labelled splits, and one MissingLabelWarning gives their count (normal: 5 on the offline
        mirror). Every phrase id of dictionary.txt must have a line in sentiment_labels.txt.

        Returns
        -------
        labels : list of float, length numSentences()
        """
        if self._sent_labels is None:
            phrases = read_dictionary(self._file("dictionary.txt"))
            values = read_sentiment_labels(self._file("sentiment_labels.txt"))
            _check_phrase_ids(self._file("dictionary.txt"), phrases,
                              self._file("sentiment_labels.txt"), values)
            labels, missing = [], []
            for i, words in enumerate(self.sentences()):
                phrase_id = phrases.get(sentence_key(words))
                if phrase_id is None:
                    missing.append(i + 1)
                    labels.append(math.nan)
                else:
                    labels.append(values[phrase_id])
            if len(missing) == len(labels):
                raise DatasetFormatError(
                    f"{self._file('dictionary.txt')}: none of the {len(labels)} sentences of "
                    f"{self._file('datasetSentences.txt')} has an entry: it is not the dictionary "
                    f"of these sentences; {_refetch(self._file('dictionary.txt'))}")
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
            n = self.numSentences()              # reads the split too when the file is there
            if self._split is None:              # missing: read_split names the file
                self._split = read_split(self._file("datasetSplit.txt"), n,
                                         self._file("datasetSentences.txt"))
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
