"""Where the data lives: the folder that ``bash get_datasets.sh`` fills, and the hint to fill it."""
import os

DATASETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets")
DEFAULT_SST_PATH = os.path.join(DATASETS_DIR, "stanfordSentimentTreebank")
DEFAULT_GLOVE_PATH = os.path.join(DATASETS_DIR, "glove.6B.50d.txt")
FETCH_HINT = "run `bash get_datasets.sh` in the repository root to fetch the data"
