// Moving data through AF_UNIX sockets, as Linux's unix_stream_sendmsg,
// unix_stream_read_generic, unix_dgram_sendmsg and unix_dgram_recvmsg: a
// stream send is cut into messages as the send buffer allows (blocking until
// all is sent), its reads join messages but stop after one that carried
// files or when the credentials change; a datagram or record is one message
// whose excess is cut off (MSG_TRUNC). Files (SCM_RIGHTS) travel with the
// first message of a send; every message carries its sender's credentials,
// given to a receiver with SO_PASSCRED.
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import { MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SOCK_SEQPACKET } from '../abi/socket.js';
import type { IoContext } from '../fs/context.js';
import type { FileDescription } from '../fs/file.js';
import type { Received, RecvArgs, RecvControl, SendArgs, Ucred } from './socket.js';
import { decodeName } from './unix-names.js';
import { iovLen, MAX_DGRAM_QLEN, Msg, RCV_SHUTDOWN, readIov, SEND_SHUTDOWN, writeIov } from './unix-queue.js';
import type { UnixSocket } from './unix.js';

/** The credentials a message carries: those the sender claimed (already checked), else its own (pid, real ids). */
function credsOf(t: IoContext, a: SendArgs): Ucred {
  return a.control?.creds ?? { pid: t.pid, uid: t.cred.ruid, gid: t.cred.rgid };
}
/** Files a send did not pass on are let go. */
function dropRights(a: SendArgs): void {
  if (a.control) for (const f of a.control.rights) f.unref();
  if (a.control) a.control.rights = [];
}
const rightsOf = (a: SendArgs): FileDescription[] | null => (a.control && a.control.rights.length > 0 ? a.control.rights : null);

/** unix_stream_sendmsg */
export function sendStream(s: UnixSocket, t: IoContext, a: SendArgs): number {
  try {
    if (a.flags & MSG_OOB) throw new Unsupported('MSG_OOB on AF_UNIX stream sockets', E.ENOTSUP);
    if (a.name !== null && a.name.length > 0) fail(s.state === 'connected' ? E.EISCONN : E.ENOTSUP);
    const other = s.peer;
    if (s.state !== 'connected' || other === null) return fail(E.ENOTCONN);
    if (s.shut & SEND_SHUTDOWN) fail(E.EPIPE);
    const total = iovLen(a.iov);
    const o = s.callProgress(t);
    const creds = credsOf(t, a);
    while (o.done < total) {
      if (other.dead || other.shut & RCV_SHUTDOWN) {
        if (o.done > 0) break;
        fail(E.EPIPE);
      }
      const room = s.sndbuf - s.wmem;
      if (room <= 0) {
        s.park(t, [s.writeq], 'snd', s.isNonblocking(a.flags), o.done);
        break; // non-blocking, with some bytes sent
      }
      // one message at most half the send buffer, as Linux sizes a stream's skbs
      const n = Math.min(room, total - o.done, Math.max(4096, (s.sndbuf >> 1) - 64));
      const data = readIov(t, a.iov, o.done, n);
      other.queue.push(new Msg(data, s, o.done === 0 ? rightsOf(a) : null, creds));
      if (o.done === 0 && a.control) a.control.rights = [];
      o.done += n;
      other.readq.wake();
    }
    return s.finish(t, o.done);
  } finally {
    dropRights(a);
  }
}

/** The error a receive reports once (sock_error). */
function takeErr(s: UnixSocket): number {
  const e = s.err;
  s.err = 0;
  return e;
}

/** What a receive hands back besides the bytes. */
function control(s: UnixSocket, rights: FileDescription[] | null, creds: Ucred | null): RecvControl | null {
  if (rights === null && creds === null) return null;
  const c: RecvControl = {};
  if (rights !== null) c.rights = rights;
  if (creds !== null && s.passcred) c.creds = creds;
  return c;
}

const sameCreds = (a: Ucred, b: Ucred): boolean => a.pid === b.pid && a.uid === b.uid && a.gid === b.gid;

/** unix_stream_read_generic */
export function recvStream(s: UnixSocket, t: IoContext, a: RecvArgs): Received {
  if (a.flags & MSG_OOB) throw new Unsupported('MSG_OOB on AF_UNIX stream sockets', E.ENOTSUP);
  if (s.state !== 'connected') return fail(E.EINVAL);
  const peek = (a.flags & MSG_PEEK) !== 0;
  const total = iovLen(a.iov);
  const target = a.flags & MSG_WAITALL ? total : 1;
  const o = s.callProgress(t);
  let copied = o.done;
  let name: Buffer | null = null;
  let rights: FileDescription[] | null = null;
  let creds: Ucred | null = null;
  let i = 0;
  let skip = 0;
  while (copied < total || total === 0) {
    const m = s.queue[i];
    if (m === undefined) {
      if (copied >= target) break;
      if (s.err !== 0) {
        if (copied > 0) break;
        fail(takeErr(s));
      }
      if (s.shut & RCV_SHUTDOWN) break;
      o.done = copied;
      s.park(t, [s.readq], 'rcv', s.isNonblocking(a.flags) || (peek && copied > 0), copied);
      break;
    }
    if (total === 0) break;
    if (creds !== null && s.passcred && !sameCreds(creds, m.creds)) break;
    if (creds === null) creds = m.creds;
    const from = peek ? m.off + skip : m.off;
    const n = writeIov(t, a.iov, copied, m.data.subarray(from, from + (total - copied)));
    if (name === null) name = m.from.name;
    copied += n;
    const hadRights = m.rights !== null;
    if (hadRights) rights = m.takeRights(peek);
    if (peek) {
      if (from + n >= m.data.length) {
        i++;
        skip = 0;
      } else skip += n;
    } else {
      m.off += n;
      if (m.left === 0) {
        s.queue.shift();
        m.done();
        s.spaceq.wake();
      }
    }
    if (hadRights) break;
  }
  return s.finish(t, { n: copied, name: name?.length ? name : null, control: control(s, rights, creds), flags: 0 });
}

/** unix_dgram_sendmsg, and unix_seqpacket_sendmsg (connected only, the address ignored) */
export function sendDgram(s: UnixSocket, t: IoContext, a: SendArgs): number {
  try {
    if (a.flags & MSG_OOB) return fail(E.ENOTSUP);
    let other: UnixSocket | null;
    const seq = s.type === SOCK_SEQPACKET;
    if (seq) {
      if (s.state !== 'connected') return fail(E.ENOTCONN);
      other = s.peer;
    } else if (a.name !== null && a.name.length > 0) {
      other = null;
    } else {
      other = s.peer;
      if (other === null) return fail(E.ENOTCONN);
    }
    const name = seq ? null : a.name !== null && a.name.length > 0 ? decodeName(a.name) : null;
    if (s.passcred) s.autobind(t);
    const len = iovLen(a.iov);
    if (len > s.sndbuf - 32) fail(E.EMSGSIZE);
    // the send buffer's own checks come before the destination is looked up (sock_alloc_send_pskb)
    if (s.shut & SEND_SHUTDOWN) fail(E.EPIPE);
    if (name !== null) {
      const found = s.findAny(t, name);
      // a host daemon's socket (syslog's /dev/log): the datagram goes through a host socket
      if (Buffer.isBuffer(found)) return s.sendToHost(t, { ...a, name: found });
      other = found;
    }
    if (other === null) return fail(E.ENOTCONN);
    if (other.dead) {
      if (seq) fail(E.EPIPE);
      if (s.peer === other) {
        s.peer = null;
        s.state = 'unconnected';
      }
      fail(E.ECONNREFUSED);
    }
    if (!seq && other.peer !== null && other.peer !== s) fail(E.EPERM);
    if (other.shut & RCV_SHUTDOWN) fail(E.EPIPE);
    const nonblock = s.isNonblocking(a.flags);
    if (other.peer !== s && other.queue.length > MAX_DGRAM_QLEN) s.park(t, [other.spaceq, s.writeq], 'snd', nonblock);
    if (s.wmem >= s.sndbuf) s.park(t, [s.writeq], 'snd', nonblock);
    const data = readIov(t, a.iov, 0, len);
    other.queue.push(new Msg(data, s, rightsOf(a), credsOf(t, a)));
    if (a.control) a.control.rights = [];
    other.readq.wake();
    return s.finish(t, len);
  } finally {
    dropRights(a);
  }
}

/** unix_dgram_recvmsg, and unix_seqpacket_recvmsg (ENOTCONN unless connected) */
export function recvDgram(s: UnixSocket, t: IoContext, a: RecvArgs): Received {
  if (a.flags & MSG_OOB) return fail(E.ENOTSUP);
  if (s.type === SOCK_SEQPACKET && s.state !== 'connected') return fail(E.ENOTCONN);
  const m = s.queue[0];
  if (m === undefined) {
    if (s.err !== 0) fail(takeErr(s));
    if (s.shut & RCV_SHUTDOWN) return s.finish(t, { n: 0, name: null, control: null, flags: 0 });
    s.park(t, [s.readq], 'rcv', s.isNonblocking(a.flags));
    return fail(E.EAGAIN);
  }
  const peek = (a.flags & MSG_PEEK) !== 0;
  const total = iovLen(a.iov);
  const copied = writeIov(t, a.iov, 0, m.data);
  const truncated = m.data.length > total;
  const rights = m.takeRights(peek);
  if (!peek) {
    s.queue.shift();
    m.done();
    s.spaceq.wake();
  }
  const name = m.from.name;
  return s.finish(t, {
    n: a.flags & MSG_TRUNC ? m.data.length : copied,
    name: name?.length ? name : null,
    control: control(s, rights, m.creds),
    flags: truncated ? MSG_TRUNC : 0,
  });
}
