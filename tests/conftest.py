"""Data fixtures shared by the test files.

- ``sst``: StanfordSentiment on the real data in utils/datasets (session-scoped; allSentences()
  and the labels are built once, with Python's ``random`` state saved and restored around it).
- ``glove_path``: path of the real utils/datasets/glove.6B.50d.txt.
- ``sst_tiny``: a fresh StanfordSentiment on tests/fixtures/sst_tiny (see its README.md).

Without the real data, tests using ``sst`` / ``glove_path`` are skipped with a reason naming
``bash get_datasets.sh`` -- except when the environment variable CI is set: then they fail, so a
CI run can never pass by skipping them.
"""
import os
import random
import warnings

import pytest

from utils.glove import DEFAULT_GLOVE_PATH
from utils.treebank import DEFAULT_SST_PATH, MissingLabelWarning, StanfordSentiment

SST_TINY_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "sst_tiny")


def require_data(path, what):
    """Skip (or fail under CI) when a dataset path is missing."""
    if not os.path.exists(path):
        reason = f"{what} not found at {path}; run `bash get_datasets.sh` to fetch it"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI=true: data tests must run, not skip)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def sst():
    """StanfordSentiment on the real SST, with allSentences(), sampleTable() and labels built."""
    require_data(DEFAULT_SST_PATH, "SST data")
    ds = StanfordSentiment()
    state = random.getstate()   # building allSentences draws from Python's random
    random.seed(0)
    ds.sampleTable()            # also builds allSentences()
    random.setstate(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingLabelWarning)  # 5 on the mirror; tested elsewhere
        ds.sent_labels()
    return ds


@pytest.fixture(scope="session")
def glove_path():
    """Path of the real glove.6B.50d.txt."""
    require_data(DEFAULT_GLOVE_PATH, "GloVe vectors")
    return DEFAULT_GLOVE_PATH


@pytest.fixture
def sst_tiny():
    """A fresh StanfordSentiment on the tiny fixture (6 sentences, 15 tokens with UNK)."""
    return StanfordSentiment(SST_TINY_DIR, tablesize=1000)
