// File locks: flock(2), and fcntl's record-lock and lease commands (fcntl
// itself is declared in fs.ts and hands these commands here). The locks are
// the Machine's lock table's (fs/locks.ts).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
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
 * F_SETLEASE: the checks of Linux's generic_setlease (the file's owner or
 * CAP_LEASE, a regular file); F_UNLCK finds no lease to remove (EAGAIN).
 */
export function setLease(t: Task, f: FileDescription, arg: number): number {
  if (f instanceof PathFile) fail(E.EBADF);
  const st = statFields(f.statBytes(t));
  if (st.uid !== t.cred.fsuid && !(t.cred.caps.eff & CAP_LEASE)) fail(E.EACCES);
  if ((st.mode & S_IFMT) !== S_IFREG) fail(E.EINVAL);
  if (arg === F_UNLCK) fail(E.EAGAIN);
  if (arg === F_RDLCK || arg === F_WRLCK) throw new Unsupported('fcntl F_SETLEASE with F_RDLCK/F_WRLCK (leases)', E.EINVAL);
  return fail(E.EINVAL);
}

/** F_GETLEASE: no lease is ever held. */
export function getLease(f: FileDescription): number {
  if (f instanceof PathFile) fail(E.EBADF);
  return F_UNLCK;
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
