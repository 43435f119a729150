// File locks: flock(2), and fcntl's record-lock and lease commands (fcntl
// itself is in fcntl.ts and hands these commands here), and the lease break
// of an open or truncate. The locks and leases are the Machine's lock
// table's (fs/locks.ts, fs/leases.ts).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import {
  F_GETLK,
  F_OFD_GETLK,
  F_OFD_SETLK,
  F_OFD_SETLKW,
  F_RDLCK,
  F_SETLKW,
  F_UNLCK,
  F_WRLCK,
  LOCK_EX,
  LOCK_MAND,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
} from '../../abi/fcntl.js';
import { S_IFMT, S_IFREG } from '../../abi/stat.js';
import { PathFile, type FileDescription } from '../../fs/file.js';
import { OFFSET_MAX, type LockRange } from '../../fs/locks.js';
import type { OpenCounts } from '../../fs/leases.js';
import type { Loc } from '../../fs/vfs.js';
import { sigioSender } from '../../proc/sigio.js';
import { statFields } from '../../fs/stat.js';
import { supported, type Def } from './util.js';

/** struct flock's size on x86_64 and arm64: l_type, l_whence, l_start, l_len, l_pid */
const FLOCK_SIZE = 32;

/** struct flock's range as Linux's flock64_to_posix_lock reads it (EINVAL, EOVERFLOW); the type is not checked here. */
function lockRange(t: Task, f: FileDescription, b: Buffer): LockRange {
  let base: bigint;
  switch (b.readInt16LE(2)) {
    case SEEK_SET:
      base = 0n;
      break;
    case SEEK_CUR: {
      let pos = 0;
      try {
        pos = f.lseek(0, SEEK_CUR);
      } catch {
        /* no position (a pipe): Linux's f_pos is 0 */
      }
      base = BigInt(pos);
      break;
    }
    case SEEK_END:
      base = BigInt(statFields(f.statBytes(t)).size);
      break;
    default:
      return fail(E.EINVAL);
  }
  const lstart = b.readBigInt64LE(8);
  const len = b.readBigInt64LE(16);
  if (lstart > OFFSET_MAX - base) fail(E.EOVERFLOW);
  let start = base + lstart;
  if (start < 0n) fail(E.EINVAL);
  let end: bigint;
  if (len > 0n) {
    if (len - 1n > OFFSET_MAX - start) fail(E.EOVERFLOW);
    end = start + len - 1n;
  } else if (len < 0n) {
    // the len bytes before l_start
    if (start + len < 0n) fail(E.EINVAL);
    end = start - 1n;
    start += len;
  } else end = OFFSET_MAX;
  return { type: b.readInt16LE(0), start, end };
}

/** fcntl F_GETLK, F_SETLK, F_SETLKW and their F_OFD_ forms on f (struct flock at addr). */
export function fcntlLock(t: Task, f: FileDescription, cmd: number, addr: number): number {
  if (f instanceof PathFile) fail(E.EBADF);
  const b = t.mm.read(addr, FLOCK_SIZE);
  const ofd = cmd === F_OFD_GETLK || cmd === F_OFD_SETLK || cmd === F_OFD_SETLKW;
  const cls = ofd ? 'ofd' : 'posix';
  const owner = ofd ? f : t.fds;
  const locks = t.kernel.vfs.locks;
  const type = b.readInt16LE(0);
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    // F_OFD_GETLK of F_UNLCK asks for the description's own lock over the range
    if (type !== F_RDLCK && type !== F_WRLCK && !(ofd && type === F_UNLCK)) fail(E.EINVAL);
    const r = lockRange(t, f, b);
    if (ofd && b.readInt32LE(24) !== 0) fail(E.EINVAL);
    const c = locks.getRecord(t, f, cls, owner, r);
    if (c === null) b.writeInt16LE(F_UNLCK, 0);
    else {
      b.writeInt16LE(c.type, 0);
      b.writeInt16LE(SEEK_SET, 2);
      b.writeBigInt64LE(c.start, 8);
      b.writeBigInt64LE(c.end === OFFSET_MAX ? 0n : c.end - c.start + 1n, 16);
      b.writeInt32LE(c.pid, 24);
    }
    t.mm.write(addr, b);
    return 0;
  }
  const r = lockRange(t, f, b);
  if (type !== F_RDLCK && type !== F_WRLCK && type !== F_UNLCK) fail(E.EINVAL);
  if ((type === F_RDLCK && !f.readable) || (type === F_WRLCK && !f.writable)) fail(E.EBADF);
  if (ofd && b.readInt32LE(24) !== 0) fail(E.EINVAL);
  locks.setRecord(t, f, cls, owner, r, cmd === F_SETLKW || cmd === F_OFD_SETLKW);
  return 0;
}

/** CAP_LEASE: take leases on files one does not own */
const CAP_LEASE = 1n << 28n;

/**
 * How many descriptions of the guest's processes have the file open, read
 * only and for writing (Linux's i_readcount, i_writecount); descriptions no
 * fd table holds (in flight in an SCM_RIGHTS message) are not seen.
 */
function openCounts(t: Task, key: string): OpenCounts {
  const locks = t.kernel.vfs.locks;
  const seen = new Set<FileDescription>();
  const counts = { readers: 0, writers: 0 };
  for (const p of t.kernel.processes.values()) {
    if (p.exit !== null) continue;
    for (const [, e] of p.fds.entries()) {
      const f = e.file;
      if (seen.has(f)) continue;
      seen.add(f);
      if (f.loc === null || f instanceof PathFile || locks.keyOf(t, f) !== key) continue;
      if (f.writable) counts.writers++;
      else if (f.readable) counts.readers++;
    }
  }
  return counts;
}

/**
 * F_SETLEASE: vfs_setlease's checks (the file's owner or CAP_LEASE, a
 * regular file), then generic_setlease between the guest's descriptions
 * (fs/leases.ts); a lease taken makes the caller the owner if there is none
 * (lease_setup), for the signal of its break.
 */
export function setLease(t: Task, f: FileDescription, fd: number, arg: number, owner: () => void): number {
  if (f instanceof PathFile) fail(E.EBADF);
  const st = statFields(f.statBytes(t));
  if (st.uid !== t.cred.fsuid && !(t.cred.caps.eff & CAP_LEASE)) fail(E.EACCES);
  if ((st.mode & S_IFMT) !== S_IFREG) fail(E.EINVAL);
  if (arg !== F_UNLCK && arg !== F_RDLCK && arg !== F_WRLCK) fail(E.EINVAL);
  const locks = t.kernel.vfs.locks;
  const key = locks.keyOf(t, f) ?? fail(E.EINVAL);
  locks.leases.set(key, f, fd, arg, arg === F_UNLCK ? { readers: 0, writers: 0 } : openCounts(t, key), sigioSender(t.kernel));
  // its lease goes when the description's last reference does
  f.locks = locks;
  if (arg !== F_UNLCK) owner();
  return 0;
}

/** F_GETLEASE: the description's lease, or what its break is making it. */
export function getLease(t: Task, f: FileDescription): number {
  if (f instanceof PathFile) fail(E.EBADF);
  const locks = t.kernel.vfs.locks;
  if (locks.leases.count === 0) return F_UNLCK;
  const key = locks.keyOf(t, f);
  return key === null ? F_UNLCK : locks.leases.get(key, f);
}

/**
 * An open (flags: its O_ACCMODE and O_NONBLOCK) or truncate (a writer) of
 * the regular file at loc breaks the leases it conflicts with, and waits
 * for them (break_lease).
 */
export function breakLease(t: Task, loc: Loc, write: boolean, nonblock: boolean): void {
  const leases = t.kernel.vfs.locks.leases;
  if (leases.count === 0) return;
  const st = statFields(loc.node.stat(t));
  leases.breakFor(t, `${st.dev}:${st.ino}`, write, nonblock);
}

function flock(t: Task, fd: number, op: number): number {
  // mandatory locks never worked; Linux ignores a request for one
  if (op & LOCK_MAND) return 0;
  const cmd = op & ~LOCK_NB;
  const type = cmd === LOCK_SH ? F_RDLCK : cmd === LOCK_EX ? F_WRLCK : cmd === LOCK_UN ? F_UNLCK : fail(E.EINVAL);
  const f = t.fds.file(fd);
  if (f instanceof PathFile) fail(E.EBADF);
  if (type !== F_UNLCK && !f.readable && !f.writable) fail(E.EBADF);
  t.kernel.vfs.locks.flock(t, f, type, !(op & LOCK_NB));
  return 0;
}

export const lockDefs: Record<string, Def> = {
  flock: supported(['fd', 'flockop'], (t, a) => flock(t, a.i32(0), a.u32(1)), 'between the guest\'s processes, and on host files with the host\'s flock too (a host process\'s lock is waited for by asking the host again every 20 ms)'),
};
