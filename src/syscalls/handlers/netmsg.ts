// The socket syscalls that move data: sendto/recvfrom, sendmsg/recvmsg,
// sendmmsg/recvmmsg. They decode struct msghdr and its control messages as
// Linux's net/socket.c and net/core/scm.c do: SCM_RIGHTS names open files
// by fd (resolved here, installed here on receipt with MSG_CMSG_CLOEXEC, cut
// short with MSG_CTRUNC when the buffer or RLIMIT_NOFILE has no room),
// SCM_CREDENTIALS is checked against the sender (scm_check_creds); other
// control messages pass as bytes to the socket. A send that finds the peer
// gone raises SIGPIPE unless MSG_NOSIGNAL.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail, SysError } from '../../abi/errors.js';
import { IOV_MAX, MAX_RW_COUNT } from '../../abi/limits.js';
import { MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_WAITFORONE, SCM_CREDENTIALS, SCM_RIGHTS, SOL_SOCKET } from '../../abi/socket.js';
import { SIG } from '../../abi/signal.js';
import { Blocked } from '../../ctx/waitq.js';
import type { FileDescription } from '../../fs/file.js';
import { nowMs } from '../../host/clock.js';
import type { Iov, RecvControl, Received, SendControl, Ucred } from '../../net/socket.js';
import { addrIn, addrOut, sockOf } from './net.js';
import { iovecs } from './fs.js';
import { supported, type Def } from './util.js';

/** Linux's SCM_MAX_FD: fds one message may carry */
const SCM_MAX_FD = 253;
/** sysctl net.core.optmem_max's default: the most control data one sendmsg takes */
const OPTMEM_MAX = 20480;
/** sizeof(struct cmsghdr), and the alignment of what follows it */
const CMSG_HDR = 16;
const cmsgAlign = (n: number): number => (n + 7) & ~7;
/** sizeof(struct msghdr), sizeof(struct mmsghdr) on both arches */
const MSGHDR = 56;
const MMSGHDR = 64;

/** A send that finds the peer gone raises SIGPIPE, unless MSG_NOSIGNAL. */
function sending(t: Task, flags: number, fn: () => number): number {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SysError && e.errno === E.EPIPE && !(flags & MSG_NOSIGNAL)) t.raise(SIG.SIGPIPE);
    throw e;
  }
}

/** One iovec over a plain buffer, capped as Linux caps one transfer. */
const plain = (buf: number, len: number): Iov[] => [{ base: buf, len: Math.min(len, MAX_RW_COUNT) }];

function sendto(t: Task, fd: number, buf: number, len: number, flags: number, addr: number, addrLen: number): number {
  const s = sockOf(t, fd);
  const name = addr !== 0 ? addrIn(t, addr, addrLen) : null;
  return sending(t, flags, () => s.sendmsg(t, { iov: plain(buf, len), name, control: null, flags }));
}

function recvfrom(t: Task, fd: number, buf: number, len: number, flags: number, addr: number, lenAddr: number): number {
  const s = sockOf(t, fd);
  const r = s.recvmsg(t, { iov: plain(buf, len), flags, controlLen: 0 });
  if (addr !== 0) addrOut(t, r.name ?? Buffer.alloc(0), addr, lenAddr);
  if (r.control?.rights) for (const f of r.control.rights) f.unref();
  return r.n;
}

/** A decoded struct msghdr. */
interface Msghdr {
  name: number;
  nameLen: number;
  iov: Iov[];
  control: number;
  controlLen: number;
}

function msghdr(t: Task, addr: number): Msghdr {
  const raw = t.mm.read(addr, MSGHDR);
  const iovLen = raw.readBigUInt64LE(24);
  if (iovLen > BigInt(IOV_MAX)) fail(E.EMSGSIZE);
  const controlLen = raw.readBigUInt64LE(40);
  return {
    name: Number(raw.readBigUInt64LE(0)),
    nameLen: raw.readUInt32LE(8),
    iov: iovecs(t, Number(raw.readBigUInt64LE(16)), Number(iovLen)),
    control: Number(raw.readBigUInt64LE(32)),
    controlLen: controlLen > 0x7fffffffn ? -1 : Number(controlLen),
  };
}

/** scm_check_creds: a sender may claim only its own pid and ids, unless it holds the capabilities. */
function checkCreds(t: Task, c: Ucred): void {
  const cr = t.cred;
  if (c.uid === 0xffffffff || c.gid === 0xffffffff) fail(E.EINVAL);
  const okPid = c.pid === t.pid || cr.privileged;
  const okUid = [cr.ruid, cr.euid, cr.suid].includes(c.uid) || cr.privileged;
  const okGid = [cr.rgid, cr.egid, cr.sgid].includes(c.gid) || cr.privileged;
  if (!(okPid && okUid && okGid)) fail(E.EPERM);
}

/**
 * A sendmsg's control messages (__scm_send): EINVAL for a malformed cmsghdr
 * or an SCM_RIGHTS of more than SCM_MAX_FD fds, EBADF for an fd that is not
 * open. The descriptions found get a reference each, given back on error.
 */
function sendControl(t: Task, addr: number, len: number): SendControl | null {
  if (len === 0) return null;
  if (len < 0 || len > OPTMEM_MAX) fail(E.ENOBUFS);
  if (len < CMSG_HDR) fail(E.EINVAL);
  const raw = t.mm.read(addr, len);
  const rights: FileDescription[] = [];
  let creds: Ucred | null = null;
  const other: Buffer[] = [];
  try {
    for (let off = 0; off + CMSG_HDR <= len; ) {
      const clen = Number(raw.readBigUInt64LE(off));
      const level = raw.readInt32LE(off + 8);
      const type = raw.readInt32LE(off + 12);
      if (clen < CMSG_HDR || off + clen > len) fail(E.EINVAL);
      const data = raw.subarray(off + CMSG_HDR, off + clen);
      if (level === SOL_SOCKET && type === SCM_RIGHTS) {
        const n = Math.floor(data.length / 4);
        if (rights.length + n > SCM_MAX_FD) fail(E.EINVAL);
        for (let i = 0; i < n; i++) {
          const f = t.fds.file(data.readInt32LE(i * 4));
          f.refs++;
          rights.push(f);
        }
      } else if (level === SOL_SOCKET && type === SCM_CREDENTIALS) {
        if (clen !== CMSG_HDR + 12) fail(E.EINVAL);
        creds = { pid: data.readInt32LE(0), uid: data.readUInt32LE(4), gid: data.readUInt32LE(8) };
        checkCreds(t, creds);
      } else {
        other.push(raw.subarray(off, off + cmsgAlign(clen)));
      }
      off += cmsgAlign(clen);
    }
  } catch (e) {
    for (const f of rights) f.unref();
    throw e;
  }
  return { rights, creds, raw: other.length > 0 ? Buffer.concat(other) : null };
}

/**
 * Put a received message's control data in the guest's buffer (put_cmsg,
 * scm_detach_fds): credentials first, then the fds, each installed while
 * there is room in the buffer and the fd table; what does not fit sets
 * MSG_CTRUNC and is released. Returns [bytes written, MSG_CTRUNC or 0].
 */
function recvControl(t: Task, c: RecvControl | null, addr: number, room: number, flags: number): [number, number] {
  if (c === null) return [0, 0];
  const parts: Buffer[] = [];
  let used = 0;
  let trunc = 0;
  const put = (level: number, type: number, data: Buffer): boolean => {
    const clen = CMSG_HDR + data.length;
    if (room - used < CMSG_HDR) {
      trunc = MSG_CTRUNC;
      return false;
    }
    const b = Buffer.alloc(Math.min(cmsgAlign(clen), room - used));
    const fits = Math.min(clen, room - used);
    if (fits < clen) trunc = MSG_CTRUNC;
    b.writeBigUInt64LE(BigInt(fits), 0);
    b.writeInt32LE(level, 8);
    b.writeInt32LE(type, 12);
    data.copy(b, CMSG_HDR, 0, fits - CMSG_HDR);
    parts.push(b);
    used += b.length;
    return fits === clen;
  };
  if (c.creds) {
    const d = Buffer.alloc(12);
    d.writeInt32LE(c.creds.pid, 0);
    d.writeUInt32LE(c.creds.uid, 4);
    d.writeUInt32LE(c.creds.gid, 8);
    put(SOL_SOCKET, SCM_CREDENTIALS, d);
  }
  if (c.rights && c.rights.length > 0) {
    const max = Math.max(0, Math.floor((room - used - CMSG_HDR) / 4));
    const fds: number[] = [];
    let i = 0;
    for (; i < c.rights.length && i < max; i++) {
      try {
        fds.push(t.fds.add(c.rights[i]!, (flags & MSG_CMSG_CLOEXEC) !== 0));
      } catch {
        break; // EMFILE: the rest are cut off
      }
    }
    for (let j = i; j < c.rights.length; j++) c.rights[j]!.unref();
    if (i < c.rights.length) trunc = MSG_CTRUNC;
    if (fds.length > 0) {
      const d = Buffer.alloc(fds.length * 4);
      fds.forEach((fd, k) => d.writeInt32LE(fd, k * 4));
      put(SOL_SOCKET, SCM_RIGHTS, d);
    }
  }
  if (c.raw) {
    const n = Math.min(c.raw.length, room - used);
    if (n < c.raw.length) trunc = MSG_CTRUNC;
    parts.push(c.raw.subarray(0, n));
    used += n;
  }
  if (used > 0) t.mm.write(addr, Buffer.concat(parts));
  return [used, trunc];
}

function sendmsg(t: Task, fd: number, addr: number, flags: number): number {
  const s = sockOf(t, fd);
  const m = msghdr(t, addr);
  const name = m.name !== 0 && m.nameLen > 0 ? addrIn(t, m.name, m.nameLen) : null;
  const control = sendControl(t, m.control, m.controlLen);
  return sending(t, flags, () => s.sendmsg(t, { iov: m.iov, name, control, flags }));
}

/** recvmsg into the msghdr at addr: the bytes, then msg_namelen, msg_controllen and msg_flags written back. */
function recvInto(t: Task, fd: number, addr: number, flags: number): number {
  const s = sockOf(t, fd);
  const m = msghdr(t, addr);
  if (m.controlLen < 0) fail(E.ENOBUFS);
  const r: Received = s.recvmsg(t, { iov: m.iov, flags, controlLen: m.control !== 0 ? m.controlLen : 0 });
  let nameLen = 0;
  if (m.name !== 0 && r.name !== null) {
    nameLen = r.name.length;
    t.mm.write(m.name, r.name.subarray(0, Math.min(m.nameLen, nameLen)));
  }
  const [used, trunc] = m.control !== 0 ? recvControl(t, r.control, m.control, m.controlLen, flags) : recvControl(t, r.control, 0, 0, flags);
  t.mm.setU32(addr + 8, nameLen);
  t.mm.write(addr + 40, u64(used));
  // msg_flags starts as the call's MSG_CMSG_CLOEXEC, as ____sys_recvmsg sets it
  t.mm.setI32(addr + 48, r.flags | trunc | (flags & MSG_CMSG_CLOEXEC));
  return r.n;
}

const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/** What a sendmmsg/recvmmsg keeps across the parks of its call: messages done, recvmmsg's deadline. */
const mmsgProgress = new WeakMap<Task, { done: number; deadline: number }>();
function progressOf(t: Task, deadline: () => number): { done: number; deadline: number } {
  let p = mmsgProgress.get(t);
  if (p === undefined || !t.restarting) {
    p = { done: 0, deadline: deadline() };
    mmsgProgress.set(t, p);
  }
  return p;
}

/**
 * A message after the first that must wait: park with the count so far as
 * the result a signal leaves (Linux returns the messages already moved).
 */
function parkWithCount(b: Blocked, done: number): never {
  throw new Blocked(b.queues, b.deadline, b.restart, b.interruptible, done, b.onInterrupt);
}

function sendmmsg(t: Task, fd: number, vec: number, vlen: number, flags: number): number {
  sockOf(t, fd);
  const n = Math.min(vlen >>> 0, IOV_MAX);
  const p = progressOf(t, () => Infinity);
  for (; p.done < n; p.done++) {
    const at = vec + p.done * MMSGHDR;
    let sent: number;
    try {
      sent = sendmsg(t, fd, at, flags);
    } catch (e) {
      if (p.done === 0) throw e;
      if (e instanceof Blocked) parkWithCount(e, p.done);
      break; // an error after the first: the count so far (the error is kept for the socket)
    }
    t.mm.setU32(at + MSGHDR, sent);
  }
  return p.done;
}

function recvmmsg(t: Task, fd: number, vec: number, vlen: number, flags: number, timeout: number): number {
  sockOf(t, fd);
  const n = Math.min(vlen >>> 0, IOV_MAX);
  const p = progressOf(t, () => {
    if (timeout === 0) return Infinity;
    const ts = t.mm.read(timeout, 16);
    const sec = ts.readBigInt64LE(0);
    const nsec = ts.readBigInt64LE(8);
    if (sec < 0n || nsec < 0n || nsec >= 1000000000n) fail(E.EINVAL);
    return nowMs() + Number(sec) * 1000 + Number(nsec) / 1e6;
  });
  for (; p.done < n; p.done++) {
    const at = vec + p.done * MMSGHDR;
    // MSG_WAITFORONE: once one message is in, the others do not wait
    const f = flags & MSG_WAITFORONE && p.done > 0 ? flags | MSG_DONTWAIT : flags;
    let got: number;
    try {
      got = recvInto(t, fd, at, f & ~MSG_WAITFORONE);
    } catch (e) {
      if (p.done === 0) throw e;
      if (e instanceof Blocked) parkWithCount(e, p.done);
      break;
    }
    t.mm.setU32(at + MSGHDR, got);
    // the timeout is looked at only after each message (as Linux does)
    if (nowMs() >= p.deadline) {
      p.done++;
      break;
    }
  }
  if (timeout !== 0 && p.deadline !== Infinity) {
    const left = Math.max(0, p.deadline - nowMs());
    const ts = Buffer.alloc(16);
    ts.writeBigInt64LE(BigInt(Math.floor(left / 1000)), 0);
    ts.writeBigInt64LE(BigInt(Math.floor((left % 1000) * 1e6)), 8);
    t.mm.write(timeout, ts);
  }
  return p.done;
}

export const msgDefs: Record<string, Def> = {
  sendto: supported(['fd', 'strin', 'size', 'msgflags', 'sockaddr', 'int'], (t, a) => sendto(t, a.i32(0), a.ptr(1), a.size(2), a.i32(3), a.ptr(4), a.i32(5))),
  recvfrom: supported(['fd', 'strout', 'size', 'msgflags', 'sockaddrout', 'socklen'], (t, a) => recvfrom(t, a.i32(0), a.ptr(1), a.size(2), a.i32(3), a.ptr(4), a.ptr(5))),
  sendmsg: supported(['fd', 'msghdrin', 'msgflags'], (t, a) => sendmsg(t, a.i32(0), a.ptr(1), a.i32(2))),
  recvmsg: supported(['fd', 'msghdrout', 'msgflags'], (t, a) => recvInto(t, a.i32(0), a.ptr(1), a.i32(2))),
  sendmmsg: supported(['fd', 'ptr', 'uint', 'msgflags'], (t, a) => sendmmsg(t, a.i32(0), a.ptr(1), a.u32(2), a.i32(3))),
  recvmmsg: supported(['fd', 'ptr', 'uint', 'msgflags', 'ts'], (t, a) => recvmmsg(t, a.i32(0), a.ptr(1), a.u32(2), a.i32(3), a.ptr(4))),
};
