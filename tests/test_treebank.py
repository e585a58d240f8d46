"""Tests of the SST loader (utils/treebank.py, utils/sst_corpus.py): exact values on the tiny
fixture, distributions of the batched samplers against the classic ones, and counts on the real
SST (fixture ``sst``). Damaged files and impossible draws: tests/test_bad_inputs_sst.py."""
import hashlib
import math
import os
import random
import re
import shutil
import warnings
from collections import Counter, defaultdict

import numpy as np
import pytest

from conftest import SST_TINY_DIR, require_data
from q3_word2vec import getNegativeSamples
from treebank_reference import sample_table_reference, set_all_sentences, subsample_reference
from utils.sst_corpus import SentenceList, subsample
from utils.treebank import DEFAULT_SST_PATH, MissingLabelWarning, StanfordSentiment

# ---- the tiny fixture, worked out by hand from tests/fixtures/sst_tiny -----------------------
NBSP = "\u00a0"
TINY_SENTENCES = [
    ["the", "film", "is", "a", "cliché", "."],
    ["a", "film", "-lrb-", "not", "bad", "-rrb-", "!"],
    ["the", f"8{NBSP}1\\/2", "film", "is", "good", "good", "."],
    ["not", "a", "film", "."],
    ["café", "film", "."],
    ["the", "film", "."],
]
TINY_TOKENS = ["the", "film", "is", "a", "cliché", ".", "-lrb-", "not", "bad", "-rrb-", "!",
               f"8{NBSP}1\\/2", "good", "café", "UNK"]
TINY_FREQ = [3, 6, 2, 3, 1, 5, 1, 2, 1, 1, 1, 1, 2, 1, 1]


def chi2_stat(observed, expected):
    """Pearson chi-square statistic of counts against expected counts (same shape)."""
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    assert observed.shape == expected.shape
    return float(np.sum((observed - expected) ** 2 / expected))


def chi2_limit(df):
    """A bound that a chi-square(df) variable exceeds with probability ~1e-6 or less."""
    return df + 7 * math.sqrt(2 * df)


# ---- what the loader reads: by hand from the tiny fixture, observed on the real SST -----------
S = TINY_SENTENCES
TINY = {   # case: (what is read, its value)
    "sentences": (lambda ds: ds.sentences(), TINY_SENTENCES),   # repaired, lower-cased, ASCII split
    "numSentences": (lambda ds: ds.numSentences(), 6),
    "tokens-in-order": (lambda ds: list(ds.tokens().items()), list(zip(TINY_TOKENS, range(15)))),
    "tokenfreq": (lambda ds: ds.tokenfreq, dict(zip(TINY_TOKENS, TINY_FREQ))),
    "revtokens": (lambda ds: (ds.tokens(), ds._revtokens)[1], TINY_TOKENS),
    "wordcount": (lambda ds: (ds.tokens(), ds._wordcount)[1], 31),        # 30 words + UNK
    "csr-shapes": (lambda ds: [a.shape for a in ds.sentences_csr()], [(30,), (7,)]),
    "csr-offsets": (lambda ds: ds.sentences_csr()[1].tolist(), [0, 6, 13, 20, 24, 27, 30]),
    "csr-sentence-4": (lambda ds: ds.sentences_csr()[0][20:24].tolist(), [7, 3, 1, 5]),  # not a film .
    "dataset_split": (lambda ds: ds.dataset_split(), [[0, 1, 3], [2, 5], [4]]),
    "getTrainSentences": (lambda ds: ds.getTrainSentences(), [(S[0], 0), (S[1], 2)]),  # 4: no label
    "getTestSentences": (lambda ds: ds.getTestSentences(), [(S[2], 4), (S[5], 3)]),
    "getDevSentences": (lambda ds: ds.getDevSentences(), [(S[4], 1)]),
}
REAL = {   # case: (what is read, its value); the classes are the PTB tree root labels (see below)
    "tokens": (lambda ds: len(ds.tokens()), 19_539),
    "first-tokens": (lambda ds: list(ds.tokens())[:6], ["the", "rock", "is", "destined", "to", "be"]),
    "UNK": (lambda ds: (ds.tokens()["UNK"], ds.tokenfreq["UNK"]), (19_538, 1)),
    "numSentences": (lambda ds: ds.numSentences(), 11_855),
    "words": (lambda ds: [ds.sentences_csr()[0].size, ds.sentences_csr()[1][-1]], [227_242] * 2),
    "wordcount": (lambda ds: (ds._wordcount, sum(ds.tokenfreq.values())), (227_243, 227_243)),
    "rejectProb-both-branches": (lambda ds: [(ds.rejectProb() > 0).sum(), (ds.rejectProb() == 0).sum()],
                                 [7_050, 12_489]),          # tokens subsampled, tokens always kept
    "repaired-words": (lambda ds: [w for w in ["cliché", "pokémon", "café", "brûlée", "schütte",
                                                f"8{NBSP}1\\/2"] if w not in ds.tokens()], []),
    "no-double-encoding-left": (lambda ds: [w for w in ds.tokens() if "Ã" in w or "Â" in w], []),
    "lower-cased": (lambda ds: [w for w in ds.tokens() if w != w.lower()], ["UNK"]),
    "split-sizes": (lambda ds: [len(s) for s in ds.dataset_split()], [8544, 2210, 1101]),
    "train-classes": (lambda ds: classes(ds.getTrainSentences()), [1091, 2216, 1623, 2322, 1287]),
    "dev-classes": (lambda ds: classes(ds.getDevSentences()), [139, 289, 229, 279, 165]),
    "test-classes": (lambda ds: classes(ds.getTestSentences()), [279, 633, 389, 510, 399]),
    "first-train": (lambda ds: (ds.getTrainSentences()[0][0][:4], ds.getTrainSentences()[0][1]),
                    (["the", "rock", "is", "destined"], 3)),
    "first-test": (lambda ds: ds.getTestSentences()[0],
                   (["effective", "but", "too-tepid", "biopic"], 2)),
    "last-test": (lambda ds: ds.getTestSentences()[-1],
                  (["-lrb-", "u", "-rrb-", "nrelentingly", "stupid", "."], 0)),
    "first-dev-class": (lambda ds: ds.getDevSentences()[0][1], 3),
    "sentence-7441": (lambda ds: (" ".join(ds.sentences()[7440]), ds.sent_labels()[7440]),
                      ("how do you spell cliché ?", 0.16667)),
    "sentence-7441-class": (lambda ds: ds.categorify(ds.sent_labels()[7440]), 0),
}


def classes(rows):
    """Number of (words, class) rows of each class 0..4."""
    return np.bincount([cls for _, cls in rows], minlength=5).tolist()


@pytest.mark.filterwarnings("ignore::utils.treebank.MissingLabelWarning")
@pytest.mark.parametrize("read, value", TINY.values(), ids=TINY.keys())
def test_tiny_fixture(sst_tiny, read, value):
    assert read(sst_tiny) == value


@pytest.mark.parametrize("read, value", REAL.values(), ids=REAL.keys())
def test_real_sst(sst, read, value):
    assert read(sst) == value


def test_empty_sentence_and_extra_whitespace(tmp_path):
    d = tmp_path / "sst"
    shutil.copytree(SST_TINY_DIR, d)
    (d / "datasetSentences.txt").write_bytes(
        b"sentence_index\tsentence\n1\tA  b\t c \r\n2\t\n3\tb\n")
    (d / "datasetSplit.txt").write_bytes(b"sentence_index,splitset_label\n1,1\n2,2\n3,3\n")
    ds = StanfordSentiment(d)
    assert ds.sentences() == [["a", "b", "c"], [], ["b"]]
    assert ds.dataset_split() == [[0], [1], [2]]
    assert ds.tokens() == {"a": 0, "b": 1, "c": 2, "UNK": 3}
    assert ds._wordcount == 5


# ---- labels and splits -------------------------------------------------------------------
def test_sent_labels_and_one_warning_with_count(sst_tiny):
    with pytest.warns(MissingLabelWarning) as record:
        labels = sst_tiny.sent_labels()
    assert len(record) == 1
    assert re.search(r"\b1 sentences\b.*sentence_index 4\)", str(record[0].message))
    assert labels[:3] == [0.2, 0.6, 0.85] and labels[4:] == [0.4, 0.8]
    assert math.isnan(labels[3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sst_tiny.sent_labels()
        sst_tiny.getTrainSentences()          # cached: no second warning


@pytest.mark.parametrize("value, cls", [(0.0, 0), (0.2, 0), (0.2000001, 1), (0.4, 1), (0.5, 2),
                                        (0.6, 2), (0.8, 3), (0.8000001, 4), (1.0, 4)])
def test_categorify_boundaries(value, cls):
    assert StanfordSentiment.categorify(value) == cls


def test_categorify_nan():
    with pytest.raises(ValueError, match="NaN"):
        StanfordSentiment.categorify(float("nan"))


# ---- subsampling: fast version against the readable classic one ---------------------------
def test_rejectProb(sst_tiny):
    p = sst_tiny.rejectProb()
    assert p.shape == (15,) and p.dtype == np.float64
    assert p[1] == max(0.0, 1 - math.sqrt(31e-5 / 6))                 # film
    assert p[14] == max(0.0, 1 - math.sqrt(31e-5 / 1))                # UNK
    assert np.all(p > 0.98)


# (fixture, copies of its corpus, factor on rejectProb, copies made by subsample, seed)
SUBSAMPLE_CASES = {"tiny-x20": ("sst_tiny", 20, 0.6, 30, 1),   # ~half kept: many sentences survive
                   "real": ("sst", 1, 1.0, 1, 8)}


@pytest.mark.parametrize("fixture, tile, factor, copies, seed", SUBSAMPLE_CASES.values(),
                         ids=SUBSAMPLE_CASES.keys())
def test_subsample_equals_the_classic_loop_and_its_random_stream(request, fixture, tile, factor,
                                                                 copies, seed):
    ds = request.getfixturevalue(fixture)
    ids, offsets = ds.sentences_csr()
    big = np.tile(ids, tile)
    big_offsets = np.concatenate([[0], np.cumsum(np.tile(np.diff(offsets), tile))])
    p = ds.rejectProb() * factor
    random.seed(seed)
    fast = SentenceList(*subsample(big, big_offsets, p, copies), ds._revtokens)
    after_fast = random.random()
    random.seed(seed)
    reference = subsample_reference(ds.sentences() * tile, ds.tokens(), p, copies)
    assert len(fast) == len(reference) > 100
    assert list(fast) == reference
    assert random.random() == after_fast      # the same number of draws was consumed


def test_subsample_probabilities_zero_and_one(sst_tiny):
    """p <= 0: kept without a draw; p = 1: always dropped (random() < 1)."""
    ids, offsets = sst_tiny.sentences_csr()
    p = np.zeros(15)
    p[sst_tiny.tokens()["film"]] = 1.0
    random.seed(7)
    kept_ids, kept_offsets = subsample(ids, offsets, p, copies=2)
    after = random.random()
    random.seed(7)
    assert after == [random.random() for _ in range(13)][-1]   # 12 draws: the 12 "film"s
    expected = [[w for w in s if w != "film"] for s in TINY_SENTENCES] * 2
    expected = [s for s in expected if len(s) > 1]             # ["café", "."] has 2: kept
    assert list(SentenceList(kept_ids, kept_offsets, sst_tiny._revtokens)) == expected


def test_allSentences_on_fixture_equals_reference(sst_tiny):
    random.seed(3)
    fast = list(sst_tiny.allSentences())
    after = random.random()
    random.seed(3)
    assert fast == subsample_reference(TINY_SENTENCES, sst_tiny.tokens(), sst_tiny.rejectProb())
    assert random.random() == after


def test_sentence_list_behaves_like_a_list(sst_tiny):
    ids, offsets = sst_tiny.sentences_csr()
    view = SentenceList(ids, offsets, sst_tiny._revtokens)
    assert len(view) == 6
    assert view[0] == TINY_SENTENCES[0] and view[-1] == TINY_SENTENCES[-1]
    assert view[1:3] == TINY_SENTENCES[1:3]
    assert list(view) == TINY_SENTENCES
    with pytest.raises(IndexError):
        view[6]


# ---- windows: classic and batched ----------------------------------------------------------
WINDOW_SENTENCES = [
    ["the", "film", "the", "is", "good", "."],        # repeated centre word gets removed
    ["film", "good"],
    ["good", "good"],                                  # every window empty: always redrawn
    ["bad", "bad", "bad", "bad", "film"],              # empty or not depending on C1
    ["a", "film", "is", "a", "cliché", ".", "not", "bad"],
]


def exact_window_distribution(sentences, C):
    """P(centre, context) of 'C1 uniform in 1..C, then getRandomContext(C1)', by enumeration."""
    dist = defaultdict(float)
    for C1 in range(1, C + 1):
        q = defaultdict(float)
        for s in sentences:
            for w in range(len(s)):
                context = tuple(t for t in s[max(0, w - C1):w] + s[w + 1:w + C1 + 1] if t != s[w])
                if context:
                    q[(s[w], context)] += 1 / len(sentences) / len(s)
        total = sum(q.values())               # an empty context is redrawn with the same C1
        for key, value in q.items():
            dist[key] += value / total / C
    return dist


@pytest.mark.parametrize("sentences, C, expected", [
    ([["good", "good"], ["the", "film"]], 5, {("the", ("film",)), ("film", ("the",))}),
    ([["film", "film", "good"]], 1, {("film", ("good",)), ("good", ("film",))}),
])
def test_getRandomContext_hand_cases(sst_tiny, sentences, C, expected):
    set_all_sentences(sst_tiny, sentences)
    random.seed(5)
    seen = {(c, tuple(ctx)) for c, ctx in (sst_tiny.getRandomContext(C) for _ in range(200))}
    assert seen == expected


def test_getRandomContext_uses_python_random_like_the_classic(sst_tiny):
    set_all_sentences(sst_tiny, [["the", "film", "is"], ["a", "film"]])
    random.seed(11)
    centre, context = sst_tiny.getRandomContext(1)
    after = random.random()
    random.seed(11)
    sent = [["the", "film", "is"], ["a", "film"]][random.randint(0, 1)]
    w = random.randint(0, len(sent) - 1)
    assert (centre, context) == (sent[w], sent[max(0, w - 1):w] + sent[w + 1:w + 2])
    assert random.random() == after


def test_sample_windows_layout(sst_tiny):
    set_all_sentences(sst_tiny, WINDOW_SENTENCES)
    C = 3
    support = {key for key in exact_window_distribution(
        [[sst_tiny.tokens()[w] for w in s] for s in WINDOW_SENTENCES], C)}
    centres, contexts = sst_tiny.sample_windows(np.random.default_rng(0), 5000, C)
    assert centres.shape == (5000,) and contexts.shape == (5000, 2 * C)
    assert centres.dtype == np.int64 and contexts.dtype == np.int64
    n_valid = (contexts >= 0).sum(axis=1)
    assert np.all(n_valid >= 1)
    # valid entries first, then only -1
    assert np.array_equal(contexts >= 0, np.arange(2 * C)[None, :] < n_valid[:, None])
    for centre, row in zip(centres.tolist(), contexts.tolist()):
        assert (centre, tuple(t for t in row if t >= 0)) in support


def test_sample_windows_and_classic_match_the_exact_distribution(sst_tiny):
    set_all_sentences(sst_tiny, WINDOW_SENTENCES)
    tokens, C = sst_tiny.tokens(), 3
    dist = exact_window_distribution([[tokens[w] for w in s] for s in WINDOW_SENTENCES], C)
    keys = sorted(dist)
    prob = np.array([dist[k] for k in keys])
    assert abs(prob.sum() - 1) < 1e-12 and len(keys) > 30

    n_fast = 200_000
    centres, contexts = sst_tiny.sample_windows(np.random.default_rng(1), n_fast, C)
    fast = Counter(zip(centres.tolist(), map(lambda r: tuple(t for t in r if t >= 0),
                                              contexts.tolist())))
    assert set(fast) <= set(keys)
    stat = chi2_stat([fast[k] for k in keys], prob * n_fast)
    assert stat < chi2_limit(len(keys) - 1), stat

    n_classic = 20_000
    random.seed(2)
    classic = Counter()
    for _ in range(n_classic):
        centre, context = sst_tiny.getRandomContext(random.randint(1, C))
        classic[(tokens[centre], tuple(tokens[w] for w in context))] += 1
    assert set(classic) <= set(keys)
    stat = chi2_stat([classic[k] for k in keys], prob * n_classic)
    assert stat < chi2_limit(len(keys) - 1), stat


# ---- negative sampling ---------------------------------------------------------------------
def test_sampleTable_by_hand(tmp_path):
    """Counts a: 1, b: 16, UNK: 1 -> weights 1, 8, 1 -> cumulative 1, 9, 10 (tablesize 10)."""
    (tmp_path / "datasetSentences.txt").write_text(
        "sentence_index\tsentence\n1\ta b b b b b b b b\n2\tb b b b b b b b\n")
    ds = StanfordSentiment(tmp_path, tablesize=10)
    assert ds.sampleTable().tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]
    assert sample_table_reference([1, 16, 1], 10) == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1]


def test_sampleTable_matches_classic_loop(sst_tiny):
    table = sst_tiny.sampleTable()
    assert table.shape == (1000,)
    assert table.tolist() == sample_table_reference(TINY_FREQ, 1000)
    counts = np.bincount(table, minlength=15)
    share = np.array(TINY_FREQ) ** 0.75 / np.sum(np.array(TINY_FREQ) ** 0.75)
    assert np.all(np.abs(counts - 1000 * share) <= 1.0)   # each token's share, up to rounding


def test_sampleTokenIdx_uses_python_random(sst_tiny):
    table = sst_tiny.sampleTable()
    random.seed(4)
    drawn = [sst_tiny.sampleTokenIdx() for _ in range(5)]
    random.seed(4)
    assert drawn == [int(table[random.randint(0, 999)]) for _ in range(5)]


@pytest.mark.parametrize("target", [1, 5, 14])               # film (most frequent), ".", UNK
@pytest.mark.parametrize("path", ["batched", "classic"])
def test_negatives_are_never_the_target_and_follow_the_table(sst_tiny, path, target):
    counts = np.bincount(sst_tiny.sampleTable(), minlength=15)
    if path == "batched":           # the three targets mixed in one call, then this one's rows
        targets = np.repeat([1, 5, 14], 4000)
        negatives = sst_tiny.sample_negatives(np.random.default_rng(3), targets, 5)
        assert negatives.shape == (12_000, 5) and negatives.dtype == np.int64
        negatives = negatives[targets == target]
    else:                           # q3_word2vec's per-window loop over sampleTokenIdx
        random.seed(6)
        negatives = np.array([getNegativeSamples(target, sst_tiny, 5) for _ in range(4000)])
    observed = np.bincount(negatives.ravel(), minlength=15)
    expected = counts / (1000 - counts[target]) * negatives.size   # P(j | target), j != target
    expected[target] = 0
    keep = expected > 0
    assert observed[target] == 0
    assert chi2_stat(observed[keep], expected[keep]) < chi2_limit(keep.sum() - 1)


def test_draws_are_exactly_those_of_the_loader_before_the_split(sst_tiny):
    """Bounding the redraw loops changed no draw: the windows and negatives (numpy Generator),
    the classic contexts and table draws (Python's random) and the state left behind hash to
    what the one-module loader of commit de6eedf gave."""
    sst_tiny.sampleTable()
    set_all_sentences(sst_tiny, WINDOW_SENTENCES)
    digest = hashlib.sha256()
    centres, contexts = sst_tiny.sample_windows(np.random.default_rng(0), 1000, 3)
    negatives = sst_tiny.sample_negatives(np.random.default_rng(1), np.repeat([1, 5, 14], 100), 5)
    for a in (centres, contexts, negatives):
        digest.update(a.tobytes())
    random.seed(4)
    classic = [sst_tiny.getRandomContext(random.randint(1, 3)) for _ in range(200)]
    classic.append([sst_tiny.sampleTokenIdx() for _ in range(50)])
    classic.append(random.random())
    digest.update(repr(classic).encode())
    assert digest.hexdigest()[:16] == "432d520ba2c6a456"


# ---- errors --------------------------------------------------------------------------------
def test_missing_folder_names_fetch_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere.*bash get_datasets\.sh"):
        StanfordSentiment(tmp_path / "nowhere")


# ---- the real SST (skipped without data, failed under CI) ------------------------------------
def test_real_missing_labels_warning():
    require_data(DEFAULT_SST_PATH, "SST data")
    ds = StanfordSentiment()
    with pytest.warns(MissingLabelWarning) as record:
        labels = ds.sent_labels()
    messages = [str(r.message) for r in record if issubclass(r.category, MissingLabelWarning)]
    assert len(messages) == 1
    assert "5 sentences" in messages[0] and "4803, 5678, 6179, 9097, 11532" in messages[0]
    assert [i + 1 for i, v in enumerate(labels) if math.isnan(v)] == [4803, 5678, 6179, 9097, 11532]


def test_real_classes_equal_ptb_root_labels(sst):
    """Cross-check with trainDevTestTrees_PTB (in ../shared/datasets when it is there)."""
    trees = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets",
                         "trainDevTestTrees_PTB", "trees")
    if not os.path.isdir(trees):
        pytest.skip(f"PTB trees not found at {trees}")
    labels = sst.sent_labels()
    for split, name in [(0, "train"), (1, "test"), (2, "dev")]:
        with open(os.path.join(trees, f"{name}.txt"), encoding="utf-8") as f:
            roots = [int(line[1]) for line in f if line.strip()]
        indices = sst.dataset_split()[split]
        assert len(roots) == len(indices)
        ours = [(sst.categorify(labels[i]), root) for i, root in zip(indices, roots)
                if not math.isnan(labels[i])]
        assert len(ours) == len(roots) - (5 if name == "train" else 0)
        assert all(a == b for a, b in ours), name


def test_real_sample_table(sst):
    table = sst.sampleTable()
    assert table.shape == (1_000_000,)
    freq = np.array([sst.tokenfreq[w] for w in sst._revtokens], dtype=float) ** 0.75
    share = np.bincount(table, minlength=freq.size) / 1e6
    assert table[0] == 0 and np.all(np.diff(table) >= 0)
    assert np.allclose(share, freq / freq.sum(), atol=1.01e-6)


def test_real_windows_match_classic_context_lengths(sst):
    """Two-sample chi-square on (C1-free) context length: batched vs the classic loop."""
    C = 5
    state = random.getstate()
    random.seed(9)
    classic = np.bincount([len(sst.getRandomContext(random.randint(1, C))[1])
                           for _ in range(20_000)], minlength=2 * C + 1)[1:]
    random.setstate(state)
    centres, contexts = sst.sample_windows(np.random.default_rng(9), 200_000, C)
    fast = np.bincount((contexts >= 0).sum(axis=1), minlength=2 * C + 1)[1:]
    keep = (classic + fast) > 0
    a, b = classic[keep], fast[keep]
    A, B = a.sum(), b.sum()
    stat = np.sum((np.sqrt(B / A) * a - np.sqrt(A / B) * b) ** 2 / (a + b))
    assert stat < chi2_limit(keep.sum() - 1), stat
    assert not np.any(contexts == centres[:, None])
