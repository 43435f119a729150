// Sockets: for now AF_UNIX sockets that can be made and connected (with
// Linux's errors when nobody listens). The sockets issue brings the rest.
import type { Task } from '../../proc/task.js';
import { E, fail } from '../errno.js';
import { Unsupported } from '../dispatch.js';
import { O_CLOEXEC, O_NONBLOCK } from '../../fs/flags.js';
import { AF_UNIX, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, UnixSocket, unixPath } from '../../net/unix.js';
import { partial, type Def } from './util.js';
import { HostFile, hostScratch } from '../../fs/file.js';
import { host } from '../../host/libc.js';

const SOCK_TYPE_MASK = 0xf;
const SUN_LEN_MAX = 110; // sizeof(struct sockaddr_un)

function socket(t: Task, domain: number, type: number, protocol: number): number {
  if (type & ~(SOCK_TYPE_MASK | O_NONBLOCK | O_CLOEXEC)) fail(E.EINVAL);
  const base = type & SOCK_TYPE_MASK;
  if (domain !== AF_UNIX) throw new Unsupported(`socket of address family ${domain}`, E.EAFNOSUPPORT);
  if (base !== SOCK_STREAM && base !== SOCK_DGRAM && base !== SOCK_SEQPACKET) fail(E.ESOCKTNOSUPPORT);
  if (protocol !== 0) fail(E.EPROTONOSUPPORT);
  const s = new UnixSocket(base, type & O_NONBLOCK);
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
  socket: partial((t, a) => socket(t, a.i32(0), a.i32(1), a.i32(2)), NOTE),
  connect: partial((t, a) => connect(t, a.i32(0), a.ptr(1), a.u32(2)), NOTE),
  getsockname: partial((t, a) => sockName(t, a.i32(0), a.ptr(1), a.ptr(2), false), NOTE),
  getpeername: partial((t, a) => sockName(t, a.i32(0), a.ptr(1), a.ptr(2), true), NOTE),
};
