// Directory trees for file-system tests: build a deterministic template,
// copy it (hard links, symlinks, modes and timestamps included) to a fresh
// directory, and snapshot a tree into a plain, comparable list of entries.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  type BigIntStats,
} from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

/** Deterministic pseudo-random bytes (an LCG), the same on every run. */
export function lcgBytes(n: number, seed = 12345): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Base of the fixed timestamps (2023-11-14T22:13:20Z); entry i gets T0 + i*1000 s. */
export const T0 = 1_700_000_000;

/**
 * The template tree:
 *
 *   file.txt                 0644  text
 *   ro.txt                   0444  text
 *   src/                     0755
 *     a.txt                  0644  "hello\n..."      (hard link: src/hard)
 *     b.bin                  0600  40000 bytes of binary data
 *     run.sh                 0755  a script
 *     empty                  0644  0 bytes
 *     hard                   -> same inode as a.txt (nlink 2)
 *     lnk                    symlink -> a.txt
 *     dangling               symlink -> no-such-target
 *     dirlink                symlink -> sub
 *     loop                   symlink -> loop (ELOOP when followed)
 *     sub/                   0750
 *       c.txt                0640
 *       note.md              0644
 *       with space.txt       0644
 *       café                 0644  (a UTF-8 name)
 *       deep/                0755
 *         d.txt              0600
 *   other/                   0700  empty
 *   special/                 0755
 *     fifo                   0644  a FIFO (opening it would block: only for commands that do not read it)
 *
 * Every entry gets its own fixed atime and mtime (directories last, so
 * creating their children does not move them). The FIFO comes from the
 * host's mkfifo(1): Node cannot make one.
 */
export function buildTemplate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string | Buffer, number]> = [
    ['file.txt', 'top level file\nsecond line\n', 0o644],
    ['ro.txt', 'read only\n', 0o444],
    ['src/a.txt', 'hello\nworld\nhello again\n', 0o644],
    ['src/b.bin', lcgBytes(40_000), 0o600],
    ['src/run.sh', '#!/bin/sh\necho run\n', 0o755],
    ['src/empty', '', 0o644],
    ['src/sub/c.txt', Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(i % 37)}`).join('\n') + '\n', 0o640],
    ['src/sub/note.md', '# note\n\nsome text\n', 0o644],
    ['src/sub/deep/d.txt', 'deep file\n', 0o600],
    ['src/sub/with space.txt', 'spaced\n', 0o644],
    ['src/sub/café', 'accent\n', 0o644],
  ];
  const dirs: Array<[string, number]> = [
    ['src', 0o755],
    ['src/sub', 0o750],
    ['src/sub/deep', 0o755],
    ['other', 0o700],
    ['special', 0o755],
  ];
  for (const [d] of dirs) mkdirSync(join(dir, d), { recursive: true });
  execFileSync('mkfifo', ['-m', '644', join(dir, 'special/fifo')]);
  utimesSync(join(dir, 'special/fifo'), T0 + 88_500, T0 + 88_000);
  let i = 0;
  for (const [f, data, mode] of files) {
    writeFileSync(join(dir, f), data);
    chmodSync(join(dir, f), mode);
    i++;
    utimesSync(join(dir, f), T0 + i * 1000 + 500, T0 + i * 1000);
  }
  linkSync(join(dir, 'src/a.txt'), join(dir, 'src/hard'));
  const links: Array<[string, string]> = [
    ['src/lnk', 'a.txt'],
    ['src/dangling', 'no-such-target'],
    ['src/dirlink', 'sub'],
    ['src/loop', 'loop'],
  ];
  for (const [l, target] of links) {
    symlinkSync(target, join(dir, l));
    i++;
    lutimesSync(join(dir, l), T0 + i * 1000 + 500, T0 + i * 1000);
  }
  // deepest first, so setting a parent's times comes after its children change
  for (const [d, mode] of [...dirs].reverse()) {
    chmodSync(join(dir, d), mode);
    i++;
    utimesSync(join(dir, d), T0 + i * 1000 + 500, T0 + i * 1000);
  }
  utimesSync(dir, T0 + 99_500, T0 + 99_000);
}

/**
 * Copy a tree: regular files, directories, symlinks, FIFOs; hard links stay
 * hard links; modes, atimes and mtimes (to the microsecond) are kept. The
 * source's own atimes are put back after reading it (under relatime the first
 * read would move them), so every copy of a tree is the same.
 */
export function copyTree(from: string, to: string): void {
  const inodes = new Map<bigint, string>();
  const times: Array<[string, BigIntStats]> = []; // copies, then the sources read
  const sources: Array<[string, BigIntStats]> = [];
  const walk = (src: string, dst: string): void => {
    const st = lstatSync(src, { bigint: true });
    if (st.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      for (const name of readdirSync(src).sort()) walk(join(src, name), join(dst, name));
      chmodSync(dst, Number(st.mode & 0o7777n));
      times.push([dst, st]);
      sources.push([src, st]);
    } else if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dst);
      lutimesSync(dst, nsToSeconds(st.atimeNs), nsToSeconds(st.mtimeNs));
    } else if (st.nlink > 1n && inodes.has(st.ino)) {
      linkSync(inodes.get(st.ino)!, dst);
    } else if (st.isFile()) {
      writeFileSync(dst, readFileSync(src));
      chmodSync(dst, Number(st.mode & 0o7777n));
      times.push([dst, st]);
      sources.push([src, st]);
      if (st.nlink > 1n) inodes.set(st.ino, dst);
    } else if (st.isFIFO()) {
      execFileSync('mkfifo', ['-m', (st.mode & 0o7777n).toString(8), dst]);
      times.push([dst, st]);
    } else {
      throw new Error(`copyTree: cannot copy ${src}`);
    }
  };
  walk(from, to);
  // children before parents (the walk pushed them in that order)
  for (const [p, st] of [...times, ...sources]) utimesSync(p, nsToSeconds(st.atimeNs), nsToSeconds(st.mtimeNs));
}

// utimesSync takes seconds as a double, which holds microseconds for today's
// dates: enough for the template, whose times are whole seconds.
const nsToSeconds = (ns: bigint): number => Number(ns / 1000n) / 1e6;

/**
 * Read everything under `dir` (files, directories, symlinks) until no read
 * can move an atime any more. Under relatime the kernel updates an atime on a
 * read only while it is not newer than both the mtime and the ctime (or is a
 * day old), so a fresh copy's atimes move on the first read, which makes
 * "read then show atime" commands (busybox stat reads the link it describes)
 * differ between a first and a second run. Afterwards they stay put.
 */
export function settleAtimes(dir: string): void {
  const all: string[] = [];
  const walk = (p: string): void => {
    all.push(p);
    if (lstatSync(p).isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  for (let round = 0; round < 100; round++) {
    let moving = 0;
    for (const p of all) {
      const st = lstatSync(p, { bigint: true });
      if (!st.isDirectory() && !st.isSymbolicLink() && !st.isFile()) continue; // a FIFO: opening it would block
      if (st.atimeNs > st.mtimeNs && st.atimeNs > st.ctimeNs) continue;
      moving++;
      if (st.isDirectory()) readdirSync(p);
      else if (st.isSymbolicLink()) readlinkSync(p);
      else if (st.isFile()) readFileSync(p);
    }
    if (moving === 0) return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10); // the next tick of the kernel's coarse clock
  }
  throw new Error(`settleAtimes: atimes under ${dir} keep moving`);
}

/** Remove and recreate `dir` as a copy of `template`. */
export function freshCopy(template: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  copyTree(template, dir);
}

export interface Entry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'other';
  mode: string;
  uid: number;
  gid: number;
  nlink: number;
  size?: number;
  sha256?: string;
  target?: string;
  /** For a file whose inode another path in the tree also names: the first such path (sorted order). */
  sameInodeAs?: string;
  mtimeNs?: string;
}

export interface SnapshotOpts {
  /** Include the mtime of these entries (relative paths): only where the command must preserve or set it to a known value. */
  mtime?: (path: string, e: Entry) => boolean;
  /** Rewrite relative paths (and symlink targets) before comparing, e.g. to hide mktemp's random names. */
  rename?: (path: string) => string;
}

/** Every entry under `dir` (not `dir` itself), sorted by relative path. */
export function snapshot(dir: string, o: SnapshotOpts = {}): Entry[] {
  const out: Entry[] = [];
  const inodes = new Map<bigint, string>();
  const walk = (rel: string): void => {
    const abs = rel === '' ? dir : join(dir, rel);
    for (const name of readdirSync(abs).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const p = join(dir, r);
      const st = lstatSync(p, { bigint: true });
      const type: Entry['type'] = st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isFile()
            ? 'file'
            : st.isFIFO()
              ? 'fifo'
              : st.isSocket()
                ? 'socket'
                : 'other';
      const e: Entry = { path: o.rename ? o.rename(r) : r, type, mode: (st.mode & 0o7777n).toString(8).padStart(4, '0'), uid: Number(st.uid), gid: Number(st.gid), nlink: Number(st.nlink) };
      if (type === 'file') {
        e.size = Number(st.size);
        e.sha256 = createHash('sha256').update(readFileSync(p)).digest('hex');
        if (st.nlink > 1n) {
          const first = inodes.get(st.ino);
          if (first !== undefined) e.sameInodeAs = first;
          else inodes.set(st.ino, e.path);
        }
      } else if (type === 'symlink') {
        const t = readlinkSync(p);
        e.target = o.rename ? o.rename(t) : t;
        e.size = Number(st.size);
      }
      if (o.mtime?.(e.path, e)) e.mtimeNs = st.mtimeNs.toString();
      out.push(e);
      if (type === 'dir') walk(r);
    }
  };
  walk('');
  return out;
}
