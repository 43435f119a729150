#!/usr/bin/env bash
# Build test/cpu/unicorn-patch.test.c against a libunicorn built by
# scripts/build-unicorn.sh and run it (store-loop timing, self-modifying code,
# write hooks, protection faults, uc_ctl TCG buffer size).
#
#   scripts/unicorn/check.sh [DEST] [--compare [LIBDIR...]]
#
# DEST defaults to the cache dir build-unicorn.sh uses. With --compare the
# same binary is also run against other libunicorn.so.2 directories (default:
# Debian's /usr/lib/x86_64-linux-gnu) for comparison only: their failures do
# not change the exit status. Exit status: that of the run against DEST.
# Optional: ELFRUN_CHECK_ITERS (store-loop iterations, 4 stores each).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
DEST=${ELFRUN_CACHE:-$HOME/.cache/elfrun}/unicorn-2.1.4-elfrun1
if [[ $# -gt 0 && $1 != --compare ]]; then DEST=$1; shift; fi
COMPARE=()
if [[ ${1:-} == --compare ]]; then
    shift
    COMPARE=("$@")
    (( ${#COMPARE[@]} )) || COMPARE=(/usr/lib/x86_64-linux-gnu)
fi
ITERS=${ELFRUN_CHECK_ITERS:-5000000}

[[ -f $DEST/lib/libunicorn.so.2 ]] || { echo "check: no $DEST/lib/libunicorn.so.2 (run scripts/build-unicorn.sh)" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
BIN=$TMP/unicorn-patch-test
cc -O2 -Wall -Wextra -o "$BIN" "$ROOT/test/cpu/unicorn-patch.test.c" \
    -I"$DEST/include" -L"$DEST/lib" -lunicorn

echo "== $DEST/lib/libunicorn.so.2 (patched)"
status=0
LD_LIBRARY_PATH=$DEST/lib "$BIN" "$ITERS" || status=$?

for dir in "${COMPARE[@]}"; do
    [[ -f $dir/libunicorn.so.2 ]] || { echo "== $dir: no libunicorn.so.2, skipped"; continue; }
    echo "== $dir/libunicorn.so.2 (comparison only)"
    LD_LIBRARY_PATH=$dir "$BIN" "$ITERS" || true
done
exit "$status"
