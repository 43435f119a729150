// Host files passed through: an open host fd behind a guest open-file
// description (hostfs files, /dev/tty, the stdio elfrun was given), and the
// registry of regular host files open for writing that exec consults.
import type { IoContext } from './context.js';
import type { WaitQueue } from '../ctx/waitq.js';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { AT_FDCWD, F_GETFL, F_GETPIPE_SZ, F_SETFL, F_SETPIPE_SZ, O_APPEND, O_NONBLOCK, SEEK_CUR, SEEK_SET } from '../abi/fcntl.js';
import { RLIM_INFINITY, RLIMIT_FSIZE } from '../abi/resource.js';
import { SIG } from '../abi/signal.js';
import { POLLIN, POLLOUT, POLLPRI } from '../abi/poll.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK } from '../abi/stat.js';
import { host, type Scratch } from '../host/libc.js';
import { fromHostOpenFlags } from './flags.js';
import { FileDescription, sizeChanged } from './file.js';
import type { FasyncStyle } from './fasync.js';
import { fileId, HOST_STAT_SIZE, statFields } from './stat.js';
import { writeTimes } from './times.js';
import { chk, hostScratch, transfer } from './transfer.js';
import { hostTtyIoctl, hostTtyOf, hostTtyWriteCheck, ttyReadCheck, type TtyCtrl } from './tty.js';
import type { Loc, SetAttr } from './vfs.js';

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

/** The file type of a host fd (S_IFMT bits), or -1 if fstat fails. */
function hostFdType(fd: number): number {
  const s = hostScratch();
  return host.fstat(fd, s.addr) === 0 ? s.dv.getUint32(24, true) & S_IFMT : -1;
}

/** A file of the host, passed through: reads, writes and seeks go to its host fd. */
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
      if (host.fstat(fd, s.addr) === 0 && (s.dv.getUint32(24, true) & S_IFMT) === S_IFREG) {
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
      const type = hostFdType(this.fd);
      this.blocking = type === -1 || type === S_IFREG || type === S_IFDIR || type === S_IFBLK ? 0 : 1;
    }
    return this.blocking === 1;
  }

  override poll(_t: IoContext, events: number): number {
    if (!this.mayBlock()) return super.poll(_t, events);
    return host.pollEvents(this.fd, events & (POLLIN | POLLOUT | POLLPRI));
  }

  /** a host pipe, socket or terminal signals as Linux's of its kind; other host files have no ->fasync */
  override get fasyncStyle(): FasyncStyle | null {
    if (!this.mayBlock()) return null;
    const type = hostFdType(this.fd);
    return type === S_IFIFO ? 'pipe' : type === S_IFSOCK ? 'socket' : type === S_IFCHR && host.isatty(this.fd) ? 'tty' : null;
  }

  override hostEdgeFd(): number | null {
    return this.mayBlock() ? this.fd : null;
  }

  override pollQueues(t: IoContext, events: number): WaitQueue[] {
    return this.mayBlock() ? [t.hostPollQueue(this.fd, events & (POLLIN | POLLOUT | POLLPRI))] : [];
  }

  /** the terminal this fd is (its job-control state), null for none; undefined until first asked */
  tty: TtyCtrl | null | undefined = undefined;
  private ttyOf(t: IoContext): TtyCtrl | null {
    if (this.tty === undefined) this.tty = hostTtyOf(t, this.fd);
    return this.tty;
  }

  override read(t: IoContext, addr: number, len: number): number {
    const tty = this.ttyOf(t);
    if (tty !== null) ttyReadCheck(t, tty);
    if (len > 0 && this.mayBlock() && !(this.flags & O_NONBLOCK) && !host.pollReady(this.fd, POLLIN)) {
      t.mm.check(addr, len, PROT_WRITE);
      t.block([t.hostPollQueue(this.fd, POLLIN)]);
    }
    return transfer(t.mm, addr, len, PROT_WRITE, (h, n) => host.read(this.fd, h, n));
  }
  override write(t: IoContext, addr: number, len: number): number {
    const tty = this.ttyOf(t);
    if (tty !== null) hostTtyWriteCheck(t, tty, this.fd);
    len = this.fsizeRoom(t, null, len);
    return transfer(t.mm, addr, len, PROT_READ, (h, n) => host.write(this.fd, h, n));
  }
  override pread(t: IoContext, addr: number, len: number, off: number): number {
    return transfer(t.mm, addr, len, PROT_WRITE, (h, n, done) => host.pread(this.fd, h, n, off + done));
  }
  override pwrite(t: IoContext, addr: number, len: number, off: number): number {
    len = this.fsizeRoom(t, off, len);
    return transfer(t.mm, addr, len, PROT_READ, (h, n, done) => host.pwrite(this.fd, h, n, off + done));
  }

  /**
   * RLIMIT_FSIZE on a regular file, as generic_write_check_limits applies
   * it: a write starting at or past the limit raises SIGXFSZ and fails with
   * EFBIG; one that crosses it is cut short at the limit. `off` null: the
   * file's position (its end with O_APPEND). The guest's limit is its own,
   * not elfrun's, so it is checked here; nothing is asked of the host
   * while the limit is infinite.
   */
  private fsizeRoom(t: IoContext, off: number | null, len: number): number {
    const lim = t.rlimits[RLIMIT_FSIZE]?.[0];
    if (lim === undefined || lim >= RLIM_INFINITY || len === 0 || this.writer === null) return len;
    let pos = off;
    if (pos === null) {
      if (this.flags & O_APPEND) {
        const s = hostScratch();
        pos = host.fstat(this.fd, s.addr) === 0 ? Number(statFields(s.bytes).size) : 0;
      } else pos = Math.max(0, host.lseek(this.fd, 0, 1 /* SEEK_CUR */));
    }
    const limit = Number(lim);
    if (pos >= limit) {
      t.raise(SIG.SIGXFSZ);
      fail(E.EFBIG);
    }
    return Math.min(len, limit - pos);
  }
  override lseek(off: number, whence: number): number {
    return chk(host.lseek(this.fd, off, whence));
  }
  override getdents64(t: IoContext, addr: number, len: number): number {
    // One piece only: a dirent must not be split across host ranges.
    const h = t.mm.hostRange(addr, len, PROT_WRITE);
    if (h >= 0) return chk(host.getdents64(this.fd, h, len));
    const s = hostScratch();
    // a buffer the guest cannot take leaves the directory's position where it was, as Linux's EFAULT does
    const pos = host.lseek(this.fd, 0, SEEK_CUR);
    const n = chk(host.getdents64(this.fd, s.addr, Math.min(len, s.bytes.length)));
    try {
      t.mm.write(addr, s.bytes.subarray(0, n));
    } catch (err) {
      if (pos >= 0) host.lseek(this.fd, pos, SEEK_SET);
      throw err;
    }
    return n;
  }
  override ioctl(t: IoContext, req: number, arg: number): number {
    return hostTtyIoctl(t, this.fd, this.ttyOf(t), this.readable, req, arg);
  }
  override identity(): { dev: bigint; ino: bigint } | null {
    const s = hostScratch();
    return host.fstat(this.fd, s.addr) === 0 ? statFields(s.bytes) : null;
  }
  override statBytes(_t: IoContext): Uint8Array {
    const s = hostScratch();
    chk(host.fstat(this.fd, s.addr));
    return s.bytes.subarray(0, HOST_STAT_SIZE);
  }
  override getFlags(t: IoContext): number {
    return fromHostOpenFlags(t.arch.name, chk(host.fcntl(this.fd, F_GETFL, 0)));
  }
  override setFlags(f: number): void {
    chk(host.fcntl(this.fd, F_SETFL, f));
  }
  override pipeSize(_t: IoContext, size?: number): number {
    // a host pipe (inherited stdio): the host kernel's own answer
    return chk(size === undefined ? host.fcntl(this.fd, F_GETPIPE_SZ, 0) : host.fcntl(this.fd, F_SETPIPE_SZ, size));
  }
  override ftruncate(t: IoContext, len: number): number {
    chk(host.ftruncate(this.fd, len));
    sizeChanged(t);
    return 0;
  }
  override kread(t: IoContext, s: Scratch, len: number, off: number | null): number {
    const tty = off === null ? this.ttyOf(t) : null;
    if (tty !== null) ttyReadCheck(t, tty);
    if (off === null && this.mayBlock() && !(this.flags & O_NONBLOCK) && !host.pollReady(this.fd, POLLIN)) t.block([t.hostPollQueue(this.fd, POLLIN)]);
    return chk(off === null ? host.read(this.fd, s.addr, len) : host.pread(this.fd, s.addr, len, off));
  }
  override kwrite(t: IoContext, s: Scratch, len: number): number {
    const tty = this.ttyOf(t);
    if (tty !== null) hostTtyWriteCheck(t, tty, this.fd);
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
      chk(host.utimensat(AT_FDCWD, Buffer.from(`/proc/self/fd/${this.fd}\0`), s.addr, 0));
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
