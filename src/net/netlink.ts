// AF_NETLINK sockets as host sockets, for the queries programs make of the
// network: NETLINK_ROUTE dumps (getifaddrs, if_nameindex, getaddrinfo's
// AI_ADDRCONFIG, `ip addr`, `ip route`) and NETLINK_SOCK_DIAG (`ss`). The
// host answers them for its own interfaces and sockets, as it would for a
// process sharing its network namespace. A request that would change the
// host's network (RTM_NEW*/DEL*/SET*, SOCK_DESTROY) is refused with EPERM,
// as for a guest without CAP_NET_ADMIN; other netlink protocols are
// reported as unsupported.
//
// A guest with a network of its own (--net none) has only `lo`: the host's
// answers are read into elfrun first and only what concerns lo is passed on
// (its link, its addresses, the routes through it), and sock_diag shows no
// inet sockets, since the guest's are elfrun's (loop.ts), not the host's.
// lo's own attributes, its counters among them, are the host's lo's.
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import type { IoContext } from '../fs/context.js';
import { AF_NETLINK } from '../abi/socket.js';
import { HostSocket } from './host.js';
import type { Received, RecvArgs, SendArgs } from './socket.js';
import { MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC } from '../abi/socket.js';
import { POLLIN, POLLRDNORM } from '../abi/poll.js';
import { Scratch } from '../host/libc.js';
import { hostSock } from '../host/sock.js';
import { iovLen, writeIov } from './unix-queue.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
/** the first rtnetlink message type; each family of four is NEW, DEL, GET, SET */
const RTM_BASE = 16;
/** sock_diag's queries (TCPDIAG_GETSOCK, DCCPDIAG_GETSOCK, SOCK_DIAG_BY_FAMILY) */
const DIAG_QUERIES = new Set([18, 19, 20]);
/** struct nlmsghdr */
const NLMSG_HDR = 16;

/** Does this request only read? (control messages below RTM_BASE carry nothing) */
function readOnly(protocol: number, type: number): boolean {
  if (type < RTM_BASE) return true;
  if (protocol === NETLINK_ROUTE) return (type - RTM_BASE) % 4 === 2;
  return DIAG_QUERIES.has(type);
}

class NetlinkSocket extends HostSocket {
  override sendmsg(t: IoContext, a: SendArgs): number {
    // the whole message, to look at each nlmsghdr's type before the host sees it
    const bytes = Buffer.concat(a.iov.filter((v) => v.len > 0).map((v) => t.mm.read(v.base, Math.min(v.len, 1 << 16))));
    for (let off = 0; off + NLMSG_HDR <= bytes.length; ) {
      const len = bytes.readUInt32LE(off);
      if (!readOnly(this.protocol, bytes.readUInt16LE(off + 4))) fail(E.EPERM);
      if (len < NLMSG_HDR) break;
      off += (len + 3) & ~3;
    }
    return super.sendmsg(t, a);
  }
}

/** lo's interface index, in every network namespace */
const LO_INDEX = 1;
const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const RTM_NEWNEIGH = 28;
const RTA_OIF = 4;
const TCPDIAG_GETSOCK = 18;
const DCCPDIAG_GETSOCK = 19;
const SOCK_DIAG_BY_FAMILY = 20;

/** Does a route message (struct rtmsg, then attributes) go out through lo? */
function routeViaLo(m: Buffer): boolean {
  for (let off = NLMSG_HDR + 12; off + 4 <= m.length; ) {
    const len = m.readUInt16LE(off);
    if (len < 4) break;
    if (m.readUInt16LE(off + 2) === RTA_OIF && len >= 8) return m.readUInt32LE(off + 4) === LO_INDEX;
    off += (len + 3) & ~3;
  }
  return false;
}

/** The messages of a host datagram that a network holding only lo has. */
function loOnly(protocol: number, d: Buffer): Buffer {
  const keep: Buffer[] = [];
  for (let off = 0; off + NLMSG_HDR <= d.length; ) {
    const len = d.readUInt32LE(off);
    if (len < NLMSG_HDR || off + len > d.length) {
      keep.push(d.subarray(off));
      break;
    }
    const m = d.subarray(off, off + ((len + 3) & ~3));
    const type = m.readUInt16LE(4);
    let ok = true;
    if (protocol === NETLINK_ROUTE) {
      // ifinfomsg, ifaddrmsg and ndmsg all have the interface's index at byte 4
      if (type === RTM_NEWLINK || type === RTM_NEWADDR || type === RTM_NEWNEIGH) ok = m.length >= NLMSG_HDR + 8 && m.readInt32LE(NLMSG_HDR + 4) === LO_INDEX;
      else if (type === RTM_NEWROUTE) ok = routeViaLo(m);
    } else if (type === TCPDIAG_GETSOCK || type === DCCPDIAG_GETSOCK) ok = false;
    else if (type === SOCK_DIAG_BY_FAMILY) ok = !(m.length > NLMSG_HDR && (m[NLMSG_HDR] === 2 || m[NLMSG_HDR] === 10));
    if (ok) keep.push(m);
    off += m.length;
  }
  return Buffer.concat(keep);
}

/** the host memory datagrams are read into: msghdr, iovec, then the bytes */
let lbuf: Scratch | null = null;
const LO_DATA = 128;

/** A netlink socket of a guest whose network holds only lo (see the header). */
class LoNetlinkSocket extends NetlinkSocket {
  /** filtered datagrams, not yet received */
  private readonly ready: Buffer[] = [];

  /** One host datagram, filtered; null when the host has none now (its errors thrown). */
  private pull(): Buffer | null {
    const s = (lbuf ??= new Scratch(65536));
    s.bytes.fill(0, 0, LO_DATA);
    s.dv.setBigUint64(64, BigInt(s.addr + LO_DATA), true);
    s.dv.setBigUint64(72, BigInt(65536 - LO_DATA), true);
    s.dv.setBigUint64(16, BigInt(s.addr + 64), true); // msg_iov
    s.dv.setBigUint64(24, 1n, true); // msg_iovlen
    const r = hostSock.recvmsg(this.hostFd, s.addr, MSG_DONTWAIT);
    if (r === -E.EAGAIN) return null;
    if (r < 0) fail(-r);
    return loOnly(this.protocol, Buffer.from(s.bytes.subarray(LO_DATA, LO_DATA + r)));
  }

  override recvmsg(t: IoContext, a: RecvArgs): Received {
    for (;;) {
      const d = this.ready[0];
      if (d !== undefined) {
        const room = iovLen(a.iov);
        const n = writeIov(t, a.iov, 0, d.subarray(0, room));
        if (!(a.flags & MSG_PEEK)) this.ready.shift();
        // from the kernel: sockaddr_nl with pid 0 and no groups
        const name = Buffer.alloc(12);
        name.writeUInt16LE(AF_NETLINK, 0);
        return this.settle(t, { n: a.flags & MSG_TRUNC ? d.length : n, name, control: null, flags: d.length > room ? MSG_TRUNC : 0 });
      }
      const got = this.pull();
      if (got === null) {
        this.wait(t, [t.hostPollQueue(this.hostFd, POLLIN)], 'rcv', this.nonblocking(a.flags));
        fail(E.EAGAIN);
      }
      if (got.length > 0) this.ready.push(got);
    }
  }

  override poll(t: IoContext, events: number): number {
    return super.poll(t, events) | (this.ready.length > 0 ? events & (POLLIN | POLLRDNORM) : 0);
  }
}

/** socket(AF_NETLINK, ...): `onlyLo` for a guest whose network holds only lo (--net none). */
export function netlinkSocket(type: number, protocol: number, flags: number, onlyLo = false): HostSocket {
  if (protocol !== NETLINK_ROUTE && protocol !== NETLINK_SOCK_DIAG) throw new Unsupported(`netlink protocol ${protocol}`, E.EPROTONOSUPPORT);
  const C = onlyLo ? LoNetlinkSocket : NetlinkSocket;
  return new C(HostSocket.open(AF_NETLINK, type, protocol), AF_NETLINK, type, protocol, flags);
}
