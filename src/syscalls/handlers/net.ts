// The socket syscalls that make, name, connect and configure sockets:
// socket, socketpair, bind, listen, accept/accept4, connect,
// getsockname/getpeername, shutdown, getsockopt/setsockopt. They decode the
// guest's arguments as Linux's net/socket.c does (its length checks and
// errors) and hand them to the socket (net/socket.ts). AF_UNIX sockets live
// in elfrun (net/unix.ts); AF_INET, AF_INET6 and read-only AF_NETLINK
// sockets are host sockets (net/host.ts). Data transfer is in netmsg.ts.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { O_NONBLOCK } from '../../abi/fcntl.js';
import { PROT_WRITE } from '../../abi/mman.js';
import { AF_INET, AF_INET6, AF_NETLINK, AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_TYPE_MASK } from '../../abi/socket.js';
import { S_IFMT, S_IFSOCK } from '../../abi/stat.js';
import { HostFile } from '../../fs/hostfile.js';
import { host } from '../../host/libc.js';
import { hostScratch } from '../../fs/transfer.js';
import { HostSocket } from '../../net/host.js';
import { netlinkSocket } from '../../net/netlink.js';
import { loopSocket } from '../../net/loop.js';
import { OptionTooLong, Socket } from '../../net/socket.js';
import { UnixSocket, unixPair, unixSocket } from '../../net/unix.js';
import { partial, supported, type Def } from './util.js';

/** sizeof(struct sockaddr_storage): the longest address a call takes */
const SOCKADDR_MAX = 128;
/** SOMAXCONN as Linux 5.4+ has it (net.core.somaxconn) */
const SOMAXCONN = 4096;

/**
 * The socket behind fd: ENOTSOCK for other files. A host socket elfrun was
 * given as a file (Node's child stdio are socketpairs; inetd-style stdin) is
 * seen through a socket that borrows its host fd.
 */
export function sockOf(t: Task, fd: number): Socket {
  const f = t.fds.file(fd);
  if (f instanceof Socket) return f;
  if (f instanceof HostFile) {
    const b = borrowed.get(f);
    if (b !== undefined) return b;
    const s = hostScratch();
    if (host.fstat(f.hostFd, s.addr) === 0 && (s.dv.getUint32(24, true) & S_IFMT) === S_IFSOCK) {
      const sock = HostSocket.borrow(f.hostFd, f.flags);
      borrowed.set(f, sock);
      return sock;
    }
  }
  return fail(E.ENOTSOCK);
}
const borrowed = new WeakMap<HostFile, HostSocket>();

/** A sockaddr the guest passes in (move_addr_to_kernel): EINVAL past sockaddr_storage, EFAULT if unreadable. */
export function addrIn(t: Task, addr: number, len: number): Buffer {
  if (len < 0 || len > SOCKADDR_MAX) fail(E.EINVAL);
  if (len === 0) return Buffer.alloc(0);
  return t.mm.read(addr, len);
}

/**
 * A sockaddr handed back (move_addr_to_user): the guest's length is read
 * first (EINVAL if negative), as much of the address as fits is written, and
 * the address's true length goes back into *lenAddr.
 */
export function addrOut(t: Task, name: Buffer, addr: number, lenAddr: number): void {
  const len = t.mm.i32(lenAddr);
  if (len < 0) fail(E.EINVAL);
  const n = Math.min(len, name.length);
  if (n > 0) t.mm.write(addr, name.subarray(0, n));
  t.mm.setI32(lenAddr, name.length);
}

/** Make a socket of a family (the type's flags already taken out). */
function make(t: Task, domain: number, type: number, protocol: number, flags: number): Socket {
  switch (domain) {
    case AF_UNIX:
      return unixSocket(t, type, protocol, flags);
    case AF_INET:
    case AF_INET6:
      if (t.kernel.net === 'none') return loopSocket(t, domain, type, protocol, flags);
      return HostSocket.create(domain, type, protocol, flags);
    case AF_NETLINK:
      return netlinkSocket(type, protocol, flags, t.kernel.net === 'none');
    default:
      // families Linux builds as modules the guest's kernel does not have
      throw new Unsupported(`socket of address family ${domain}`, E.EAFNOSUPPORT);
  }
}

function socket(t: Task, domain: number, type: number, protocol: number): number {
  if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) fail(E.EINVAL);
  const s = make(t, domain, type & SOCK_TYPE_MASK, protocol, type & O_NONBLOCK);
  return install(t, s, (type & SOCK_CLOEXEC) !== 0);
}

/** Put a new socket in the fd table; it is released if there is no room (EMFILE). */
function install(t: Task, s: Socket, cloexec: boolean): number {
  try {
    return t.fds.add(s, cloexec);
  } catch (e) {
    s.unref();
    throw e;
  }
}

function socketpair(t: Task, domain: number, type: number, protocol: number, sv: number): number {
  if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) fail(E.EINVAL);
  // Linux makes the socket first, so a family without pairs says EOPNOTSUPP
  if (domain !== AF_UNIX) {
    if (domain === AF_INET || domain === AF_INET6 || domain === AF_NETLINK) {
      make(t, domain, type & SOCK_TYPE_MASK, protocol, 0).unref();
      fail(E.ENOTSUP);
    }
    throw new Unsupported(`socketpair of address family ${domain}`, E.EAFNOSUPPORT);
  }
  const [a, b] = unixPair(t, type & SOCK_TYPE_MASK, protocol, type & O_NONBLOCK);
  t.mm.check(sv, 8, PROT_WRITE);
  const cloexec = (type & SOCK_CLOEXEC) !== 0;
  let fa: number;
  try {
    fa = t.fds.add(a, cloexec);
  } catch (e) {
    a.unref();
    b.unref();
    throw e;
  }
  const fb = (() => {
    try {
      return t.fds.add(b, cloexec);
    } catch (e) {
      t.fds.close(fa);
      b.unref();
      throw e;
    }
  })();
  t.mm.setI32(sv, fa);
  t.mm.setI32(sv + 4, fb);
  return 0;
}

function bind(t: Task, fd: number, addr: number, len: number): number {
  const s = sockOf(t, fd);
  // an AF_UNIX name is a socket inode, made with the caller's umask
  if (s instanceof UnixSocket) s.bind(t, addrIn(t, addr, len), t.umask);
  else s.bind(t, addrIn(t, addr, len));
  return 0;
}

function listen(t: Task, fd: number, backlog: number): number {
  const s = sockOf(t, fd);
  // __sys_listen: a backlog above somaxconn (or negative, as unsigned) is somaxconn
  s.listen(t, backlog >>> 0 > SOMAXCONN ? SOMAXCONN : backlog);
  return 0;
}

function accept(t: Task, fd: number, addr: number, lenAddr: number, flags: number): number {
  if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) fail(E.EINVAL);
  const s = sockOf(t, fd);
  if (addr !== 0) t.mm.i32(lenAddr); // the length is read before waiting (EFAULT)
  const { sock, peer } = s.accept(t, flags & O_NONBLOCK);
  const nfd = install(t, sock, (flags & SOCK_CLOEXEC) !== 0);
  if (addr !== 0) {
    try {
      addrOut(t, peer, addr, lenAddr);
    } catch (e) {
      t.fds.close(nfd);
      throw e;
    }
  }
  return nfd;
}

function connect(t: Task, fd: number, addr: number, len: number): number {
  const s = sockOf(t, fd);
  s.connect(t, addrIn(t, addr, len));
  return 0;
}

function sockName(t: Task, fd: number, addr: number, lenAddr: number, peer: boolean): number {
  const s = sockOf(t, fd);
  addrOut(t, peer ? s.peerName(t) : s.sockName(t), addr, lenAddr);
  return 0;
}

function shutdown(t: Task, fd: number, how: number): number {
  const s = sockOf(t, fd);
  if (how < 0 || how > 2) fail(E.EINVAL);
  s.shutdown(t, how);
  return 0;
}

function getsockopt(t: Task, fd: number, level: number, name: number, val: number, lenAddr: number): number {
  const s = sockOf(t, fd);
  const len = t.mm.i32(lenAddr);
  if (len < 0) fail(E.EINVAL);
  let v: Buffer;
  try {
    v = s.getsockopt(t, level, name, len);
  } catch (e) {
    if (e instanceof OptionTooLong) t.mm.setI32(lenAddr, e.needed);
    throw e;
  }
  const n = Math.min(len, v.length);
  if (n > 0) t.mm.write(val, v.subarray(0, n));
  t.mm.setI32(lenAddr, n);
  return 0;
}

function setsockopt(t: Task, fd: number, level: number, name: number, val: number, len: number): number {
  const s = sockOf(t, fd);
  if ((len | 0) < 0) fail(E.EINVAL);
  // the value is copied in whole, as sockptr_t options read it (EFAULT if unreadable)
  const v = len === 0 ? Buffer.alloc(0) : t.mm.read(val, Math.min(len, 1 << 20));
  s.setsockopt(t, level, name, v);
  return 0;
}

const NOTE =
  'AF_UNIX in elfrun (stream, datagram and seqpacket; paths, abstract names, autobind; SCM_RIGHTS and SCM_CREDENTIALS; a socket inode on a host directory that no guest socket holds is a host daemon\'s, reached through a host socket, and a stream or seqpacket listener bound on a host directory also accepts host clients (a datagram socket bound there receives only from the guest); MSG_OOB, SO_PEEK_OFF and SIOCOUTQ are reported as unsupported); AF_INET/AF_INET6 are host sockets on the host network (the host answers options and errors, elfrun keeps blocking, SO_RCVTIMEO/SO_SNDTIMEO), or under --net none elfrun\'s own TCP and UDP sockets on an in-process lo (raw and ICMP sockets are reported as unsupported there; options at SOL_TCP, SOL_IP and SOL_IPV6 are kept and given back but change nothing; a TCP socket\'s SO_SNDBUF reads as tcp_wmem\'s 4 MiB ceiling, its autotuned size, from the start; there is no TIME_WAIT, so a closed connection\'s port is free at once); AF_NETLINK: NETLINK_ROUTE and NETLINK_SOCK_DIAG queries only (requests that change the host network get EPERM; under --net none the answers are filtered to lo\'s link, addresses and routes, lo\'s counters being the host\'s, and sock_diag lists no inet sockets, not even the guest\'s own); other families are reported as unsupported';

export const netDefs: Record<string, Def> = {
  socket: partial({ args: ['sockfamily', 'socktype', 'sockproto'], ret: 'fd' }, (t, a) => socket(t, a.i32(0), a.i32(1), a.i32(2)), NOTE),
  socketpair: supported(['sockfamily', 'socktype', 'sockproto', 'fds2'], (t, a) => socketpair(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3))),
  bind: partial(['fd', 'sockaddr', 'int'], (t, a) => bind(t, a.i32(0), a.ptr(1), a.i32(2)), NOTE),
  listen: partial(['fd', 'int'], (t, a) => listen(t, a.i32(0), a.i32(1)), NOTE),
  accept: partial({ args: ['fd', 'sockaddrout', 'socklen'], ret: 'fd' }, (t, a) => accept(t, a.i32(0), a.ptr(1), a.ptr(2), 0), NOTE),
  accept4: partial({ args: ['fd', 'sockaddrout', 'socklen', 'sockflags'], ret: 'fd' }, (t, a) => accept(t, a.i32(0), a.ptr(1), a.ptr(2), a.i32(3)), NOTE),
  connect: partial(['fd', 'sockaddr', 'int'], (t, a) => connect(t, a.i32(0), a.ptr(1), a.i32(2)), NOTE),
  getsockname: partial(['fd', 'sockaddrout', 'socklen'], (t, a) => sockName(t, a.i32(0), a.ptr(1), a.ptr(2), false), NOTE),
  getpeername: partial(['fd', 'sockaddrout', 'socklen'], (t, a) => sockName(t, a.i32(0), a.ptr(1), a.ptr(2), true), NOTE),
  shutdown: partial(['fd', 'shuthow'], (t, a) => shutdown(t, a.i32(0), a.i32(1)), NOTE),
  getsockopt: partial(['fd', 'sollevel', 'sockopt', 'sockoptout', 'socklen'], (t, a) => getsockopt(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3), a.ptr(4)), NOTE),
  setsockopt: partial(['fd', 'sollevel', 'sockopt', 'sockoptin', 'int'], (t, a) => setsockopt(t, a.i32(0), a.i32(1), a.i32(2), a.ptr(3), a.i32(4)), NOTE),
};
