// AF_INET and AF_INET6 sockets of a guest with its own empty network
// (--net none): the network namespace holds only `lo`, so every connection
// is between guest sockets, and is made in elfrun on the AF_UNIX sockets'
// queues (unix.ts, unix-io.ts: a TCP connection is a stream connection, a
// UDP socket a datagram socket) with Linux's inet names and rules on top:
// sockaddr_in/sockaddr_in6 names, ports (0 binds an ephemeral one, from
// ip_local_port_range), EADDRINUSE and SO_REUSEADDR/SO_REUSEPORT, loopback
// addresses only (EADDRNOTAVAIL for binding others, ENETUNREACH for
// reaching them), ECONNREFUSED where nobody listens, non-blocking connect
// (EINPROGRESS, then SO_ERROR), and a dual-stack AF_INET6 socket reached
// by IPv4 under its v4-mapped address. Nothing here touches the host's
// network.
//
// lo's counters (/proc/net/dev, netlink's link stats, /sys/class/net/lo/
// statistics) are this network's own: every packet lo carries is both sent
// and received, so rx equals tx. A UDP datagram is one packet of its payload
// and its IP and UDP headers, as Linux counts it; for TCP elfrun keeps no
// segments, so it counts what a connection on lo sends at the least: the
// handshake's three segments (a refused one's SYN and RST), one segment per
// send (its headers with the timestamp option), and no ACKs or FINs. A
// datagram to a port nobody has bound brings back ICMP's port unreachable.
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import { AF_INET, AF_INET6, AF_UNSPEC, IPPROTO_TCP, IPPROTO_UDP, MSG_OOB, SOCK_DGRAM, SOCK_STREAM, SOL_IP, SOL_IPV6, SOL_SOCKET, SOL_TCP, SO_REUSEADDR, SO_REUSEPORT } from '../abi/socket.js';
import type { IoContext } from '../fs/context.js';
import type { Vfs } from '../fs/vfs.js';
import { ownCred, UnixSocket } from './unix.js';
import { iovLen, Msg, RCV_SHUTDOWN, readIov, SEND_SHUTDOWN, SHUTDOWN_MASK } from './unix-queue.js';
import type { Accepted, Received, RecvArgs, SendArgs, Socket } from './socket.js';
import { inheritKept, keptFlag } from './unix-opts.js';
import { HostSocket, IFREQ_GET, SIOCGIFCONF } from './host.js';
import { recvStream } from './unix-io.js';
import { finState } from './tcpfin.js';

/** net.ipv4.ip_local_port_range's default */
const EPHEMERAL_LO = 32768;
const EPHEMERAL_HI = 60999;
const IPV6_V6ONLY = 26;
/** net.ipv4.tcp_wmem's ceiling: how far an autotuned TCP send buffer grows */
const TCP_WMEM_MAX = 4194304;
/** struct ifreq */
const IFREQ_SIZE = 40;
const SIOCGIFNAME = 0x8910;

/** An inet address: family, the address's bytes (4 or 16) and the port. */
export interface InetAddr {
  family: number;
  ip: Buffer;
  port: number;
}

/** IPv4 and IPv6 headers' sizes, and TCP's and UDP's (TCP's with the timestamp option, SYN's with its four options) */
const IP4_HDR = 20;
const IP6_HDR = 40;
const UDP_HDR = 8;
const ICMP_HDR = 8;
const TCP_HDR = 32;
const TCP_SYN_HDR = 40;
const TCP_RST_HDR = 20;

/** What lo has carried: packets and bytes (each received as it is sent). */
export interface LoCounters {
  packets: number;
  bytes: number;
}

/** A guest network's bound sockets, by protocol and port, and lo's counters. */
export class LoopNet {
  readonly ports = new Map<string, LoopSocket[]>();
  /** every socket of the network, for /proc/net */
  readonly all = new Set<LoopSocket>();
  next = EPHEMERAL_LO + Math.floor(Math.random() * (EPHEMERAL_HI - EPHEMERAL_LO));
  readonly lo: LoCounters = { packets: 0, bytes: 0 };
  /** closed TCP sockets whose connection lives on: orphaned in FIN_WAIT2, or in TIME_WAIT (tcpstate.ts) */
  readonly closing = new Set<LoopSocket>();
  private readonly closingAt = new Map<number, Set<LoopSocket>>(); // the same by local port, for bind
  /** the order FINs were sent in */
  fins = 0;
  /** the size of `closing` at which the connections that no longer linger are dropped from it (doubling: amortized) */
  private pruneAt = 64;
  /** a closed connection that may linger */
  linger(s: LoopSocket): void {
    this.closing.add(s);
    const at = this.closingAt.get(s.local.port);
    if (at === undefined) this.closingAt.set(s.local.port, new Set([s]));
    else at.add(s);
    if (this.closing.size < this.pruneAt) return;
    const now = Date.now();
    for (const o of this.closing) if (o.lastPeer === null || finState(o, o.lastPeer, true, now) === null) this.unlinger(o);
    this.pruneAt = Math.max(64, 2 * this.closing.size);
  }
  /** a closed connection that no longer lingers */
  unlinger(s: LoopSocket): void {
    this.closing.delete(s);
    const at = this.closingAt.get(s.local.port);
    if (at !== undefined && at.delete(s) && at.size === 0) this.closingAt.delete(s.local.port);
  }
  /** the closed connections on a local port that may linger */
  closingOn(port: number): Iterable<LoopSocket> {
    return this.closingAt.get(port) ?? [];
  }
  /** lo carries a packet of `bytes` (headers included) */
  carry(bytes: number): void {
    this.lo.packets++;
    this.lo.bytes += bytes;
  }
}
const nets = new WeakMap<Vfs, LoopNet>();
const netOf = (vfs: Vfs): LoopNet => {
  let n = nets.get(vfs);
  if (n === undefined) nets.set(vfs, (n = new LoopNet()));
  return n;
};

const V4_ANY = Buffer.alloc(4);
const V6_ANY = Buffer.alloc(16);
const V4_MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
const isMapped = (ip: Buffer): boolean => ip.length === 16 && ip.subarray(0, 12).equals(V4_MAPPED);
/** The IPv4 address an address is (itself, or a v4-mapped IPv6 one), else null. */
const v4 = (ip: Buffer): Buffer | null => (ip.length === 4 ? ip : isMapped(ip) ? ip.subarray(12) : null);
const isAny = (ip: Buffer): boolean => ip.every((b) => b === 0);
/** Is it an address of `lo` (127.0.0.0/8, ::1, or v4-mapped loopback)? */
function isLoopback(ip: Buffer): boolean {
  const a = v4(ip);
  if (a !== null) return a[0] === 127;
  return ip.subarray(0, 15).every((b) => b === 0) && ip[15] === 1;
}

/** Decode a sockaddr_in / sockaddr_in6 for a socket of `family` (EINVAL if short, EAFNOSUPPORT for another family). */
export function decodeInet(family: number, sa: Buffer): InetAddr {
  if (sa.length < 2) fail(E.EINVAL);
  const f = sa.readUInt16LE(0);
  if (family === AF_INET) {
    if (sa.length < 16) fail(E.EINVAL);
    if (f !== AF_INET) fail(E.EAFNOSUPPORT);
    return { family: AF_INET, ip: Buffer.from(sa.subarray(4, 8)), port: sa.readUInt16BE(2) };
  }
  if (sa.length < 24) fail(E.EINVAL);
  if (f !== AF_INET6) fail(E.EAFNOSUPPORT);
  return { family: AF_INET6, ip: Buffer.from(sa.subarray(8, 24)), port: sa.readUInt16BE(2) };
}

/** The sockaddr of an address, in its family's layout. */
export function encodeInet(a: InetAddr): Buffer {
  const b = Buffer.alloc(a.family === AF_INET ? 16 : 28);
  b.writeUInt16LE(a.family, 0);
  b.writeUInt16BE(a.port, 2);
  a.ip.copy(b, a.family === AF_INET ? 4 : 8);
  return b;
}

/** An address as a socket of `family` names it (an IPv4 peer of an IPv6 socket is v4-mapped). */
function asFamily(family: number, ip: Buffer): Buffer {
  if (family === AF_INET6 && ip.length === 4) return Buffer.concat([V4_MAPPED, ip]);
  return ip;
}

export class LoopSocket extends UnixSocket {
  /** the bound address (port 0 while unbound) */
  local: InetAddr;
  /** a non-blocking connect that returned EINPROGRESS (the connection is made at once on lo): the next connect reports how it ended */
  private connecting = false;
  private readonly ipOpts = new Map<string, number>();
  /** a connection this socket made (connect), not one it accepted: /proc/net/tcp counts one more reference on it */
  active = false;
  /** the owner /proc/net shows: the creator's effective uid (an accepted socket's listener's) */
  uid = 0;
  /** when this end sent its FIN (shutdown SHUT_WR or close): its order in the network and the time; 0 before */
  fin = 0;
  finMs = 0;
  /** closed with unread data: the connection was reset (an RST, no FIN) */
  reset = false;
  /** a closed connection's peer and remote address, kept while it lingers (tcpstate.ts) */
  lastPeer: LoopSocket | null = null;
  lastRemote: InetAddr | null = null;

  constructor(
    family: number,
    type: number,
    flags: number,
    ino: number,
    readonly net: LoopNet,
  ) {
    super(type, flags, ino, family, type === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
    this.local = { family, ip: family === AF_INET ? V4_ANY : V6_ANY, port: 0 };
    // TCP's send buffer grows with the connection up to tcp_wmem's ceiling (and lo's receiver keeps up), so a
    // writer that sends megabytes before reading is not held as AF_UNIX's fixed buffer would hold it
    if (type === SOCK_STREAM) this.sndbuf = TCP_WMEM_MAX;
    net.all.add(this);
  }

  private get key(): string {
    return `${this.type}:${this.local.port}`;
  }
  /** the IP header of this socket's packets (an IPv6 socket's v4-mapped peer is reached over IPv4) */
  private ipHdr(dst: Buffer): number {
    return this.family === AF_INET || v4(dst) !== null ? IP4_HDR : IP6_HDR;
  }
  private get v6only(): boolean {
    return this.ipOpts.get(`${SOL_IPV6}:${IPV6_V6ONLY}`) === 1;
  }
  /** ipv6_only_sock: IPV6_V6ONLY, or bound to an IPv6 address that is not the wildcard nor v4-mapped (inet6_bind) */
  get ipv6Only(): boolean {
    return this.family === AF_INET6 && (this.v6only || (!isAny(this.local.ip) && !isMapped(this.local.ip)));
  }
  /** Does this socket take traffic for address `ip` (of either family)? */
  private accepts(ip: Buffer): boolean {
    const mine = this.local.ip;
    if (this.family === AF_INET6 && ip.length === 4 && this.v6only) return false;
    if (isAny(mine)) return this.family === AF_INET6 || v4(ip) !== null;
    const a = v4(mine);
    const b = v4(ip);
    if (a !== null || b !== null) return a !== null && b !== null && a.equals(b);
    return mine.equals(ip);
  }
  /** Would two bindings on one port overlap (inet_csk_bind_conflict)? */
  private conflicts(o: LoopSocket, ip: Buffer): boolean {
    if (keptFlag(this, SO_REUSEPORT) && keptFlag(o, SO_REUSEPORT)) return false;
    if (keptFlag(this, SO_REUSEADDR) && keptFlag(o, SO_REUSEADDR) && o.state !== 'listening') return false;
    const fam4 = (s: LoopSocket, a: Buffer): boolean => v4(a) !== null || (s.family === AF_INET6 && isAny(a) && !s.v6only);
    const fam6 = (s: LoopSocket, a: Buffer): boolean => s.family === AF_INET6 && !isMapped(a);
    const over = (x: Buffer, y: Buffer): boolean => isAny(x) || isAny(y) || asFamily(AF_INET6, x).equals(asFamily(AF_INET6, y));
    const both4 = fam4(this, ip) && fam4(o, o.local.ip);
    const both6 = fam6(this, ip) && fam6(o, o.local.ip);
    return (both4 || both6) && over(ip, o.local.ip);
  }

  /** inet_bind: a loopback (or the wildcard) address, a free port or an ephemeral one. */
  override bind(t: IoContext, addr: Buffer): void {
    const a = decodeInet(this.family, addr);
    this.bindTo(a.ip, a.port);
  }
  private bindTo(ip: Buffer, port: number): void {
    if (!isAny(ip) && !isLoopback(ip)) fail(E.EADDRNOTAVAIL);
    if (this.local.port !== 0) fail(E.EINVAL);
    // a closed connection that lingers (FIN_WAIT2, TIME_WAIT) keeps its port, as its bucket does in Linux's bind hash
    const now = Date.now();
    const lingers = (o: LoopSocket): boolean => o.lastPeer !== null && finState(o, o.lastPeer, true, now) !== null;
    const free = (p: number): boolean => {
      for (const o of this.net.ports.get(`${this.type}:${p}`) ?? []) if (this.conflicts(o, ip)) return false;
      if (this.type === SOCK_STREAM) for (const o of this.net.closingOn(p)) if (lingers(o) && this.conflicts(o, ip)) return false;
      return true;
    };
    if (port === 0) {
      const span = EPHEMERAL_HI - EPHEMERAL_LO + 1;
      for (let i = 0; i < span && port === 0; i++) {
        const p = EPHEMERAL_LO + ((this.net.next + i - EPHEMERAL_LO) % span);
        if (free(p)) {
          port = p;
          this.net.next = p + 1;
        }
      }
      if (port === 0) fail(E.EADDRINUSE);
    } else if (!free(port)) fail(E.EADDRINUSE);
    this.local = { family: this.family, ip: Buffer.from(ip), port };
    const list = this.net.ports.get(this.key) ?? [];
    list.push(this);
    this.net.ports.set(this.key, list);
    this.name = encodeInet(this.local);
  }
  /** Bound before use (inet_autobind): the wildcard address and an ephemeral port. */
  private ensureBound(): void {
    if (this.local.port === 0) this.bindTo(this.family === AF_INET ? V4_ANY : V6_ANY, 0);
  }
  /** The address a connection from this socket to `dst` leaves from: its bound one, else the destination's own loopback. */
  private sourceFor(dst: Buffer): Buffer {
    if (!isAny(this.local.ip)) return this.local.ip;
    return asFamily(this.family, isAny(dst) ? this.loopbackIp() : dst);
  }

  /** 127.0.0.1 or ::1 */
  private loopbackIp(): Buffer {
    const b = Buffer.alloc(this.family === AF_INET ? 4 : 16);
    if (this.family === AF_INET) b[0] = 127;
    b[b.length - 1] = 1;
    return b;
  }
  /** The bound socket of this type that takes `ip`:`port` (a listener for streams). */
  private lookup(ip: Buffer, port: number, listening: boolean): LoopSocket | null {
    const list = this.net.ports.get(`${this.type}:${port}`) ?? [];
    const ok = list.filter((s) => !s.dead && s.accepts(ip) && (!listening || s.state === 'listening'));
    // a specific address before the wildcard, as the socket lookup scores them
    return ok.find((s) => !isAny(s.local.ip)) ?? ok[0] ?? null;
  }
  /** A destination of a connect or sendto: unreachable off `lo`; the wildcard means this host. */
  private destination(addr: Buffer): InetAddr {
    const a = decodeInet(this.family, addr);
    if (!isAny(a.ip) && !isLoopback(a.ip)) fail(E.ENETUNREACH);
    if (isAny(a.ip)) a.ip = this.loopbackIp();
    return a;
  }

  override listen(t: IoContext, backlog: number): void {
    if (this.type === SOCK_STREAM) this.ensureBound();
    super.listen(t, backlog);
  }

  /** inet_stream_connect and ip4_datagram_connect, on `lo` only. */
  override connect(t: IoContext, addr: Buffer): void {
    if (this.type === SOCK_DGRAM) return this.connectUdp(addr);
    if (addr.length >= 2 && addr.readUInt16LE(0) === AF_UNSPEC) fail(this.state === 'connected' ? E.EISCONN : E.EINVAL);
    if (this.connecting) {
      // the EINPROGRESS connect has ended: report how, once
      this.connecting = false;
      if (this.state === 'connected') return;
      const e = this.err;
      this.err = 0;
      fail(e || E.ECONNABORTED);
    }
    if (this.state === 'connected') fail(E.EISCONN);
    if (this.state === 'listening') fail(E.EINVAL);
    const dst = this.destination(addr);
    this.shut = 0;
    const nonblock = this.isNonblocking(0);
    const other = this.lookup(dst.ip, dst.port, true);
    if (other === null || other.shut & RCV_SHUTDOWN) {
      // refused by an RST at once: a non-blocking connect learns it through SO_ERROR
      this.net.carry(this.ipHdr(dst.ip) + TCP_SYN_HDR);
      this.net.carry(this.ipHdr(dst.ip) + TCP_RST_HDR);
      if (!nonblock) fail(E.ECONNREFUSED);
      this.ensureBound();
      // tcp_done: the reset socket is shut both ways
      this.shut = SHUTDOWN_MASK;
      this.err = E.ECONNREFUSED;
      this.connecting = true;
      this.wakeAll();
      fail(E.EINPROGRESS);
    }
    if (other.pending.length > other.backlog) {
      this.park(t, [other.spaceq], 'snd', nonblock);
      fail(E.EAGAIN);
    }
    this.settle(t, 0);
    if (this.local.port === 0) this.bindTo(this.sourceFor(dst.ip), 0);
    // SYN, SYN-ACK, ACK
    const ip = this.ipHdr(dst.ip);
    this.net.carry(ip + TCP_SYN_HDR);
    this.net.carry(ip + TCP_SYN_HDR);
    this.net.carry(ip + TCP_HDR);
    const server = new LoopSocket(other.family, SOCK_STREAM, 0, t.vfs.anonIno('socket'), this.net);
    server.local = { family: other.family, ip: asFamily(other.family, dst.ip), port: other.local.port };
    server.name = encodeInet(server.local);
    server.state = 'connected';
    server.embryo = true;
    server.peer = this;
    server.peerCred = ownCred(t);
    server.uid = other.uid;
    server.sndbuf = other.sndbuf;
    inheritKept(other, server);
    server.rcvbuf = other.rcvbuf;
    this.peer = server;
    this.state = 'connected';
    this.active = true;
    this.peerCred = other.peerCred;
    other.pending.push(server);
    other.readq.wake();
    this.wakeAll();
    if (nonblock) {
      this.connecting = true;
      fail(E.EINPROGRESS);
    }
  }

  /** A UDP socket's default destination (AF_UNSPEC drops it). */
  private remote: InetAddr | null = null;
  private connectUdp(addr: Buffer): void {
    if (addr.length >= 2 && addr.readUInt16LE(0) === AF_UNSPEC) {
      this.remote = null;
      this.state = 'unconnected';
      return;
    }
    const dst = this.destination(addr);
    if (this.local.port === 0) this.bindTo(this.sourceFor(dst.ip), 0);
    this.remote = dst;
    this.state = 'connected';
  }

  override sockName(_t: IoContext): Buffer {
    return encodeInet(this.local);
  }
  override peerName(_t: IoContext): Buffer {
    if (this.type === SOCK_DGRAM) {
      if (this.remote === null) return fail(E.ENOTCONN);
      return encodeInet({ family: this.family, ip: asFamily(this.family, this.remote.ip), port: this.remote.port });
    }
    const p = this.peer;
    if (this.state !== 'connected' || !(p instanceof LoopSocket)) return fail(E.ENOTCONN);
    return this.named(p.local);
  }
  /** An address as this socket gives it: in its own family (an IPv4 peer of an IPv6 socket v4-mapped, and back). */
  private named(a: InetAddr): Buffer {
    const ip = this.family === AF_INET ? (v4(a.ip) ?? a.ip) : asFamily(AF_INET6, a.ip);
    return encodeInet({ family: this.family, ip, port: a.port });
  }

  override accept(t: IoContext, flags: number): Accepted {
    const a = super.accept(t, flags);
    return { sock: a.sock, peer: a.sock.peerName(t) };
  }

  override sendmsg(t: IoContext, a: SendArgs): number {
    // SCM_RIGHTS and SCM_CREDENTIALS are AF_UNIX's: __sock_cmsg_send refuses them
    if (a.control !== null && (a.control.rights.length > 0 || a.control.creds !== null)) {
      for (const f of a.control.rights) f.unref();
      fail(E.EINVAL);
    }
    if (this.type === SOCK_DGRAM) return this.sendUdp(t, a);
    if (a.flags & MSG_OOB) fail(E.ENOTSUP);
    if (this.err !== 0) {
      const e = this.err;
      this.err = 0;
      fail(e);
    }
    // tcp_sendmsg: EPIPE unless the connection is established (the address, if any, is ignored)
    if (this.state !== 'connected' || this.shut & SEND_SHUTDOWN) fail(E.EPIPE);
    const p = this.peer;
    if (p === null || p.dead) {
      // the peer has gone: these bytes draw an RST, which fails the next send
      this.err = E.EPIPE;
      return iovLen(a.iov);
    }
    const n = super.sendmsg(t, { ...a, name: null, control: null });
    if (n > 0 && p instanceof LoopSocket) this.net.carry(this.ipHdr(p.local.ip) + TCP_HDR + n);
    return n;
  }

  /** udp_sendmsg on `lo`: delivered to the socket bound there, else dropped (a connected socket then learns ECONNREFUSED). */
  private sendUdp(t: IoContext, a: SendArgs): number {
    // inet_send_prepare: a port (on the wildcard address) before anything is checked
    this.ensureBound();
    if (a.flags & MSG_OOB) fail(E.ENOTSUP);
    let dst: InetAddr;
    if (a.name !== null && a.name.length > 0) dst = this.destination(a.name);
    else if (this.remote !== null) dst = this.remote;
    else return fail(E.EDESTADDRREQ);
    const len = iovLen(a.iov);
    if (len > 65507 + (this.family === AF_INET6 ? 20 : 0)) fail(E.EMSGSIZE);
    if (this.shut & SEND_SHUTDOWN) fail(E.EPIPE);
    const other = this.lookup(dst.ip, dst.port, false);
    const src = asFamily(AF_INET6, this.sourceFor(dst.ip));
    this.net.carry(this.ipHdr(dst.ip) + UDP_HDR + len);
    if (other === null) {
      // the port unreachable error lo carries back: its headers and as much of the datagram as fits a minimal MTU (icmp_send, icmp6_send)
      const ip = this.ipHdr(dst.ip);
      this.net.carry(Math.min(ip + ICMP_HDR + ip + UDP_HDR + len, ip === IP4_HDR ? 576 : 1280));
      if (this.remote !== null && (a.name === null || a.name.length === 0)) this.err = E.ECONNREFUSED;
      return len;
    }
    // a connected receiver takes only its peer's datagrams; a full receive buffer drops them
    const r = other.remote;
    const fromOk = r === null || (r.port === this.local.port && asFamily(AF_INET6, r.ip).equals(src));
    const queued = other.queue.reduce((n, m) => n + m.cost, 0);
    if (!fromOk || other.shut & RCV_SHUTDOWN || queued + len > other.rcvbuf) return len;
    const fromIp = other.family === AF_INET ? (v4(src) ?? src) : src;
    const from = { name: encodeInet({ family: other.family, ip: fromIp, port: this.local.port }), wmem: 0, sent: () => {} };
    other.queue.push(new Msg(readIov(t, a.iov, 0, len), from, null, { pid: t.pid, uid: t.cred.ruid, gid: t.cred.rgid }));
    other.readq.wake();
    return len;
  }

  override recvmsg(t: IoContext, a: RecvArgs): Received {
    if (this.type === SOCK_STREAM) {
      if (a.flags & MSG_OOB) fail(E.EINVAL);
      if (this.state === 'listening' || (this.state !== 'connected' && this.err === 0)) fail(E.ENOTCONN);
      if (this.state !== 'connected') {
        const e = this.err;
        this.err = 0;
        fail(e);
      }
      // a stream's receive gives no address
      return { ...recvStream(this, t, a), name: null, control: null };
    }
    if (this.err !== 0 && this.queue.length === 0) {
      const e = this.err;
      this.err = 0;
      fail(e);
    }
    return { ...super.recvmsg(t, a), control: null };
  }

  override shutdown(t: IoContext, how: number): void {
    if (this.type === SOCK_STREAM && this.state !== 'connected' && this.state !== 'listening') fail(E.ENOTCONN);
    if (this.type === SOCK_DGRAM && this.remote === null) {
      if (how < 0 || how > 2) fail(E.EINVAL);
      fail(E.ENOTCONN);
    }
    super.shutdown(t, how);
    if (this.type === SOCK_STREAM && this.state === 'connected' && (how === 1 || how === 2)) this.sendFin();
  }
  /** the FIN this end sends once (tcp_send_fin) */
  private sendFin(): void {
    if (this.fin !== 0) return;
    this.fin = ++this.net.fins;
    this.finMs = Date.now();
  }

  override getsockopt(t: IoContext, level: number, name: number, len: number): Buffer {
    if (level === SOL_SOCKET) return super.getsockopt(t, level, name, len);
    if ((level === SOL_TCP && this.type !== SOCK_STREAM) || (level === SOL_IPV6 && this.family !== AF_INET6)) fail(E.ENOPROTOOPT);
    if (level !== SOL_TCP && level !== SOL_IP && level !== SOL_IPV6) fail(E.ENOPROTOOPT);
    const b = Buffer.alloc(4);
    b.writeInt32LE(this.ipOpts.get(`${level}:${name}`) ?? 0);
    return b;
  }
  /** Options at SOL_TCP, SOL_IP and SOL_IPV6 change nothing on `lo` in elfrun: they are kept as ints and given back. */
  override setsockopt(t: IoContext, level: number, name: number, val: Buffer): void {
    if (level === SOL_SOCKET) return super.setsockopt(t, level, name, val);
    if ((level === SOL_TCP && this.type !== SOCK_STREAM) || (level === SOL_IPV6 && this.family !== AF_INET6)) fail(E.ENOPROTOOPT);
    if (level !== SOL_TCP && level !== SOL_IP && level !== SOL_IPV6) fail(E.ENOPROTOOPT);
    if (val.length < 4) fail(E.EINVAL);
    if (level === SOL_IPV6 && name === IPV6_V6ONLY && this.local.port !== 0) fail(E.EINVAL);
    this.ipOpts.set(`${level}:${name}`, level === SOL_TCP || name === IPV6_V6ONLY ? (val.readInt32LE(0) !== 0 ? 1 : 0) : val.readInt32LE(0));
  }

  /**
   * The interface ioctls see lo alone: SIOCGIFCONF lists it, a SIOCGIF* of
   * lo (or of index 1) is answered by the host's lo, which is Linux's lo of
   * every namespace; any other interface is ENODEV.
   */
  override ioctl(t: IoContext, req: number, arg: number): number {
    if (req === SIOCGIFCONF) {
      const ifc = t.mm.read(arg, 16);
      const buf = Number(ifc.readBigUInt64LE(8));
      const n = buf === 0 || ifc.readInt32LE(0) >= IFREQ_SIZE ? IFREQ_SIZE : 0;
      if (buf !== 0 && n > 0) {
        const r = Buffer.alloc(IFREQ_SIZE);
        r.write('lo', 0, 'latin1');
        encodeInet({ family: AF_INET, ip: Buffer.from([127, 0, 0, 1]), port: 0 }).copy(r, 16);
        t.mm.write(buf, r);
      }
      t.mm.setI32(arg, n);
      return 0;
    }
    if (IFREQ_GET.has(req)) {
      const ifr = t.mm.read(arg, IFREQ_SIZE);
      const lo = req === SIOCGIFNAME ? ifr.readInt32LE(16) === 1 : ifr.subarray(0, 16).toString('latin1').replace(/\0.*$/s, '') === 'lo';
      if (!lo) fail(E.ENODEV);
    }
    // the others of the range: the SIOCS* that change interfaces are EPERM there, as for a guest without CAP_NET_ADMIN
    if (IFREQ_GET.has(req) || (req >= 0x8910 && req <= 0x89ff)) return (this.ifq ??= HostSocket.create(AF_INET, SOCK_DGRAM, 0, 0)).ioctl(t, req, arg);
    return super.ioctl(t, req, arg);
  }
  /** the host socket lo's interface ioctls go to */
  private ifq: Socket | null = null;

  /** What /proc/net/{tcp,udp}6? shows of it: the addresses, each in this socket's family, and the connection's peer. */
  get remoteAddr(): InetAddr | null {
    if (this.type === SOCK_DGRAM) return this.remote;
    const p = this.peer;
    return this.state === 'connected' && p instanceof LoopSocket ? p.local : null;
  }

  override release(): void {
    const p = this.peer;
    if (this.type === SOCK_STREAM && this.state === 'connected' && p instanceof LoopSocket) {
      // tcp_close: unread data resets the connection; otherwise a FIN goes, and the connection lingers (FIN_WAIT2, TIME_WAIT)
      if (this.queue.length > 0 || this.embryo) this.reset = true;
      else {
        this.sendFin();
        this.lastPeer = p;
        this.lastRemote = p.local;
        this.net.linger(this);
      }
    }
    this.net.all.delete(this);
    this.ifq?.unref();
    this.ifq = null;
    const list = this.net.ports.get(this.key);
    if (list !== undefined && this.local.port !== 0) {
      const i = list.indexOf(this);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.net.ports.delete(this.key);
    }
    super.release();
  }
}

/** socket(AF_INET/AF_INET6, ...) in a guest network of its own: TCP and UDP. */
export function loopSocket(t: IoContext, family: number, type: number, protocol: number, flags: number): Socket {
  if (type !== SOCK_STREAM && type !== SOCK_DGRAM) throw new Unsupported(`socket type ${type} of family ${family} in a network of its own (--net none)`, E.ESOCKTNOSUPPORT);
  if (protocol !== 0 && protocol !== (type === SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP)) fail(E.EPROTONOSUPPORT);
  const s = new LoopSocket(family, type, flags, t.vfs.anonIno('socket'), netOf(t.vfs));
  s.uid = t.cred.euid;
  return s;
}

/** A Machine's own network (--net none), once a socket of it was made. */
export function loopNetOf(vfs: Vfs): LoopNet | null {
  return nets.get(vfs) ?? null;
}

/** lo's counters in a Machine's own network (--net none): zero until a packet is sent. */
export function loCounters(vfs: Vfs): LoCounters {
  return nets.get(vfs)?.lo ?? { packets: 0, bytes: 0 };
}

/** The sockets of a Machine's own network (--net none), for /proc/net. */
export function loopSockets(vfs: Vfs): LoopSocket[] {
  return [...(nets.get(vfs)?.all ?? [])].filter((s) => !s.dead);
}
