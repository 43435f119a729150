// Pipes: a 64 KiB ring in JS memory between two open-file descriptions.
// Readers and writers park on the pipe's queues; EOF when no writer is left,
// EPIPE (and SIGPIPE) for a write with no reader left. A writer opened with
// O_DIRECT (pipe2's packet mode) writes packets of at most a page, each in
// a slot of its own as Linux's pipe buffers are: a read takes at most one
// packet and discards what of it does not fit, and the pipe is full when
// its pages' worth of slots are taken.
import { WaitQueue } from '../ctx/waitq.js';
import type { Scratch } from '../host/libc.js';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../abi/fcntl.js';
import { FIONREAD } from '../abi/ioctl.js';
import { PIPE_BUF } from '../abi/limits.js';
import { S_IFIFO } from '../abi/stat.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/poll.js';
import { FileDescription } from './file.js';
import type { FasyncStyle } from './fasync.js';
import { type IoContext } from './context.js';
import { hostStatBytes, type StatFields } from './stat.js';

const PAGE = 4096;
/** a new pipe's capacity (16 pages), as on Linux */
const DEFAULT_CAPACITY = 65536;
/** /proc/sys/fs/pipe-max-size's default: the limit for F_SETPIPE_SZ without CAP_SYS_RESOURCE */
export const PIPE_MAX_SIZE = 1048576;
/** pipefs's device number as Linux reports it (anonymous, major 0) */
const PIPEFS_DEV = 0xc;

export class Pipe {
  constructor(
    /** its pipefs inode number (the Vfs's anonIno) */
    readonly ino: number,
  ) {}
  private buf = new Uint8Array(DEFAULT_CAPACITY);
  private head = 0; // read position
  size = 0;
  /** once a packet was written: the data as segments in order, packets (one slot each) and byte runs; null: all bytes */
  private segs: Array<{ len: number; packet: boolean }> | null = null;
  readers = 0;
  writers = 0;
  readonly readable = new WaitQueue('pipe read');
  readonly writable = new WaitQueue('pipe write');
  readonly ctime = Date.now();
  /** FIFOs: open descriptions, and opens so far per side (a waiting open sees its partner come) */
  opens = 0;
  readOpens = 0;
  writeOpens = 0;
  readonly partner = new WaitQueue('fifo open');

  get capacity(): number {
    return this.buf.length;
  }

  get space(): number {
    return this.buf.length - this.size;
  }

  /** pipe_full: no free slot (with packets, each takes one; a byte run its pages) */
  get full(): boolean {
    if (this.segs === null) return this.space === 0;
    let slots = 0;
    for (const s of this.segs) slots += s.packet ? 1 : Math.ceil(s.len / PAGE);
    return slots >= this.buf.length / PAGE || this.space === 0;
  }

  /** n bytes just went in: a packet of its own, or onto the last byte run */
  private appended(n: number, packet: boolean): void {
    if (this.segs === null) {
      if (!packet) return;
      this.segs = this.size > n ? [{ len: this.size - n, packet: false }] : [];
    }
    const last = this.segs[this.segs.length - 1];
    if (!packet && last !== undefined && !last.packet) last.len += n;
    else this.segs.push({ len: n, packet });
  }

  /** room in the last buffer for a merge: the unfilled rest of a byte run's last page (0 after a packet, or when empty) */
  mergeRoom(): number {
    if (this.size === 0) return 0;
    const last = this.segs?.[this.segs.length - 1] ?? { len: this.size, packet: false };
    if (last.packet) return 0;
    const fill = last.len % PAGE;
    return fill === 0 ? 0 : Math.min(PAGE - fill, this.space);
  }

  /** n bytes left from the front */
  private consumed(n: number): void {
    const s = this.segs;
    if (s === null) return;
    while (n > 0 && s.length > 0) {
      const k = Math.min(n, s[0].len);
      s[0].len -= k;
      n -= k;
      if (s[0].len === 0) s.shift();
    }
    if (s.length === 0) this.segs = null;
  }

  /** A read of len: how many bytes it takes (up to the end of the first packet it reaches) and how many of that packet it drops. */
  readSpan(len: number): { n: number; drop: number } {
    if (this.segs === null) return { n: Math.min(len, this.size), drop: 0 };
    let n = 0;
    for (const s of this.segs) {
      const k = Math.min(s.len, len - n);
      n += k;
      if (s.packet) return { n, drop: s.len - k };
      if (n === len) break;
    }
    return { n, drop: 0 };
  }

  /** Drop n bytes from the front (the rest of a packet a read took the start of). */
  drop(n: number): void {
    this.head = (this.head + n) % this.buf.length;
    this.size -= n;
    this.consumed(n);
  }

  /**
   * F_SETPIPE_SZ: Linux rounds the size up to a power of two pages (one page at
   * least), and refuses with EBUSY a size below the pages the data occupies.
   * Returns the new capacity.
   */
  resize(want: number, privileged: boolean): number {
    if (want > 2 ** 31) fail(E.EINVAL);
    let size = PAGE;
    while (size < want) size *= 2;
    if (size > PIPE_MAX_SIZE && !privileged) fail(E.EPERM);
    if (size < Math.ceil(this.size / PAGE) * PAGE) fail(E.EBUSY);
    if (size !== this.buf.length) {
      const data = new Uint8Array(size);
      const n = this.size;
      const first = Math.min(n, this.buf.length - this.head);
      data.set(this.buf.subarray(this.head, this.head + first), 0);
      data.set(this.buf.subarray(0, n - first), first);
      this.buf = data;
      this.head = 0;
      if (this.space > 0) this.writable.wake();
    }
    return size;
  }

  /** Copy up to n bytes out into guest memory at addr (peek: leave them in the pipe). */
  take(t: IoContext, addr: number, n: number, peek = false, skip = 0): number {
    // a peek may start past bytes an earlier piece of the same call already saw
    n = Math.min(n, this.size - skip);
    if (n <= 0) return 0;
    let done = 0;
    let head = (this.head + skip) % this.buf.length;
    while (done < n) {
      const chunk = Math.min(n - done, this.buf.length - head);
      t.mm.write(addr + done, this.buf.subarray(head, head + chunk));
      head = (head + chunk) % this.buf.length;
      done += chunk;
    }
    if (!peek) {
      this.head = head;
      this.size -= done;
      this.consumed(done);
    }
    return done;
  }

  /** Copy n bytes in from guest memory at addr (n <= space); as one packet if asked. */
  put(t: IoContext, addr: number, n: number, packet = false): void {
    let done = 0;
    while (done < n) {
      const tail = (this.head + this.size) % this.buf.length;
      const chunk = Math.min(n - done, this.buf.length - tail);
      this.buf.set(t.mm.read(addr + done, chunk), tail);
      this.size += chunk;
      done += chunk;
    }
    this.appended(n, packet);
  }

  /** Append bytes from elfrun's own memory (n <= space). */
  putBytes(src: Uint8Array): void {
    let done = 0;
    while (done < src.length) {
      const tail = (this.head + this.size) % this.buf.length;
      const chunk = Math.min(src.length - done, this.buf.length - tail);
      this.buf.set(src.subarray(done, done + chunk), tail);
      this.size += chunk;
      done += chunk;
    }
    this.appended(src.length, false);
    this.readable.wake();
  }

  /** Remove up to dst.length bytes into elfrun's own memory. */
  takeBytes(dst: Uint8Array): number {
    const n = Math.min(dst.length, this.size);
    let done = 0;
    while (done < n) {
      const chunk = Math.min(n - done, this.buf.length - this.head);
      dst.set(this.buf.subarray(this.head, this.head + chunk), done);
      this.head = (this.head + chunk) % this.buf.length;
      this.size -= chunk;
      done += chunk;
    }
    this.consumed(n);
    this.writable.wake();
    return n;
  }

  /** Copy up to dst.length bytes into elfrun's own memory, leaving them in the pipe (tee). */
  peekBytes(dst: Uint8Array): number {
    const n = Math.min(dst.length, this.size);
    let done = 0;
    let head = this.head;
    while (done < n) {
      const chunk = Math.min(n - done, this.buf.length - head);
      dst.set(this.buf.subarray(head, head + chunk), done);
      head = (head + chunk) % this.buf.length;
      done += chunk;
    }
    return n;
  }

  stat(): StatFields {
    const now = this.ctime;
    return { dev: PIPEFS_DEV, ino: this.ino, mode: S_IFIFO | 0o600, nlink: 1, uid: process.getuid!(), gid: process.getgid!(), rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now };
  }
}

export class PipeEnd extends FileDescription {
  /** FIFO open waiting for a partner: the partner's open count when it started */
  openedAt = 0;
  constructor(
    readonly pipe: Pipe,
    flags: number,
    /** this arch's O_DIRECT: set in the flags, the end writes packets */
    private readonly directFlag = 0,
  ) {
    super(flags);
    if (this.readable) pipe.readers++;
    if (this.writable) pipe.writers++;
  }

  /** Read end: wait until there is data; false at end of file (no writer left). */
  waitForData(t: IoContext): boolean {
    const p = this.pipe;
    if (p.size > 0) return true;
    if (p.writers === 0) return false;
    if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
    return t.block([p.readable]);
  }

  override pipeSize(t: IoContext, size?: number): number {
    return size === undefined ? this.pipe.capacity : this.pipe.resize(size, t.cred.privileged);
  }

  /** Write end: wait until there is room (EPIPE with no reader left). */
  waitForRoom(t: IoContext): void {
    const p = this.pipe;
    if (p.readers === 0) fail(E.EPIPE);
    if (p.space > 0) return;
    if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
    t.block([p.writable]);
  }

  override read(t: IoContext, addr: number, len: number): number {
    const p = this.pipe;
    if (len === 0) return 0;
    if (!this.waitForData(t)) return 0;
    const span = p.readSpan(len);
    t.mm.check(addr, span.n, PROT_WRITE);
    const n = p.take(t, addr, span.n);
    if (span.drop > 0) p.drop(span.drop);
    p.writable.wake();
    return n;
  }

  /** O_DIRECT: each page (or less) of the write a packet in a slot of its own; at most PIPE_BUF bytes wait for one slot whole */
  private writePackets(t: IoContext, addr: number, len: number, done: number): number {
    const p = this.pipe;
    let written = done;
    // pipe_write first merges the part past whole pages into the last buffer when it can take it:
    // a byte run's last page, never a packet
    const head = len % PAGE;
    if (written === 0 && head > 0 && p.mergeRoom() >= head) {
      p.put(t, addr, head);
      written = head;
      p.readable.wake();
    }
    while (written < len) {
      if (p.full || p.space < Math.min(len - written, PAGE)) {
        if (this.flags & O_NONBLOCK) {
          if (written > 0) return written;
          fail(E.EAGAIN);
        }
        t.restartState = written;
        p.readable.wake();
        t.block([p.writable], { partial: written > 0 ? written : undefined });
      }
      const n = Math.min(len - written, PAGE);
      p.put(t, addr + written, n, true);
      written += n;
      p.readable.wake();
    }
    return written;
  }

  override write(t: IoContext, addr: number, len: number): number {
    const p = this.pipe;
    const task = t;
    const done = task.restarting && task.restartState !== null ? task.restartState : 0;
    if (p.readers === 0) {
      if (done > 0) return done;
      fail(E.EPIPE);
    }
    if (len === 0) return 0;
    t.mm.check(addr, len, PROT_READ);
    if (this.directFlag !== 0 && this.flags & this.directFlag) return this.writePackets(t, addr, len, done);
    let written = done;
    // writes of at most PIPE_BUF bytes are atomic: all or wait
    if (len <= PIPE_BUF && p.space < len) {
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      task.block([p.writable]);
    }
    while (written < len) {
      const n = Math.min(len - written, p.space);
      if (n === 0) {
        if (this.flags & O_NONBLOCK) {
          if (written > 0) return written;
          fail(E.EAGAIN);
        }
        task.restartState = written;
        p.readable.wake();
        task.block([p.writable], { partial: written > 0 ? written : undefined });
      }
      p.put(t, addr + written, n);
      written += n;
      p.readable.wake();
    }
    return written;
  }

  override statBytes(_t?: IoContext): Uint8Array {
    return hostStatBytes(this.pipe.stat());
  }

  override kread(t: IoContext, s: Scratch, len: number, off: number | null): number {
    if (off !== null) fail(E.ESPIPE);
    if (!this.waitForData(t)) return 0;
    const n = this.pipe.takeBytes(s.bytes.subarray(0, len));
    this.pipe.writable.wake();
    return n;
  }
  override kwrite(t: IoContext, s: Scratch, len: number): number {
    this.waitForRoom(t);
    const n = Math.min(len, this.pipe.space);
    this.pipe.putBytes(s.bytes.subarray(0, n));
    return n;
  }

  override poll(_t: IoContext, _events: number): number {
    const p = this.pipe;
    let r = 0;
    if (this.readable) {
      if (p.size > 0) r |= POLLIN | POLLRDNORM;
      if (p.writers === 0) r |= POLLHUP;
    }
    if (this.writable) {
      if (p.readers === 0) r |= POLLERR;
      else if (p.space >= PIPE_BUF && !p.full) r |= POLLOUT | POLLWRNORM;
    }
    return r;
  }

  override pollQueues(_t?: IoContext, events = POLLIN | POLLOUT): WaitQueue[] {
    // an end open for both (a FIFO opened O_RDWR) waits on the side asked for
    if (this.readable && this.writable) return events & POLLIN ? [this.pipe.readable] : [this.pipe.writable];
    return [this.readable ? this.pipe.readable : this.pipe.writable];
  }
  override get fasyncStyle(): FasyncStyle {
    return 'pipe';
  }

  override ioctl(t: IoContext, req: number, arg: number): number {
    if (req === FIONREAD) {
      t.mm.setI32(arg, this.pipe.size);
      return 0;
    }
    return fail(E.ENOTTY);
  }

  override release(): void {
    if (this.readable) this.pipe.readers--;
    if (this.writable) this.pipe.writers--;
    this.pipe.readable.wake();
    this.pipe.writable.wake();
  }
}

/** A pipe's two ends; `direct`: this arch's O_DIRECT bit (in extraFlags too for pipe2's packet mode) */
export function makePipe(extraFlags: number, ino: number, direct = 0): [PipeEnd, PipeEnd] {
  const p = new Pipe(ino);
  return [new PipeEnd(p, O_RDONLY | extraFlags, direct), new PipeEnd(p, O_WRONLY | extraFlags, direct)];
}

/** Named pipes (FIFOs) of every file system of a Machine, by node identity: the guest's processes meet here. */
export class Fifos {
  readonly pipes = new Map<string, Pipe>();
  /** a reader or writer whose open waits for its partner, kept across the open's retries */
  readonly waiting = new WeakMap<IoContext, PipeEnd>();
}

/** A FIFO's end: a pipe end whose fstat is the FIFO node's. */
export class FifoEnd extends PipeEnd {
  constructor(
    pipe: Pipe,
    flags: number,
    private readonly key: string,
    private readonly fifos: Fifos,
  ) {
    super(pipe, flags);
    pipe.opens++;
  }
  override statBytes(t: IoContext): Uint8Array {
    return this.loc !== null ? this.loc.node.stat(t) : super.statBytes();
  }
  override release(): void {
    super.release();
    if (--this.pipe.opens === 0) this.fifos.pipes.delete(this.key);
  }
}

/**
 * open(2) of a FIFO, as Linux's fifo_open: a reader waits for a writer and a
 * writer for a reader (O_NONBLOCK: a reader opens at once, a writer fails
 * with ENXIO); O_RDWR never waits.
 */
export function openFifo(t: IoContext, key: string, flags: number): PipeEnd {
  const fifos = t.vfs.fifos;
  const waiting = fifos.waiting;
  let p = fifos.pipes.get(key);
  if (p === undefined) fifos.pipes.set(key, (p = new Pipe(t.vfs.anonIno('pipe'))));
  const acc = flags & O_ACCMODE;
  const pending = waiting.get(t);
  if (pending !== undefined && pending.pipe === p) {
    waiting.delete(t);
    // a partner came: the open completes (even if the partner has gone again, as on Linux)
    if (acc === O_RDONLY ? p.writeOpens !== pending.openedAt : p.readOpens !== pending.openedAt) return pending;
    waiting.set(t, pending);
    t.block([p.partner]);
  }
  if (acc === O_WRONLY && flags & O_NONBLOCK && p.readers === 0) fail(E.ENXIO);
  const end = new FifoEnd(p, flags, key, fifos);
  if (acc === O_RDONLY) p.readOpens++;
  else if (acc === O_WRONLY) p.writeOpens++;
  p.partner.wake();
  if (acc === O_RDWR || flags & O_NONBLOCK) return end;
  if (acc === O_RDONLY ? p.writers > 0 : p.readers > 0) return end;
  end.openedAt = acc === O_RDONLY ? p.writeOpens : p.readOpens;
  waiting.set(t, end);
  return t.block([p.partner]);
}
