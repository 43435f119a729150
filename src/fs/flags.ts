// open(2) flags across arches: the guest's values (abi/fcntl.ts) translated
// to the host's (x86_64) and back. Only O_DIRECT, O_LARGEFILE, O_DIRECTORY
// and O_NOFOLLOW differ; every other flag has the same bit on both arches.
import type { ArchName } from '../cpu/arch.js';
import {
  O_ACCMODE,
  O_APPEND,
  O_ASYNC,
  O_CLOEXEC,
  O_CREAT,
  O_DSYNC,
  O_EXCL,
  O_NOATIME,
  O_NOCTTY,
  O_NONBLOCK,
  O_PATH,
  O_SYNC,
  O_TMPFILE_BASE,
  O_TRUNC,
  OPEN_FLAGS_ARM64,
  OPEN_FLAGS_X86_64,
  type ArchOpenFlags,
} from '../abi/fcntl.js';

export const OPEN_FLAGS: Record<ArchName, ArchOpenFlags> = {
  x86_64: OPEN_FLAGS_X86_64,
  arm64: OPEN_FLAGS_ARM64,
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
