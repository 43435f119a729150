#!/usr/bin/env bash
# Set up everything elfrun needs on a fresh Debian 12 machine (run as root, or
# with sudo available): Debian packages, npm packages, the fast Unicorn build
# (falls back to Debian's libunicorn2 if it cannot be built), the TypeScript
# build, and the fixtures. Safe to run again: finished steps are skipped fast.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo

pkgs=(libunicorn2 qemu-user musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross strace cmake ninja-build pkg-config patch curl python3 gdb-multiarch gdbserver fio file nginx lighttpd socat wget openssl iproute2 libpython3.11-testsuite)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! lib=$(scripts/build-unicorn.sh); then
  lib=""
  echo "setup: warning: the fast Unicorn could not be built; elfrun falls back to Debian's libunicorn2 (slower)" >&2
else
  echo "setup: Unicorn: ${lib##*$'\n'}"
fi

# the syscall trampoline (one C-to-JS crossing per syscall); elfrun works without it, slower
if tramp=$(scripts/build-trampoline.sh); then echo "setup: trampoline: $tramp"
else tramp=""; echo "setup: warning: the syscall trampoline could not be built; syscalls cross into JavaScript through koffi alone (slower)" >&2; fi

echo "setup: building TypeScript"
npm run --silent build
# beside the build, so that any user and any $HOME finds them (the cache is this user's)
if [ -n "${lib:-}" ] && [ -f "${lib##*$'\n'}" ]; then
  echo "setup: installed in $(scripts/install-native.sh "${lib##*$'\n'}" "${tramp:-}")"
fi
scripts/fixtures.sh
# busybox's own test suite, from Debian's source package (npm run conformance)
node dist/scripts/conformance.js --fetch-only
echo "setup: done"
