// The host's side of the guest's locks on host files, so that host processes
// and the guest see each other's locks: flock(2) on the description's host
// fd, and record locks as host OFD locks (all guest processes are elfrun's
// one host process, so host POSIX locks could not tell them apart). An OFD
// lock of the guest is taken on its description's host fd; the POSIX locks
// of one guest owner (fd table) on one file are taken on a host fd of their
// own, opened for it, so that its locks through several descriptions are one
// owner's on the host too. Everything here is non-blocking: a conflict with
// a host process is reported, and the caller waits and asks again.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { AT_FDCWD, F_OFD_GETLK, F_OFD_SETLK, F_UNLCK, F_WRLCK, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, O_ACCMODE, O_CLOEXEC, O_NOCTTY, O_RDWR } from '../abi/fcntl.js';
import { S_IFDIR, S_IFMT, S_IFREG } from '../abi/stat.js';
import { host } from '../host/libc.js';
import type { FileDescription } from './file.js';
import { HostFile } from './hostfile.js';
import type { Conflict, FileLocks, LockHolder, LockRange } from './locks.js';
import { hostScratch } from './transfer.js';

const OFFSET_MAX = 0x7fffffffffffffffn;

/** Record locks are taken on the host for regular files and directories only (a pipe's reopening would be another end of it). */
function lockable(f: FileDescription): f is HostFile {
  if (!(f instanceof HostFile)) return false;
  const s = hostScratch();
  if (host.fstat(f.hostFd, s.addr) !== 0) return false;
  const type = s.dv.getUint32(24, true) & S_IFMT;
  return type === S_IFREG || type === S_IFDIR;
}

/** fcntl(fd, cmd, &struct flock) on the host; for F_OFD_GETLK the conflict (null: none). */
function hostFcntl(fd: number, cmd: number, r: LockRange): { r: number; found: Conflict | null } {
  const s = hostScratch();
  const dv = s.dv;
  s.bytes.fill(0, 0, 32);
  dv.setInt16(0, r.type, true);
  dv.setInt16(2, 0, true); // SEEK_SET
  dv.setBigInt64(8, r.start, true);
  dv.setBigInt64(16, r.end === OFFSET_MAX ? 0n : r.end - r.start + 1n, true);
  const ret = host.fcntl(fd, cmd, s.addr);
  if (ret < 0 || cmd !== F_OFD_GETLK || dv.getInt16(0, true) === F_UNLCK) return { r: ret, found: null };
  const start = dv.getBigInt64(8, true);
  const len = dv.getBigInt64(16, true);
  return { r: ret, found: { type: dv.getInt16(0, true), start, end: len === 0n ? OFFSET_MAX : start + len - 1n, pid: dv.getInt32(24, true) } };
}

export class HostLocks {
  /** each POSIX owner's host fd for a file */
  private readonly fds = new Map<FileLocks, Map<LockHolder, number>>();

  /** Does any owner keep a host fd for this file? */
  holds(fl: FileLocks): boolean {
    return (this.fds.get(fl)?.size ?? 0) > 0;
  }

  /** flock(2) on a host file's host fd too; false when a host process holds a conflicting lock. */
  flock(f: FileDescription, type: number): boolean {
    if (!(f instanceof HostFile)) return true;
    if (type === F_UNLCK) {
      host.flock(f.hostFd, LOCK_UN);
      return true;
    }
    const r = host.flock(f.hostFd, (type === F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB);
    if (r === -E.EAGAIN) return false;
    if (r < 0) fail(-r);
    return true;
  }

  /** A host fd of f's file for the POSIX owner's locks: read-write if the host allows, else as f is open; -1 if neither opens. */
  private open(fl: FileLocks, f: HostFile, owner: LockHolder): number {
    const path = Buffer.from(`/proc/self/fd/${f.hostFd}\0`);
    let fd = host.openat(AT_FDCWD, path, O_RDWR | O_CLOEXEC | O_NOCTTY, 0);
    if (fd < 0) fd = host.openat(AT_FDCWD, path, (f.flags & O_ACCMODE) | O_CLOEXEC | O_NOCTTY, 0);
    if (fd < 0) return -1;
    let m = this.fds.get(fl);
    if (m === undefined) this.fds.set(fl, (m = new Map()));
    m.set(owner, fd);
    return fd;
  }

  /**
   * Set req on the host for the owner's record lock; false when a host
   * process holds a conflicting one. `mine` is what the owner holds now
   * (taken again on a new host fd when the old one's access mode cannot
   * take this lock type).
   */
  record(fl: FileLocks, f: FileDescription, cls: 'posix' | 'ofd', owner: LockHolder, req: LockRange, mine: () => LockRange[]): boolean {
    if (!lockable(f)) return true;
    if (cls === 'ofd') return this.set(f.hostFd, req);
    let fd = this.fds.get(fl)?.get(owner);
    if (fd === undefined) {
      if (req.type === F_UNLCK) return true;
      fd = this.open(fl, f, owner);
      if (fd < 0) return true;
    }
    let r = hostFcntl(fd, F_OFD_SETLK, req).r;
    if (r === -E.EBADF) {
      // a new host fd, open as f is, with the owner's locks taken again
      this.settled(fl, owner, false);
      fd = this.open(fl, f, owner);
      if (fd < 0) return true;
      for (const l of mine()) hostFcntl(fd, F_OFD_SETLK, l);
      r = hostFcntl(fd, F_OFD_SETLK, req).r;
    }
    if (r === -E.EAGAIN || r === -E.EACCES) {
      this.settled(fl, owner, mine().length > 0);
      return false;
    }
    if (r < 0) fail(-r);
    return true;
  }

  private set(fd: number, req: LockRange): boolean {
    const r = hostFcntl(fd, F_OFD_SETLK, req).r;
    if (r === -E.EAGAIN || r === -E.EACCES) return false;
    if (r < 0) fail(-r);
    return true;
  }

  /** The owner's locks on the file changed: a POSIX owner that holds none there closes its host fd (its host locks go with it). */
  settled(fl: FileLocks, owner: LockHolder, holds: boolean): void {
    if (holds) return;
    const m = this.fds.get(fl);
    const fd = m?.get(owner);
    if (fd === undefined) return;
    host.close(fd);
    m!.delete(owner);
    if (m!.size === 0) this.fds.delete(fl);
  }

  /** F_GETLK's question to the host, for a host file the guest's own locks do not block. */
  test(fl: FileLocks | null, f: FileDescription, cls: 'posix' | 'ofd', owner: LockHolder, req: LockRange): Conflict | null {
    if (!lockable(f)) return null;
    const fd = (cls === 'posix' && fl !== null ? this.fds.get(fl)?.get(owner) : undefined) ?? f.hostFd;
    const { r, found } = hostFcntl(fd, F_OFD_GETLK, req);
    return r < 0 ? null : found;
  }
}
