// Sockets: AF_UNIX sockets that can be made and connected (with Linux's
// errors when nobody listens), and connected stream pairs (socketpair).
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { O_CLOEXEC, O_NONBLOCK } from '../../abi/fcntl.js';
import { MAX_RW_COUNT } from '../../abi/limits.js';
import {
  AF_UNIX,
  MSG_CMSG_CLOEXEC,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  MSG_PEEK,
  SO_ACCEPTCONN,
  SO_DOMAIN,
  SO_ERROR,
  SO_PROTOCOL,
  SO_RCVBUF,
  SO_SNDBUF,
  SO_TYPE,
  SOCK_DGRAM,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOCK_TYPE_MASK,
  SOCKADDR_UN_SIZE,
  SOL_SOCKET,
} from '../../abi/socket.js';
import { UnixSocket, UnixStream, unixPath } from '../../net/unix.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { iovecs, raisingSigpipe, vectored, type Iov } from './fs.js';
import { partial, type Def } from './util.js';
import { HostFile } from '../../fs/hostfile.js';
import { hostScratch } from '../../fs/transfer.js';
import { host } from '../../host/libc.js';

const SUN_LEN_MAX = SOCKADDR_UN_SIZE;

function socket(t: Task, domain: number, type: number, protocol: number): number {
  if (type & ~(SOCK_TYPE_MASK | O_NONBLOCK | O_CLOEXEC)) fail(E.EINVAL);
  const base = type & SOCK_TYPE_MASK;
  if (domain !== AF_UNIX) throw new Unsupported(`socket of address family ${domain}`, E.EAFNOSUPPORT);
  if (base !== SOCK_STREAM && base !== SOCK_DGRAM && base !== SOCK_SEQPACKET) fail(E.ESOCKTNOSUPPORT);
  if (protocol !== 0) fail(E.EPROTONOSUPPORT);
  const s = new UnixSocket(base, type & O_NONBLOCK, t.vfs.anonIno('socket'));
  return t.fds.add(s, (type & O_CLOEXEC) !== 0);
}

function connect(t: Task, fd: number, addr: number, len: number): number {
  const f = t.fds.file(fd);
  if (!(f instanceof UnixSocket)) fail(E.ENOTSOCK);
  if (len < 2 || len > SUN_LEN_MAX) fail(E.EINVAL);
  const raw = t.mm.read(addr, len);
  if (raw.readUInt16LE(0) !== AF_UNIX) fail(E.EINVAL);
  return f.connect(t, unixPath(raw));
}

/** getsockname/getpeername: ENOTSOCK for other files; an unconnected AF_UNIX socket has no peer and an empty name. */
function sockName(t: Task, fd: number, addr: number, lenAddr: number, peer: boolean): number {
  const f = t.fds.file(fd);
  const len = t.mm.i32(lenAddr);
  if (!(f instanceof UnixSocket)) {
    // a socket elfrun was given (Node's child stdio are socketpairs): the host answers
    if (!(f instanceof HostFile)) fail(E.ENOTSOCK);
    if (len < 0) fail(E.EINVAL);
    const s = hostScratch();
    const n = host.sockName(f.hostFd, peer, s.addr, 128);
    if (n < 0) fail(-n);
    t.mm.write(addr, s.bytes.subarray(0, Math.min(len, n)));
    t.mm.setI32(lenAddr, n);
    return 0;
  }
  if (peer) fail(E.ENOTCONN);
  if (len < 0) fail(E.EINVAL);
  const name = Buffer.alloc(2);
  name.writeUInt16LE(AF_UNIX, 0);
  t.mm.write(addr, name.subarray(0, Math.min(len, 2)));
  t.mm.setI32(lenAddr, 2);
  return 0;
}

const NOTE = 'AF_UNIX only: sockets are made and connect() answers as Linux does when nobody listens (ENOENT, ECONNREFUSED); listening sockets and data transfer are not implemented yet, other families are reported as unsupported';

export const netDefs: Record<string, Def> = {
  socket: partial({ args: ['sockfamily', 'socktype', 'int'], ret: 'fd' }, (t, a) => socket(t, a.i32(0), a.i32(1), a.i32(2)), NOTE),
  connect: partial(['fd', 'sockaddr', 'int'], (t, a) => connect(t, a.i32(0), a.ptr(1), a.u32(2)), NOTE),
  getsockname: partial(['fd', 'sockaddrout', 'socklen'], (t, a) => sockName(t, a.i32(0), a.ptr(1), a.ptr(2), false), NOTE),
  getpeername: partial(['fd', 'sockaddrout', 'socklen'], (t, a) => sockName(t, a.i32(0), a.ptr(1), a.ptr(2), true), NOTE),
};

// ---- connected pairs and their I/O ------------------------------------------------------

function socketpair(t: Task, domain: number, type: number, protocol: number, sv: number): number {
  if (type & ~(SOCK_TYPE_MASK | O_NONBLOCK | O_CLOEXEC)) fail(E.EINVAL);
  if (domain !== AF_UNIX) throw new Unsupported(`socketpair of address family ${domain}`, E.EAFNOSUPPORT);
  const base = type & SOCK_TYPE_MASK;
  if (base === SOCK_DGRAM || base === SOCK_SEQPACKET) throw new Unsupported('socketpair of datagram or seqpacket sockets', E.ENOTSUP);
  if (base !== SOCK_STREAM) fail(E.ESOCKTNOSUPPORT);
  if (protocol !== 0) fail(E.EPROTONOSUPPORT);
  t.mm.check(sv, 8, PROT_WRITE);
  const [a, b] = UnixStream.pair(type & O_NONBLOCK, () => t.vfs.anonIno('socket'), () => t.vfs.anonIno('pipe'));
  const cloexec = (type & O_CLOEXEC) !== 0;
  const fa = t.fds.add(a, cloexec);
  let fb: number;
  try {
    fb = t.fds.add(b, cloexec);
  } catch (e) {
    t.fds.close(fa);
    b.release();
    throw e;
  }
  t.mm.setI32(sv, fa);
  t.mm.setI32(sv + 4, fb);
  return 0;
}

function stream(t: Task, fd: number): UnixStream {
  const f = t.fds.file(fd);
  if (f instanceof UnixStream) return f;
  if (f instanceof UnixSocket) fail(E.ENOTCONN);
  return fail(E.ENOTSOCK);
}

/** A send that finds the peer gone raises SIGPIPE, unless MSG_NOSIGNAL. */
const sending = (t: Task, flags: number, fn: () => number): number => (flags & MSG_NOSIGNAL ? fn() : raisingSigpipe(t, fn));

function checkFlags(flags: number, allowed: number, what: string): void {
  if (flags & ~allowed) throw new Unsupported(`${what} flags 0x${(flags & ~allowed).toString(16)}`, E.ENOTSUP);
}

function sendto(t: Task, fd: number, buf: number, len: number, flags: number, addr: number): number {
  const s = stream(t, fd);
  checkFlags(flags, MSG_DONTWAIT | MSG_NOSIGNAL, 'send');
  if (addr !== 0) fail(E.EISCONN);
  return sending(t, flags, () => s.send(t, buf, Math.min(len, MAX_RW_COUNT), (flags & MSG_DONTWAIT) !== 0));
}

function recvfrom(t: Task, fd: number, buf: number, len: number, flags: number, addr: number, lenAddr: number): number {
  const s = stream(t, fd);
  checkFlags(flags, MSG_DONTWAIT | MSG_PEEK | MSG_CMSG_CLOEXEC, 'recv');
  const n = s.recv(t, buf, Math.min(len, MAX_RW_COUNT), (flags & MSG_DONTWAIT) !== 0, (flags & MSG_PEEK) !== 0);
  if (addr !== 0 && lenAddr !== 0) t.mm.setI32(lenAddr, 0); // a socketpair's peer has no name
  return n;
}

/** struct msghdr (56 bytes on both arches): name, iov, control; no control data is sent or received. */
function msg(t: Task, addr: number): { iov: Iov[]; controlLen: number; raw: Buffer } {
  const raw = t.mm.read(addr, 56);
  const iov = iovecs(t, Number(raw.readBigUInt64LE(16)), Number(raw.readBigUInt64LE(24)));
  return { iov, controlLen: Number(raw.readBigUInt64LE(40)), raw };
}

function sendmsg(t: Task, fd: number, addr: number, flags: number): number {
  const s = stream(t, fd);
  checkFlags(flags, MSG_DONTWAIT | MSG_NOSIGNAL, 'sendmsg');
  const m = msg(t, addr);
  if (m.controlLen > 0) throw new Unsupported('sendmsg with control messages (SCM_RIGHTS, SCM_CREDENTIALS)', E.ENOTSUP);
  if (m.raw.readBigUInt64LE(0) !== 0n) fail(E.EISCONN);
  // only the first piece may wait
  let first = true;
  return vectored(t, m.iov, (base, len) => {
    const n = sending(t, flags, () => s.send(t, base, len, (flags & MSG_DONTWAIT) !== 0 || !first));
    first = false;
    return n;
  });
}

function recvmsg(t: Task, fd: number, addr: number, flags: number): number {
  const s = stream(t, fd);
  checkFlags(flags, MSG_DONTWAIT | MSG_PEEK | MSG_CMSG_CLOEXEC, 'recvmsg');
  const m = msg(t, addr);
  const peek = (flags & MSG_PEEK) !== 0;
  // only the first piece may wait, and a later piece that finds nothing ends the
  // call with the bytes received so far (vectored keeps them); a peek's later
  // pieces go on from where the earlier ones stopped, as Linux's do
  let first = true;
  let peeked = 0;
  const total = vectored(t, m.iov, (base, len) => {
    const n = s.recv(t, base, len, (flags & MSG_DONTWAIT) !== 0 || !first, peek, peeked);
    first = false;
    if (peek) peeked += n;
    return n;
  });
  const out = Buffer.from(m.raw);
  out.writeUInt32LE(0, 8); // msg_namelen
  out.writeBigUInt64LE(0n, 40); // msg_controllen: no control data
  out.writeInt32LE(0, 48); // msg_flags
  t.mm.write(addr, out);
  return total;
}

function getsockopt(t: Task, fd: number, level: number, name: number, val: number, lenAddr: number): number {
  const f = t.fds.file(fd);
  if (f instanceof HostFile) {
    // a host socket elfrun was given (Node's child stdio): the host answers (ENOTSOCK for other files)
    const len = t.mm.i32(lenAddr);
    if (len < 0) fail(E.EINVAL);
    const s = hostScratch();
    const n = host.getsockopt(f.hostFd, level, name, s.addr, Math.min(len, 256));
    if (n < 0) fail(-n);
    t.mm.write(val, s.bytes.subarray(0, n));
    t.mm.setI32(lenAddr, n);
    return 0;
  }
  if (!(f instanceof UnixSocket)) fail(E.ENOTSOCK);
  if (level !== SOL_SOCKET) throw new Unsupported(`getsockopt level ${level}`, E.ENOPROTOOPT);
  const len = t.mm.i32(lenAddr);
  if (len < 0) fail(E.EINVAL);
  let v: number;
  switch (name) {
    case SO_TYPE:
      v = f.type;
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
      v = f.bufSize;
      break;
    default:
      throw new Unsupported(`getsockopt SOL_SOCKET option ${name}`, E.ENOPROTOOPT);
  }
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  t.mm.write(val, b.subarray(0, Math.min(4, len)));
  t.mm.setI32(lenAddr, Math.min(4, len));
  return 0;
}

function setsockopt(t: Task, fd: number, level: number, name: number, val: number, len: number): number {
  const f = t.fds.file(fd);
  if (!(f instanceof UnixSocket)) fail(E.ENOTSOCK);
  if (level !== SOL_SOCKET || (name !== SO_SNDBUF && name !== SO_RCVBUF)) throw new Unsupported(`setsockopt level ${level} option ${name}`, E.ENOPROTOOPT);
  if (len < 4) fail(E.EINVAL);
  // Linux doubles the value (bookkeeping overhead) and keeps a minimum
  f.bufSize = Math.max(4608, Math.min(0x7fffffff, t.mm.i32(val) * 2));
  return 0;
}

const PAIR_NOTE = 'AF_UNIX stream pairs (socketpair): read/write, send/recv (MSG_DONTWAIT, MSG_PEEK, MSG_NOSIGNAL), sendmsg/recvmsg without control data (no fd passing), shutdown; datagram pairs and other flags are reported as unsupported';

export const pairDefs: Record<string, Def> = {
  socketpair: partial(['sockfamily', 'socktype', 'int', 'fds2'], (t, a) => socketpair(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3)), PAIR_NOTE),
  sendto: partial(['fd', 'strin', 'size', 'msgflags', 'sockaddr', 'int'], (t, a) => sendto(t, a.i32(0), a.ptr(1), a.size(2), a.i32(3), a.ptr(4)), PAIR_NOTE),
  recvfrom: partial(['fd', 'strout', 'size', 'msgflags', 'sockaddrout', 'socklen'], (t, a) => recvfrom(t, a.i32(0), a.ptr(1), a.size(2), a.i32(3), a.ptr(4), a.ptr(5)), PAIR_NOTE),
  sendmsg: partial(['fd', 'msghdrin', 'msgflags'], (t, a) => sendmsg(t, a.i32(0), a.ptr(1), a.i32(2)), PAIR_NOTE),
  recvmsg: partial(['fd', 'msghdrout', 'msgflags'], (t, a) => recvmsg(t, a.i32(0), a.ptr(1), a.i32(2)), PAIR_NOTE),
  shutdown: partial(['fd', 'shuthow'], (t, a) => stream(t, a.i32(0)).shutdown(a.i32(1)), PAIR_NOTE),
  getsockopt: partial(['fd', 'sollevel', 'sockopt', 'sockoptout', 'socklen'], (t, a) => getsockopt(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3), a.ptr(4)), 'SOL_SOCKET: SO_TYPE, SO_ERROR, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN, SO_SNDBUF/RCVBUF of AF_UNIX sockets; others are reported as unsupported'),
  setsockopt: partial(['fd', 'sollevel', 'sockopt', 'sockoptin', 'uint'], (t, a) => setsockopt(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3), a.u32(4)), 'SO_SNDBUF/SO_RCVBUF of AF_UNIX sockets are recorded; others are reported as unsupported'),
};
