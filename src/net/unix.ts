// AF_UNIX sockets in elfrun, as Linux's net/unix/af_unix.c: SOCK_STREAM,
// SOCK_DGRAM and SOCK_SEQPACKET; bind to a path (a socket inode in the VFS),
// an abstract name or an autobound one (unix-names.ts); listen with a
// backlog, connect (a stream connection is made at once, its server side
// waiting in the listener's queue until accept), accept; a receive queue of
// messages carrying files and credentials (unix-queue.ts) read as a byte
// stream or as datagrams and records (unix-io.ts); shutdown, poll, and the
// options (unix-opts.ts). socketpair gives connected pairs of every type.
// A socket inode on a host directory that no guest socket holds is a host
// daemon's: a guest socket connecting there becomes a host AF_UNIX socket;
// a stream or seqpacket socket bound on a host directory binds a host socket
// there too, so that host clients (and other elfruns) reach its listener.
import { E } from '../abi/errno.js';
import { fail, SysError, Unsupported } from '../abi/errors.js';
import { O_NONBLOCK, O_RDWR } from '../abi/fcntl.js';
import { FIONREAD, TIOCOUTQ } from '../abi/ioctl.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM } from '../abi/poll.js';
import { AF_UNIX, AF_UNSPEC, SHUT_RD, SHUT_RDWR, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM } from '../abi/socket.js';
import { WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from '../fs/context.js';
import type { Loc, Vfs } from '../fs/vfs.js';
import { HostNode } from '../fs/hostfs.js';
import { Blocked } from '../ctx/waitq.js';
import { HostSocket } from './host.js';
import { Socket, type Accepted, type Received, type RecvArgs, type SendArgs, type Ucred } from './socket.js';
import { autobind, bindAbstract, bindPath, decodeName, findBound, unbind, unnamed, type Binding, type UnixName } from './unix-names.js';
import { MAX_DGRAM_QLEN, RCV_SHUTDOWN, SEND_SHUTDOWN, SHUTDOWN_MASK, type Msg, type Sender } from './unix-queue.js';
import { recvDgram, recvStream, sendDgram, sendStream } from './unix-io.js';
import { unixGetsockopt, unixSetsockopt, unixStat } from './unix-opts.js';

/** Linux's default SO_SNDBUF/SO_RCVBUF (net.core.wmem_default) */
const BUF_DEFAULT = 212992;

export type UnixState = 'unconnected' | 'listening' | 'connected';

export class UnixSocket extends Socket implements Sender {
  readonly created = Date.now();
  state: UnixState = 'unconnected';
  /** the connected peer (kept after it goes, as Linux keeps unix_peer) */
  peer: UnixSocket | null = null;
  /** getsockname's address, once bound (an accepted socket has its listener's) */
  name: Buffer | null = null;
  private binding: Binding | null = null;
  private vfs: Vfs | null = null;
  /** sk_receive_queue: messages; a listener's holds the connections accept takes */
  readonly queue: Msg[] = [];
  readonly pending: UnixSocket[] = [];
  backlog = 0;
  shut = 0;
  /** sk_err: reported once by the next receive, SO_ERROR or poll */
  err = 0;
  dead = false;
  /** the server side of a connection not yet accepted */
  embryo = false;
  passcred = false;
  /** SO_PEERCRED: the peer's process and ids when the connection was made (a listener's own at listen) */
  peerCred: PeerCred | null = null;
  /** bytes (and overhead) of this socket's messages still queued at receivers */
  wmem = 0;
  sndbuf = BUF_DEFAULT;
  rcvbuf = BUF_DEFAULT;
  /** woken when the receive queue gains something, or the state changes */
  readonly readq = new WaitQueue('unix-read');
  /** woken when this socket's messages are consumed (room to send) or its peer goes */
  readonly writeq = new WaitQueue('unix-write');
  /** woken when the receive queue (or a listener's backlog) loses something: senders and connects waiting for room */
  readonly spaceq = new WaitQueue('unix-space');

  constructor(
    type: number,
    flags: number,
    /** its inode number (the Vfs's anonIno) */
    readonly ino: number,
    /** AF_UNIX, or AF_INET/AF_INET6 for the in-process loopback sockets built on these queues (loop.ts) */
    family = AF_UNIX,
    protocol = 0,
  ) {
    super(family, type, protocol, flags);
  }

  get connectionful(): boolean {
    return this.type !== SOCK_DGRAM;
  }
  sent(): void {
    this.writeq.wake();
  }
  /** The nonblocking rule of socket calls, for the I/O module. */
  isNonblocking(msgFlags: number): boolean {
    return this.nonblocking(msgFlags);
  }
  /** Park as a blocking socket call does (Socket.wait), for the I/O module. */
  park(t: IoContext, queues: WaitQueue[], dir: 'rcv' | 'snd', nonblock: boolean, partial = 0): void {
    this.wait(t, queues, dir, nonblock, partial);
  }
  callProgress(t: IoContext): { deadline: number; done: number } {
    return this.progress(t);
  }
  finish<T>(t: IoContext, v: T): T {
    return this.settle(t, v);
  }

  /** bind(2): a path, an abstract name, or (the family alone) an autobound name. */
  override bind(t: IoContext, addr: Buffer, umask = 0o022): void {
    if (addr.length < 2 || addr.readUInt16LE(0) !== AF_UNIX) fail(E.EINVAL);
    if (addr.length === 2) {
      this.autobind(t);
      return;
    }
    const n = decodeName(addr);
    const already = (): void => {
      if (this.name !== null) fail(E.EINVAL);
    };
    if (n.kind === 'path') this.binding = bindPath(t, n.path, umask, this, already, this.type === SOCK_DGRAM ? undefined : (p) => this.bindHost(t, p));
    else {
      already();
      this.binding = bindAbstract(t, n.key, this);
    }
    this.vfs = t.vfs;
    this.name = n.raw;
  }
  /**
   * A stream or seqpacket socket bound on a host directory: a host socket
   * is bound there too, and listens when this one does, so that host clients
   * reach it; accept takes guest and host connections alike.
   */
  private hostListener: HostSocket | null = null;
  private bindHost(t: IoContext, hostPath: string): void {
    const p = Buffer.from(hostPath, 'latin1');
    if (p.length >= 108) throw new Unsupported('a socket whose host path is longer than sun_path', E.EINVAL);
    const h = HostSocket.create(AF_UNIX, this.type, 0, O_NONBLOCK);
    try {
      h.bind(t, Buffer.concat([unnamed(), p, Buffer.alloc(1)]));
    } catch (e) {
      h.unref();
      throw e;
    }
    this.hostListener = h;
  }

  /** unix_autobind: nothing if already bound */
  autobind(t: IoContext): void {
    if (this.name !== null) return;
    const { raw, binding } = autobind(t, this);
    this.binding = binding;
    this.vfs = t.vfs;
    this.name = raw;
  }

  override listen(t: IoContext, backlog: number): void {
    if (this.type === SOCK_DGRAM) fail(E.ENOTSUP);
    if (this.name === null) fail(E.EINVAL);
    if (this.state !== 'unconnected' && this.state !== 'listening') fail(E.EINVAL);
    this.hostListener?.listen(t, backlog);
    this.backlog = backlog;
    this.state = 'listening';
    this.peerCred = ownCred(t);
    this.spaceq.wake();
  }

  /** The socket a name leads to, of this socket's type (the errors of unix_find_other). */
  find(t: IoContext, n: UnixName): UnixSocket {
    const s = this.findAny(t, n);
    if (!(s instanceof UnixSocket)) return fail(E.ECONNREFUSED);
    return s;
  }
  /** As find, or the host's sockaddr_un of a socket inode on a host directory that no guest socket holds (a host daemon's). */
  findAny(t: IoContext, n: UnixName): UnixSocket | Buffer {
    const s = findBound<UnixSocket>(t, n, this.type);
    if (s instanceof UnixSocket) return s;
    return hostAddr(s.hostSocket);
  }

  /**
   * A connection to a host daemon's socket: from now on this guest socket is
   * a host AF_UNIX socket connected to it (the host's kernel then answers
   * every call; the guest's name for the peer is kept for getpeername).
   */
  host: HostSocket | null = null;
  private hostPeerName: Buffer | null = null;
  private connectHost(t: IoContext, sa: Buffer, guestName: Buffer): void {
    const h = (this.host ??= HostSocket.create(AF_UNIX, this.type, 0, this.flags));
    h.flags = this.flags;
    try {
      h.connect(t, sa);
    } catch (e) {
      if (!(e instanceof Blocked)) {
        this.host = null;
        h.unref();
      }
      throw e;
    }
    this.hostPeerName = guestName;
  }
  /** datagrams sent to host daemons' sockets by name go through this unconnected host socket */
  private hostSender: HostSocket | null = null;
  sendToHost(t: IoContext, a: SendArgs): number {
    const h = (this.hostSender ??= HostSocket.create(AF_UNIX, this.type, 0, this.flags));
    h.flags = this.flags;
    return h.sendmsg(t, a);
  }
  /** The host socket a host-connected socket delegates to, its flags in step with the guest's (fcntl). */
  private get h(): HostSocket | null {
    const h = this.host;
    if (h !== null) h.flags = this.flags;
    return h;
  }

  override connect(t: IoContext, addr: Buffer): void {
    if (this.h !== null) return this.connectHost(t, addr, this.hostPeerName ?? addr);
    if (this.type === SOCK_DGRAM) return this.connectDgram(t, addr);
    const n = decodeName(addr);
    if (this.passcred) this.autobind(t);
    if (this.state === 'connected') fail(E.EISCONN);
    if (this.state === 'listening') fail(E.EINVAL);
    const found = this.findAny(t, n);
    if (!(found instanceof UnixSocket)) return this.connectHost(t, found, n.raw);
    const other = found;
    if (other.state !== 'listening' || other.shut & RCV_SHUTDOWN) fail(E.ECONNREFUSED);
    if (other.pending.length > other.backlog) {
      this.park(t, [other.spaceq], 'snd', this.isNonblocking(0));
      fail(E.EAGAIN);
    }
    this.settle(t, 0);
    const server = new UnixSocket(this.type, 0, t.vfs.anonIno('socket'));
    server.name = other.name;
    server.state = 'connected';
    server.embryo = true;
    server.peer = this;
    server.peerCred = ownCred(t);
    server.sndbuf = other.sndbuf;
    server.rcvbuf = other.rcvbuf;
    server.passcred = other.passcred;
    this.peer = server;
    this.state = 'connected';
    this.peerCred = other.peerCred;
    other.pending.push(server);
    other.readq.wake();
  }

  /** unix_dgram_connect: set (or with AF_UNSPEC drop) the default destination. */
  private connectDgram(t: IoContext, addr: Buffer): void {
    if (addr.length >= 2 && addr.readUInt16LE(0) === AF_UNSPEC) {
      this.peer = null;
      this.state = 'unconnected';
      this.writeq.wake();
      return;
    }
    const n = decodeName(addr);
    if (this.passcred) this.autobind(t);
    const other = this.findAny(t, n);
    if (!(other instanceof UnixSocket)) return this.connectHost(t, other, n.raw);
    this.peer = other;
    this.state = 'connected';
    this.peerCred = other.peerCred;
  }

  override accept(t: IoContext, flags: number): Accepted {
    if (this.h !== null) return this.h.accept(t, flags);
    if (this.type === SOCK_DGRAM) return fail(E.ENOTSUP);
    if (this.state !== 'listening') return fail(E.EINVAL);
    const s = this.pending.shift();
    if (s === undefined) {
      const hl = this.hostListener;
      if (hl !== null) {
        try {
          return this.settle(t, hl.accept(t, flags));
        } catch (e) {
          if (!(e instanceof SysError) || e.errno !== E.EAGAIN) throw e;
        }
      }
      this.park(t, hl !== null ? [this.readq, t.hostPollQueue(hl.hostFd, POLLIN)] : [this.readq], 'rcv', this.isNonblocking(0));
      return fail(E.EAGAIN);
    }
    this.settle(t, 0);
    this.spaceq.wake();
    s.embryo = false;
    s.flags = O_RDWR | (flags & O_NONBLOCK);
    return { sock: s, peer: s.peer?.name ?? unnamed() };
  }

  override sockName(t: IoContext): Buffer {
    if (this.h !== null) return this.h.sockName(t);
    return this.name ?? unnamed();
  }
  override peerName(t: IoContext): Buffer {
    if (this.h !== null) return this.hostPeerName ?? this.h.peerName(t);
    if (this.state !== 'connected' || this.peer === null) return fail(E.ENOTCONN);
    return this.peer.name ?? unnamed();
  }

  override sendmsg(t: IoContext, a: SendArgs): number {
    if (this.h !== null) return this.h.sendmsg(t, a);
    return this.type === SOCK_STREAM ? sendStream(this, t, a) : sendDgram(this, t, a);
  }
  override recvmsg(t: IoContext, a: RecvArgs): Received {
    if (this.h !== null) return this.h.recvmsg(t, a);
    return this.type === SOCK_STREAM ? recvStream(this, t, a) : recvDgram(this, t, a);
  }

  /** unix_shutdown: never ENOTCONN; a connection's peer sees the other half. */
  override shutdown(t: IoContext, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) fail(E.EINVAL);
    if (this.h !== null) return this.h.shutdown(t, how);
    const mode = (how + 1) & SHUTDOWN_MASK;
    this.shut |= mode;
    this.wakeAll();
    const p = this.peer;
    if (p !== null && this.connectionful && !p.dead) {
      if (mode & RCV_SHUTDOWN) p.shut |= SEND_SHUTDOWN;
      if (mode & SEND_SHUTDOWN) p.shut |= RCV_SHUTDOWN;
      p.wakeAll();
    }
  }

  wakeAll(): void {
    this.readq.wake();
    this.writeq.wake();
    this.spaceq.wake();
  }

  /** unix_poll and unix_dgram_poll */
  override poll(t: IoContext, events: number): number {
    if (this.h !== null) return this.h.poll(t, events);
    let m = 0;
    if (this.err !== 0) m |= POLLERR;
    if (this.shut === SHUTDOWN_MASK) m |= POLLHUP;
    if (this.shut & RCV_SHUTDOWN) m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.queue.length > 0 || this.pending.length > 0) m |= POLLIN | POLLRDNORM;
    if (this.hostListener !== null && this.state === 'listening') m |= this.hostListener.poll(t, POLLIN) & (POLLIN | POLLRDNORM);
    if (this.connectionful && this.state === 'unconnected') m |= POLLHUP;
    if (!(events & (POLLOUT | POLLWRNORM | POLLWRBAND))) return m;
    let writable = this.state !== 'listening' && this.wmem * 4 <= this.sndbuf;
    if (writable && this.type === SOCK_DGRAM) {
      const o = this.peer;
      if (o !== null && o.peer !== this && o.queue.length > MAX_DGRAM_QLEN) writable = false;
    }
    if (writable) m |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return m;
  }
  override hostEdgeFd(): number | null {
    return this.h !== null ? this.h.hostEdgeFd() : null;
  }
  override pollQueues(t: IoContext, events: number): WaitQueue[] {
    if (this.h !== null) return this.h.pollQueues(t, events);
    const q = [this.readq, this.writeq];
    if (this.hostListener !== null && this.state === 'listening') q.push(t.hostPollQueue(this.hostListener.hostFd, POLLIN));
    if (this.type === SOCK_DGRAM && this.peer !== null) q.push(this.peer.spaceq);
    return q;
  }

  override ioctl(t: IoContext, req: number, arg: number): number {
    if (this.h !== null) return this.h.ioctl(t, req, arg);
    if (req === FIONREAD) {
      if (this.state === 'listening') fail(E.EINVAL);
      // unix_inq_len: every queued byte of a stream or seqpacket socket, the next datagram's length otherwise
      const n = this.type === SOCK_STREAM || this.type === SOCK_SEQPACKET ? this.queue.reduce((s, m) => s + m.left, 0) : (this.queue[0]?.data.length ?? 0);
      t.mm.setI32(arg, n);
      return 0;
    }
    // sock_do_ioctl: a request outside the socket ioctls is ENOTTY (isatty's TCGETS on a socket);
    // SIOCOUTQ (sk_wmem_alloc, in kmalloc's sizes) and the interface ioctls (0x89xx) Linux answers on any socket are not here
    if (req !== TIOCOUTQ && (req < 0x8900 || req > 0x89ff)) fail(E.ENOTTY);
    throw new Unsupported(`ioctl 0x${req.toString(16)} on AF_UNIX sockets`, E.ENOTTY);
  }

  override getsockopt(t: IoContext, level: number, name: number, len: number): Buffer {
    if (this.h !== null) return this.h.getsockopt(t, level, name, len);
    return unixGetsockopt(this, t, level, name, len, () => super.getsockopt(t, level, name, len));
  }
  override setsockopt(t: IoContext, level: number, name: number, val: Buffer): void {
    if (this.h !== null) return this.h.setsockopt(t, level, name, val);
    unixSetsockopt(this, t, level, name, val, () => super.setsockopt(t, level, name, val));
  }
  override statBytes(t: IoContext): Uint8Array {
    return unixStat(this, t);
  }

  /** The last reference goes (unix_release_sock). */
  override release(): void {
    this.dead = true;
    this.host?.unref();
    this.host = null;
    this.hostSender?.unref();
    this.hostSender = null;
    this.hostListener?.unref();
    this.hostListener = null;
    if (this.binding !== null && this.vfs !== null) unbind(this.vfs, this.binding, this);
    this.binding = null;
    // connections nobody accepted: their clients are reset
    for (const s of this.pending.splice(0)) s.release();
    const p = this.peer;
    if (p !== null && this.connectionful && !p.dead) {
      p.shut = SHUTDOWN_MASK;
      if (this.queue.length > 0 || this.embryo) p.err = E.ECONNRESET;
      p.wakeAll();
    }
    this.peer = null;
    for (const m of this.queue.splice(0)) m.drop();
    this.wakeAll();
  }
}

/** The host's sockaddr_un of a socket inode on a host directory (ECONNREFUSED elsewhere: nobody holds it). */
function hostAddr(loc: Loc): Buffer {
  if (!(loc.node instanceof HostNode)) return fail(E.ECONNREFUSED);
  const p = Buffer.from(loc.node.path, 'latin1');
  if (p.length >= 108) throw new Unsupported('a host socket whose host path is longer than sun_path', E.ECONNREFUSED);
  return Buffer.concat([unnamed(), p, Buffer.alloc(1)]);
}

/** SO_PEERCRED's view of the caller: its process and effective ids. */
export function ownCred(t: IoContext): PeerCred {
  return { pid: t.pid, uid: t.cred.euid, gid: t.cred.egid, groups: [...t.cred.groups] };
}

/** SO_PEERCRED and SO_PEERGROUPS: the peer's credentials when the connection was made */
export interface PeerCred extends Ucred {
  groups: number[];
}

/** socket(AF_UNIX, ...) */
export function unixSocket(t: IoContext, type: number, protocol: number, flags: number): Socket {
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) fail(E.ESOCKTNOSUPPORT);
  if (protocol !== 0 && protocol !== AF_UNIX) fail(E.EPROTONOSUPPORT);
  return new UnixSocket(type, flags, t.vfs.anonIno('socket'));
}

/** socketpair(AF_UNIX, ...): two sockets connected to each other, each with the creator's credentials as its peer's. */
export function unixPair(t: IoContext, type: number, protocol: number, flags: number): [Socket, Socket] {
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM && type !== SOCK_SEQPACKET) fail(E.ESOCKTNOSUPPORT);
  if (protocol !== 0 && protocol !== AF_UNIX) fail(E.EPROTONOSUPPORT);
  const a = new UnixSocket(type, flags, t.vfs.anonIno('socket'));
  const b = new UnixSocket(type, flags, t.vfs.anonIno('socket'));
  a.peer = b;
  b.peer = a;
  a.state = b.state = 'connected';
  a.peerCred = ownCred(t);
  b.peerCred = ownCred(t);
  return [a, b];
}
