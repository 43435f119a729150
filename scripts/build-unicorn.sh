#!/usr/bin/env bash
# Build elfrun's patched libunicorn (Unicorn 2.1.4, x86 + aarch64 only) and
# cache it outside the repository.
#
#   scripts/build-unicorn.sh          # prints the library path as the last stdout line
#   scripts/build-unicorn.sh --check  # also runs scripts/unicorn/check.sh against it
#
# Cache: ${ELFRUN_CACHE:-$HOME/.cache/elfrun}/unicorn-2.1.4-elfrun1/
#   lib/libunicorn.so.2, include/unicorn/*.h, build.log, stamp
# A second run with the same patch and link flags only checks the stamp and exits.
# The stamp records the sha256 of scripts/unicorn/elfrun.patch and the link flags, so a changed
# patch rebuilds the library in place (CACHE_SUFFIX names an incompatible API).
#
# Source: PyPI's `unicorn` 2.1.4 source distribution (its src/ is the whole
# official C tree). Its sha256 is committed in scripts/unicorn/unicorn-2.1.4.sha256.
# How that checksum was obtained: `sha256sum` and `pip hash` of the file that
# `pip download --no-binary :all: --no-deps unicorn==2.1.4` saved, cross-checked
# against the sha256 PyPI publishes for unicorn-2.1.4.tar.gz in its simple index
# (PEP 691 JSON, https://pypi.org/simple/unicorn/); all three agreed. PyPI's
# /pypi/<name>/<version>/json endpoint is not reachable from this workplace.
# pip itself also checks the download against the index's hash.
# The crates.io crate unicorn-engine-sys 2.1.4 does NOT bundle the C tree (only
# build.rs + bindings), so it is no fallback; the fallback is fetching the same
# sdist from PyPI's file host with curl (URL taken from the simple index).
#
# On failure: one line "build-unicorn: ..." on stderr and a non-zero exit; the
# caller then falls back to Debian's libunicorn2 (2.0.1).
set -euo pipefail

UC_VERSION=2.1.4
CACHE_SUFFIX=elfrun1
SDIST=unicorn-${UC_VERSION}.tar.gz

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATCH_FILE=$SCRIPT_DIR/unicorn/elfrun.patch
SUM_FILE=$SCRIPT_DIR/unicorn/unicorn-${UC_VERSION}.sha256
CACHE_ROOT=${ELFRUN_CACHE:-$HOME/.cache/elfrun}
DEST=$CACHE_ROOT/unicorn-${UC_VERSION}-${CACHE_SUFFIX}
LIB=$DEST/lib/libunicorn.so.2
JOBS=${ELFRUN_BUILD_JOBS:-2}

RUN_CHECK=0
[[ ${1:-} == --check ]] && RUN_CHECK=1

die() { echo "build-unicorn: $*" >&2; exit 1; }
progress() { echo "build-unicorn: $*"; }

[[ -f $PATCH_FILE ]] || die "missing $PATCH_FILE"
[[ -f $SUM_FILE ]] || die "missing $SUM_FILE"
PATCH_SHA=$(sha256sum "$PATCH_FILE" | cut -d' ' -f1)
SDIST_SHA=$(awk '{print $1; exit}' "$SUM_FILE")

# Linker flags; part of the cache key, so a change rebuilds. -Bsymbolic binds
# the library's references to its own symbols at link time: dlopen then
# resolves ~70 symbols instead of ~5800, which took 1-2.5 ms of every start.
LINK_FLAGS="-Wl,-Bsymbolic"

cached() {
    [[ -f $LIB && -f $DEST/stamp ]] && grep -qx "patch_sha256=$PATCH_SHA" "$DEST/stamp" &&
        grep -qxF "link_flags=$LINK_FLAGS" "$DEST/stamp"
}

finish() {
    if (( RUN_CHECK )); then
        bash "$SCRIPT_DIR/unicorn/check.sh" "$DEST" >&2 || die "checks failed against $LIB"
    fi
    echo "$LIB"
    exit 0
}

if cached; then finish; fi

mkdir -p "$CACHE_ROOT" || die "cannot create cache dir $CACHE_ROOT"

# One build at a time (parallel test runners may all call this script).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE_ROOT/.unicorn-${UC_VERSION}.lock"
    flock 9 || die "cannot lock $CACHE_ROOT/.unicorn-${UC_VERSION}.lock"
    if cached; then finish; fi
fi

for tool in cmake ninja cc patch tar sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (apt-get install cmake ninja-build gcc patch)"
done

STAGE=$(mktemp -d "$CACHE_ROOT/.unicorn-build.XXXXXX") || die "cannot create a work dir in $CACHE_ROOT"
LOG=$STAGE/out/build.log
mkdir -p "$STAGE/out"
: >"$LOG"
FAILED_LOG=$DEST.failed.log
cleanup() { rm -rf "$STAGE"; }
trap cleanup EXIT
fail() {
    cp "$LOG" "$FAILED_LOG" 2>/dev/null || true
    die "$* (log: $FAILED_LOG)"
}
# run STEP-NAME CMD...: run a command with all its output in the log.
run() {
    local what=$1; shift
    echo "+ $*" >>"$LOG"
    "$@" >>"$LOG" 2>&1 || fail "$what failed"
}

START=$(date +%s)

# ---- 1. fetch the sdist (kept in the cache so a patch bump does not re-download)
DL_DIR=$CACHE_ROOT/downloads
mkdir -p "$DL_DIR"
TARBALL=$DL_DIR/$SDIST
verify() { [[ -f $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$SDIST_SHA" ]]; }

if ! verify "$TARBALL"; then
    rm -f "$TARBALL"
    progress "downloading unicorn==$UC_VERSION sdist from PyPI"
    PIP=()
    if python3 -m pip --version >/dev/null 2>&1; then PIP=(python3 -m pip)
    elif command -v pip3 >/dev/null 2>&1; then PIP=(pip3)
    elif command -v pip >/dev/null 2>&1; then PIP=(pip); fi
    if (( ${#PIP[@]} )); then
        echo "+ ${PIP[*]} download --no-binary :all: --no-deps unicorn==$UC_VERSION" >>"$LOG"
        "${PIP[@]}" download --no-binary :all: --no-deps "unicorn==$UC_VERSION" \
            -d "$STAGE/dl" >>"$LOG" 2>&1 || echo "(pip download failed)" >>"$LOG"
        [[ -f $STAGE/dl/$SDIST ]] && mv "$STAGE/dl/$SDIST" "$TARBALL"
    fi
    if [[ ! -f $TARBALL ]] && command -v curl >/dev/null 2>&1; then
        progress "pip failed; fetching the sdist from PyPI with curl"
        URL=$(curl -fsSL -H 'Accept: application/vnd.pypi.simple.v1+json' \
                "https://pypi.org/simple/unicorn/" 2>>"$LOG" |
              python3 -c 'import json,sys
for f in json.load(sys.stdin)["files"]:
    if f["filename"] == sys.argv[1]: print(f["url"])' "$SDIST" 2>>"$LOG") || true
        if [[ -n ${URL:-} ]]; then
            echo "+ curl $URL" >>"$LOG"
            curl -fsSL -o "$TARBALL.part" "$URL" >>"$LOG" 2>&1 && mv "$TARBALL.part" "$TARBALL"
        fi
    fi
    [[ -f $TARBALL ]] || fail "could not download $SDIST from PyPI"
    if ! verify "$TARBALL"; then
        mv "$TARBALL" "$TARBALL.bad"
        fail "sha256 mismatch for $SDIST (expected $SDIST_SHA, file kept as $TARBALL.bad)"
    fi
fi
progress "sdist verified (sha256 $SDIST_SHA)"

# ---- 2. unpack, patch
run "unpack" tar -xzf "$TARBALL" -C "$STAGE"
SRC=$STAGE/unicorn-$UC_VERSION/src
[[ -f $SRC/CMakeLists.txt && -f $SRC/qemu/accel/tcg/cputlb.c ]] || fail "unexpected sdist layout (no src/CMakeLists.txt)"
run "patch" patch -p1 -d "$SRC" --forward --fuzz=0 --no-backup-if-mismatch -i "$PATCH_FILE"
progress "patched ($(basename "$PATCH_FILE"), sha256 ${PATCH_SHA:0:12}...)"

# ---- 3. build (Release, x86 + aarch64 only)
progress "configuring (cmake, Release, x86;aarch64)"
run "cmake configure" cmake -S "$SRC" -B "$STAGE/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DUNICORN_ARCH="x86;aarch64" \
    -DUNICORN_BUILD_TESTS=OFF \
    -DUNICORN_INSTALL=OFF \
    -DBUILD_SHARED_LIBS=ON \
    -DCMAKE_SHARED_LINKER_FLAGS="$LINK_FLAGS"
progress "compiling with -j$JOBS (about a minute on 2 cores; log: $DEST/build.log)"
run "build" ninja -C "$STAGE/build" -j"$JOBS" unicorn
[[ -f $STAGE/build/libunicorn.so.2 ]] || fail "build produced no libunicorn.so.2"

# ---- 4. stage lib + headers, stamp, move into place
OUT=$STAGE/out
mkdir -p "$OUT/lib" "$OUT/include/unicorn"
cp -L "$STAGE/build/libunicorn.so.2" "$OUT/lib/libunicorn.so.2"
ln -sf libunicorn.so.2 "$OUT/lib/libunicorn.so"
cp "$SRC"/include/unicorn/*.h "$OUT/include/unicorn/"
cp "$PATCH_FILE" "$OUT/elfrun.patch"
{
    echo "unicorn_version=$UC_VERSION"
    echo "sdist_sha256=$SDIST_SHA"
    echo "patch_sha256=$PATCH_SHA"
    echo "link_flags=$LINK_FLAGS"
    echo "arch=x86;aarch64"
    echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "build_seconds=$(( $(date +%s) - START ))"
} >"$OUT/stamp"
# Quick sanity check: exported API.
if command -v nm >/dev/null 2>&1; then
    SYMS=$(nm -D "$OUT/lib/libunicorn.so.2" 2>>"$LOG") || true
    [[ $SYMS == *" T uc_ctl"* ]] || fail "built library does not export uc_ctl"
fi

rm -rf "$DEST"
mv "$OUT" "$DEST" || fail "cannot move the build into $DEST"
rm -f "$FAILED_LOG"
progress "built in $(( $(date +%s) - START ))s: $DEST"
finish
