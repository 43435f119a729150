// Guest sockets that are host sockets: AF_INET and AF_INET6 (TCP, UDP, raw
// and ICMP where the host allows them) and read-only AF_NETLINK queries, on
// the host's network. The host kernel keeps the connection state, the
// options and the errors; elfrun keeps what the guest sees of waiting. The
// host fd is always non-blocking: a call that would block parks the task on
// the host poller (woken when the fd is ready) and is retried, so Node's
// event loop never blocks; the guest's O_NONBLOCK, MSG_DONTWAIT and
// SO_RCVTIMEO/SO_SNDTIMEO decide whether it waits (Socket.wait).
//
// sockaddrs, struct msghdr's iovecs and control messages have one layout on
// x86_64 and arm64 (LP64 both), so they pass as bytes. A blocking stream send
// sends everything before it returns, as tcp_sendmsg does; MSG_WAITALL waits
// for the whole length.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_CLOEXEC, O_NONBLOCK } from '../abi/fcntl.js';
import { FIONBIO, FIONREAD } from '../abi/ioctl.js';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { POLLIN, POLLOUT, POLLPRI } from '../abi/poll.js';
import {
  MSG_CMSG_CLOEXEC,
  MSG_DONTWAIT,
  MSG_ERRQUEUE,
  MSG_NOSIGNAL,
  MSG_PEEK,
  MSG_WAITALL,
  SO_ATTACH_BPF,
  SO_ATTACH_FILTER,
  SO_ATTACH_REUSEPORT_CBPF,
  SO_ATTACH_REUSEPORT_EBPF,
  SO_RCVTIMEO_NEW,
  SO_RCVTIMEO_OLD,
  SO_SNDTIMEO_NEW,
  SO_SNDTIMEO_OLD,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_DOMAIN,
  SO_PROTOCOL,
  SO_TYPE,
} from '../abi/socket.js';
import { Unsupported } from '../abi/errors.js';
import type { WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from '../fs/context.js';
import { HOST_STAT_SIZE } from '../fs/stat.js';
import { chk } from '../fs/transfer.js';
import { host, Scratch } from '../host/libc.js';
import { hostSock } from '../host/sock.js';
import { Socket, type Accepted, type Iov, type Received, type RecvArgs, type SendArgs } from './socket.js';

/** the host's sockaddr_storage */
const NAME_MAX = 128;
/** room for control messages each way (Linux's optmem_max is 20480 by default) */
const CONTROL_MAX = 20480;

/**
 * Host memory one socket call builds its host msghdr in: the msghdr, the
 * name, the iovecs (guest memory in place), the control messages. Calls
 * never overlap (one thread runs the guests), so one serves all sockets.
 */
class MsgScratch {
  readonly s = new Scratch(65536);
  static readonly HDR = 0;
  static readonly LEN = 56; // a socklen_t for accept/getsockname
  static readonly NAME = 64;
  static readonly CONTROL = 256;
  static readonly IOV = MsgScratch.CONTROL + CONTROL_MAX;
  static readonly IOV_MAX = Math.floor((65536 - MsgScratch.IOV) / 16);
  get addr(): number {
    return this.s.addr;
  }
  get dv(): DataView {
    return this.s.dv;
  }
  get bytes(): Uint8Array {
    return this.s.bytes;
  }
}
let scratch: MsgScratch | null = null;
const msgScratch = (): MsgScratch => (scratch ??= new MsgScratch());

/** The host pieces of guest iovecs, up to the first byte the guest may not access; EFAULT if that is the very first. */
function hostIovecs(t: IoContext, s: MsgScratch, iov: Iov[], prot: number, skip = 0): { count: number; total: number } {
  let count = 0;
  let total = 0;
  let faulted = false;
  let want = 0;
  for (const v of iov) {
    let base = v.base;
    let len = v.len;
    if (skip > 0) {
      const d = Math.min(skip, len);
      skip -= d;
      base += d;
      len -= d;
    }
    if (len === 0) continue;
    want += len;
    let got = 0;
    t.mm.prefixPieces(base, len, prot, (h, n) => {
      if (count >= MsgScratch.IOV_MAX) return false;
      s.dv.setBigUint64(MsgScratch.IOV + count * 16, BigInt(h), true);
      s.dv.setBigUint64(MsgScratch.IOV + count * 16 + 8, BigInt(n), true);
      count++;
      got += n;
      return true;
    });
    total += got;
    if (got < len) {
      faulted = true;
      break;
    }
  }
  if (faulted && total === 0 && want > 0) fail(E.EFAULT);
  return { count, total };
}

/** Fill the host msghdr at the scratch's start. */
function setMsghdr(s: MsgScratch, nameLen: number, iovCount: number, controlLen: number): void {
  const dv = s.dv;
  dv.setBigUint64(0, nameLen > 0 ? BigInt(s.addr + MsgScratch.NAME) : 0n, true);
  dv.setUint32(8, nameLen, true);
  dv.setUint32(12, 0, true);
  dv.setBigUint64(16, BigInt(s.addr + MsgScratch.IOV), true);
  dv.setBigUint64(24, BigInt(iovCount), true);
  dv.setBigUint64(32, controlLen > 0 ? BigInt(s.addr + MsgScratch.CONTROL) : 0n, true);
  dv.setBigUint64(40, BigInt(controlLen), true);
  dv.setUint32(48, 0, true);
}

/** The MSG_* flags that reach the host: elfrun's own are taken out, and the host never waits nor raises SIGPIPE in elfrun. */
const hostFlags = (flags: number): number => (flags & ~(MSG_CMSG_CLOEXEC | MSG_WAITALL)) | MSG_DONTWAIT | MSG_NOSIGNAL;

/** setsockopt/getsockopt values that hold a guest pointer, which the host could not follow. */
const POINTER_OPTS = new Set([SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF]);
/** options whose value is a guest fd (a BPF program) */
const FD_OPTS = new Set([SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_EBPF]);

export class HostSocket extends Socket {
  constructor(
    private fd: number,
    family: number,
    type: number,
    protocol: number,
    flags: number,
  ) {
    super(family, type, protocol, flags);
  }

  /**
   * A host socket elfrun was given as a file (its stdio): the socket calls
   * reach it through this view, which does not own the fd.
   */
  static borrow(fd: number, flags: number): HostSocket {
    const s = msgScratch();
    const opt = (name: number): number => {
      s.dv.setUint32(MsgScratch.LEN, 4, true);
      return hostSock.getsockopt(fd, SOL_SOCKET, name, s.addr + MsgScratch.CONTROL, s.addr + MsgScratch.LEN) < 0 ? 0 : s.dv.getInt32(MsgScratch.CONTROL, true);
    };
    const sock = new HostSocket(fd, opt(SO_DOMAIN), opt(SO_TYPE), opt(SO_PROTOCOL), flags);
    sock.owned = false;
    return sock;
  }
  private owned = true;

  /** socket(2) on the host: the host's errno for families, types and protocols it refuses. */
  static create(family: number, type: number, protocol: number, flags: number): HostSocket {
    return new HostSocket(HostSocket.open(family, type, protocol), family, type, protocol, flags);
  }
  /** The host fd of a new host socket (non-blocking, close-on-exec on the host). */
  static open(family: number, type: number, protocol: number): number {
    return chk(hostSock.socket(family, type | SOCK_NONBLOCK | O_CLOEXEC, protocol));
  }

  override get hostFd(): number {
    return this.fd;
  }

  private get stream(): boolean {
    return this.type === SOCK_STREAM;
  }

  private queue(t: IoContext, events: number): WaitQueue[] {
    return [t.hostPollQueue(this.fd, events)];
  }

  /** A sockaddr into the scratch's name slot; its length. */
  private putName(s: MsgScratch, addr: Buffer): number {
    if (addr.length > NAME_MAX) fail(E.EINVAL);
    s.bytes.set(addr, MsgScratch.NAME);
    return addr.length;
  }

  override bind(_t: IoContext, addr: Buffer): void {
    const s = msgScratch();
    const n = this.putName(s, addr);
    chk(hostSock.bind(this.fd, s.addr + MsgScratch.NAME, n));
  }

  override listen(_t: IoContext, backlog: number): void {
    chk(hostSock.listen(this.fd, backlog));
  }

  override accept(t: IoContext, flags: number): Accepted {
    const s = msgScratch();
    s.dv.setUint32(MsgScratch.LEN, NAME_MAX, true);
    const r = hostSock.accept4(this.fd, s.addr + MsgScratch.NAME, s.addr + MsgScratch.LEN, SOCK_NONBLOCK | O_CLOEXEC);
    if (r === -E.EAGAIN) this.wait(t, this.queue(t, POLLIN), 'rcv', this.nonblocking(0));
    chk(r);
    const len = Math.min(s.dv.getUint32(MsgScratch.LEN, true), NAME_MAX);
    const peer = Buffer.from(s.bytes.subarray(MsgScratch.NAME, MsgScratch.NAME + len));
    return { sock: new HostSocket(r, this.family, this.type, this.protocol, flags & O_NONBLOCK), peer };
  }

  override connect(t: IoContext, addr: Buffer): void {
    const s = msgScratch();
    const n = this.putName(s, addr);
    let r = hostSock.connect(this.fd, s.addr + MsgScratch.NAME, n);
    // the host's connect is non-blocking: a blocking guest waits for the
    // handshake and calls again, which gives the outcome (0, or the error
    // that ended it) as Linux's connect() after EINPROGRESS does
    const nonblock = this.nonblocking(0);
    // on loopback the handshake is over by now: no need to park for it
    if (r === -E.EINPROGRESS && !nonblock && host.pollReady(this.fd, POLLOUT)) r = hostSock.connect(this.fd, s.addr + MsgScratch.NAME, n);
    if (r === -E.EALREADY && nonblock) fail(E.EALREADY);
    if (r === -E.EINPROGRESS || r === -E.EALREADY) this.wait(t, this.queue(t, POLLOUT), 'snd', nonblock, 0, E.EINPROGRESS);
    chk(r);
  }

  private name(peer: boolean): Buffer {
    const s = msgScratch();
    s.dv.setUint32(MsgScratch.LEN, NAME_MAX, true);
    chk(hostSock.name(this.fd, peer, s.addr + MsgScratch.NAME, s.addr + MsgScratch.LEN));
    const len = Math.min(s.dv.getUint32(MsgScratch.LEN, true), NAME_MAX);
    return Buffer.from(s.bytes.subarray(MsgScratch.NAME, MsgScratch.NAME + len));
  }
  override sockName(_t: IoContext): Buffer {
    return this.name(false);
  }
  override peerName(_t: IoContext): Buffer {
    return this.name(true);
  }

  override sendmsg(t: IoContext, a: SendArgs): number {
    // descriptions passed for SCM_RIGHTS go nowhere on a host socket (Linux's
    // inet sockets ignore SCM_RIGHTS): their references are given back
    if (a.control) for (const f of a.control.rights) f.unref();
    const s = msgScratch();
    const nameLen = a.name !== null ? this.putName(s, a.name) : 0;
    const raw = a.control?.raw ?? null;
    if (raw !== null && raw.length > CONTROL_MAX) fail(E.ENOBUFS);
    if (raw !== null) s.bytes.set(raw, MsgScratch.CONTROL);
    // a blocking stream send goes on until all is sent; what earlier tries sent is kept across the parks
    const p = this.progress(t);
    const { count, total } = hostIovecs(t, s, a.iov, PROT_READ, this.stream ? p.done : 0);
    setMsghdr(s, nameLen, count, raw?.length ?? 0);
    const r = hostSock.sendmsg(this.fd, s.addr, hostFlags(a.flags));
    const nonblock = this.nonblocking(a.flags);
    if (r === -E.EAGAIN) {
      this.wait(t, this.queue(t, POLLOUT), 'snd', nonblock, p.done);
      return this.settle(t, p.done);
    }
    if (r < 0) {
      if (p.done > 0) return this.settle(t, p.done);
      this.settle(t, 0);
      fail(-r);
    }
    if (!this.stream) return this.settle(t, r);
    p.done += r;
    if (r < total && !nonblock) this.wait(t, this.queue(t, POLLOUT), 'snd', false, p.done);
    return this.settle(t, p.done);
  }

  override recvmsg(t: IoContext, a: RecvArgs): Received {
    const s = msgScratch();
    const waitAll = (a.flags & MSG_WAITALL) !== 0 && this.stream && (a.flags & MSG_PEEK) === 0;
    const p = this.progress(t);
    const { count, total } = hostIovecs(t, s, a.iov, PROT_WRITE, waitAll ? p.done : 0);
    const controlLen = Math.min(a.controlLen, CONTROL_MAX);
    setMsghdr(s, NAME_MAX, count, controlLen);
    const r = hostSock.recvmsg(this.fd, s.addr, hostFlags(a.flags));
    // the error queue never waits (sock_recv_errqueue)
    const nonblock = this.nonblocking(a.flags) || (a.flags & MSG_ERRQUEUE) !== 0;
    if (r === -E.EAGAIN) {
      this.wait(t, this.queue(t, POLLIN), 'rcv', nonblock, p.done);
      return this.settle(t, this.received(s, p.done));
    }
    if (r < 0) {
      if (p.done > 0) return this.settle(t, this.received(s, p.done));
      this.settle(t, 0);
      fail(-r);
    }
    if (!waitAll) return this.settle(t, this.received(s, r));
    p.done += r;
    if (r > 0 && r < total && !nonblock) this.wait(t, this.queue(t, POLLIN), 'rcv', false, p.done);
    return this.settle(t, this.received(s, p.done));
  }

  /** What the host's recvmsg left in the scratch msghdr. */
  private received(s: MsgScratch, n: number): Received {
    const dv = s.dv;
    const nameLen = Math.min(dv.getUint32(8, true), NAME_MAX);
    const controlLen = Number(dv.getBigUint64(40, true));
    const flags = dv.getInt32(48, true);
    return {
      n,
      name: nameLen > 0 ? Buffer.from(s.bytes.subarray(MsgScratch.NAME, MsgScratch.NAME + nameLen)) : null,
      control: controlLen > 0 ? { raw: Buffer.from(s.bytes.subarray(MsgScratch.CONTROL, MsgScratch.CONTROL + controlLen)) } : null,
      flags,
    };
  }

  override shutdown(_t: IoContext, how: number): void {
    chk(hostSock.shutdown(this.fd, how));
  }

  override getsockopt(t: IoContext, level: number, name: number, len: number): Buffer {
    if (level === SOL_SOCKET && (name === SO_RCVTIMEO_OLD || name === SO_RCVTIMEO_NEW || name === SO_SNDTIMEO_OLD || name === SO_SNDTIMEO_NEW)) return super.getsockopt(t, level, name, len);
    if (len < 0) fail(E.EINVAL);
    const s = msgScratch();
    const room = Math.min(len, CONTROL_MAX);
    s.dv.setUint32(MsgScratch.LEN, room, true);
    chk(hostSock.getsockopt(this.fd, level, name, s.addr + MsgScratch.CONTROL, s.addr + MsgScratch.LEN));
    const n = Math.min(s.dv.getUint32(MsgScratch.LEN, true), room);
    return Buffer.from(s.bytes.subarray(MsgScratch.CONTROL, MsgScratch.CONTROL + n));
  }

  override setsockopt(t: IoContext, level: number, name: number, val: Buffer): void {
    if (level === SOL_SOCKET && (name === SO_RCVTIMEO_OLD || name === SO_RCVTIMEO_NEW || name === SO_SNDTIMEO_OLD || name === SO_SNDTIMEO_NEW)) {
      super.setsockopt(t, level, name, val);
      return;
    }
    if (level === SOL_SOCKET && FD_OPTS.has(name)) throw new Unsupported(`setsockopt SOL_SOCKET option ${name} (an eBPF program's fd)`, E.ENOPROTOOPT);
    const s = msgScratch();
    if (val.length > CONTROL_MAX) fail(E.ENOMEM);
    let v = val;
    if (level === SOL_SOCKET && POINTER_OPTS.has(name)) v = this.filterProgram(t, val, s);
    s.bytes.set(v, MsgScratch.CONTROL);
    chk(hostSock.setsockopt(this.fd, level, name, s.addr + MsgScratch.CONTROL, v.length));
  }

  /** struct sock_fprog { u16 len; struct sock_filter *filter } with the filter copied to host memory after it. */
  private filterProgram(t: IoContext, val: Buffer, s: MsgScratch): Buffer {
    if (val.length < 16) fail(E.EINVAL);
    const count = val.readUInt16LE(0);
    const ptr = Number(val.readBigUInt64LE(8));
    const insns = t.mm.read(ptr, count * 8);
    if (16 + insns.length > CONTROL_MAX) fail(E.EINVAL);
    s.bytes.set(insns, MsgScratch.CONTROL + 16);
    const out = Buffer.alloc(16);
    out.writeUInt16LE(count, 0);
    out.writeBigUInt64LE(BigInt(s.addr + MsgScratch.CONTROL + 16), 8);
    return out;
  }

  override ioctl(t: IoContext, req: number, arg: number): number {
    if (req === FIONBIO) {
      const on = t.mm.i32(arg) !== 0;
      this.flags = on ? this.flags | O_NONBLOCK : this.flags & ~O_NONBLOCK;
      return 0;
    }
    return hostIoctl(t, this.fd, req, arg);
  }

  override poll(_t: IoContext, events: number): number {
    return host.pollEvents(this.fd, events | POLLIN | POLLOUT | POLLPRI) & (events | 0x18); // POLLERR|POLLHUP always
  }
  override pollQueues(t: IoContext, events: number): WaitQueue[] {
    return this.queue(t, events & (POLLIN | POLLOUT | POLLPRI));
  }
  override hostEdgeFd(): number | null {
    return this.fd >= 0 ? this.fd : null;
  }

  override statBytes(_t: IoContext): Uint8Array {
    const s = msgScratch();
    chk(host.fstat(this.fd, s.addr));
    return s.bytes.slice(0, HOST_STAT_SIZE);
  }

  override release(): void {
    if (this.owned) host.close(this.fd);
    this.fd = -1;
  }
}

/** ioctls whose argument is an int the host writes (SIOCINQ=FIONREAD, SIOCOUTQ, SIOCATMARK...). */
const INT_OUT = new Set([FIONREAD, 0x5411 /* SIOCOUTQ=TIOCOUTQ */, 0x8905 /* SIOCATMARK */, 0x894b /* SIOCOUTQNSD */]);
/**
 * The interface ioctls that read a struct ifreq (40 bytes, no pointers).
 * The SIOCSIF* ones that change the host's interfaces get EPERM, as for a
 * guest without CAP_NET_ADMIN.
 */
export const IFREQ_GET = new Set([0x8910, 0x8913, 0x8915, 0x8917, 0x8919, 0x891b, 0x891d, 0x8921, 0x8927, 0x8933, 0x8942, 0x8970, 0x8938 /* SIOCGIFPFLAGS */]);
export const SIOCGIFCONF = 0x8912;
const SIOCGSTAMP_OLD = 0x8906;
const SIOCGSTAMPNS_OLD = 0x8907;

function hostIoctl(t: IoContext, fd: number, req: number, arg: number): number {
  const s = msgScratch();
  if (INT_OUT.has(req)) {
    chk(hostSock.ioctl(fd, req, s.addr + MsgScratch.CONTROL));
    t.mm.setI32(arg, s.dv.getInt32(MsgScratch.CONTROL, true));
    return 0;
  }
  if (req === SIOCGSTAMP_OLD || req === SIOCGSTAMPNS_OLD) {
    chk(hostSock.ioctl(fd, req, s.addr + MsgScratch.CONTROL));
    t.mm.write(arg, s.bytes.subarray(MsgScratch.CONTROL, MsgScratch.CONTROL + 16));
    return 0;
  }
  if (req === SIOCGIFCONF) {
    // struct ifconf { int len; char *buf }: the host fills host memory, copied to the guest's buffer
    const ifc = t.mm.read(arg, 16);
    const len = ifc.readInt32LE(0);
    const buf = Number(ifc.readBigUInt64LE(8));
    const room = Math.max(0, Math.min(len, CONTROL_MAX - 16));
    s.dv.setInt32(MsgScratch.CONTROL, room, true);
    s.dv.setBigUint64(MsgScratch.CONTROL + 8, buf === 0 ? 0n : BigInt(s.addr + MsgScratch.CONTROL + 16), true);
    chk(hostSock.ioctl(fd, req, s.addr + MsgScratch.CONTROL));
    const got = s.dv.getInt32(MsgScratch.CONTROL, true);
    if (buf !== 0) t.mm.write(buf, s.bytes.subarray(MsgScratch.CONTROL + 16, MsgScratch.CONTROL + 16 + got));
    t.mm.setI32(arg, got);
    return 0;
  }
  if (IFREQ_GET.has(req)) {
    s.bytes.set(t.mm.read(arg, 40), MsgScratch.CONTROL);
    chk(hostSock.ioctl(fd, req, s.addr + MsgScratch.CONTROL));
    t.mm.write(arg, s.bytes.subarray(MsgScratch.CONTROL, MsgScratch.CONTROL + 40));
    return 0;
  }
  if (req >= 0x8910 && req <= 0x89ff) {
    if (isSetIoctl(req)) fail(E.EPERM);
    throw new Unsupported(`socket ioctl 0x${req.toString(16)}`, E.ENOTTY);
  }
  return fail(E.ENOTTY);
}

/** The SIOCS* interface and routing ioctls (they change the host's network). */
function isSetIoctl(req: number): boolean {
  return [0x890b, 0x890c, 0x8911, 0x8914, 0x8916, 0x8918, 0x891a, 0x891c, 0x891e, 0x8922, 0x8924, 0x8936, 0x8943, 0x8953, 0x8954].includes(req);
}
