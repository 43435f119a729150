// The socket options of AF_UNIX sockets at SOL_SOCKET (SO_TYPE, SO_ERROR,
// SO_ACCEPTCONN, SO_PASSCRED, SO_PEERCRED, SO_SNDBUF/SO_RCVBUF...) as
// Linux's sk_getsockopt/sk_setsockopt answer them, and the socket's fstat
// (a sockfs inode).
import { E } from '../abi/errno.js';
import { fail, SysError, Unsupported } from '../abi/errors.js';
import { SOL_SOCKET, SO_PEEK_OFF, SO_PEERGROUPS, SO_PEERSEC, SO_BROADCAST, SO_DONTROUTE, SO_KEEPALIVE, SO_LINGER, SO_OOBINLINE, SO_PRIORITY, SO_RCVLOWAT, SO_REUSEADDR, SO_REUSEPORT, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_PASSCRED, SO_PEERCRED, SO_PROTOCOL, SO_RCVBUF, SO_SNDBUF, SO_TYPE } from '../abi/socket.js';
import { S_IFSOCK } from '../abi/stat.js';
import type { IoContext } from '../fs/context.js';
import { hostStatBytes } from '../fs/stat.js';
import type { UnixSocket } from './unix.js';
import { OptionTooLong } from './socket.js';

/** sockfs's device number as Linux reports it (anonymous, major 0) */
const SOCKFS_DEV = 0x8;
/** SOCK_MIN_SNDBUF/SOCK_MIN_RCVBUF on 64-bit (2 * the skb overhead) */
const MIN_BUF = 4608;
/** net.core.wmem_max/rmem_max's default: the most SO_SNDBUF/SO_RCVBUF may ask */
const BUF_MAX = 212992;

/**
 * Options every socket keeps at SOL_SOCKET that change nothing for AF_UNIX
 * (sk_reuse, SOCK_KEEPALIVE...): kept and given back as sk_setsockopt
 * stores them (flags as 0 or 1), with their defaults.
 */
const FLAGS = new Set([SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_BROADCAST, SO_DONTROUTE, SO_OOBINLINE]);
const stored = new WeakMap<UnixSocket, Map<number, number>>();
function kept(s: UnixSocket): Map<number, number> {
  let m = stored.get(s);
  if (m === undefined) stored.set(s, (m = new Map([[SO_RCVLOWAT, 1]])));
  return m;
}
/** The kept options of a listener go to the socket it accepts (inet_csk_clone_lock copies the sock, sk_reuse and all). */
export function inheritKept(from: UnixSocket, to: UnixSocket): void {
  const m = stored.get(from);
  if (m !== undefined) stored.set(to, new Map(m));
}
/** A kept SOL_SOCKET flag (SO_REUSEADDR, SO_REUSEPORT...): 0 or 1. */
export function keptFlag(s: UnixSocket, name: number): number {
  return kept(s).get(name) ?? 0;
}
/** SO_LINGER's seconds: MAX_SCHEDULE_TIMEOUT / HZ caps it */
const LINGER = new WeakMap<UnixSocket, { on: number; secs: number }>();

const int = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
};

export function unixGetsockopt(s: UnixSocket, _t: IoContext, level: number, name: number, len: number, base: () => Buffer): Buffer {
  // AF_UNIX has no options of its own: other levels are EOPNOTSUPP
  if (level !== SOL_SOCKET) fail(E.ENOTSUP);
  switch (name) {
    case SO_TYPE:
      return int(s.type);
    case SO_ERROR: {
      const e = s.err;
      s.err = 0;
      return int(e);
    }
    case SO_ACCEPTCONN:
      return int(s.state === 'listening' ? 1 : 0);
    case SO_PROTOCOL:
      return int(s.protocol);
    case SO_DOMAIN:
      return int(s.family);
    case SO_SNDBUF:
      return int(s.sndbuf);
    case SO_RCVBUF:
      return int(s.rcvbuf);
    case SO_PASSCRED:
      return int(s.passcred ? 1 : 0);
    case SO_PEERGROUPS: {
      // the peer's supplementary groups when the connection was made
      const g = s.peerCred?.groups ?? [];
      if (len < g.length * 4) throw new OptionTooLong(g.length * 4);
      const b = Buffer.alloc(g.length * 4);
      g.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
      return b;
    }
    case SO_PEERSEC:
      // no security module labels elfrun's sockets
      return fail(E.ENOPROTOOPT);
    case SO_PEEK_OFF:
      // peeking at an offset is never enabled (setting it is not implemented)
      return int(-1);
    case SO_PEERCRED: {
      // no peer: pid 0 and ids -1, as cred_to_ucred leaves them
      const c = s.peerCred;
      const b = Buffer.alloc(12);
      b.writeInt32LE(c?.pid ?? 0, 0);
      b.writeInt32LE(c ? c.uid : -1, 4);
      b.writeInt32LE(c ? c.gid : -1, 8);
      return b;
    }
  }
  if (FLAGS.has(name) || name === SO_PRIORITY || name === SO_RCVLOWAT) return int(kept(s).get(name) ?? 0);
  if (name === SO_LINGER) {
    const l = LINGER.get(s) ?? { on: 0, secs: 0 };
    const b = Buffer.alloc(8);
    b.writeInt32LE(l.on, 0);
    b.writeInt32LE(l.secs, 4);
    return b;
  }
  try {
    return base();
  } catch (e) {
    if (e instanceof SysError && e.errno === E.ENOPROTOOPT) throw new Unsupported(`getsockopt SOL_SOCKET option ${name} on AF_UNIX sockets`, E.ENOPROTOOPT);
    throw e;
  }
}

export function unixSetsockopt(s: UnixSocket, t: IoContext, level: number, name: number, val: Buffer, base: () => void): void {
  if (level === SOL_SOCKET) {
    if (name === SO_SNDBUF || name === SO_RCVBUF || name === SO_PASSCRED) {
      if (val.length < 4) fail(E.EINVAL);
      const v = val.readInt32LE(0);
      if (name === SO_PASSCRED) {
        s.passcred = v !== 0;
        return;
      }
      // Linux caps at wmem_max/rmem_max, doubles (the bookkeeping overhead) and keeps a minimum
      const set = Math.max(MIN_BUF, Math.min(BUF_MAX, Math.max(0, v)) * 2);
      if (name === SO_SNDBUF) {
        s.sndbuf = set;
        s.writeq.wake();
      } else s.rcvbuf = set;
      return;
    }
  }
  if (level !== SOL_SOCKET) fail(E.ENOTSUP);
  if (FLAGS.has(name) || name === SO_PRIORITY || name === SO_RCVLOWAT || name === SO_LINGER) {
    if (val.length < (name === SO_LINGER ? 8 : 4)) fail(E.EINVAL);
    const v = val.readInt32LE(0);
    if (name === SO_LINGER) {
      LINGER.set(s, { on: v !== 0 ? 1 : 0, secs: v !== 0 ? Math.max(0, val.readInt32LE(4)) : (LINGER.get(s)?.secs ?? 0) });
      return;
    }
    // SO_PRIORITY above 6 needs CAP_NET_ADMIN
    if (name === SO_PRIORITY && (v < 0 || v > 6) && !t.cred.privileged) fail(E.EPERM);
    kept(s).set(name, FLAGS.has(name) ? (v !== 0 ? 1 : 0) : name === SO_RCVLOWAT ? (v < 0 ? 0x7fffffff : v || 1) : v);
    return;
  }
  try {
    base();
  } catch (e) {
    if (e instanceof SysError && e.errno === E.ENOPROTOOPT) throw new Unsupported(`setsockopt SOL_SOCKET option ${name} on AF_UNIX sockets`, E.ENOPROTOOPT);
    throw e;
  }
}

/** fstat of the socket itself: its sockfs inode, owned by the caller as Linux's sockfs shows it */
export function unixStat(s: UnixSocket, t: IoContext): Uint8Array {
  const c = t.cred;
  const now = s.created;
  return hostStatBytes({ dev: SOCKFS_DEV, ino: s.ino, mode: S_IFSOCK | 0o777, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now });
}
