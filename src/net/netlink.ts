// AF_NETLINK sockets as host sockets, for the queries programs make of the
// network: NETLINK_ROUTE dumps (getifaddrs, if_nameindex, getaddrinfo's
// AI_ADDRCONFIG, `ip addr`, `ip route`) and NETLINK_SOCK_DIAG (`ss`). The
// host answers them for its own interfaces and sockets, as it would for a
// process sharing its network namespace. A request that would change the
// host's network (RTM_NEW*/DEL*/SET*, SOCK_DESTROY) is refused as for a
// guest without CAP_NET_ADMIN: the send succeeds and the answer is an
// NLMSG_ERROR of EPERM (netlink_ack: the request copied in unless
// NETLINK_CAP_ACK), which iproute2's probes expect; other netlink protocols
// are reported as unsupported. Those answers come before the host's to
// requests sent with them (a program sends one request at a time).
//
// A guest with a network of its own (--net none) has only `lo`: the host's
// answers are read into elfrun first and only what concerns lo is passed on
// (its link, its addresses, the routes through it), and sock_diag shows none
// of the host's inet sockets: SOCK_DIAG_BY_FAMILY for TCP and UDP is
// answered by elfrun from the guest's own (loop.ts, tcpstate.ts: an
// inet_diag_msg each, with INET_DIAG_SHUTDOWN and INET_DIAG_SKV6ONLY, no
// other extensions; no bytecode filters: every socket of the states asked).
// lo's own attributes are the host's lo's, but for its counters (IFLA_STATS,
// IFLA_STATS64), which are those of elfrun's lo, as /proc/net/dev gives them.
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import type { IoContext } from '../fs/context.js';
import { AF_INET, AF_INET6, AF_NETLINK, IPPROTO_TCP, IPPROTO_UDP } from '../abi/socket.js';
import { diagDump } from './tcpstate.js';
import { HostSocket } from './host.js';
import type { Received, RecvArgs, SendArgs } from './socket.js';
import { MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC } from '../abi/socket.js';
import { POLLIN, POLLRDNORM } from '../abi/poll.js';
import { Scratch } from '../host/libc.js';
import { hostSock } from '../host/sock.js';
import { iovLen, writeIov } from './unix-queue.js';
import { loCounters, type LoCounters } from './loop.js';

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

const SOL_NETLINK = 270;
const NETLINK_CAP_ACK = 10;
const NLMSG_ERROR = 2;
const NLM_F_CAPPED = 0x100;
const NLM_F_MULTI = 2;
const NLMSG_DONE = 3;

class NetlinkSocket extends HostSocket {
  /** datagrams elfrun answers itself, received before the host's */
  protected readonly ready: Buffer[] = [];

  override sendmsg(t: IoContext, a: SendArgs): number {
    // the whole message, to look at each nlmsghdr's type before the host sees it
    const bytes = Buffer.concat(a.iov.filter((v) => v.len > 0).map((v) => t.mm.read(v.base, Math.min(v.len, 1 << 16))));
    const reads: Buffer[] = [];
    let refused = false;
    for (let off = 0; off + NLMSG_HDR <= bytes.length; ) {
      const len = bytes.readUInt32LE(off);
      const m = bytes.subarray(off, len < NLMSG_HDR ? bytes.length : Math.min(bytes.length, off + ((len + 3) & ~3)));
      const mine = readOnly(this.protocol, bytes.readUInt16LE(off + 4)) ? this.answer(t, m) : this.refusal(t, m);
      if (mine === null) reads.push(m);
      else {
        refused = true;
        this.ready.push(mine);
      }
      if (len < NLMSG_HDR) break;
      off += (len + 3) & ~3;
    }
    if (!refused) return super.sendmsg(t, a);
    if (reads.length > 0) this.sendBytes(Buffer.concat(reads), a.flags);
    return this.settle(t, bytes.length);
  }

  /** elfrun's own answer to read-only request `m`, or null for the host's */
  protected answer(_t: IoContext, _m: Buffer): Buffer | null {
    return null;
  }

  /** netlink messages of `type` answering request `m` as a dump (NLM_F_MULTI), NLMSG_DONE last */
  protected dump(t: IoContext, m: Buffer, type: number, bodies: Buffer[]): Buffer {
    const seq = m.readUInt32LE(8);
    const pid = this.sockName(t).readUInt32LE(4);
    const head = (len: number, ty: number): Buffer => {
      const h = Buffer.alloc(NLMSG_HDR);
      h.writeUInt32LE(len, 0);
      h.writeUInt16LE(ty, 4);
      h.writeUInt16LE(NLM_F_MULTI, 6);
      h.writeUInt32LE(seq, 8);
      h.writeUInt32LE(pid, 12);
      return h;
    };
    const parts = bodies.flatMap((b) => [head(NLMSG_HDR + b.length, type), b]);
    return Buffer.concat([...parts, head(NLMSG_HDR + 4, NLMSG_DONE), Buffer.alloc(4)]);
  }

  /** netlink_ack of -EPERM for request `m`: the request whole, or only its header with NETLINK_CAP_ACK */
  private refusal(t: IoContext, m: Buffer): Buffer {
    const capped = this.getsockopt(t, SOL_NETLINK, NETLINK_CAP_ACK, 4).readInt32LE(0) !== 0;
    const req = capped ? m.subarray(0, NLMSG_HDR) : m;
    const r = Buffer.alloc(NLMSG_HDR + 4 + req.length);
    r.writeUInt32LE(r.length, 0);
    r.writeUInt16LE(NLMSG_ERROR, 4);
    r.writeUInt16LE(capped ? NLM_F_CAPPED : 0, 6);
    r.writeUInt32LE(m.length >= 12 ? m.readUInt32LE(8) : 0, 8);
    r.writeUInt32LE(this.sockName(t).readUInt32LE(4), 12);
    r.writeInt32LE(-E.EPERM, NLMSG_HDR);
    req.copy(r, NLMSG_HDR + 4);
    // the copied request's own length is kept as it was sent
    return r;
  }

  /** The requests the host may see, as one datagram to the kernel. */
  private sendBytes(b: Buffer, flags: number): void {
    const s = (sbuf ??= new Scratch(65536 + LO_DATA));
    s.bytes.fill(0, 0, LO_DATA);
    s.bytes.set(b.subarray(0, 65536), LO_DATA);
    s.dv.setBigUint64(64, BigInt(s.addr + LO_DATA), true);
    s.dv.setBigUint64(72, BigInt(Math.min(b.length, 65536)), true);
    s.dv.setBigUint64(16, BigInt(s.addr + 64), true); // msg_iov
    s.dv.setBigUint64(24, 1n, true); // msg_iovlen
    const r = hostSock.sendmsg(this.hostFd, s.addr, flags & MSG_DONTWAIT);
    if (r < 0) fail(-r);
  }

  /** An answer of elfrun's own, as the kernel's (sockaddr_nl of pid 0, no groups), or null when there is none. */
  protected own(t: IoContext, a: RecvArgs): Received | null {
    const d = this.ready[0];
    if (d === undefined) return null;
    const room = iovLen(a.iov);
    const n = writeIov(t, a.iov, 0, d.subarray(0, room));
    if (!(a.flags & MSG_PEEK)) this.ready.shift();
    const name = Buffer.alloc(12);
    name.writeUInt16LE(AF_NETLINK, 0);
    return this.settle(t, { n: a.flags & MSG_TRUNC ? d.length : n, name, control: null, flags: d.length > room ? MSG_TRUNC : 0 });
  }

  override recvmsg(t: IoContext, a: RecvArgs): Received {
    return this.own(t, a) ?? super.recvmsg(t, a);
  }

  override poll(t: IoContext, events: number): number {
    return super.poll(t, events) | (this.ready.length > 0 ? events & (POLLIN | POLLRDNORM) : 0);
  }
}
/** the host memory requests are sent from */
let sbuf: Scratch | null = null;

/** lo's interface index, in every network namespace */
const LO_INDEX = 1;
const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const RTM_NEWNEIGH = 28;
const RTA_OIF = 4;
const IFLA_STATS = 7;
const IFLA_STATS64 = 23;
/** struct ifinfomsg, after which a link message's attributes start */
const IFINFO = 16;
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

/**
 * A link message's counters made lo's (rtnl_link_stats and rtnl_link_stats64:
 * rx_packets, tx_packets, rx_bytes, tx_bytes first, every error and drop
 * count zero), in place.
 */
function ownStats(m: Buffer, lo: LoCounters): void {
  for (let off = NLMSG_HDR + IFINFO; off + 4 <= m.length; ) {
    const len = m.readUInt16LE(off);
    if (len < 4 || off + len > m.length) break;
    const type = m.readUInt16LE(off + 2) & 0x3fff;
    const size = type === IFLA_STATS ? 4 : type === IFLA_STATS64 ? 8 : 0;
    if (size !== 0 && len >= 4 + 4 * size) {
      m.fill(0, off + 4, off + len);
      [lo.packets, lo.packets, lo.bytes, lo.bytes].forEach((v, i) => {
        if (size === 4) m.writeUInt32LE(v >>> 0, off + 4 + i * 4);
        else m.writeBigUInt64LE(BigInt(v), off + 4 + i * 8);
      });
    }
    off += (len + 3) & ~3;
  }
}

/** The messages of a host datagram that a network holding only lo has (lo's counters its own). */
function loOnly(protocol: number, d: Buffer, lo: LoCounters): Buffer {
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
      if (ok && type === RTM_NEWLINK) ownStats(m, lo);
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
  /** sock_diag of the guest's TCP and UDP sockets: elfrun's lo's (the host has none of them) */
  protected override answer(t: IoContext, m: Buffer): Buffer | null {
    if (this.protocol !== NETLINK_SOCK_DIAG || m.length < NLMSG_HDR + 8 || m.readUInt16LE(4) !== SOCK_DIAG_BY_FAMILY) return null;
    const family = m[NLMSG_HDR];
    const protocol = m[NLMSG_HDR + 1];
    if ((family !== AF_INET && family !== AF_INET6) || (protocol !== IPPROTO_TCP && protocol !== IPPROTO_UDP)) return null;
    return this.dump(t, m, SOCK_DIAG_BY_FAMILY, diagDump(t.vfs, family, protocol, m.readUInt32LE(NLMSG_HDR + 4)));
  }

  /** One host datagram, filtered; null when the host has none now (its errors thrown). */
  private pull(lo: LoCounters): Buffer | null {
    const s = (lbuf ??= new Scratch(65536));
    s.bytes.fill(0, 0, LO_DATA);
    s.dv.setBigUint64(64, BigInt(s.addr + LO_DATA), true);
    s.dv.setBigUint64(72, BigInt(65536 - LO_DATA), true);
    s.dv.setBigUint64(16, BigInt(s.addr + 64), true); // msg_iov
    s.dv.setBigUint64(24, 1n, true); // msg_iovlen
    const r = hostSock.recvmsg(this.hostFd, s.addr, MSG_DONTWAIT);
    if (r === -E.EAGAIN) return null;
    if (r < 0) fail(-r);
    return loOnly(this.protocol, Buffer.from(s.bytes.subarray(LO_DATA, LO_DATA + r)), lo);
  }

  override recvmsg(t: IoContext, a: RecvArgs): Received {
    for (;;) {
      const mine = this.own(t, a);
      if (mine !== null) return mine;
      const got = this.pull(loCounters(t.vfs));
      if (got === null) {
        this.wait(t, [t.hostPollQueue(this.hostFd, POLLIN)], 'rcv', this.nonblocking(a.flags));
        fail(E.EAGAIN);
      }
      if (got.length > 0) this.ready.push(got);
    }
  }

}

/** socket(AF_NETLINK, ...): `onlyLo` for a guest whose network holds only lo (--net none). */
export function netlinkSocket(type: number, protocol: number, flags: number, onlyLo = false): HostSocket {
  if (protocol !== NETLINK_ROUTE && protocol !== NETLINK_SOCK_DIAG) throw new Unsupported(`netlink protocol ${protocol}`, E.EPROTONOSUPPORT);
  const C = onlyLo ? LoNetlinkSocket : NetlinkSocket;
  return new C(HostSocket.open(AF_NETLINK, type, protocol), AF_NETLINK, type, protocol, flags);
}
