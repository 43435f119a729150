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
#
# It also builds and installs the front (scripts/native/front.c, the process
# the shell waits for, which bin/elfrun starts when it is there): a plain C
# program without Unicorn, built in the cache keyed by its source and flags.
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
  front_src="$root/scripts/native/front.c"
  front_flags=(-O2 -Wall)
  front_sum=$( { cat "$front_src"; echo "${front_flags[*]}"; } | sha256sum | cut -c1-12)
  front="${ELFRUN_CACHE:-$HOME/.cache/elfrun}/front-$front_sum/elfrun-front"
  if [ ! -f "$front" ]; then
    mkdir -p "$(dirname "$front")"
    gcc "${front_flags[@]}" -o "$front.tmp" "$front_src" >&2 && mv "$front.tmp" "$front" || echo "install-native: warning: the front could not be built; daemons end with the first process" >&2
  fi
  if [ -f "$front" ]; then
    install -m 755 "$front" "$dest/elfrun-front.tmp" && mv "$dest/elfrun-front.tmp" "$dest/elfrun-front"
    echo "front $(sha256sum "$front_src" | cut -d' ' -f1)"
  else
    rm -f "$dest/elfrun-front"
  fi
} > "$dest/stamp.tmp"
# everyone may read what is installed (set-up may have run as root, with umask 077)
chmod 755 "$dest"
chmod 644 "$dest/stamp.tmp"
mv "$dest/stamp.tmp" "$dest/stamp"
echo "$dest"
