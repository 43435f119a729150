// Small helpers shared by handlers.
import type { Task } from '../../proc/task.js';
import type { Process } from '../../proc/process.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { hostScratch } from '../../fs/transfer.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { AT_FDCWD } from '../../abi/fcntl.js';
import { PATH_MAX } from '../../abi/limits.js';
import { W_OK } from '../../abi/stat.js';
import { isDir, type Loc, type ParentLoc } from '../../fs/vfs.js';
import { fileId, statFields } from '../../fs/stat.js';
import { fdLoc } from '../../procfs/fds.js';
import type { Handler, Status } from '../dispatch.js';
import { signature, type Signature, type SignatureSpec } from '../signature.js';
import { nowMs } from '../../host/clock.js';

/**
 * One syscall's declaration: its handler, how complete it is, and its trace
 * signature. Each handler module exports a record of these by syscall name;
 * table.ts puts the records of all modules together.
 */
export interface Def {
  handler: Handler;
  /** supported: does what Linux does; partial: the note says what is missing; probe: the note says who probes it */
  status: Status;
  note: string;
  sig: Signature;
}

/** A syscall that does what Linux does (the note, if any, says how). */
export const supported = (sig: SignatureSpec, handler: Handler, note = ''): Def => ({ handler, status: 'supported', note, sig: signature(sig) });
/** A syscall with cases elfrun does not implement: the note says which. */
export const partial = (sig: SignatureSpec, handler: Handler, note: string): Def => ({ handler, status: 'partial', note, sig: signature(sig) });
/**
 * A syscall a libc tries and falls back from when the kernel answers ENOSYS,
 * so ENOSYS is a correct (if older-kernel) answer. The note says who probes it.
 */
export const probe = (sig: SignatureSpec, note: string): Def => ({ handler: () => -E.ENOSYS, status: 'probe', note, sig: signature(sig) });

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
 * nowMs()'s clock; NULL is Infinity; a bad field is EINVAL.
 * Absolute times are on CLOCK_MONOTONIC ('abs-mono') or CLOCK_REALTIME ('abs-real').
 */
/** KTIME_MAX (2^63-1 ns) in ms: the end of Linux's monotonic clock */
const KTIME_MAX_MS = 9223372036854.775;

export function timeDeadline(t: Task, addr: number, clock: 'rel' | 'abs-mono' | 'abs-real' = 'rel', usec = false): number {
  if (addr === 0) return Infinity;
  const b = t.mm.read(addr, 16);
  const sec = Number(b.readBigInt64LE(0));
  const frac = Number(b.readBigInt64LE(8));
  if (sec < 0 || frac < 0 || frac >= (usec ? 1e6 : 1e9)) fail(E.EINVAL);
  const ms = sec * 1e3 + (usec ? frac / 1e3 : frac / 1e6);
  // Linux's times are signed 64-bit nanoseconds (ktime_t): later ones saturate at KTIME_MAX
  if (clock === 'rel') return Math.min(nowMs() + ms, KTIME_MAX_MS);
  // nowMs() is CLOCK_MONOTONIC itself; a CLOCK_REALTIME time moves to it
  return Math.min(clock === 'abs-mono' ? ms : nowMs() + (ms - Date.now()), KTIME_MAX_MS);
}

/** the *at() flags, for the handlers that take them with the helpers below */

/** A path argument: NUL-terminated bytes from guest memory (EFAULT, ENAMETOOLONG). */
export function pathArg(t: Task, addr: number): Buffer {
  return t.mm.cstring(addr, PATH_MAX);
}

/** Where a relative path starts: the cwd, or the directory open as dirfd (EBADF, ENOTDIR). */
export function startLoc(t: Task, dirfd: number): Loc {
  if (dirfd === AT_FDCWD) return t.cwd;
  const f = t.fds.file(dirfd);
  if (f.loc === null || !isDir(f.loc)) fail(E.ENOTDIR);
  return f.loc;
}

/**
 * Resolve a (dirfd, path) pair to a place in the guest's tree. An empty path
 * is ENOENT unless `emptyOk` (AT_EMPTY_PATH): then it is dirfd's own file.
 */
export function lookupAt(t: Task, dirfd: number, path: Buffer, follow: boolean, emptyOk = false): Loc {
  t.vfs.lookups.epoch++;
  const p = path.toString('latin1');
  if (p === '') {
    if (!emptyOk) fail(E.ENOENT);
    return dirfd === AT_FDCWD ? t.cwd : fdLoc(t, t.fds.file(dirfd));
  }
  const vfs = t.kernel.vfs;
  return vfs.resolve(t, p.startsWith('/') ? vfs.rootFor(t) : startLoc(t, dirfd), p, follow);
}

/**
 * A write to the regular file at loc (open for writing, truncate) while a
 * process runs it as its program: ETXTBSY, as Linux's deny_write_access on
 * the executable, after the permission check (EACCES comes first). Its pages
 * are the guest's code: elfrun maps them from the file.
 */
export function denyWriteIfRunning(t: Task, loc: Loc): void {
  const id = fileId(statFields(loc.node.stat(t)));
  for (const p of t.kernel.processes.values()) {
    if (p.exeId === id && p.exit === null) {
      loc.node.access(t, W_OK);
      fail(E.ETXTBSY);
    }
  }
}

/** All but the last component of (dirfd, path), for calls that create, remove or rename a name. */
export function parentAt(t: Task, dirfd: number, path: Buffer): ParentLoc {
  t.vfs.lookups.epoch++;
  const p = path.toString('latin1');
  if (p === '') fail(E.ENOENT);
  const vfs = t.kernel.vfs;
  return vfs.parent(t, p.startsWith('/') ? vfs.rootFor(t) : startLoc(t, dirfd), p);
}

/** A wait's deadline, kept across the retries of its syscall: restartState holds it (Infinity as -1). */
export function deadlineOf(t: Task, first: () => number): number {
  if (!t.restarting || t.restartState === null) {
    const d = first();
    t.restartState = d === Infinity ? -1 : d;
    return d;
  }
  return t.restartState === -1 ? Infinity : t.restartState;
}

const CAP_SYS_PTRACE = 1n << 19n;

/**
 * __ptrace_may_access with the caller's real ids (PTRACE_MODE_REALCREDS):
 * the target's real, effective and saved ids all the caller's real ones and
 * the target dumpable, or CAP_SYS_PTRACE; else EPERM.
 */
export function mayPtrace(t: Task, p: Process): void {
  const c = t.cred;
  if (c.caps.eff & CAP_SYS_PTRACE) return;
  const o = p.cred;
  const sameIds = [o.euid, o.ruid, o.suid].every((u) => u === c.ruid) && [o.egid, o.rgid, o.sgid].every((g) => g === c.rgid);
  if (!sameIds || p.dumpable !== 1) fail(E.EPERM);
}
