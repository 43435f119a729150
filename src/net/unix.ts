// AF_UNIX sockets: a socket can be made and connected to a path. Linux's
// answers where nobody listens are given exactly (ENOENT for a missing path,
// ECONNREFUSED for a file or socket nobody accepts on), which is what libc's
// nscd and syslog clients meet. socketpair gives connected stream pairs.
// bind/listen/accept are not implemented: they are reported as unsupported
// rather than answered wrongly.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from '../abi/fcntl.js';
import { FIONREAD } from '../abi/ioctl.js';
import { POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM } from '../abi/poll.js';
import { SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_DGRAM, SOCK_STREAM } from '../abi/socket.js';
import { S_IFSOCK, W_OK } from '../abi/stat.js';
import { FileDescription } from '../fs/file.js';
import { type IoContext } from '../fs/context.js';
import { Pipe, PipeEnd } from '../fs/pipe.js';
import { PROT_WRITE } from '../abi/mman.js';
import type { WaitQueue } from '../ctx/waitq.js';
import { hostStatBytes } from '../fs/stat.js';

/** sockfs's device number as Linux reports it (anonymous, major 0) */
const SOCKFS_DEV = 0x8;

export class UnixSocket extends FileDescription {
  private readonly created = Date.now();
  /** SO_SNDBUF/SO_RCVBUF as the guest set them (Linux's default for AF_UNIX) */
  bufSize = 212992;
  constructor(
    readonly type: number,
    flags: number,
    /** its inode number (the Vfs's anonIno) */
    readonly ino: number,
  ) {
    super(flags | O_RDWR);
  }
  override read(_t: IoContext, _addr: number, _len: number): number {
    return fail(this.type === SOCK_DGRAM ? E.EAGAIN : E.ENOTCONN);
  }
  override write(_t: IoContext, _addr: number, _len: number): number {
    return fail(this.type === SOCK_DGRAM ? E.EDESTADDRREQ : E.ENOTCONN);
  }
  override statBytes(t: IoContext): Uint8Array {
    const c = t.cred;
    const now = this.created;
    return hostStatBytes({ dev: SOCKFS_DEV, ino: this.ino, mode: S_IFSOCK | 0o777, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now });
  }
  override poll(_t: IoContext, _events: number): number {
    // an unconnected stream socket: Linux reports POLLOUT|POLLHUP
    return this.type === SOCK_DGRAM ? POLLOUT : POLLOUT | POLLHUP;
  }

  /** connect(2) to a filesystem or abstract name: no socket in elfrun listens (listen is not implemented). */
  connect(t: IoContext, path: string | null): number {
    if (path !== null) {
      const vfs = t.vfs;
      const loc = vfs.resolve(t, path.startsWith('/') ? vfs.root : t.cwd, path, true);
      loc.node.access(t, W_OK);
    }
    return fail(E.ECONNREFUSED);
  }
}

/** Decode a struct sockaddr_un: the path, or null for an abstract name. */
export function unixPath(raw: Buffer): string | null {
  const body = raw.subarray(2);
  if (body.length === 0) fail(E.EINVAL);
  if (body[0] === 0) return null;
  const end = body.indexOf(0);
  const p = (end < 0 ? body : body.subarray(0, end)).toString('latin1');
  if (p === '') fail(E.ENOENT);
  return p;
}

/**
 * One end of a connected AF_UNIX stream (socketpair): two pipes, one each
 * way, read and written through pipe ends, so that blocking, EOF, EPIPE and
 * poll behave as the pipe code already makes them behave.
 */
export class UnixStream extends UnixSocket {
  private readonly rx: PipeEnd;
  private readonly tx: PipeEnd;
  private readShut = false;
  private writeShut = false;
  constructor(inbound: Pipe, outbound: Pipe, flags: number, ino: number) {
    super(SOCK_STREAM, flags, ino);
    this.rx = new PipeEnd(inbound, O_RDONLY);
    this.tx = new PipeEnd(outbound, O_WRONLY);
  }
  /** A connected pair (socketpair): `ino` numbers its sockets, `pipeIno` the pipes each direction flows through. */
  static pair(flags: number, ino: () => number, pipeIno: () => number): [UnixStream, UnixStream] {
    const ab = new Pipe(pipeIno());
    const ba = new Pipe(pipeIno());
    const first = new UnixStream(ba, ab, flags, ino());
    return [first, new UnixStream(ab, ba, flags, ino())];
  }
  private sync(nonblock: boolean): void {
    this.rx.flags = O_RDONLY | (nonblock || this.flags & O_NONBLOCK ? O_NONBLOCK : 0);
    this.tx.flags = O_WRONLY | (nonblock || this.flags & O_NONBLOCK ? O_NONBLOCK : 0);
  }
  /**
   * recv: peek leaves the bytes; nonblock is MSG_DONTWAIT. `skip` (with peek):
   * bytes an earlier piece of the same recvmsg peeked at; such a call never waits.
   */
  recv(t: IoContext, addr: number, len: number, nonblock: boolean, peek: boolean, skip = 0): number {
    if (this.readShut) return 0;
    if (len === 0) return 0;
    const p = this.rx.pipe;
    if (skip > 0) {
      if (p.size <= skip) return 0;
    } else {
      this.sync(nonblock);
      if (!this.rx.waitForData(t)) return 0;
    }
    t.mm.check(addr, Math.min(len, p.size - skip), PROT_WRITE);
    const n = p.take(t, addr, len, peek, skip);
    if (!peek) p.writable.wake();
    return n;
  }
  send(t: IoContext, addr: number, len: number, nonblock: boolean): number {
    if (this.writeShut) fail(E.EPIPE);
    this.sync(nonblock);
    return this.tx.write(t, addr, len);
  }
  override read(t: IoContext, addr: number, len: number): number {
    return this.recv(t, addr, len, false, false);
  }
  override write(t: IoContext, addr: number, len: number): number {
    return this.send(t, addr, len, false);
  }
  /** shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR */
  shutdown(how: number): number {
    if (how < SHUT_RD || how > SHUT_RDWR) fail(E.EINVAL);
    if (how !== SHUT_WR && !this.readShut) {
      this.readShut = true;
      this.rx.release();
    }
    if (how !== SHUT_RD && !this.writeShut) {
      this.writeShut = true;
      this.tx.release();
    }
    return 0;
  }
  override poll(_t: IoContext, _events: number): number {
    this.sync(false);
    let r = 0;
    const inP = this.rx.pipe;
    const outP = this.tx.pipe;
    if (inP.size > 0 || inP.writers === 0 || this.readShut) r |= POLLIN | POLLRDNORM;
    if (inP.writers === 0 || this.readShut) r |= POLLRDHUP;
    if (!this.writeShut && outP.readers > 0 && outP.space > 0) r |= POLLOUT | POLLWRNORM;
    if ((inP.writers === 0 || this.readShut) && (outP.readers === 0 || this.writeShut)) r |= POLLHUP;
    return r;
  }
  override pollQueues(): WaitQueue[] {
    return [this.rx.pipe.readable, this.tx.pipe.writable];
  }
  override ioctl(t: IoContext, req: number, arg: number): number {
    if (req === FIONREAD) {
      t.mm.setI32(arg, this.rx.pipe.size);
      return 0;
    }
    return fail(E.ENOTTY);
  }
  override release(): void {
    if (!this.readShut) this.rx.release();
    if (!this.writeShut) this.tx.release();
  }
}
