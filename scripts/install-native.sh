#!/usr/bin/env bash
# Install the engine and the trampoline that set-up built (in the cache) beside
# the build, in dist/native/, so that elfrun finds them whoever runs it and
# whatever $HOME is: the cache belongs to the user who ran set-up.
#
#   scripts/install-native.sh LIBUNICORN [TRAMPOLINE]
#
# dist/native/stamp records what they were built from (the sha256 of
# scripts/unicorn/elfrun.patch and of scripts/native/trampoline.c), so that
# elfrun can tell a stale engine from a current one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lib=$1
tramp=${2:-}
dest="$root/dist/native"
mkdir -p "$dest"
rm -f "$dest/stamp"
install -m 755 "$lib" "$dest/libunicorn.so.2.tmp" && mv "$dest/libunicorn.so.2.tmp" "$dest/libunicorn.so.2"
{
  echo "unicorn $(sha256sum "$root/scripts/unicorn/elfrun.patch" | cut -d' ' -f1)"
  if [ -n "$tramp" ]; then
    install -m 755 "$tramp" "$dest/libelfrun-tramp.so.tmp" && mv "$dest/libelfrun-tramp.so.tmp" "$dest/libelfrun-tramp.so"
    echo "trampoline $(sha256sum "$root/scripts/native/trampoline.c" | cut -d' ' -f1)"
  else
    rm -f "$dest/libelfrun-tramp.so"
  fi
} > "$dest/stamp.tmp"
# everyone may read what is installed (set-up may have run as root, with umask 077)
chmod 755 "$dest"
chmod 644 "$dest/stamp.tmp"
mv "$dest/stamp.tmp" "$dest/stamp"
echo "$dest"
