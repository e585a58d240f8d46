"""Bad SST data: each damaged copy is refused by the loader with a one-line DatasetFormatError (or
OSError) that names the file to blame, the line where one line is to blame (both lines for a key
given twice), and the fix; a special file is refused at once; a draw that can never succeed
raises instead of looping; tolerated variants load to the right result; the source data is never
touched. Issue 11, items 3 and 7; issue 18 (duplicate keys, special files, endless loops)."""
import contextlib
import gzip
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

import utils.sst_corpus
import utils.treebank
from conftest import SST_TINY_DIR, require_data
from q3_word2vec import getNegativeSamples, negSamplingCostAndGradient
from treebank_reference import set_all_sentences
from utils.files import NotRegularFileError
from utils.treebank import (DEFAULT_SST_PATH, DatasetFormatError, MissingLabelWarning,
                            SamplingError, StanfordSentiment)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENT, SPLIT = "datasetSentences.txt", "datasetSplit.txt"
DICT, LAB = "dictionary.txt", "sentiment_labels.txt"
SST_FILES = (SENT, SPLIT, DICT, LAB)
METHOD = {SENT: "sentences", SPLIT: "dataset_split", DICT: "sent_labels", LAB: "sent_labels"}


def tree_digest(folder):
    """sha256 of every file of a folder (the source data must come out of each test intact)."""
    return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for name in sorted(os.listdir(folder)) if name in SST_FILES}


@pytest.fixture(autouse=True)
def source_data_intact():
    """After each test the fixture is byte for byte as before and still loads in full."""
    before = tree_digest(SST_TINY_DIR)
    yield
    assert tree_digest(SST_TINY_DIR) == before
    ds = StanfordSentiment(SST_TINY_DIR, tablesize=100)
    with pytest.warns(MissingLabelWarning):             # sentence 4 has no entry: normal
        assert len(ds.getTrainSentences()) == 2
    assert ds.numSentences() == 6 and ds.dataset_split() == [[0, 1, 3], [2, 5], [4]]


@contextlib.contextmanager
def within(seconds):
    """Fail, instead of hanging the suite, if the block takes longer than `seconds`."""
    def timeout(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: it waits or loops forever")
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- edits of a file's bytes (line numbers are 1-based, the header is line 1) ---------------
def lines_of(data):
    return data.split(b"\n")[:-1]


def join(lines):
    return b"".join(line + b"\n" for line in lines)


def splice(k, removed, new=()):
    """The edit that replaces `removed` lines from line k on by the lines `new`."""
    return lambda data: join(lines_of(data)[:k - 1] + list(new) + lines_of(data)[k - 1 + removed:])


# the tables' vocabulary of edits: each is a function of the file's bytes
drop_line = lambda k: splice(k, 1)
replace_line = lambda k, new: splice(k, 1, [new])
insert_line = lambda k, new: splice(k, 0, [new])                        # `new` becomes line k
copy_line = lambda k, at: lambda data: insert_line(at, lines_of(data)[k - 1])(data)
keep_lines = lambda n: lambda data: join(lines_of(data)[:n])
cut_bytes = lambda n: lambda data: data[:-n]
constant = lambda new: lambda data: new


def every_phrase_again_with_another_id(data):
    """The issue's dictionary: each phrase repeated, with the id of the phrase opposite it."""
    lines = lines_of(data)
    return data + join([a.rpartition(b"|")[0] + b"|" + b.rpartition(b"|")[2]
                        for a, b in zip(lines, reversed(lines))])


BINARY = constant(bytes(range(256)) * 8)
UTF8_ONCE = lambda data: data.decode("utf-8").encode("latin-1")     # undo one of two encodings
LATIN1 = lambda data: UTF8_ONCE(data).decode("utf-8").encode("latin-1")
BOM = lambda data: b"\xef\xbb\xbf" + data


def damaged_copy(tmp_path, source, name, edit):
    """Copy of `source` (the SST files only) with `name` edited."""
    d = tmp_path / "sst"
    d.mkdir()
    for f in SST_FILES:
        shutil.copyfile(os.path.join(source, f), d / f)
    (d / name).write_bytes(edit((d / name).read_bytes()))
    return d


def assert_blames(err, d, name, line, reason, also=()):
    """One line, starting with `name` (and `line`), matching `reason`, naming `also`, and the
    fix."""
    msg = str(err)
    assert "\n" not in msg and "Traceback" not in msg
    prefix = f"{d / name}:{line}: " if line else f"{d / name}"
    assert msg.startswith(prefix), msg
    assert line or not re.match(r":\d+:", msg[len(prefix):]), msg   # no line where none applies
    assert re.search(reason, msg), msg
    for other in also:
        assert str(d / other) in msg, msg
    assert "get_datasets.sh" in msg, msg


# ---- damaged files of the tiny fixture ----------------------------------------------------
# case: (file damaged, edit, line blamed, reason[, file blamed if another, other files named ...]);
# the file damaged is read by METHOD[file damaged]
BOTH = r"either .*{} is cut short or .*{} has extra lines"
CASES = {
    # datasetSentences.txt: caught by sentences(), the only data q3_run.py reads
    "sentences-cut-mid-line": (SENT, cut_bytes(5), 7, r"no newline at its end: the file is cut short"),
    "sentences-cut-at-line": (SENT, drop_line(7), None, r": 5 sentences, but .*datasetSplit\.txt "
                              r"lists 6 \(one line each\): " + BOTH.format(SENT, SPLIT), SENT, SPLIT),
    "sentences-extra-line": (SENT, insert_line(8, b"7\tOne more ."), None,
                             r": 7 sentences, but .*lists 6 .*" + BOTH.format(SPLIT, SENT), SENT, SPLIT),
    "sentences-empty": (SENT, constant(b""), None, r": the file is empty"),
    "sentences-header-only": (SENT, keep_lines(1), None, r": no data after the header"),
    "sentences-only-blank-lines": (SENT, lambda d: lines_of(d)[0] + b"\n\n \n", None,
                                   r": no data after the header"),
    "sentences-binary": (SENT, BINARY, 1, r"a NUL byte: the file is binary"),
    "sentences-utf16": (SENT, lambda d: d.decode("utf-8").encode("utf-16"), 1, r"NUL byte: .*UTF-16"),
    "sentences-gzipped": (SENT, gzip.compress, 1, r"NUL byte"),
    "sentences-zero-filled-tail": (SENT, lambda d: d + b"\0" * 64, 8, r"NUL byte"),
    "sentences-byte-order-mark": (SENT, BOM, 1, r"byte-order mark"),
    "sentences-utf8-encoded-once": (SENT, UTF8_ONCE, 2, r"not double-encoded UTF-8 like the official"),
    "sentences-latin1": (SENT, LATIN1, 2, r"not double-encoded UTF-8"),
    "sentences-wrong-header": (SENT, lambda d: d.replace(b"sentence_index\t", b"index\t", 1), 1,
                               r"expected the header 'sentence_index\\tsentence'"),
    "sentences-split-file-given": (SENT, lambda d: open(SST_TINY_DIR + "/" + SPLIT, "rb").read(), 1,
                                   r"expected the header"),
    "sentences-repeated-line": (SENT, copy_line(3, 4), 4, r"sentence index 2 again \(first on line "
                                r"3; expected 3\): a repeated or out-of-order line"),
    "sentences-missing-line": (SENT, drop_line(4), 4, r"expected sentence index 3, a tab and the"),
    "sentences-out-of-order": (SENT, lambda d: join([lines_of(d)[i] for i in (0, 1, 3, 2, 4, 5, 6)]),
                               3, r"expected sentence index 2"),
    "sentences-blank-line": (SENT, insert_line(4, b""), 4, r"a blank line where sentence 3 should be"),
    "sentences-line-without-index": (SENT, replace_line(3, b"A film with no index"), 3,
                                     r"expected sentence index 2"),
    # datasetSplit.txt: checked against datasetSentences.txt when the sentences are read
    "split-cut-mid-line": (SPLIT, cut_bytes(2), 7, r"no newline at its end: the file is cut short"),
    "split-cut-at-line": (SPLIT, drop_line(7), None,
                          r": 6 sentences, but .*lists 5 .*" + BOTH.format(SPLIT, SENT), SENT, SPLIT),
    "split-extra-line": (SPLIT, insert_line(8, b"7,1"), None,
                         r": 6 sentences, but .*lists 7 .*" + BOTH.format(SENT, SPLIT), SENT, SPLIT),
    "split-index-twice-two-labels": (SPLIT, replace_line(5, b"3,1"), 5, r"sentence index 3 appears "
                                     r"a second time \(first on line 4\), with another label \(1 "
                                     r"here, 2 there\)"),
    "split-line-twice": (SPLIT, copy_line(3, 4), 4,
                         r"sentence index 2 appears a second time \(first on line 3\); each"),
    "split-missing-line": (SPLIT, drop_line(4), None, r": no line for sentence index 3; every "
                           r"sentence of .*datasetSentences\.txt needs"),
    "split-two-missing-lines": (SPLIT, lambda d: drop_line(3)(drop_line(5)(d)), None,
                                r"no line for sentence index 2 \(and 1 more\)"),
    "split-index-zero": (SPLIT, replace_line(2, b"0,1"), 2, r"sentence index 0; the indices start at 1"),
    "split-index-beyond": (SPLIT, replace_line(5, b"99,1"), 5,
                           r"sentence index 99 is beyond the 6 sentences of .*datasetSentences"),
    "split-index-huge": (SPLIT, replace_line(5, b"9" * 30 + b",1"), 5, r"expected 'sentence_index,"),
    "split-index-negative": (SPLIT, replace_line(2, b"-1,1"), 2, r"expected 'sentence_index,label'"),
    "split-label-4": (SPLIT, replace_line(4, b"3,4"), 4,
                      r"a label 1 \(train\), 2 \(test\) or 3 \(dev\), got b'3,4'"),
    "split-label-missing": (SPLIT, replace_line(4, b"3,"), 4, r"expected 'sentence_index,label'"),
    "split-no-comma": (SPLIT, replace_line(3, b"2 1"), 3, r"expected 'sentence_index,label'"),
    "split-words": (SPLIT, replace_line(3, b"two,one"), 3, r"expected 'sentence_index,label'"),
    "split-empty": (SPLIT, constant(b""), None, r"the file is empty"),
    "split-header-only": (SPLIT, keep_lines(1), None, r"no data after the header"),
    "split-binary": (SPLIT, BINARY, 1, r"NUL byte"),
    "split-no-header": (SPLIT, drop_line(1), 1,
                        r"expected the header 'sentence_index,splitset_label', got b'1,1'"),
    # dictionary.txt and sentiment_labels.txt: caught by sent_labels(), which q4 uses
    "dictionary-no-bar": (DICT, replace_line(2, b"A film ( not bad ) ! 11"), 2,
                          r"expected 'phrase\|phrase_id'"),
    "dictionary-id-not-a-number": (DICT, replace_line(2, b"A film ( not bad ) !|eleven"), 2,
                                   r"expected 'phrase\|phrase_id'"),
    "dictionary-id-without-label": (DICT, replace_line(5, b"The film .|99"), 5, r"phrase id 99 has "
                                    r"no line in .*sentiment_labels\.txt \(ids 0\.\.15\): either "
                                    r".*sentiment_labels\.txt is cut short or .*dictionary\.txt has "
                                    r"a wrong id", DICT, LAB),
    "dictionary-phrase-twice-two-ids": (DICT, insert_line(7, b"The film .|11"), 7, r"phrase 'The "
                                        r"film \.' appears a second time \(first on line 5\), with "
                                        r"another id \(11 here, 14 there\)"),
    "dictionary-line-twice": (DICT, copy_line(2, 3), 3, r"phrase 'A film \( not bad \) !' appears a "
                              r"second time \(first on line 2\); each must appear once"),
    "dictionary-every-phrase-twice": (DICT, every_phrase_again_with_another_id, 7, r"phrase 'The "
                                      r"film is a cliché \.' appears a second time \(first on line "
                                      r"1\), with another id \(15 here, 10 there\)"),
    "dictionary-latin1": (DICT, lambda d: d.decode("utf-8").encode("latin-1"), 1, r"not UTF-8"),
    "dictionary-cut-mid-line": (DICT, cut_bytes(2), 6, r"no newline at its end: the file is cut"),
    "dictionary-empty": (DICT, constant(b""), None, r"the file is empty"),
    "dictionary-only-blank-lines": (DICT, constant(b"\n \n"), None, r": no data;"),
    "dictionary-binary": (DICT, BINARY, 1, r"NUL byte"),
    "dictionary-byte-order-mark": (DICT, BOM, 1, r"byte-order mark"),
    "dictionary-of-other-sentences": (DICT, constant(b"Something else .|3\n"), None,
                                      r": none of the 6 sentences of .*datasetSentences\.txt has"),
    "labels-above-one": (LAB, replace_line(13, b"11|1.5"), 13, r"a value in \[0, 1\], got b'11\|1.5'"),
    "labels-negative": (LAB, replace_line(13, b"11|-0.1"), 13, r"a value in \[0, 1\]"),
    "labels-nan": (LAB, replace_line(13, b"11|nan"), 13, r"a value in \[0, 1\], got b'11\|nan'"),
    "labels-inf": (LAB, replace_line(13, b"11|inf"), 13, r"a value in \[0, 1\]"),
    "labels-negative-id": (LAB, replace_line(13, b"-11|0.6"), 13, r"an id >= 0"),
    "labels-not-a-number": (LAB, replace_line(13, b"11|0.6x"), 13,
                            r"expected 'phrase_id\|value' with a number value, got b'11\|0.6x'"),
    "labels-two-dots": (LAB, replace_line(13, b"11|0.6.1"), 13, r"with a number value"),
    "labels-no-bar": (LAB, replace_line(13, b"11 0.6"), 13, r"with a number value"),
    "labels-id-not-a-number": (LAB, replace_line(13, b"eleven|0.6"), 13, r"with a number value"),
    "labels-id-twice-two-values": (LAB, replace_line(14, b"11|0.85"), 14, r"phrase id 11 appears a "
                                   r"second time \(first on line 13\), with another value \(0.85 "
                                   r"here, 0.6 there\)"),
    "labels-line-twice": (LAB, copy_line(13, 14), 14,
                          r"phrase id 11 appears a second time \(first on line 13\); each"),
    "labels-cut-mid-line": (LAB, cut_bytes(3), 17, r"no newline at its end: the file is cut short"),
    "labels-cut-at-line": (LAB, keep_lines(14), 4, r"phrase id 13 \(and 2 more\) has no line in "
                           r".*sentiment_labels\.txt \(ids 0\.\.12\): either .*sentiment_labels\."
                           r"txt is cut short or .*dictionary\.txt has a wrong id", DICT, LAB),
    "labels-empty": (LAB, constant(b""), None, r"the file is empty"),
    "labels-header-only": (LAB, keep_lines(1), None, r"no data after the header"),
    "labels-binary": (LAB, BINARY, 1, r"NUL byte"),
    "labels-no-header": (LAB, drop_line(1), 1, r"expected the header 'phrase ids\|sentiment values'"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_damaged_file_is_blamed(tmp_path, case):
    damaged, edit, line, reason, *blamed = case        # blamed: [file blamed, other files named]
    d = damaged_copy(tmp_path, SST_TINY_DIR, damaged, edit)
    ds = StanfordSentiment(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingLabelWarning)
        with pytest.raises(DatasetFormatError) as err:
            getattr(ds, METHOD[damaged])()
        assert_blames(err.value, d, (blamed or [damaged])[0], line, reason, blamed[1:])
        with pytest.raises(DatasetFormatError) as again:      # nothing half-loaded is cached
            getattr(ds, METHOD[damaged])()
    assert str(again.value) == str(err.value)


# ---- missing, special or unreadable files ----------------------------------------------------
KINDS = {   # how to put something that is not a readable regular file where a file should be
    "missing": (os.remove, FileNotFoundError, r"SST file {path} not found; run `bash get_datasets"),
    "folder": (lambda p: (os.remove(p), os.mkdir(p)), NotRegularFileError, r"a folder"),
    "fifo": (lambda p: (os.remove(p), os.mkfifo(p)), NotRegularFileError, r"a named pipe \(FIFO\)"),
    "device": (lambda p: (os.remove(p), os.symlink("/dev/zero", p)), NotRegularFileError,
               r"a character device"),
    "unreadable": (lambda p: os.chmod(p, 0), PermissionError, r"Permission denied"),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", SST_FILES)
def test_a_file_that_is_missing_or_special_is_named_at_once(tmp_path, name, kind):
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    make, error, reason = KINDS[kind]
    d = damaged_copy(tmp_path, SST_TINY_DIR, name, lambda data: data)
    make(d / name)
    ds = StanfordSentiment(d)
    with within(10), pytest.raises(error) as err:     # never waits on a FIFO, never reads /dev/zero
        getattr(ds, METHOD[name])()
    msg = str(err.value)
    assert "\n" not in msg and str(d / name) in msg, msg
    assert re.search(reason.format(path=re.escape(str(d / name))), msg), msg
    if kind == "missing" and name != SENT:
        assert ds.numSentences() == 6      # q3_run needs only datasetSentences.txt


# ---- draws that can never succeed raise, on the classic and the batched path -------------------
def tiny(all_sentences=None, tablesize=1000, table=None):
    """The tiny fixture, with allSentences() and the sampling table replaced if given."""
    ds = StanfordSentiment(SST_TINY_DIR, tablesize=tablesize)
    if all_sentences is not None:
        set_all_sentences(ds, all_sentences)
    if table is not None:
        ds._sampleTable = np.array(table, dtype=np.int32)
    return ds


one_word_corpus = lambda: tiny([["good", "good"], ["good", "good", "good"]])   # no context word
empty_corpus = lambda: tiny([])
one_word_table = lambda: tiny(tablesize=1)             # its table is [0]: "the" and nothing else
RNG = np.random.default_rng
IMPOSSIBLE = {   # case: (dataset, draw, error, reason)
    "classic-window-no-context": (one_word_corpus, lambda ds: ds.getRandomContext(3), SamplingError,
                                  r"none of the 2 sentences holds two different words"),
    "batched-window-no-context": (one_word_corpus, lambda ds: ds.sample_windows(RNG(0), 10, 3),
                                  SamplingError, r"none of the 2 sentences holds two different"),
    "classic-window-empty-corpus": (empty_corpus, lambda ds: ds.getRandomContext(3), SamplingError,
                                    r"the corpus is empty"),
    "batched-window-empty-corpus": (empty_corpus, lambda ds: ds.sample_windows(RNG(0), 10, 3),
                                    SamplingError, r"the corpus is empty"),
    "classic-negatives": (one_word_table, lambda ds: getNegativeSamples(0, ds, 10), ValueError,
                          r"sampleTokenIdx\(\) gave the target 0 1000 times in a row"),
    "classic-negsampling-loss": (one_word_table, lambda ds: negSamplingCostAndGradient(
        np.ones(3), 0, np.ones((15, 3)), ds, 10), ValueError, r"gave the target 0 1000 times"),
    "batched-negatives": (one_word_table, lambda ds: ds.sample_negatives(RNG(0), [3, 0, 2], 10),
                          SamplingError, r"every entry of the negative-sampling table is word 0"),
}


@pytest.mark.parametrize("dataset, draw, error, reason", IMPOSSIBLE.values(), ids=IMPOSSIBLE.keys())
def test_a_draw_that_can_never_succeed_raises(dataset, draw, error, reason):
    ds = dataset()
    with within(20), pytest.raises(error, match=reason) as err:
        draw(ds)
    assert "\n" not in str(err.value)


rare_context_corpus = lambda: tiny([["good", "good"]] * 30 + [["the", "film"]])  # 1 in ~60
rare_negative_table = lambda: tiny(tablesize=100, table=[0] + [1] * 99)          # 0 once in 100
RARE = {   # case: (dataset, draw, check of the result)
    "classic-window": (rare_context_corpus, lambda ds: ds.getRandomContext(1),
                       lambda got: got in [("the", ["film"]), ("film", ["the"])]),
    "batched-window": (rare_context_corpus, lambda ds: ds.sample_windows(RNG(0), 20, 1),
                       lambda got: set(got[1][:, 0].tolist()) <= {0, 1} and np.all(got[1][:, 1] == -1)),
    "batched-negatives": (rare_negative_table, lambda ds: ds.sample_negatives(RNG(0), [1, 1], 3),
                          lambda got: got.tolist() == [[0, 0, 0], [0, 0, 0]]),
}


@pytest.mark.parametrize("dataset, draw, check", RARE.values(), ids=RARE.keys())
def test_a_rare_but_possible_draw_goes_on_past_the_bound(monkeypatch, dataset, draw, check):
    """With the bound at 3 redraws, the check that success is possible runs and lets it go on."""
    monkeypatch.setattr(utils.sst_corpus, "MAX_REDRAWS", 3)
    monkeypatch.setattr(utils.treebank, "MAX_REDRAWS", 3)
    ds = dataset()
    for _ in range(5):
        with within(20):
            assert check(draw(ds))


# ---- tolerated variants: the right result --------------------------------------------------
def load_all(d):
    ds = StanfordSentiment(d, tablesize=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingLabelWarning)
        return ds.sentences(), ds.dataset_split(), ds.sent_labels()


def test_crlf_and_blank_lines_give_the_same_data(tmp_path):
    expected = load_all(SST_TINY_DIR)
    d = damaged_copy(tmp_path, SST_TINY_DIR, SENT, lambda data: data.replace(b"\n", b"\r\n"))
    for name in (SPLIT, DICT, LAB):   # CRLF, a blank line, spaces around the fields
        data = (d / name).read_bytes().replace(b"\n", b" \r\n")
        (d / name).write_bytes(data.replace(b"\r\n", b"\r\n\n", 2))
    sentences, split, labels = load_all(d)
    assert sentences == expected[0] and split == expected[1]
    assert len(labels) == len(expected[2]) == 6
    assert labels[:3] == expected[2][:3] and labels[4:] == expected[2][4:]


def test_phrases_equal_once_lower_cased_keep_the_last_id_as_the_classic(tmp_path):
    """Not a repeated key: the file's keys differ ("The film ." / "THE FILM ."), the classic
    ``dictionary[phrase.lower()] = id`` keeps the last, and so do we."""
    d = damaged_copy(tmp_path, SST_TINY_DIR, DICT, insert_line(7, b"THE FILM .|10"))
    assert load_all(d)[2][5] == 0.2          # sentence 6 "the film .": id 10's value, not 14's


def test_split_lines_in_another_order_keep_file_order(tmp_path):
    d = damaged_copy(tmp_path, SST_TINY_DIR, SPLIT,
                     lambda data: join([lines_of(data)[i] for i in (0, 6, 5, 4, 3, 2, 1)]))
    assert StanfordSentiment(d).dataset_split() == [[3, 1, 0], [5, 2], [4]]


def test_custom_corpus_without_split_file_still_trains(tmp_path):
    d = tmp_path / "corpus"
    d.mkdir()
    (d / SENT).write_bytes(b"sentence_index\tsentence\n1\ta b\n2\tb c\n")
    ds = StanfordSentiment(d)
    assert ds.sentences() == [["a", "b"], ["b", "c"]]
    with pytest.raises(FileNotFoundError, match=re.escape(str(d / SPLIT))):
        ds.dataset_split()


# ---- the real data (issue 11, item 3) -----------------------------------------------------
@pytest.fixture
def real_sst():
    require_data(DEFAULT_SST_PATH, "SST data")
    return DEFAULT_SST_PATH


REAL_CASES = {   # case: (file damaged, edit, file blamed, line, reason, other files named)
    "sentences-truncated-to-600000-bytes": (SENT, lambda data: data[:600_000], SENT, 5313,
                                            r"no newline at its end: the file is cut short", ()),
    "sentences-cut-at-a-line": (SENT, keep_lines(5001), SENT, None,
                                r": 5000 sentences, but .*datasetSplit\.txt lists 11855", (SPLIT,)),
    "split-cut-at-a-line": (SPLIT, keep_lines(11001), SENT, None,
                            r": 11855 sentences, but .*lists 11000 .*either .*datasetSplit\.txt "
                            r"is cut short", (SPLIT,)),
    "labels-cut-at-a-line": (LAB, keep_lines(200_001), DICT, 5,
                             r"phrase id 221050 \(and 2380 more\) has no line in "
                             r".*sentiment_labels\.txt \(ids 0\.\.199999\): either "
                             r".*sentiment_labels\.txt is cut short", (LAB,)),
}


@pytest.mark.parametrize("damaged, edit, blamed, line, reason, also", REAL_CASES.values(),
                         ids=REAL_CASES.keys())
def test_real_damaged_file_is_blamed(tmp_path, real_sst, damaged, edit, blamed, line, reason, also):
    d = damaged_copy(tmp_path, real_sst, damaged, edit)
    with pytest.raises(DatasetFormatError) as err:
        getattr(StanfordSentiment(d), METHOD[damaged])()
    assert_blames(err.value, d, blamed, line, reason, also)
    if line:
        assert SPLIT not in str(err.value)


def test_q3_run_refuses_the_truncated_sentences_of_the_issue(tmp_path, real_sst):
    d = damaged_copy(tmp_path, real_sst, SENT, lambda data: data[:600_000])
    out = tmp_path / "vectors.txt"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "q3_run.py"), "--data", str(d),
                           "--iterations", "20", "--checkpoint-dir", str(tmp_path / "ck"),
                           "--no-plot", "--vectors-out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout + proc.stderr
    assert re.search(r"^q3_run\.py: error: " + re.escape(f"{d / SENT}:5313:") + r" .*cut short",
                     proc.stderr, re.M), proc.stderr
    ck = tmp_path / "ck"
    assert not out.exists()
    assert not ck.exists() or not [f for f in os.listdir(ck) if f.endswith(".npz")]
