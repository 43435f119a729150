// open(2) flags: guest values per arch, translated to the host's (x86_64) values.
import type { ArchName } from '../cpu/arch.js';

// Same on both arches (asm-generic/fcntl.h values that x86_64 shares)
export const O_ACCMODE = 3;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE_BASE = 0o20000000; // __O_TMPFILE, used with O_DIRECTORY

export interface ArchOpenFlags {
  O_DIRECT: number;
  O_LARGEFILE: number;
  O_DIRECTORY: number;
  O_NOFOLLOW: number;
}

export const OPEN_FLAGS: Record<ArchName, ArchOpenFlags> = {
  x86_64: { O_DIRECT: 0o40000, O_LARGEFILE: 0o100000, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000 },
  arm64: { O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000, O_DIRECT: 0o200000, O_LARGEFILE: 0o400000 },
};

const HOST = OPEN_FLAGS.x86_64;
const COMMON =
  O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_NOATIME | O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE_BASE;

/** Guest open flags -> host open flags. */
export function toHostOpenFlags(arch: ArchName, f: number): number {
  if (arch === 'x86_64') return f;
  const a = OPEN_FLAGS[arch];
  let h = f & COMMON;
  if (f & a.O_DIRECT) h |= HOST.O_DIRECT;
  if (f & a.O_LARGEFILE) h |= HOST.O_LARGEFILE;
  if (f & a.O_DIRECTORY) h |= HOST.O_DIRECTORY;
  if (f & a.O_NOFOLLOW) h |= HOST.O_NOFOLLOW;
  return h;
}

/** Host file status flags (F_GETFL) -> guest flags. */
export function fromHostOpenFlags(arch: ArchName, h: number): number {
  if (arch === 'x86_64') return h;
  const a = OPEN_FLAGS[arch];
  let f = h & COMMON;
  if (h & HOST.O_DIRECT) f |= a.O_DIRECT;
  if (h & HOST.O_LARGEFILE) f |= a.O_LARGEFILE;
  if (h & HOST.O_DIRECTORY) f |= a.O_DIRECTORY;
  if (h & HOST.O_NOFOLLOW) f |= a.O_NOFOLLOW;
  return f;
}
