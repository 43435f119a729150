// What every socket is to the syscalls: the operations of struct
// proto_ops (bind, listen, accept, connect, names, sendmsg/recvmsg, shutdown,
// options) on an open-file description, with the arguments already decoded
// from guest memory. The socket syscalls (syscalls/handlers/net.ts) decode
// sockaddrs, msghdrs and control messages, resolve and install fds for
// SCM_RIGHTS, and raise SIGPIPE; a family's sockets implement the rest.
//
// The base class gives Linux's answers for a socket that does not support an
// operation (EOPNOTSUPP for listen/accept on a datagram socket...), read and
// write as recvmsg/sendmsg with no flags, and the options every socket has
// at SOL_SOCKET that elfrun itself must keep: SO_RCVTIMEO and SO_SNDTIMEO,
// because a blocking call parks the task and elfrun measures the wait.
import { E } from '../abi/errno.js';
import { fail, SysError } from '../abi/errors.js';
import { O_NONBLOCK, O_RDWR } from '../abi/fcntl.js';
import { SOL_SOCKET, SO_RCVTIMEO_NEW, SO_RCVTIMEO_OLD, SO_SNDTIMEO_NEW, SO_SNDTIMEO_OLD } from '../abi/socket.js';
import type { Restart } from '../abi/restart.js';
import type { WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from '../fs/context.js';
import { FileDescription } from '../fs/file.js';
import type { FasyncStyle } from '../fs/fasync.js';
import { nowMs } from '../host/clock.js';

/** A range of guest memory (a decoded struct iovec). */
export interface Iov {
  base: number;
  len: number;
}

/** SCM_CREDENTIALS: struct ucred */
export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * A sendmsg's control messages, decoded by the syscall: SCM_RIGHTS as the
 * open-file descriptions the fds name (each with a reference taken for the
 * message; the socket releases those it does not pass on), SCM_CREDENTIALS
 * as checked against the sender, and any other messages raw, in the guest's
 * layout (struct cmsghdr is the same on x86_64 and arm64), for host sockets.
 */
export interface SendControl {
  rights: FileDescription[];
  creds: Ucred | null;
  raw: Buffer | null;
}

/** What a recvmsg hands back besides the bytes. */
export interface RecvControl {
  /** SCM_RIGHTS: descriptions with a reference each, for the syscall to install (or release) */
  rights?: FileDescription[];
  /** SCM_CREDENTIALS, when SO_PASSCRED is on */
  creds?: Ucred;
  /** other control messages, already in the guest's layout */
  raw?: Buffer;
}

export interface SendArgs {
  iov: Iov[];
  /** the destination's sockaddr (sendto, msg_name), or null */
  name: Buffer | null;
  control: SendControl | null;
  /** MSG_* flags as the guest gave them */
  flags: number;
}

export interface RecvArgs {
  iov: Iov[];
  /** MSG_* flags as the guest gave them */
  flags: number;
  /** room the guest gave for control messages (msg_controllen), 0 for none */
  controlLen: number;
}

export interface Received {
  /** bytes received (a datagram's whole length with MSG_TRUNC) */
  n: number;
  /** the sender's sockaddr, when the socket has one to give (datagrams, recvfrom) */
  name: Buffer | null;
  control: RecvControl | null;
  /** msg_flags: MSG_TRUNC, MSG_CTRUNC, MSG_EOR, MSG_OOB, MSG_ERRQUEUE */
  flags: number;
}

/** What accept gives: the connected socket and its peer's sockaddr. */
export interface Accepted {
  sock: Socket;
  peer: Buffer;
}

/**
 * ERANGE from a getsockopt whose value does not fit the guest's buffer
 * (SO_PEERGROUPS): the syscall writes the length needed back to optlen.
 */
export class OptionTooLong extends SysError {
  constructor(readonly needed: number) {
    super(E.ERANGE);
  }
}

/** a socket timeout: none */
const NO_TIMEOUT = Infinity;

export abstract class Socket extends FileDescription {
  /** SO_RCVTIMEO / SO_SNDTIMEO in ms (Infinity: wait forever; 0: never wait) */
  protected rcvTimeoMs = NO_TIMEOUT;
  protected sndTimeoMs = NO_TIMEOUT;
  /**
   * What a blocking call of each thread keeps across its retries: its
   * timeout's deadline and the bytes it already moved (a stream send that
   * must send all, a MSG_WAITALL receive). A call that is not a retry starts afresh.
   */
  private readonly ops = new Map<number, { deadline: number; done: number }>();
  /** O_ASYNC: sock_fasync (data, connections to accept, room, the peer gone) */
  override get fasyncStyle(): FasyncStyle {
    return 'socket';
  }

  constructor(
    readonly family: number,
    /** SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW */
    readonly type: number,
    readonly protocol: number,
    /** O_NONBLOCK from socket(2)/accept4(2) */
    flags: number,
  ) {
    super((flags & O_NONBLOCK) | O_RDWR);
  }

  bind(_t: IoContext, _addr: Buffer): void {
    fail(E.ENOTSUP);
  }
  listen(_t: IoContext, _backlog: number): void {
    fail(E.ENOTSUP);
  }
  /** accept4: `flags` is O_NONBLOCK for the new socket (O_CLOEXEC is the syscall's) */
  accept(_t: IoContext, _flags: number): Accepted {
    return fail(E.ENOTSUP);
  }
  connect(_t: IoContext, _addr: Buffer): void {
    fail(E.ENOTSUP);
  }
  /** getsockname: the whole sockaddr (the syscall truncates it to the guest's length) */
  abstract sockName(t: IoContext): Buffer;
  /** getpeername: ENOTCONN when not connected */
  abstract peerName(t: IoContext): Buffer;
  /** sendmsg/sendto/send/write: bytes sent; EPIPE when the peer is gone (the syscall raises SIGPIPE) */
  abstract sendmsg(t: IoContext, a: SendArgs): number;
  /** recvmsg/recvfrom/recv/read */
  abstract recvmsg(t: IoContext, a: RecvArgs): Received;
  shutdown(_t: IoContext, _how: number): void {
    fail(E.ENOTCONN);
  }
  /** getsockopt: the option's value, whole (the syscall truncates it to the guest's optlen) */
  getsockopt(t: IoContext, level: number, name: number, _len: number): Buffer {
    if (level === SOL_SOCKET) {
      if (name === SO_RCVTIMEO_OLD || name === SO_RCVTIMEO_NEW) return timeval(this.rcvTimeoMs);
      if (name === SO_SNDTIMEO_OLD || name === SO_SNDTIMEO_NEW) return timeval(this.sndTimeoMs);
    }
    return fail(E.ENOPROTOOPT);
  }
  setsockopt(_t: IoContext, level: number, name: number, val: Buffer): void {
    if (level === SOL_SOCKET) {
      if (name === SO_RCVTIMEO_OLD || name === SO_RCVTIMEO_NEW) {
        this.rcvTimeoMs = timeoutMs(val);
        return;
      }
      if (name === SO_SNDTIMEO_OLD || name === SO_SNDTIMEO_NEW) {
        this.sndTimeoMs = timeoutMs(val);
        return;
      }
    }
    fail(E.ENOPROTOOPT);
  }

  override read(t: IoContext, addr: number, len: number): number {
    return this.recvmsg(t, { iov: [{ base: addr, len }], flags: 0, controlLen: 0 }).n;
  }
  override write(t: IoContext, addr: number, len: number): number {
    return this.sendmsg(t, { iov: [{ base: addr, len }], name: null, control: null, flags: 0 });
  }

  /** This thread's call's progress (see ops): fresh unless the call is being retried. */
  protected progress(t: IoContext): { deadline: number; done: number } {
    let o = this.ops.get(t.tid);
    if (o === undefined || !t.restarting) {
      o = { deadline: NaN, done: 0 };
      this.ops.set(t.tid, o);
    }
    return o;
  }

  /** The call ends (not parked): what it kept is dropped, so that the thread's next call starts afresh even inside one retried syscall (sendmmsg). */
  protected settle<T>(t: IoContext, v: T): T {
    this.ops.delete(t.tid);
    return v;
  }

  /** Does a call with these MSG_* flags return EAGAIN rather than wait? */
  protected nonblocking(msgFlags: number): boolean {
    return (this.flags & O_NONBLOCK) !== 0 || (msgFlags & 0x40) !== 0; // MSG_DONTWAIT
  }

  /**
   * Wait for `queues` as a blocking socket call does (sock_rcvtimeo,
   * sock_sndtimeo): EAGAIN at once when non-blocking, EAGAIN when the
   * direction's timeout passes (kept across the call's retries), and a
   * signal's handler restarts the call when there is no timeout
   * (ERESTARTSYS) or ends it with EINTR when there is, as sock_intr_errno.
   * `timeoutErr` is what a timeout gives (EINPROGRESS for connect). A call
   * that already moved `partial` bytes returns them instead of an error:
   * wait then returns, and the caller returns its count.
   */
  protected wait(t: IoContext, queues: WaitQueue[], dir: 'rcv' | 'snd', nonblock: boolean, partial = 0, timeoutErr: number = E.EAGAIN): void {
    const timeo = dir === 'rcv' ? this.rcvTimeoMs : this.sndTimeoMs;
    if (nonblock || timeo === 0) {
      if (partial > 0) return;
      fail(timeoutErr);
    }
    let deadline = Infinity;
    if (timeo !== NO_TIMEOUT) {
      const o = this.progress(t);
      if (Number.isNaN(o.deadline)) o.deadline = nowMs() + timeo;
      deadline = o.deadline;
      if (nowMs() >= deadline) {
        if (partial > 0) return;
        fail(timeoutErr);
      }
    }
    const restart: Restart = timeo === NO_TIMEOUT ? 'sys' : 'intr';
    t.block(queues, { deadline, restart, ...(partial > 0 ? { partial } : {}) });
  }
}

/** Linux's tick on Debian's kernels (CONFIG_HZ=250): socket timeouts are kept in ticks */
const HZ = 250;

/** struct timeval (16 bytes on both arches) of a timeout as sock_get_timeout gives it (no timeout: zeros) */
function timeval(ms: number): Buffer {
  const b = Buffer.alloc(16);
  if (ms === NO_TIMEOUT) return b;
  const ticks = Math.round((ms * HZ) / 1000);
  b.writeBigInt64LE(BigInt(Math.floor(ticks / HZ)), 0);
  b.writeBigInt64LE(BigInt(Math.floor(((ticks % HZ) * 1e6) / HZ)), 8);
  return b;
}

/**
 * A timeout option's struct timeval as sock_set_timeout reads it: EINVAL if
 * shorter than a timeval, EDOM for tv_usec out of range; a negative tv_sec
 * means no wait at all (0 ms), all zeros no timeout; others are rounded up
 * to whole ticks.
 */
function timeoutMs(val: Buffer): number {
  if (val.length < 16) fail(E.EINVAL);
  const sec = val.readBigInt64LE(0);
  const usec = val.readBigInt64LE(8);
  if (usec < 0n || usec >= 1000000n) fail(E.EDOM);
  if (sec < 0n) return 0;
  if (sec === 0n && usec === 0n) return NO_TIMEOUT;
  const ticks = Number(sec) * HZ + Math.ceil(Number(usec) / (1e6 / HZ));
  return (ticks * 1000) / HZ;
}
