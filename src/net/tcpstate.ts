// TCP states of the connections on elfrun's lo (--net none), as ss (through
// NETLINK_SOCK_DIAG) and /proc/net/tcp show them. On lo every segment is
// acknowledged at once, so a connection's state follows from which ends
// have sent their FIN, and in which order: neither, ESTABLISHED; this end
// only, FIN_WAIT2; the peer only, CLOSE_WAIT; both, TIME_WAIT for the end
// that sent first (for tcp_fin_timeout, 60 s, after the second FIN) while
// the other end is CLOSE, which no table lists (nor an unconnected socket).
// A socket closed before its peer's FIN lingers orphaned in FIN_WAIT2 (60 s
// at most), then in TIME_WAIT once the peer closes. A close with unread data
// resets the connection: neither end lingers. A lingering connection holds
// its port against bind() as Linux's does (loop.ts).
import { AF_INET, IPPROTO_TCP, SOCK_DGRAM, SOCK_STREAM } from '../abi/socket.js';
import type { Vfs } from '../fs/vfs.js';
import { loopNetOf, type InetAddr, type LoopSocket } from './loop.js';
import { finState, TCP } from './tcpfin.js';

export { TCP };

/** A row of the tables: a socket (or the connection a closed one left), its state and what the timers say. */
export interface TcpRow {
  s: LoopSocket;
  state: number;
  remote: InetAddr | null;
  /** ms left of the TIME_WAIT or orphan FIN_WAIT2 timer, else null */
  expires: number | null;
  /** a TIME_WAIT connection, which only the timewait table holds (no inode, no owner) */
  timewait: boolean;
}

/** The state of a live TCP socket, or of the connection a closed one left (null: no longer listed). */
function tcpRow(s: LoopSocket, now: number): TcpRow | null {
  const dead = s.dead;
  if (!dead && s.state === 'listening') return { s, state: TCP.LISTEN, remote: null, expires: null, timewait: false };
  const peer = dead ? s.lastPeer : s.state === 'connected' ? (s.peer as LoopSocket | null) : null;
  if (peer === null) return null;
  const f = finState(s, peer, dead, now);
  if (f === null) return null;
  return { s, state: f.state, remote: dead ? s.lastRemote : s.remoteAddr, expires: f.expires, timewait: f.state === TCP.TIME_WAIT };
}

/** The TCP table of a network, live sockets first, in the order they were made; closed connections past their time are forgotten. */
export function tcpRows(vfs: Vfs, family?: number): TcpRow[] {
  const net = loopNetOf(vfs);
  if (net === null) return [];
  const now = Date.now();
  const rows: TcpRow[] = [];
  for (const s of net.all) {
    if (s.type !== SOCK_STREAM || s.dead || s.local.port === 0 || (family !== undefined && s.family !== family)) continue;
    const r = tcpRow(s, now);
    if (r !== null) rows.push(r);
  }
  for (const s of net.closing) {
    const r = tcpRow(s, now);
    if (r === null) net.unlinger(s);
    else if (family === undefined || s.family === family) rows.push(r);
  }
  return rows;
}

/** struct inet_diag_msg */
const DIAG_MSG = 72;
/** idiag_timer: tcp's keepalive or orphan timer, TIME_WAIT's */
const TIMER_ON = 1;
const TIMER_TW = 3;

const INET_DIAG_SHUTDOWN = 8;
const INET_DIAG_SKV6ONLY = 11;
/** a netlink attribute of one byte (padded to 4) */
function attr(type: number, v: number): Buffer {
  const a = Buffer.alloc(8);
  a.writeUInt16LE(5, 0);
  a.writeUInt16LE(type, 2);
  a[4] = v;
  return a;
}

/** An address in the 16 bytes inet_diag_sockid has for it (IPv4 in the first 4). */
function put16(b: Buffer, off: number, a: InetAddr | null, family: number): void {
  if (a === null) return;
  const ip = family === AF_INET && a.ip.length === 16 ? a.ip.subarray(12) : family !== AF_INET && a.ip.length === 4 ? Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), a.ip]) : a.ip;
  ip.copy(b, off);
}

/**
 * inet_diag_dump's answer to a SOCK_DIAG_BY_FAMILY request (struct
 * inet_diag_req_v2: family, protocol, the states wanted) for TCP or UDP:
 * one inet_diag_msg per socket, without the extensions' attributes.
 */
export function diagDump(vfs: Vfs, family: number, protocol: number, states: number): Buffer[] {
  const out: Buffer[] = [];
  const msg = (s: LoopSocket, state: number, remote: InetAddr | null, rq: number, wq: number, timer: number, expires: number, tw: boolean): void => {
    if (!(states & (1 << state))) return;
    const b = Buffer.alloc(DIAG_MSG);
    b[0] = family;
    b[1] = state;
    b[2] = timer;
    b.writeUInt16BE(s.local.port, 4);
    b.writeUInt16BE(remote?.port ?? 0, 6);
    put16(b, 8, s.local, family);
    put16(b, 24, remote, family);
    // idiag_cookie: the socket's, which elfrun makes from its inode
    b.writeUInt32LE(s.ino >>> 0, 44);
    b.writeUInt32LE(expires, 52);
    b.writeUInt32LE(rq, 56);
    b.writeUInt32LE(wq, 60);
    b.writeUInt32LE(tw ? 0 : s.uid, 64);
    b.writeUInt32LE(tw ? 0 : s.ino >>> 0, 68);
    // the attributes every full socket's answer has (inet_diag_msg_attrs_fill): INET_DIAG_SHUTDOWN, and INET_DIAG_SKV6ONLY for IPv6
    const attrs = tw ? [] : [attr(INET_DIAG_SHUTDOWN, s.shut & 3), ...(family === AF_INET ? [] : [attr(INET_DIAG_SKV6ONLY, s.ipv6Only ? 1 : 0)])];
    out.push(Buffer.concat([b, ...attrs]));
  };
  if (protocol === IPPROTO_TCP) {
    for (const r of tcpRows(vfs, family)) {
      const rq = r.state === TCP.LISTEN ? r.s.pending.length : r.timewait ? 0 : r.s.queue.reduce((n, m) => n + m.left, 0);
      const wq = r.state === TCP.LISTEN ? r.s.backlog : 0;
      msg(r.s, r.state, r.remote, rq, wq, r.timewait ? TIMER_TW : r.expires !== null ? TIMER_ON : 0, Math.max(0, Math.round(r.expires ?? 0)), r.timewait);
    }
    return out;
  }
  const net = loopNetOf(vfs);
  for (const s of net?.all ?? []) {
    if (s.type !== SOCK_DGRAM || s.dead || s.local.port === 0 || s.family !== family) continue;
    const remote = s.remoteAddr;
    msg(s, remote !== null ? TCP.ESTABLISHED : TCP.CLOSE, remote, s.queue.reduce((n, m) => n + m.cost, 0), 0, 0, 0, false);
  }
  return out;
}
