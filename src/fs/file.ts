// Open-file descriptions. The base class answers every operation with the
// error Linux gives for a file that does not support it; each kind of file
// overrides what it supports (the browser_wasi_shim idiom, Linux's defaults).
// Host files are in hostfile.ts, tmpfs files in tmpfile.ts, pipes in pipe.ts.
import type { IoContext } from './context.js';
import type { WaitQueue } from '../ctx/waitq.js';
import type { Scratch } from '../host/libc.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_ACCMODE, O_RDONLY, O_WRONLY } from '../abi/fcntl.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/poll.js';
import { guestStat } from './stat.js';
import type { Loc, SetAttr, VNode } from './vfs.js';
import type { LockTable } from './locks.js';
import type { Notified } from './inotify.js';
import type { Fasync, FasyncStyle, FOwner } from './fasync.js';

export abstract class FileDescription {
  refs = 1;
  /** where the file was opened in the guest's tree (null for pipes, sockets, inherited host fds) */
  loc: Loc | null = null;
  /** made by the open that created its file (FMODE_CREATED: fcntl F_CREATED_QUERY) */
  createdFile = false;
  /** mmap of it gives anonymous memory (/dev/zero) */
  get mapsAsAnonymous(): boolean {
    return false;
  }
  /** status flags (O_APPEND, O_NONBLOCK...) and access mode, guest values */
  constructor(public flags: number) {}
  /** an anonymous inode's name, as /proc/<pid>/fd shows it (after anon_inode:, brackets included as Linux names them: [eventfd], inotify); null for other files */
  readonly anonName: string | null = null;
  /** what /proc/<pid>/fdinfo shows after the common lines (eventfd-count...) */
  fdinfo(): string {
    return '';
  }

  get readable(): boolean {
    return (this.flags & O_ACCMODE) !== O_WRONLY;
  }
  get writable(): boolean {
    return (this.flags & O_ACCMODE) !== O_RDONLY;
  }

  read(_t: IoContext, _addr: number, _len: number): number {
    return fail(E.EINVAL);
  }
  write(_t: IoContext, _addr: number, _len: number): number {
    return fail(E.EINVAL);
  }
  pread(_t: IoContext, _addr: number, _len: number, _off: number): number {
    return fail(E.ESPIPE);
  }
  pwrite(_t: IoContext, _addr: number, _len: number, _off: number): number {
    return fail(E.ESPIPE);
  }
  lseek(_off: number, _whence: number): number {
    return fail(E.ESPIPE);
  }
  getdents64(_t: IoContext, _addr: number, _len: number): number {
    return fail(E.ENOTDIR);
  }
  ioctl(_t: IoContext, _req: number, _arg: number): number {
    return fail(E.ENOTTY);
  }
  /**
   * fcntl F_GETPIPE_SZ (size undefined) / F_SETPIPE_SZ: the capacity of a pipe.
   * Anything but a pipe or FIFO is EBADF, as Linux's pipe_fcntl says.
   */
  pipeSize(_t: IoContext, _size?: number): number {
    return fail(E.EBADF);
  }
  /**
   * mmap MAP_SHARED of it: may the host mapping be writable (so that
   * mprotect can add PROT_WRITE later)? A write-sealed memfd refuses
   * PROT_WRITE (EPERM) and maps read-only.
   */
  sharedMapWritable(_prot: number): boolean {
    return this.writable;
  }
  /** struct stat in the host's (x86_64) layout */
  statBytes(t: IoContext): Uint8Array {
    return this.loc !== null ? this.loc.node.stat(t) : fail(E.EBADF);
  }
  fstat(t: IoContext, addr: number): void {
    t.mm.write(addr, guestStat(t.arch.name, this.statBytes(t)));
  }
  getFlags(_t: IoContext): number {
    return this.flags;
  }
  setFlags(f: number): void {
    this.flags = f;
  }
  /** ftruncate(2); a file whose size changes tells the caller's memory (sizeChanged) */
  ftruncate(_t: IoContext, _len: number): number {
    return fail(E.EINVAL);
  }
  /**
   * Kernel-side I/O for sendfile: read up to len bytes into host scratch
   * memory (at `off`, or at and advancing the file position when null), and
   * write len bytes from it. Linux's defaults: EINVAL for files without it.
   */
  kread(_t: IoContext, _s: Scratch, _len: number, _off: number | null): number {
    return fail(E.EINVAL);
  }
  kwrite(_t: IoContext, _s: Scratch, _len: number): number {
    return fail(E.EINVAL);
  }
  /** fchmod, fchown, futimens: the file's node (EROFS on a read-only mount) */
  setattr(t: IoContext, a: SetAttr): number {
    if (this.loc === null) return fail(E.EBADF);
    if (this.loc.mnt.readonly) fail(E.EROFS);
    this.loc.node.setattr(t, a);
    t.vfs.notify.onSetattr(t, this.loc, a);
    return 0;
  }
  fsync(): number {
    return fail(E.EINVAL);
  }
  /** The host fd behind this file, for *at() calls relative to it; -1 if none. */
  get hostFd(): number {
    return -1;
  }
  /** Called when the last reference goes. */
  release(): void {}
  /** Drop one reference (a closed fd, a message that carried the file); the last releases it, and its flock and OFD locks. */
  unref(): void {
    if (--this.refs === 0) {
      this.fasync?.stop();
      this.fasync = null;
      if (this.notified !== null) this.notified.notifier.closed(this, this.notified);
      this.locks?.released(this);
      this.release();
    }
  }

  /** fcntl F_SETOWN/F_SETOWN_EX/F_SETSIG: whom O_ASYNC's signals go to, and which (Linux's f_owner); null until set */
  owner: FOwner | null = null;
  /** O_ASYNC's hook on the file's wait queues, while it is on */
  fasync: Fasync | null = null;
  /** how the file signals its O_ASYNC owner (Linux's ->fasync); null for files without it, whose O_ASYNC does nothing */
  get fasyncStyle(): FasyncStyle | null {
    return null;
  }

  /** opened on an in-memory file system: what its close reports to inotify watches (null: nothing) */
  notified: Notified | null = null;
  /** the lock table this description holds flock or OFD locks in (null: none) */
  locks: LockTable | null = null;
  /** the file's identity in lock tables ("dev:ino"), once known */
  lockKey: string | null = null;
  /** The file's identity, where the description can tell it without a caller (host files, tmpfs); else null. */
  identity(): { dev: bigint; ino: bigint } | null {
    return null;
  }

  /**
   * poll(2): which of POLLIN/POLLOUT/POLLERR/POLLHUP hold now. A regular
   * file is always ready (Linux's default for files without a poll method).
   */
  poll(_t: IoContext, _events: number): number {
    return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
  }

  /**
   * The host fd whose readiness is this file's, if any (a host socket, a
   * host pipe or terminal): epoll asks the host's epoll for its edges.
   */
  hostEdgeFd(): number | null {
    return null;
  }

  /** The queues woken when poll's answer may change (none for always-ready files). */
  pollQueues(_t: IoContext, _events: number): WaitQueue[] {
    return [];
  }
}

/**
 * A regular file's size changed (truncate, ftruncate, an open with O_TRUNC):
 * shared mappings of files re-check where their files end, so that no page
 * past a new end stays mapped in the engine (the host would SIGBUS elfrun
 * itself on an access) and pages a file grew into can be mapped again.
 */
export function sizeChanged(t: IoContext): void {
  const memory = t.mm.memory;
  if (memory.sharedFilesMapped()) memory.refreshSharedFiles();
}

/** An O_PATH description: a place, usable as a dirfd and for fstat, nothing else. */
export class PathFile extends FileDescription {
  constructor(
    private node: VNode,
    flags: number,
    loc: Loc,
  ) {
    super(flags);
    this.loc = loc;
  }
  override get readable(): boolean {
    return false;
  }
  override get writable(): boolean {
    return false;
  }
  override read(): number {
    return fail(E.EBADF);
  }
  override write(): number {
    return fail(E.EBADF);
  }
  override getdents64(): number {
    return fail(E.EBADF);
  }
  override ioctl(): number {
    return fail(E.EBADF);
  }
  override statBytes(t: IoContext): Uint8Array {
    return this.node.stat(t);
  }
}
