"""Word vectors in text format (GloVe, word2vec): read them, or write word2vec text.

The text format is one word per line: the word, then ``D`` floats, all separated by single
spaces (``the 0.418 0.24968 -0.41242 ...``). word2vec files start with a header line ``V D``;
GloVe files have none. ``read_word_vectors`` is the one reader: it reads either kind and can
keep only the words of a vocabulary while it streams the file (400,000 lines for GloVe 6B).
``loadWordVectors`` is the course's interface to it for GloVe. ``write_word2vec_text`` writes
what ``q3_run.py --vectors-out`` saves. (``utils/glove_wheel.py`` builds ``glove.6B.50d.txt``
for ``get_datasets.sh``.)
"""
import codecs
import os

import numpy as np

from utils.data_paths import DEFAULT_GLOVE_PATH, FETCH_HINT
from utils.files import atomic_write, open_regular

# Files that are not word vectors in text, known by their first bytes: named in the message.
_NOT_TEXT = (
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first (gunzip)"),
    (b"PK\x03\x04", "a zip archive; unpack the vectors file from it first (unzip)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file; decompress it first (unxz)"),
    (codecs.BOM_UTF16_LE, "UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"),
    (codecs.BOM_UTF16_BE, "UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)"),
)
_WORD2VEC_BIN = ("a word2vec binary (.bin) file; this reader takes the text format: convert it "
                 "(e.g. gensim's KeyedVectors.load_word2vec_format(path, binary=True)"
                 ".save_word2vec_format(out, binary=False))")


def read_word_vectors(path, vocabulary=None, dimensions=None, max_abs=None,
                      missing_hint="check the path"):
    """Read word vectors in word2vec or GloVe text format.

    Every line is a word and D numbers separated by single spaces; blank lines are skipped.
    The first line may be a word2vec header "V D" (two integers; when `dimensions` is given,
    only if D equals it): then the file must hold exactly V vectors. A UTF-8 byte-order mark
    at the start is skipped. A word that appears twice keeps its first vector. Words must be
    UTF-8 and the vectors read must be finite (and within `max_abs`), so a damaged file is
    refused here instead of giving wrong results later.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file (a folder, FIFO or device is refused at once: ``utils.files``).
    vocabulary : iterable of str, optional
        Keep only these words. Only their lines are parsed, so a 400,000-line file
        costs little time and memory. All words are kept when None.
    dimensions : int, optional
        D, the number of floats on every line. If None, D comes from the header
        or else from the first line.
    max_abs : float, optional
        Refuse a vector read that holds a value larger than this in magnitude.
    missing_hint : str
        The fix the message names when `path` does not exist.

    Returns
    -------
    tokens : dict of str -> int
        word -> row index into `vectors`, in file order.
    vectors : ndarray of float64, shape (len(tokens), D)

    Raises
    ------
    FileNotFoundError
        `path` does not exist.
    OSError
        It is not a regular file, or cannot be read (naming it).
    ValueError
        The message names the file and line: a line that does not hold a word and D numbers,
        a word that is not UTF-8, a NaN, infinite or too large value in a vector that is read,
        a header whose V is not the number of vectors, or a file that holds no vector at all;
        and what the file is when it is compressed, binary word2vec, UTF-16 or tab-separated.
    """
    path = os.fspath(path)
    if dimensions is not None and (not isinstance(dimensions, (int, np.integer))
                                   or dimensions < 1):
        raise ValueError(f"read_word_vectors: dimensions must be a positive integer, "
                         f"got {dimensions!r}")
    try:
        f = open_regular(path, "word-vector file")
    except FileNotFoundError:
        raise FileNotFoundError(f"word-vector file {path} not found; {missing_hint}") from None
    # Look words up as raw bytes: decoding each of the 400,000 words would cost more than the
    # lookups. Without a vocabulary every word is kept, so each one is decoded.
    if vocabulary is None:
        lookup = lambda word: word.decode("utf-8")  # noqa: E731
    else:
        lookup = {w.encode("utf-8"): w for w in vocabulary}.get
    tokens, rows, line_of_row, D, V, blanks = {}, [], [], dimensions, None, 0
    with f:
        # The header is handled here, not in the loop: the loop runs 400,000 times for GloVe.
        first = f.readline()
        for magic, what in _NOT_TEXT:
            if first.startswith(magic):
                raise ValueError(f"{path}: {what}")
        bom = len(codecs.BOM_UTF8) if first.startswith(codecs.BOM_UTF8) else 0
        start = 2 if _is_header(first[bom:].rstrip(), dimensions) else 1
        if start == 2:
            V, D = (int(x) for x in first[bom:].split())       # word2vec header "V D"
        else:
            f.seek(bom)
        lineno = start - 1
        try:                                     # free until a word that is not UTF-8 raises
            for lineno, line in enumerate(f, start=start):
                line = line.rstrip()
                if not line:
                    blanks += 1
                    continue
                # Counting separators is a C-level check of every line; floats are parsed only
                # for the lines that are kept.
                if line.count(b" ") != D:
                    if D is None:                # no header, no `dimensions`: this line sets D
                        D = line.count(b" ")
                    if line.count(b" ") != D or D == 0:
                        raise ValueError(_problem(
                            path, lineno, line, V, f"expected a word and {D} numbers separated "
                            f"by single spaces, got {len(line.split())} fields"))
                word, _, numbers = line.partition(b" ")
                text = lookup(word)
                if text is None:                 # not wanted; but it must still be UTF-8 text
                    if not word.isascii():
                        word.decode("utf-8")
                    continue
                if text in tokens:
                    continue                     # a repeat: the first one wins
                try:
                    rows.append(np.array(numbers.split(b" "), dtype=np.float64))    # (D,)
                except ValueError as err:
                    raise ValueError(_problem(path, lineno, line, V, "not a number in the "
                                              f"vector of {word.decode('utf-8', 'replace')!r}: "
                                              f"{err}")) from None
                tokens[text] = len(rows) - 1
                line_of_row.append(lineno)
        except UnicodeDecodeError:
            raise ValueError(_problem(path, lineno, line, V, "the word is not UTF-8 text; "
                                      "convert the file to UTF-8 (e.g. with iconv)")) from None
    n_vectors = lineno - start + 1 - blanks
    if n_vectors == 0:
        raise ValueError(f"{path}: no word vectors in the file; pass a file with lines "
                         "'word x1 ... xD'")
    if V is not None and V != n_vectors:
        raise ValueError(f"{path}:1: the header says {V} vectors but the file holds {n_vectors}; "
                         "the file is truncated or its header is wrong")
    vectors = np.array(rows) if rows else np.zeros((0, D))               # (len(tokens), D)
    check_vectors(vectors, tokens, lambda row: f"{path}:{line_of_row[row]}", "the file is "
                  "damaged or in other units: fetch or write it again, or scale it down", max_abs)
    return tokens, vectors


def _is_header(line, dimensions):
    """Whether the first line of a file (bytes, stripped) is a word2vec header "V D".

    It is when it holds two integers, D >= 1, and D equals `dimensions` if that is given.
    """
    fields = line.split(b" ")
    return (len(fields) == 2 and all(x.isdigit() for x in fields) and int(fields[1]) >= 1
            and (dimensions is None or int(fields[1]) == dimensions))


def _problem(path, lineno, line, V, message):
    """``path:line: message``, or what the file is when the line shows it (binary, tabs)."""
    binary = any(c < 32 or c == 127 for c in line.replace(b"\t", b" ").replace(b"\r", b""))
    if binary and V is not None and lineno == 2:
        return f"{path}: {_WORD2VEC_BIN}"
    if binary:
        return f"{path}:{lineno}: not text: a binary file, not word vectors in text format"
    if b"\t" in line:
        return (f"{path}:{lineno}: fields separated by tabs (a tab-separated file); the format "
                "needs single spaces: replace the tabs (e.g. tr '\\t' ' ' < in > out)")
    return f"{path}:{lineno}: {message}"


def check_vectors(vectors, tokens, where, fix, max_abs=None):
    """Refuse the first vector that holds NaN, inf or (with `max_abs`) a value beyond it.

    Parameters
    ----------
    vectors : ndarray, shape (n, D)
    tokens : dict of str -> int
        word -> row of `vectors`, to name the word.
    where : callable
        row -> where it comes from (``file:line``), for the message.
    fix : str
        What to do about a value beyond `max_abs`.
    max_abs : float, optional

    Raises
    ------
    ValueError
        ``<where>: the vector of '<word>' holds ...; <fix>``.
    """
    largest = np.abs(vectors).max(axis=1, initial=0.0)                  # (n,), NaN stays NaN
    bad = np.flatnonzero(~(largest <= (np.finfo(np.float64).max if max_abs is None else max_abs)))
    if not bad.size:
        return
    word = next(w for w, i in tokens.items() if i == bad[0])
    if not np.isfinite(largest[bad[0]]):
        raise ValueError(f"{where(bad[0])}: the vector of {word!r} holds NaN or infinite "
                         "values; the file is damaged: fetch or write it again")
    raise ValueError(f"{where(bad[0])}: the vector of {word!r} holds {largest[bad[0]]:.3g}, "
                     f"beyond the {max_abs:g} in magnitude that the model handles (trained "
                     f"word vectors are of order 1); {fix}")


def loadWordVectors(tokens, filepath=DEFAULT_GLOVE_PATH, dimensions=50):
    """Read the GloVe vectors of the words of a vocabulary.

    Parameters
    ----------
    tokens : dict of str -> int
        Vocabulary, word -> row index (for example ``StanfordSentiment().tokens()``);
        indices run over ``0 .. len(tokens) - 1``.
    filepath : str or os.PathLike, optional
        GloVe text file; defaults to ``utils/datasets/glove.6B.50d.txt`` next to this module.
        A word2vec header line is accepted too (see `read_word_vectors`).
    dimensions : int, optional
        Number of floats after the word on every line.

    Returns
    -------
    wordVectors : ndarray of float64, shape (len(tokens), dimensions)
        Row ``tokens[w]`` is the vector of ``w``; rows of words that GloVe lacks are zero.
        A word that appears twice in the file keeps its first vector.

    Raises
    ------
    FileNotFoundError
        `filepath` does not exist (the message names the fetch command).
    ValueError
        As `read_word_vectors` (names file and line).
    """
    found, vectors = read_word_vectors(filepath, vocabulary=tokens, dimensions=dimensions,
                                       missing_hint=FETCH_HINT)
    wordVectors = np.zeros((len(tokens), dimensions))                  # (V, D)
    # `found` maps each word to its row of `vectors`, and those rows are 0, 1, 2, ... in order.
    wordVectors[np.fromiter((tokens[w] for w in found), dtype=np.intp, count=len(found))] = vectors
    return wordVectors


def write_word2vec_text(path, words, vectors):
    """Write `vectors` (V, D) as word2vec text, atomically: a "V D" header, then "word v1 ... vD"
    per line with 9 significant digits (q3_run.py --vectors-out; read back by read_word_vectors)."""
    V, D = vectors.shape
    if len(words) != V:
        raise ValueError(f"write_word2vec_text: {len(words)} words for {V} vectors")
    body = np.char.add(np.array(words, dtype=str), " ")
    rows = [" ".join(f"{v:.9g}" for v in row) for row in vectors.tolist()]

    def write(fh):
        fh.write(f"{V} {D}\n")
        fh.writelines(f"{w}{r}\n" for w, r in zip(body.tolist(), rows))
    atomic_write(path, write, binary=False)
