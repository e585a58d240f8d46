"""Reading and checking the SST files: the formats of ``stanfordSentimentTreebank.zip``.

====================  ========================  ===============================================
file                  line                      notes
====================  ========================  ===============================================
datasetSentences.txt  ``sentence_index<TAB>…``  header; double-encoded UTF-8; numbered 1, 2, ...
datasetSplit.txt      ``sentence_index,label``  header; 1 train, 2 test, 3 dev; one per sentence
dictionary.txt        ``phrase|phrase_id``      no header; UTF-8, original case
sentiment_labels.txt  ``phrase_id|value``       header; value in [0, 1]
====================  ========================  ===============================================

Each file is checked where it enters, and the files against one another (the split against the
sentences, the phrase ids of the dictionary against the labels). A damaged file raises
:class:`DatasetFormatError`, one line: the file to blame (``path:line:`` when a line is to blame,
both lines for a key given twice), what is wrong, and the fix -- never a later symptom. Only
regular files are read: a folder, FIFO or device is refused at once (``utils.files``).
"""
import os
import re

import numpy as np

from utils.data_paths import DEFAULT_SST_PATH, FETCH_HINT
from utils.files import read_regular

_BOM = b"\xef\xbb\xbf"
_MAX_ID = 2 ** 62         # larger "indices" are damage, and would not fit NumPy's int64
# Python 2's bytes.split() whitespace: ASCII only, so the no-break space in "8 1\/2" stays
# inside its word (str.split() would cut it in two).
_WORD_RE = re.compile(r"[^ \t\n\r\x0b\x0c]+")


class DatasetFormatError(ValueError):
    """A dataset file is damaged or malformed, or two files disagree.

    The message starts with the file to blame (``path:line:`` when one line is to blame; both
    files when the data cannot tell which of two is wrong) and ends with the fix.
    """


def damaged(path, problem, line=None, what="it"):
    """The error for a damaged file: ``path[:line]: problem; <the fix>``.

    The fix is `get_datasets.sh` for the installed copy (it checks every file's sha256 and
    fetches the damaged ones again), a good copy for a folder elsewhere. `what` names what to
    replace ("it", "both" ...).
    """
    here = os.path.dirname(os.path.abspath(path)) == os.path.abspath(DEFAULT_SST_PATH)
    fix = (f"re-run `bash get_datasets.sh` to replace {what}" if here else
           f"replace {what} with a good copy (`bash get_datasets.sh` installs one in "
           f"{DEFAULT_SST_PATH})")
    where = path if line is None else f"{path}:{line}"
    return DatasetFormatError(f"{where}: {problem}; {fix}")


# ---- what all four files share ---------------------------------------------------------------
def _read_text_file(path, header=None):
    """Return what follows the header line of an SST file (all of it without `header`), after
    the checks all four files share.

    The file must be a regular file (a missing one names the fetch command), non-empty text (no
    NUL byte, no byte-order mark), end with a newline (a copy cut short mid-line ends without
    one), start with `header` (lower-cased, if given) and hold a non-blank line after it.
    """
    try:
        raw = read_regular(path, "SST file")
    except FileNotFoundError:
        raise FileNotFoundError(f"SST file {path} not found; {FETCH_HINT}") from None
    if not raw:
        raise damaged(path, "the file is empty")
    nul = raw.find(b"\0")
    if nul >= 0:
        raise damaged(path, "a NUL byte: the file is binary, UTF-16 or damaged, not SST text",
                      raw.count(b"\n", 0, nul) + 1)
    if raw.startswith(_BOM):
        raise damaged(path, "the file starts with a byte-order mark, which the official file has "
                            "not (save it without one)", 1)
    if not raw.endswith(b"\n"):
        raise damaged(path, "the last line has no newline at its end: the file is cut short (a "
                            "truncated copy; if it is complete, end it with a newline)",
                      raw.count(b"\n") + 1)
    body = raw
    if header is not None:
        first, _, body = raw.partition(b"\n")
        if first.strip().lower() != header:
            raise damaged(path, f"expected the header {header.decode()!r}, got {first[:60]!r}: "
                                f"not this SST file", 1)
    if not body or body.isspace():
        raise damaged(path, "no data" + (" after the header" if header else ""))
    return body


def _lines(raw):
    """Split file contents into lines, dropping the empty string after a final newline."""
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _read_pairs(path, body, sep, parse, expected):
    """Parse the ``left<sep>right`` lines after a header (blank lines skipped, CR and spaces
    around the fields tolerated) with ``parse(left, right) -> (int key, value)``, which raises
    ValueError for a bad line; the message names the line and `expected`.

    Returns (keys (P,) int64, values list of P, line numbers (P,) int).
    """
    keys, values, linenos = [], [], []
    for lineno, line in enumerate(_lines(body), start=2):
        if not line.strip():
            continue
        left, bar, right = line.partition(sep)
        try:
            key, value = parse(left, right)
            if not bar or not -_MAX_ID < key < _MAX_ID:
                raise ValueError
        except ValueError:
            raise damaged(path, f"expected {expected}, got {line[:60]!r}", lineno) from None
        keys.append(key)
        values.append(value)
        linenos.append(lineno)
    return np.array(keys, dtype=np.int64), values, np.array(linenos)


def _refuse_repeats(path, what, keys, values, linenos, value_name):
    """Raise for the first key given twice, naming both lines (and both values if they differ).

    `keys` and `values` are sequences of length P, `linenos` their line numbers.
    """
    if len(set(keys)) == len(keys):            # the usual case, in C
        return
    first = {}
    for i, key in enumerate(keys):
        j = first.setdefault(key, i)
        if j != i:
            break
    other = ("" if values[i] == values[j] else
             f", with another {value_name} ({values[i]} here, {values[j]} there)")
    if isinstance(key, bytes):                 # a phrase: decoded, and cut like a bad line
        key = key.decode("utf-8", "replace")
        key = key if len(key) <= 60 else key[:57] + "..."
    raise damaged(path, f"{what} {key!r} appears a second time (first on line {linenos[j]})"
                        f"{other}; each must appear once", linenos[i])


# ---- datasetSentences.txt ----------------------------------------------------------------------
def _undo_double_utf8(data):
    """Repair UTF-8 that was encoded twice ('clichÃ©s' -> 'clichés'), as the classic loader's
    ``w.decode('utf-8').encode('latin1')`` did. Raises UnicodeError if `data` is not such text."""
    return data.decode("utf-8").encode("latin-1").decode("utf-8")


def read_sentences(path):
    """Parse ``datasetSentences.txt`` into lists of lower-cased, repaired words.

    Reproduces the classic Python 2 tokenisation: split each line on ASCII whitespace, drop the
    index, lower-case ASCII letters only (``bytes.lower``), undo the double UTF-8 encoding.
    The lines must be numbered 1, 2, 3, ... in order (each sentence once).

    Returns
    -------
    sentences : list of list of str, length numSentences (at least 1)

    Raises
    ------
    DatasetFormatError
        Naming the line: empty, binary, cut short, wrong header, not double-encoded UTF-8, a
        sentence index out of sequence (missing, out of order, or repeated: both lines).
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
                raise damaged(path, f"not double-encoded UTF-8 like the official file "
                                    f"({err.reason})", lineno) from None
        raise
    sentences = []
    for lineno, line in enumerate(text.split("\n"), start=2):
        fields = _WORD_RE.findall(line)
        if not fields or fields[0] != str(lineno - 1):
            raise damaged(path, f"{_sequence_problem(fields, lineno - 1)}, got {line[:60]!r}",
                          lineno)
        sentences.append(fields[1:])
    return sentences


def _sequence_problem(fields, expected):
    """Say why a datasetSentences.txt line does not start with the sentence index `expected`."""
    if not fields:
        return f"a blank line where sentence {expected} should be"
    if fields[0].isascii() and fields[0].isdigit() and 0 < int(fields[0]) < expected:
        seen = int(fields[0])               # sentence k is on line k + 1 (checked above)
        return (f"sentence index {seen} again (first on line {seen + 1}; expected {expected}): "
                f"a repeated or out-of-order line; the sentences must be numbered 1, 2, 3, ... "
                f"once each")
    return (f"expected sentence index {expected}, a tab and the sentence (the sentences must "
            f"be numbered 1, 2, 3, ... in order)")


# ---- datasetSplit.txt ----------------------------------------------------------------------
def _split_fields(left, right):
    """(sentence index, label) of a datasetSplit.txt line; ValueError unless ``digits,1|2|3``."""
    if not left.strip().isdigit() or right.strip() not in (b"1", b"2", b"3"):
        raise ValueError
    return int(left), int(right)


def read_split(path, n_sentences, sentences_path):
    """Parse ``datasetSplit.txt`` (``sentence_index,label``; 1 train, 2 test, 3 dev).

    Every sentence 1..n_sentences must have exactly one line.

    Parameters
    ----------
    path : str
    n_sentences : int
        Number of sentences of ``datasetSentences.txt``.
    sentences_path : str
        That file, named in the messages when the two files disagree.

    Returns
    -------
    split : list of 3 lists of int
        0-based sentence indices of [train, test, dev], in file order (the classic layout).

    Raises
    ------
    DatasetFormatError
        Naming the line (malformed, an index out of range; both lines of an index given twice)
        or the file (an index without a line); both files when they disagree on the number of
        sentences.
    """
    body = _read_text_file(path, b"sentence_index,splitset_label")
    index, label, linenos = _read_pairs(
        path, body, b",", _split_fields,
        "'sentence_index,label' with a label 1 (train), 2 (test) or 3 (dev)")
    _refuse_repeats(path, "sentence index", index.tolist(), label, linenos, "label")
    _check_split_covers(path, index, linenos, n_sentences, sentences_path)
    label = np.array(label)
    return [(index[label == k] - 1).tolist() for k in (1, 2, 3)]


def _check_split_covers(path, index, linenos, n, sentences_path):
    """Raise unless `index` (N,), without repeats, holds each of 1..n."""
    if index.size == n and index.min() == 1 and index.max() == n:
        return
    if index.min() == 0:
        raise damaged(path, "sentence index 0; the indices start at 1",
                      linenos[np.argmax(index == 0)])
    top = int(index.max())
    if index.size == top:   # exactly 1..top: a complete split for another number of sentences
        # Which file is wrong cannot be told from these two; get_datasets.sh can (sha256).
        short, long_ = (sentences_path, path) if n < top else (path, sentences_path)
        raise damaged(sentences_path, f"{n} sentences, but {path} lists {top} (one line each): "
                                      f"either {short} is cut short or {long_} has extra lines",
                      what="both")
    if top > n:
        k = int(np.argmax(index > n))
        raise damaged(path, f"sentence index {index[k]} is beyond the {n} sentences of "
                            f"{sentences_path}", linenos[k])
    present = np.zeros(n + 1, dtype=bool)
    present[index] = True
    missing = np.flatnonzero(~present[1:]) + 1
    more = f" (and {missing.size - 1} more)" if missing.size > 1 else ""
    raise damaged(path, f"no line for sentence index {missing[0]}{more}; every sentence of "
                        f"{sentences_path} needs exactly one")


# ---- dictionary.txt and sentiment_labels.txt -----------------------------------------------------
def read_phrase_labels(dictionary_path, labels_path):
    """Parse ``dictionary.txt`` and ``sentiment_labels.txt``, checked against each other.

    Returns
    -------
    phrases : dict of str -> int
        ASCII-lower-cased phrase -> phrase id. Phrases equal once lower-cased (``The`` and
        ``the``) keep the id of the last, as the classic ``dictionary[phrase.lower()] = id``.
    values : dict of int -> float
        Phrase id -> sentiment value in [0, 1].

    Raises
    ------
    DatasetFormatError
        Naming the line: empty, binary, cut short, wrong header, a line that is not
        ``phrase|id`` or ``id|value``, not UTF-8, a value outside [0, 1], a phrase or phrase id
        given twice (both lines), a phrase id of dictionary.txt with no label.
    """
    phrases, ids, linenos = _read_dictionary(dictionary_path)
    values = _read_sentiment_labels(labels_path)
    known = np.fromiter(values.keys(), dtype=np.int64, count=len(values))      # (P,)
    if np.array_equal(known, np.arange(known.size)):   # the official layout: ids 0..P-1
        missing = ids >= known.size
        have = f"ids 0..{known.size - 1}"
    else:
        missing = ~np.isin(ids, known)
        have = f"{known.size} ids"
    if missing.any():
        k = int(np.argmax(missing))
        more = f" (and {int(missing.sum()) - 1} more)" if missing.sum() > 1 else ""
        raise damaged(dictionary_path, f"phrase id {ids[k]}{more} has no line in {labels_path} "
                                       f"({have}): either {labels_path} is cut short or "
                                       f"{dictionary_path} has a wrong id", linenos[k],
                      what="the damaged one")
    return phrases, values


def _read_dictionary(path):
    """``dictionary.txt`` -> ({lower-cased phrase: id}, ids (D,) int64, line numbers (D,))."""
    raw, ids, linenos = [], [], []
    for lineno, line in enumerate(_lines(_read_text_file(path)), start=1):
        if not line.strip():
            continue
        phrase, bar, phrase_id = line.rpartition(b"|")
        phrase_id = phrase_id.strip()
        if not bar or not phrase_id.isdigit() or len(phrase_id) > 18:
            raise damaged(path, f"expected 'phrase|phrase_id', got {line[:60]!r}", lineno)
        raw.append(phrase)
        ids.append(int(phrase_id))
        linenos.append(lineno)
    _refuse_repeats(path, "phrase", raw, ids, linenos, "id")   # the file's keys: not lower-cased
    try:        # ASCII-only lower-casing, as the classic Python 2 str.lower() did
        text = b"\n".join(raw).lower().decode("utf-8")
    except UnicodeError:
        for phrase, lineno in zip(raw, linenos):
            try:
                phrase.decode("utf-8")
            except UnicodeError as err:
                raise damaged(path, f"not UTF-8 ({err.reason})", lineno) from None
        raise
    return dict(zip(text.split("\n"), ids)), np.array(ids, dtype=np.int64), np.array(linenos)


def _label_fields(left, right):
    """(phrase id, value) of a sentiment_labels.txt line; ValueError if not numbers."""
    return int(left), float(right)


def _read_sentiment_labels(path):
    """``sentiment_labels.txt`` -> {phrase id: value in [0, 1]}."""
    body = _read_text_file(path, b"phrase ids|sentiment values")
    ids, values, linenos = _read_pairs(path, body, b"|", _label_fields,
                                       "'phrase_id|value' with a number value")
    v = np.array(values)                                                     # (P,)
    bad = np.flatnonzero(~((v >= 0) & (v <= 1)) | (ids < 0))   # NaN fails both comparisons
    if bad.size:
        lineno = int(linenos[bad[0]])
        raise damaged(path, f"expected 'phrase_id|value' with an id >= 0 and a value in [0, 1], "
                            f"got {_lines(body)[lineno - 2][:60]!r}", lineno)
    labels = dict(zip(ids.tolist(), values))
    if len(labels) != ids.size:
        _refuse_repeats(path, "phrase id", ids.tolist(), values, linenos, "value")
    return labels
