// Small helpers shared by handlers.
import type { Task } from '../../proc/task.js';
import { PROT_WRITE } from '../../mm/address-space.js';
import { hostScratch } from '../../fs/file.js';
import { E, fail } from '../errno.js';
import type { Handler, Status } from '../dispatch.js';

export interface Def {
  handler: Handler;
  status: Exclude<Status, 'probe'>;
  note?: string;
}

export const supported = (handler: Handler, note?: string): Def => ({ handler, status: 'supported', note });
export const partial = (handler: Handler, note: string): Def => ({ handler, status: 'partial', note });

/** Throw the errno a negative host result carries. */
export const chk = (r: number): number => (r < 0 ? fail(-r) : r);

/**
 * Let the host write `len` bytes of output for the guest at `addr`: straight
 * into guest memory when it is one host-contiguous piece, else through scratch.
 * EFAULT (before fn runs) if the range is not writable.
 */
export function hostOut(t: Task, addr: number, len: number, fn: (hostAddr: number) => number): number {
  const h = t.mm.hostRange(addr, len, PROT_WRITE);
  if (h >= 0) return fn(h);
  t.mm.check(addr, len, PROT_WRITE);
  const s = hostScratch();
  const r = fn(s.addr);
  if (r >= 0) t.mm.write(addr, s.bytes.subarray(0, len));
  return r;
}

/**
 * A struct timespec (or timeval, usec) timeout as a deadline on
 * performance.now()'s clock; NULL is Infinity; a bad field is EINVAL.
 * Absolute times are on CLOCK_MONOTONIC ('abs-mono') or CLOCK_REALTIME ('abs-real').
 */
export function timeDeadline(t: Task, addr: number, clock: 'rel' | 'abs-mono' | 'abs-real' = 'rel', usec = false): number {
  if (addr === 0) return Infinity;
  const b = t.mm.read(addr, 16);
  const sec = Number(b.readBigInt64LE(0));
  const frac = Number(b.readBigInt64LE(8));
  if (sec < 0 || frac < 0 || frac >= (usec ? 1e6 : 1e9)) fail(E.EINVAL);
  const ms = sec * 1e3 + (usec ? frac / 1e3 : frac / 1e6);
  if (clock === 'rel') return performance.now() + ms;
  const now = clock === 'abs-real' ? Date.now() : Number(process.hrtime.bigint()) / 1e6;
  return performance.now() + (ms - now);
}

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_EACCESS = 0x200;

/** A path argument: NUL-terminated bytes from guest memory (EFAULT, ENAMETOOLONG). */
export function pathArg(t: Task, addr: number): Buffer {
  return t.mm.cstring(addr, 4096);
}

/**
 * Resolve (dirfd, path) to a host (dirfd, path) pair. Until the VFS issue
 * lands, the guest's file system is the host's, seen from the guest's cwd.
 */
export function hostPath(t: Task, dirfd: number, path: Buffer, flags = 0): [number, Buffer] {
  const nul = Buffer.alloc(1);
  if (path.length > 0 && path[0] === 0x2f /* '/' */) return [AT_FDCWD, Buffer.concat([path, nul])];
  if (path.length === 0 && !(flags & AT_EMPTY_PATH)) fail(E.ENOENT);
  if (dirfd === AT_FDCWD) {
    if (path.length === 0) return [AT_FDCWD, Buffer.from(t.cwd + '\0')];
    return [AT_FDCWD, Buffer.concat([Buffer.from(t.cwd === '/' ? '/' : t.cwd + '/'), path, nul])];
  }
  const f = t.fds.file(dirfd);
  if (f.hostFd < 0) fail(path.length === 0 ? E.EBADF : E.ENOTDIR);
  return [f.hostFd, Buffer.concat([path, nul])];
}
