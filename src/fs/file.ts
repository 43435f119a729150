// Open-file descriptions. The base class answers every operation with the
// error Linux gives for a file that does not support it; each kind of file
// overrides what it supports (the browser_wasi_shim idiom, Linux's defaults).
import type { IoContext } from './context.js';
import type { WaitQueue } from '../ctx/waitq.js';
import { PROT_READ, PROT_WRITE, type AddressSpace } from '../mm/address-space.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { host, Scratch } from '../host/libc.js';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, fromHostOpenFlags } from './flags.js';
import { fileId, guestStat, HOST_STAT_SIZE, statFields } from './stat.js';
import type { Loc, SetAttr, Timespec } from './vfs.js';

/** The calling task, as file operations see it (memory, arch, and parking for blocking I/O). */

let scratch: Scratch | null = null;
/** Host memory for results the host writes before they are translated for the guest. */
export function hostScratch(): Scratch {
  return (scratch ??= new Scratch(65536));
}

export abstract class FileDescription {
  refs = 1;
  /** where the file was opened in the guest's tree (null for pipes, sockets, inherited host fds) */
  loc: Loc | null = null;
  /** mmap of it gives anonymous memory (/dev/zero) */
  get mapsAsAnonymous(): boolean {
    return false;
  }
  /** status flags (O_APPEND, O_NONBLOCK...) and access mode, guest values */
  constructor(public flags: number) {}

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
  ftruncate(_len: number): number {
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

  /**
   * poll(2): which of POLLIN/POLLOUT/POLLERR/POLLHUP hold now. A regular
   * file is always ready (Linux's default for files without a poll method).
   */
  poll(_t: IoContext, _events: number): number {
    return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
  }

  /** The queues woken when poll's answer may change (none for always-ready files). */
  pollQueues(_t: IoContext, _events: number): WaitQueue[] {
    return [];
  }
}

export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDNORM = 0x40;
export const POLLWRNORM = 0x100;

const chk = (r: number): number => (r < 0 ? fail(-r) : r);

/**
 * Transfer into or out of guest memory in host-contiguous pieces. A short
 * transfer ends it; an error after some bytes moved returns the bytes moved.
 */
export function transfer(
  mm: AddressSpace,
  addr: number,
  len: number,
  prot: number,
  op: (host: number, n: number, done: number) => number,
): number {
  let total = 0;
  let err = 0;
  // As Linux copies to and from user memory: up to the first byte that is
  // not accessible (a short count), EFAULT only if that is the first one.
  mm.prefixPieces(addr, len, prot, (h, n, done) => {
    const r = op(h, n, done);
    if (r < 0) {
      err = r;
      return false;
    }
    total += r;
    return r === n;
  });
  if (total === 0 && err < 0) fail(-err);
  return total;
}

/**
 * Regular host files open for writing in one Machine's guest, by fileId ->
 * how many descriptions: exec of one fails with ETXTBSY, as Linux's
 * deny_write_access (its i_writecount; a file's mappings are not counted here).
 */
export class OpenWriters {
  private readonly counts = new Map<string, number>();
  has(id: string): boolean {
    return this.counts.has(id);
  }
  add(id: string): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }
  remove(id: string): void {
    const n = this.counts.get(id)! - 1;
    if (n > 0) this.counts.set(id, n);
    else this.counts.delete(id);
  }
}

/** A file of the host, passed through (the hostfs of the VFS issue will take over path handling). */
export class HostFile extends FileDescription {
  /** its fileId while counted in `writers` */
  private writer: string | null = null;
  constructor(
    private fd: number,
    flags: number,
    readonly path: string,
    loc: Loc | null,
    /** where the Machine counts regular files open for writing */
    private readonly writers: OpenWriters,
  ) {
    super(flags);
    this.loc = loc;
    if (this.writable) {
      const s = hostScratch();
      if (host.fstat(fd, s.addr) === 0 && (s.dv.getUint32(24, true) & 0o170000) === 0o100000) {
        this.writer = fileId(statFields(s.bytes));
        writers.add(this.writer);
      }
    }
  }
  override get hostFd(): number {
    return this.fd;
  }
  private blocking = -1;
  /** Can a read of this host fd wait (pipe, terminal, socket), so that it must not block the emulator? */
  private mayBlock(): boolean {
    if (this.blocking < 0) {
      const s = hostScratch();
      const mode = host.fstat(this.fd, s.addr) === 0 ? s.dv.getUint32(24, true) & 0o170000 : 0o100000;
      this.blocking = mode === 0o100000 || mode === 0o040000 || mode === 0o060000 ? 0 : 1;
    }
    return this.blocking === 1;
  }

  override poll(_t: IoContext, events: number): number {
    if (!this.mayBlock()) return super.poll(_t, events);
    return host.pollEvents(this.fd, events & (POLLIN | POLLOUT | POLLPRI));
  }

  override pollQueues(t: IoContext, events: number): WaitQueue[] {
    return this.mayBlock() ? [t.hostPollQueue(this.fd, events & (POLLIN | POLLOUT | POLLPRI))] : [];
  }

  override read(t: IoContext, addr: number, len: number): number {
    if (len > 0 && this.mayBlock() && !(this.flags & O_NONBLOCK) && !host.pollReady(this.fd, 1 /* POLLIN */)) {
      t.mm.check(addr, len, PROT_WRITE);
      t.block([t.hostPollQueue(this.fd, 1)]);
    }
    return transfer(t.mm, addr, len, PROT_WRITE, (h, n) => host.read(this.fd, h, n));
  }
  override write(t: IoContext, addr: number, len: number): number {
    return transfer(t.mm, addr, len, PROT_READ, (h, n) => host.write(this.fd, h, n));
  }
  override pread(t: IoContext, addr: number, len: number, off: number): number {
    return transfer(t.mm, addr, len, PROT_WRITE, (h, n, done) => host.pread(this.fd, h, n, off + done));
  }
  override pwrite(t: IoContext, addr: number, len: number, off: number): number {
    return transfer(t.mm, addr, len, PROT_READ, (h, n, done) => host.pwrite(this.fd, h, n, off + done));
  }
  override lseek(off: number, whence: number): number {
    return chk(host.lseek(this.fd, off, whence));
  }
  override getdents64(t: IoContext, addr: number, len: number): number {
    // One piece only: a dirent must not be split across host ranges.
    const h = t.mm.hostRange(addr, len, PROT_WRITE);
    if (h >= 0) return chk(host.getdents64(this.fd, h, len));
    const s = hostScratch();
    const n = chk(host.getdents64(this.fd, s.addr, Math.min(len, s.bytes.length)));
    t.mm.write(addr, s.bytes.subarray(0, n));
    return n;
  }
  override ioctl(t: IoContext, req: number, arg: number): number {
    return hostTtyIoctl(t, this.fd, req, arg);
  }
  override statBytes(_t: IoContext): Uint8Array {
    const s = hostScratch();
    chk(host.fstat(this.fd, s.addr));
    return s.bytes.subarray(0, HOST_STAT_SIZE);
  }
  override getFlags(t: IoContext): number {
    return fromHostOpenFlags(t.arch.name, chk(host.fcntl(this.fd, 3 /* F_GETFL */, 0)));
  }
  override setFlags(f: number): void {
    chk(host.fcntl(this.fd, 4 /* F_SETFL */, f));
  }
  override pipeSize(_t: IoContext, size?: number): number {
    // a host pipe (inherited stdio): the host kernel's own answer
    return chk(size === undefined ? host.fcntl(this.fd, 1032 /* F_GETPIPE_SZ */, 0) : host.fcntl(this.fd, 1031 /* F_SETPIPE_SZ */, size));
  }
  override ftruncate(len: number): number {
    return chk(host.ftruncate(this.fd, len));
  }
  override kread(t: IoContext, s: Scratch, len: number, off: number | null): number {
    if (off === null && this.mayBlock() && !(this.flags & O_NONBLOCK) && !host.pollReady(this.fd, 1)) t.block([t.hostPollQueue(this.fd, 1)]);
    return chk(off === null ? host.read(this.fd, s.addr, len) : host.pread(this.fd, s.addr, len, off));
  }
  override kwrite(_t: IoContext, s: Scratch, len: number): number {
    return chk(host.write(this.fd, s.addr, len));
  }
  override setattr(_t: IoContext, a: SetAttr): number {
    // by fd, so that an unlinked file still changes; the host checks permissions
    if (this.loc?.mnt.readonly) fail(E.EROFS);
    if (a.mode !== undefined) chk(host.fchmod(this.fd, a.mode));
    if (a.uid !== undefined || a.gid !== undefined) chk(host.fchown(this.fd, (a.uid ?? -1) >>> 0, (a.gid ?? -1) >>> 0));
    if (a.atime !== undefined || a.mtime !== undefined) {
      // futimens: glibc's utimensat refuses a NULL path, so name the fd through the host's /proc
      const s = hostScratch();
      writeTimes(s.dv, a.atime, a.mtime);
      chk(host.utimensat(-100, Buffer.from(`/proc/self/fd/${this.fd}\0`), s.addr, 0));
    }
    return 0;
  }
  override fsync(): number {
    return chk(host.fsync(this.fd));
  }
  override release(): void {
    host.close(this.fd);
    if (this.writer !== null) {
      this.writers.remove(this.writer);
      this.writer = null;
    }
  }
}

export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TCSETSW = 0x5403;
export const TCSETSF = 0x5404;
export const TIOCGPGRP = 0x540f;
export const TIOCSPGRP = 0x5410;
export const TIOCGWINSZ = 0x5413;
export const TIOCGSID = 0x5429;
export const TIOCSWINSZ = 0x5414;
export const FIONREAD = 0x541b;
const TERMIOS_SIZE = 36; // struct termios (kernel): 4 flags, c_line, c_cc[19]; same on x86_64 and arm64
const WINSIZE_SIZE = 8;

/**
 * Terminal ioctls on a host fd: passed through to the host terminal (same
 * struct layout on both arches); ENOTTY when the fd is not a terminal.
 */
export function hostTtyIoctl(t: IoContext, fd: number, req: number, arg: number): number {
  const s = hostScratch();
  switch (req) {
    case TCGETS:
    case TIOCGWINSZ: {
      const size = req === TCGETS ? TERMIOS_SIZE : WINSIZE_SIZE;
      t.mm.check(arg, size, PROT_WRITE);
      chk(host.ioctl(fd, req, s.addr));
      t.mm.write(arg, s.bytes.subarray(0, size));
      return 0;
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
    case TIOCSWINSZ: {
      const size = req === TIOCSWINSZ ? WINSIZE_SIZE : TERMIOS_SIZE;
      s.bytes.set(t.mm.read(arg, size), 0);
      return chk(host.ioctl(fd, req, s.addr));
    }
    case FIONREAD: {
      t.mm.check(arg, 4, PROT_WRITE);
      chk(host.ioctl(fd, req, s.addr));
      t.mm.write(arg, s.bytes.subarray(0, 4));
      return 0;
    }
    // The terminal's foreground process group and session are the guest's own:
    // its process groups are not the host's (^C goes to the group set here).
    case TIOCGPGRP:
    case TIOCGSID: {
      if (!host.isatty(fd)) fail(E.ENOTTY);
      t.mm.setI32(arg, req === TIOCGPGRP ? t.terminal.foreground() : t.terminal.session(t));
      return 0;
    }
    case TIOCSPGRP: {
      if (!host.isatty(fd)) fail(E.ENOTTY);
      const pgid = t.mm.i32(arg);
      if (pgid < 0) fail(E.EINVAL);
      t.terminal.setForeground(t, pgid);
      return 0;
    }
    default:
      return fail(E.ENOTTY);
  }
}

const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

/** Two struct timespec for utimensat: unset is UTIME_OMIT, 'now' is UTIME_NOW. */
export function writeTimes(dv: DataView, at: Timespec | 'now' | undefined, mt: Timespec | 'now' | undefined): void {
  [at, mt].forEach((v, i) => {
    dv.setBigInt64(i * 16, BigInt(v === undefined || v === 'now' ? 0 : v.sec), true);
    dv.setBigInt64(i * 16 + 8, BigInt(v === undefined ? UTIME_OMIT : v === 'now' ? UTIME_NOW : v.nsec), true);
  });
}
