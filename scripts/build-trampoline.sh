#!/usr/bin/env bash
# Build elfrun's syscall trampoline (scripts/native/trampoline.c) against the
# Unicorn elfrun uses, into ~/.cache/elfrun (or $ELFRUN_CACHE), keyed by the
# checksum of its source and build flags, so that a changed one is rebuilt. Prints the library's path.
# Its run path looks beside itself first: scripts/install-native.sh puts both
# libraries in dist/native/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ELFRUN_CACHE:-$HOME/.cache/elfrun}
src="$root/scripts/native/trampoline.c"
# -z nodelete: the library stays mapped when Node unloads it at exit, so its
# detached threads (the preemption watchdog, the host-fd watcher) never run
# code that is gone (a library user's Node process crashed as it exited)
flags=(-O2 -Wall -pthread -shared -fPIC -Wl,-z,nodelete)
uni="$cache/unicorn-2.1.4-elfrun1/lib"
if [ -f "$uni/libunicorn.so.2" ]; then link=(-L"$uni" -l:libunicorn.so.2 -Wl,-rpath,'$ORIGIN' -Wl,-rpath,"$uni")
else link=(-l:libunicorn.so.2); fi
# keyed by the source and how it is built
sum=$( { cat "$src"; echo "${flags[*]} ${link[*]}"; } | sha256sum | cut -c1-12)
out="$cache/trampoline-$sum/libelfrun-tramp.so"
if [ -f "$out" ]; then echo "$out"; exit 0; fi
mkdir -p "$(dirname "$out")"
gcc "${flags[@]}" -o "$out.tmp" "$src" "${link[@]}"
mv "$out.tmp" "$out"
echo "$out"
