// /proc/net (and /proc/<pid>/net): the guest's network's tables, as far as
// netstat, ifconfig and ip read them. With --net host the guest's inet
// sockets are host sockets on the host's network, so the host's own files
// are the truth for tcp, tcp6, udp, udp6, dev, if_inet6 and route. With
// --net none they are made from elfrun's network (net/loop.ts): lo alone,
// with the counters of what elfrun's lo carried, no routes in the
// main table, and the guest's TCP and UDP sockets. unix lists the guest's
// bound AF_UNIX sockets (elfrun's own under either policy); unbound ones
// (socketpair, a client's end) are not listed. Lines are in the order the
// sockets were made (Linux's follow its hash tables: its udp `sl` is a hash
// bucket); the TCP timer and congestion columns are a fresh connection's.
import { readFileSync } from 'node:fs';
import type { Task } from '../proc/task.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { DT_REG } from '../abi/stat.js';
import { AF_INET, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM } from '../abi/socket.js';
import { loCounters, loopSockets, type InetAddr, type LoopSocket } from '../net/loop.js';
import { TCP, tcpRows } from '../net/tcpstate.js';
import { boundSockets } from '../net/unix-names.js';
import { UnixSocket } from '../net/unix.js';
import type { ProcNode } from './node.js';

const FILES = ['dev', 'if_inet6', 'route', 'tcp', 'tcp6', 'udp', 'udp6', 'unix'];
const HOST_FILES = new Set(['dev', 'if_inet6', 'route', 'tcp', 'tcp6', 'udp', 'udp6']);

/** a seq_file line padded to its width, as seq_setwidth and seq_pad make it */
const pad = (s: string, width: number): string => s.padEnd(width) + '\n';
const hex = (n: number, w: number): string => (n >>> 0).toString(16).toUpperCase().padStart(w, '0');
/** an address as /proc/net prints it: each 32-bit word in host (little-endian) order */
function addrHex(ip: Buffer): string {
  let s = '';
  for (let i = 0; i < ip.length; i += 4) s += hex(ip.readUInt32LE(i), 8);
  return s;
}
const V6_MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
/** an address in a socket's family (an IPv4 one of an IPv6 socket v4-mapped) */
function inFamily(family: number, a: InetAddr | null): Buffer {
  const len = family === AF_INET ? 4 : 16;
  if (a === null) return Buffer.alloc(len);
  if (a.ip.length === len) return a.ip;
  return len === 16 ? Buffer.concat([V6_MAPPED, a.ip]) : a.ip.subarray(12);
}
const endpoint = (family: number, a: InetAddr | null): string => `${addrHex(inFamily(family, a))}:${hex(a?.port ?? 0, 4)}`;

const queued = (s: LoopSocket): number => s.queue.reduce((n, m) => n + m.left, 0);

/** /proc/net/tcp and tcp6 (get_tcp4_sock, get_tcp6_sock; get_timewait4_sock, get_timewait6_sock) */
function tcpTable(t: Task, v6: boolean): string {
  const fam = v6 ? 10 : AF_INET;
  const head = v6
    ? '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    : pad('  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode', 149);
  const lines = tcpRows(t.kernel.vfs, fam).map((r, i) => {
    const { s, state: st } = r;
    const ends = `${String(i).padStart(4)}: ${endpoint(fam, s.local)} ${endpoint(fam, r.remote)} ${hex(st, 2)}`;
    let line: string;
    if (r.timewait) {
      // the timer in clock ticks (USER_HZ), three references, no owner or inode
      line = `${ends} 00000000:00000000 03:${hex(Math.ceil((r.expires ?? 0) / 10), 8)} 00000000     0        0 0 3 0000000000000000`;
    } else {
      const rx = st === TCP.LISTEN ? s.pending.length : queued(s);
      // rto, ato, quick acks and pingpong, cwnd, ssthresh: a listener's, or a fresh connection's on lo (elfrun keeps no TCP state to change them)
      const tail = st === TCP.LISTEN ? '100 0 0 10 0' : '20 0 0 10 -1';
      const refs = s.active && st === TCP.ESTABLISHED ? 2 : 1;
      // an orphan (closed, in FIN_WAIT2) has no inode and its timer runs
      const timer = r.expires !== null ? `01:${hex(Math.ceil(r.expires / 10), 8)}` : '00:00000000';
      line = `${ends} ${hex(0, 8)}:${hex(rx, 8)} ${timer} 00000000 ${String(s.uid).padStart(5)}        0 ${s.dead ? 0 : s.ino} ${refs} 0000000000000000 ${tail}`;
    }
    return v6 ? line + '\n' : pad(line, 149);
  });
  return head + lines.join('');
}

/** /proc/net/udp and udp6 (udp4_format_sock, __ip6_dgram_sock_seq_show) */
function udpTable(t: Task, v6: boolean): string {
  const fam = v6 ? 10 : AF_INET;
  const socks = loopSockets(t.kernel.vfs).filter((s) => s.type === SOCK_DGRAM && s.family === fam && s.local.port !== 0);
  const head = v6
    ? '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n'
    : pad('   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops', 127);
  const lines = socks.map((s, i) => {
    const st = s.remoteAddr !== null ? TCP.ESTABLISHED : TCP.CLOSE;
    const rx = s.queue.reduce((n, m) => n + m.cost, 0);
    const line = `${String(i).padStart(5)}: ${endpoint(fam, s.local)} ${endpoint(fam, s.remoteAddr)} ${hex(st, 2)} ${hex(0, 8)}:${hex(rx, 8)} 00:00000000 00000000 ${String(s.uid).padStart(5)}        0 ${s.ino} 2 0000000000000000 0`;
    return v6 ? line + '\n' : pad(line, 127);
  });
  return head + lines.join('');
}

/** /proc/net/unix (unix_seq_show): the guest's bound sockets */
function unixTable(t: Task): string {
  const socks = boundSockets(t.kernel.vfs).filter((s): s is UnixSocket => s instanceof UnixSocket && !s.dead);
  const lines = socks.map((s) => {
    const listening = s.state === 'listening';
    const type = s.type === SOCK_STREAM ? 1 : s.type === SOCK_SEQPACKET ? 5 : 2;
    // SS_UNCONNECTED, SS_CONNECTED
    const st = s.state === 'connected' ? 3 : 1;
    let path = '';
    const n = s.name;
    if (n !== null && n.length > 2) {
      const body = n.subarray(2);
      path = body[0] === 0 ? '@' + body.subarray(1).toString('latin1').replace(/\0/g, '@') : body.subarray(0, body.indexOf(0) >= 0 ? body.indexOf(0) : body.length).toString('latin1');
    }
    return `0000000000000000: ${hex(2, 8)} ${hex(0, 8)} ${hex(listening ? 0x10000 : 0, 8)} ${hex(type, 4)} ${hex(st, 2)} ${String(s.ino).padStart(5)}${path ? ' ' + path : ''}\n`;
  });
  return 'Num       RefCount Protocol Flags    Type St Inode Path\n' + lines.join('');
}

/** The files of a network holding only lo. */
function ownFile(t: Task, name: string): string {
  switch (name) {
    case 'dev': {
      // dev_seq_printf_stats: lo receives every packet it sends
      const lo = loCounters(t.kernel.vfs);
      const values = [lo.bytes, lo.packets, 0, 0, 0, 0, 0, 0, lo.bytes, lo.packets, 0, 0, 0, 0, 0, 0];
      const counters = [8, 7, 4, 4, 4, 5, 10, 9, 8, 7, 4, 4, 4, 5, 7, 10].map((w, i) => String(values[i]).padStart(w)).join(' ');
      return (
        'Inter-|   Receive                                                |  Transmit\n' +
        ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
        `${'lo'.padStart(6)}:${counters}\n`
      );
    }
    case 'if_inet6':
      // ::1, lo's index, prefix 128, scope host, IFA_F_PERMANENT
      return `${'0'.repeat(31)}1 01 80 10 80 ${'lo'.padStart(8)}\n`;
    case 'route':
      return pad('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT', 127);
    case 'tcp':
    case 'tcp6':
      return tcpTable(t, name === 'tcp6');
    case 'udp':
    case 'udp6':
      return udpTable(t, name === 'udp6');
  }
  return fail(E.ENOENT);
}

function content(t: Task, name: string): Buffer {
  if (name === 'unix') return Buffer.from(unixTable(t), 'latin1');
  if (t.kernel.net === 'host' && HOST_FILES.has(name)) return readFileSync(`/proc/self/net/${name}`);
  return Buffer.from(ownFile(t, name), 'latin1');
}

/** /proc/<pid>/net and what is below it. */
export function netEntry(t: Task, path: string, more: string[]): ProcNode {
  if (more.length === 0) return { kind: 'dir', name: path, entries: () => FILES.map((n): [string, number] => [n, DT_REG]) };
  if (more.length > 1) fail(E.ENOTDIR);
  const name = more[0];
  if (!FILES.includes(name)) fail(E.ENOENT);
  return { kind: 'file', name: path, content: () => content(t, name) };
}
