#!/usr/bin/env bash
# Build elfrun's syscall trampoline (scripts/native/trampoline.c) against the
# Unicorn elfrun uses, into ~/.cache/elfrun (or $ELFRUN_CACHE), keyed by the
# source's checksum so that a changed source is rebuilt. Prints the library's path.
# Its run path looks beside itself first: scripts/install-native.sh puts both
# libraries in dist/native/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ELFRUN_CACHE:-$HOME/.cache/elfrun}
src="$root/scripts/native/trampoline.c"
sum=$(sha256sum "$src" | cut -c1-12)
out="$cache/trampoline-$sum/libelfrun-tramp.so"
if [ -f "$out" ]; then echo "$out"; exit 0; fi
uni="$cache/unicorn-2.1.4-elfrun1/lib"
if [ -f "$uni/libunicorn.so.2" ]; then link=(-L"$uni" -l:libunicorn.so.2 -Wl,-rpath,'$ORIGIN' -Wl,-rpath,"$uni")
else link=(-l:libunicorn.so.2); fi
mkdir -p "$(dirname "$out")"
gcc -O2 -Wall -pthread -shared -fPIC -o "$out.tmp" "$src" "${link[@]}"
mv "$out.tmp" "$out"
echo "$out"
