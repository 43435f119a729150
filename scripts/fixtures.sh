#!/usr/bin/env bash
# Fetch busybox-static 1.35 for amd64 and arm64 from Debian (apt-get download;
# arm64 through a private apt configuration, leaving the system's dpkg
# architectures alone) and build our own test programs from fixtures/src/.
# Idempotent: what exists is kept. Output: fixtures/{x86_64,arm64}/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ELFRUN_CACHE:-$HOME/.cache/elfrun}
mkdir -p "$root/fixtures/x86_64" "$root/fixtures/arm64" "$cache/debs"

fetch_busybox() { # $1 = debian arch, $2 = our arch dir
  local dest="$root/fixtures/$2/busybox"
  [ -x "$dest" ] && return 0
  local work; work=$(mktemp -d)
  if [ "$1" = amd64 ]; then
    (cd "$work" && apt-get download -q busybox-static >/dev/null 2> >(grep -v unsandboxed >&2))
  else
    local apt="$cache/apt-arm64"
    mkdir -p "$apt/lists/partial" "$apt/archives/partial"
    cat > "$apt/sources.list" <<SRC
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
SRC
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
      -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Debug::NoLocking=1)
    apt-get "${opts[@]}" -q update >/dev/null 2> >(grep -v unsandboxed >&2)
    (cd "$work" && apt-get "${opts[@]}" download -q busybox-static:arm64 >/dev/null 2> >(grep -v unsandboxed >&2))
  fi
  local deb; deb=$(ls "$work"/busybox-static_*.deb)
  cp "$deb" "$cache/debs/"
  dpkg-deb -x "$deb" "$work/x"
  install -m 755 "$work/x/bin/busybox" "$dest"
  rm -rf "$work"
  echo "fixtures: $2/busybox from $(basename "$deb")"
}

fetch_busybox amd64 x86_64
fetch_busybox arm64 arm64

# Our own programs: musl for x86_64, glibc (Debian's cross toolchain) for arm64, both static;
# *-dyn.c are dynamically linked against glibc (Debian's own ld.so and libc).
# Every program links libm (glibc keeps it apart from libc; musl has it in libc).
for src in "$root"/fixtures/src/*.c; do
  name=$(basename "$src" .c)
  for arch in x86_64 arm64; do
    out="$root/fixtures/$arch/$name"
    [ "$out" -nt "$src" ] && continue
    case $arch:$name in
      arm64:*-x86) continue ;; # x86_64 instructions only
      x86_64:gdb*) musl-gcc -static -g -O0 -Wall -pthread -o "$out" "$src" ;; # debug info for gdb sessions
      arm64:gdb*) aarch64-linux-gnu-gcc -static -g -O0 -Wall -pthread -o "$out" "$src" ;;
      x86_64:*-dyn) gcc -O2 -Wall -o "$out" "$src" -lm ;;
      arm64:*-dyn) aarch64-linux-gnu-gcc -O2 -Wall -o "$out" "$src" -lm ;;
      x86_64:*) musl-gcc -static -O2 -Wall -pthread -o "$out" "$src" -lm ;;
      arm64:*) aarch64-linux-gnu-gcc -static -O2 -Wall -pthread -o "$out" "$src" -lm ;;
    esac
  done
done
# The CPU-contract programs for x86_64 with glibc as well (static, NAME-glibc):
# glibc's floating point, sleeps, selects and signal frames take other paths than musl's.
for name in fenv restart faultcodes faultctx cpuinfo longwait preempt spinwait cputime posixtimer ptys nsclone pimutex oomtouch denormal-x86; do
  src="$root/fixtures/src/$name.c"; out="$root/fixtures/x86_64/$name-glibc"
  [ "$out" -nt "$src" ] && continue
  gcc -static -O2 -Wall -pthread -o "$out" "$src" -lm
done
# One static-PIE program per arch (ET_DYN without PT_INTERP), loaded at ELF_ET_DYN_BASE.
# glibc for both (musl-gcc's wrapper makes a dynamic PIE of -static-pie).
for arch in x86_64 arm64; do
  out="$root/fixtures/$arch/auxv-pie"; src="$root/fixtures/src/auxv.c"
  [ "$out" -nt "$src" ] && continue
  if [ $arch = x86_64 ]; then cc=gcc; else cc=aarch64-linux-gnu-gcc; fi
  "$cc" -static-pie -fPIE -O2 -Wall -o "$out" "$src"
done
echo "fixtures: ready in $root/fixtures"
