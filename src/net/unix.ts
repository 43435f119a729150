// AF_UNIX sockets: a socket can be made and connected to a path. Linux's
// answers where nobody listens are given exactly (ENOENT for a missing path,
// ECONNREFUSED for a file or socket nobody accepts on), which is what libc's
// nscd and syslog clients meet. socketpair gives connected stream pairs.
// bind/listen/accept are not implemented: they are reported as unsupported
// rather than answered wrongly.
import { E } from '../abi/errno.js';
import { fail, SysError } from '../abi/errors.js';
import { O_NONBLOCK, O_RDONLY, O_WRONLY } from '../abi/fcntl.js';
import { FIONREAD } from '../abi/ioctl.js';
import { POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM } from '../abi/poll.js';
import { SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_PROTOCOL, SO_RCVBUF, SO_SNDBUF, SO_TYPE } from '../abi/socket.js';
import { S_IFSOCK, W_OK } from '../abi/stat.js';
import { Socket, type Received, type RecvArgs, type SendArgs } from './socket.js';
import { Unsupported } from '../abi/errors.js';
import { AF_UNIX, MSG_CMSG_CLOEXEC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK, SOCK_SEQPACKET } from '../abi/socket.js';
import { type IoContext } from '../fs/context.js';
import { Pipe, PipeEnd } from '../fs/pipe.js';
import { PROT_WRITE } from '../abi/mman.js';
import type { WaitQueue } from '../ctx/waitq.js';
import { hostStatBytes } from '../fs/stat.js';

/** sockfs's device number as Linux reports it (anonymous, major 0) */
const SOCKFS_DEV = 0x8;

export class UnixSocket extends Socket {
  private readonly created = Date.now();
  /** SO_SNDBUF/SO_RCVBUF as the guest set them (Linux's default for AF_UNIX) */
  bufSize = 212992;
  constructor(
    type: number,
    flags: number,
    /** its inode number (the Vfs's anonIno) */
    readonly ino: number,
  ) {
    super(AF_UNIX, type, 0, flags);
  }
  override sendmsg(_t: IoContext, a: SendArgs): number {
    if (a.control) for (const f of a.control.rights) f.unref();
    return fail(this.type === SOCK_DGRAM ? E.EDESTADDRREQ : E.ENOTCONN);
  }
  override recvmsg(_t: IoContext, _a: RecvArgs): Received {
    return fail(this.type === SOCK_DGRAM ? E.EAGAIN : E.ENOTCONN);
  }
  override sockName(_t: IoContext): Buffer {
    const name = Buffer.alloc(2);
    name.writeUInt16LE(AF_UNIX, 0);
    return name;
  }
  override peerName(_t: IoContext): Buffer {
    return fail(E.ENOTCONN);
  }
  override bind(_t: IoContext, _addr: Buffer): void {
    throw new Unsupported('bind of AF_UNIX sockets', E.ENOTSUP);
  }
  override listen(_t: IoContext, _backlog: number): void {
    throw new Unsupported('listen on AF_UNIX sockets', E.ENOTSUP);
  }
  override getsockopt(t: IoContext, level: number, name: number, len: number): Buffer {
    if (level !== SOL_SOCKET) throw new Unsupported(`getsockopt level ${level}`, E.ENOPROTOOPT);
    let v: number;
    switch (name) {
      case SO_TYPE:
        v = this.type;
        break;
      case SO_ERROR:
      case SO_ACCEPTCONN:
      case SO_PROTOCOL:
        v = 0;
        break;
      case SO_DOMAIN:
        v = AF_UNIX;
        break;
      case SO_SNDBUF:
      case SO_RCVBUF:
        v = this.bufSize;
        break;
      default:
        return super.getsockopt(t, level, name, len);
    }
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return b;
  }
  override setsockopt(t: IoContext, level: number, name: number, val: Buffer): void {
    if (level === SOL_SOCKET && (name === SO_SNDBUF || name === SO_RCVBUF)) {
      if (val.length < 4) fail(E.EINVAL);
      // Linux doubles the value (bookkeeping overhead) and keeps a minimum
      this.bufSize = Math.max(4608, Math.min(0x7fffffff, val.readInt32LE(0) * 2));
      return;
    }
    try {
      super.setsockopt(t, level, name, val);
    } catch (e) {
      if (e instanceof SysError && e.errno === E.ENOPROTOOPT) throw new Unsupported(`setsockopt level ${level} option ${name}`, E.ENOPROTOOPT);
      throw e;
    }
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
  override connect(t: IoContext, addr: Buffer): void {
    if (addr.length < 2 || addr.readUInt16LE(0) !== AF_UNIX) fail(E.EINVAL);
    const path = unixPath(addr);
    if (path !== null) {
      const vfs = t.vfs;
      const loc = vfs.resolve(t, path.startsWith('/') ? vfs.root : t.cwd, path, true);
      loc.node.access(t, W_OK);
    }
    fail(E.ECONNREFUSED);
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
  override sendmsg(t: IoContext, a: SendArgs): number {
    if (a.control) {
      for (const f of a.control.rights) f.unref();
      throw new Unsupported('sendmsg with control messages (SCM_RIGHTS, SCM_CREDENTIALS) on AF_UNIX sockets', E.ENOTSUP);
    }
    if (a.flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) throw new Unsupported(`send flags 0x${(a.flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)).toString(16)}`, E.ENOTSUP);
    if (a.name !== null) fail(E.EISCONN);
    // only the first piece may wait; an error after some bytes returns those bytes
    let total = 0;
    for (const v of a.iov) {
      if (v.len === 0) continue;
      let r: number;
      try {
        r = this.send(t, v.base, v.len, (a.flags & MSG_DONTWAIT) !== 0 || total > 0);
      } catch (e) {
        if (total > 0) return total;
        throw e;
      }
      total += r;
      if (r < v.len) break;
    }
    return total;
  }
  override recvmsg(t: IoContext, a: RecvArgs): Received {
    if (a.flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_CMSG_CLOEXEC)) throw new Unsupported(`recv flags 0x${(a.flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_CMSG_CLOEXEC)).toString(16)}`, E.ENOTSUP);
    const peek = (a.flags & MSG_PEEK) !== 0;
    // only the first piece may wait, and a later piece that finds nothing ends the
    // call with the bytes received so far; a peek's later pieces go on from
    // where the earlier ones stopped, as Linux's do
    let total = 0;
    for (const v of a.iov) {
      if (v.len === 0) continue;
      let r: number;
      try {
        r = this.recv(t, v.base, v.len, (a.flags & MSG_DONTWAIT) !== 0 || total > 0, peek, peek ? total : 0);
      } catch (e) {
        if (total > 0) break;
        throw e;
      }
      total += r;
      if (r < v.len) break;
    }
    return { n: total, name: null, control: null, flags: 0 };
  }
  override peerName(_t: IoContext): Buffer {
    // a socketpair's peer has no name
    return this.sockName(_t);
  }
  /** shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR */
  override shutdown(_t: IoContext, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) fail(E.EINVAL);
    if (how !== SHUT_WR && !this.readShut) {
      this.readShut = true;
      this.rx.release();
    }
    if (how !== SHUT_RD && !this.writeShut) {
      this.writeShut = true;
      this.tx.release();
    }
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

/** socket(AF_UNIX, ...) */
export function unixSocket(t: IoContext, type: number, protocol: number, flags: number): Socket {
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) fail(E.ESOCKTNOSUPPORT);
  if (protocol !== 0) fail(E.EPROTONOSUPPORT);
  return new UnixSocket(type, flags, t.vfs.anonIno('socket'));
}

/** socketpair(AF_UNIX, ...) */
export function unixPair(t: IoContext, type: number, protocol: number, flags: number): [Socket, Socket] {
  if (type === SOCK_DGRAM || type === SOCK_SEQPACKET) throw new Unsupported('socketpair of datagram or seqpacket sockets', E.ENOTSUP);
  if (type !== SOCK_STREAM) fail(E.ESOCKTNOSUPPORT);
  if (protocol !== 0) fail(E.EPROTONOSUPPORT);
  return UnixStream.pair(flags, () => t.vfs.anonIno('socket'), () => t.vfs.anonIno('pipe'));
}
