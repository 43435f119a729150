// POSIX message queues (Linux's ipc/mqueue.c): named queues of the IPC
// namespace, opened as files (mq_open gives an fd; read(2) of it gives
// Linux's QSIZE/NOTIFY line; poll says POLLIN while a message waits and
// POLLOUT while there is room), messages by priority (highest first, in
// order within one), senders and receivers waiting with an absolute
// CLOCK_REALTIME timeout, and mq_notify's signal when a message reaches an
// empty queue no receiver waits on. A queue lives while its name or an
// open fd does.
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import { O_ACCMODE, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_WRONLY } from '../abi/fcntl.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/poll.js';
import { R_OK, S_IFREG, W_OK } from '../abi/stat.js';
import { WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from '../fs/context.js';
import { FileDescription } from '../fs/file.js';
import { hostStatBytes } from '../fs/stat.js';
import { TmpFs, TmpNode } from '../fs/tmpfs.js';
import type { Mount } from '../fs/vfs.js';
import { capable, CAP_SYS_RESOURCE } from './ids.js';
import { SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SI_MESGQ } from '../abi/ipc.js';

/** Linux's HARD_MSGMAX and HARD_MSGSIZEMAX: the most even CAP_SYS_RESOURCE may ask */
const HARD_MSGMAX = 65536;
const HARD_MSGSIZEMAX = 16 * 1024 * 1024;
/** the inode size mqueue files report (FILENT_SIZE) */
const FILENT_SIZE = 80;
const NAME_MAX = 255;
/** unlinking another's queue from the sticky mqueue root */
const CAP_FOWNER = 3;

export interface MqLimits {
  queuesMax: number;
  msgMax: number;
  msgsizeMax: number;
  msgDefault: number;
  msgsizeDefault: number;
}

interface MqMessage {
  prio: number;
  data: Buffer;
}

/** struct sigevent as mq_notify takes it */
export interface MqSigevent {
  notify: number;
  signo: number;
  value: bigint;
}

/**
 * mq_notify's checks of a sigevent before the fd is looked at: EINVAL for
 * another kind or a bad signal; SIGEV_THREAD (glibc's notification thread,
 * fed through a netlink socket) is not implemented.
 */
export function checkSigevent(s: MqSigevent): void {
  if (s.notify !== SIGEV_NONE && s.notify !== SIGEV_SIGNAL && s.notify !== SIGEV_THREAD) fail(E.EINVAL);
  if (s.notify === SIGEV_SIGNAL && !(s.signo >= 0 && s.signo <= 64)) fail(E.EINVAL);
  if (s.notify === SIGEV_THREAD) throw new Unsupported('mq_notify SIGEV_THREAD', E.ENOSYS);
}

/** What mq_notify registered: who gets which signal with which value. */
interface MqNotify {
  pid: number;
  notify: number;
  signo: number;
  value: bigint;
}

export class MqQueue {
  readonly messages: MqMessage[] = [];
  bytes = 0;
  notify: MqNotify | null = null;
  readonly readers = new WaitQueue('mq-receive');
  readonly writers = new WaitQueue('mq-send');
  /** open fds; the queue goes when none is left and its name is gone */
  opens = 0;
  unlinked = false;
  readonly ctime = Date.now();
  mtime = Date.now();
  constructor(
    readonly name: string,
    readonly node: TmpNode,
    readonly maxmsg: number,
    readonly msgsize: number,
  ) {}
}

/** The services mq_notify needs of the kernel: sending a signal to a process. */
export type SignalProcess = (pid: number, sig: number, info: Buffer) => void;

/** An open message queue (struct file of the mqueue file system). */
export class MqFile extends FileDescription {
  constructor(
    readonly queue: MqQueue,
    flags: number,
    mnt: Mount,
  ) {
    super(flags);
    this.loc = { mnt, node: queue.node, path: `/${queue.name}` };
    queue.opens++;
  }

  /** Linux's mqueue_read_file: the queue's size and notification, the same on every read (offsets count). */
  private status(): Buffer {
    const q = this.queue;
    const n = q.notify;
    const line =
      `QSIZE:${String(q.bytes).padEnd(10)} NOTIFY:${String(n?.notify ?? 0).padEnd(5)} SIGNO:${String(n !== null && n.notify === SIGEV_SIGNAL ? n.signo : 0).padEnd(5)} ` +
      `NOTIFY_PID:${String(n?.pid ?? 0).padEnd(6)}\n`;
    return Buffer.from(line, 'latin1');
  }

  private pos = 0;
  override get readable(): boolean {
    return true;
  }
  override read(t: IoContext, addr: number, len: number): number {
    const n = this.pread(t, addr, len, this.pos);
    this.pos += n;
    return n;
  }
  override pread(t: IoContext, addr: number, len: number, off: number): number {
    const s = this.status();
    const n = Math.max(0, Math.min(len, s.length - off));
    if (n > 0) t.mm.write(addr, s.subarray(off, off + n));
    return n;
  }
  override lseek(off: number, whence: number): number {
    if (whence !== 0 || off < 0) fail(E.EINVAL);
    return (this.pos = off);
  }

  override poll(_t: IoContext, _events: number): number {
    const q = this.queue;
    return (q.messages.length > 0 ? POLLIN | POLLRDNORM : 0) | (q.messages.length < q.maxmsg ? POLLOUT | POLLWRNORM : 0);
  }
  override pollQueues(_t: IoContext, events: number): WaitQueue[] {
    const out: WaitQueue[] = [];
    if (events & POLLIN) out.push(this.queue.readers);
    if (events & POLLOUT) out.push(this.queue.writers);
    return out;
  }

  override statBytes(_t: IoContext): Uint8Array {
    const n = this.queue.node;
    const q = this.queue;
    return hostStatBytes({ dev: n.fs.dev, ino: n.ino, mode: n.mode, nlink: q.unlinked ? 0 : 1, uid: n.uid, gid: n.gid, rdev: 0, size: FILENT_SIZE, blksize: 4096, blocks: 0, atimeMs: q.mtime, mtimeMs: q.mtime, ctimeMs: q.ctime });
  }

  override release(): void {
    const q = this.queue;
    // no fd left: no one can be told any more (Linux drops it when its owner closes its fd)
    if (--q.opens === 0) q.notify = null;
  }
}

export class PosixQueues {
  private readonly byName = new Map<string, MqQueue>();
  private mnt: Mount | null = null;

  constructor(
    readonly limits: MqLimits,
    private readonly signal: SignalProcess,
  ) {}

  /** The mqueue file system the queues' files live on (made on first use). */
  private mount(t: IoContext): Mount {
    return (this.mnt ??= t.vfs.kernMount(new TmpFs(0o1777)));
  }

  /** mq_open(2): `name` without its leading slash (the libc strips it), `attr` [maxmsg, msgsize] or null for the defaults. */
  open(t: IoContext, name: string, oflag: number, mode: number, attr: [number, number] | null): MqFile {
    // mode: with the caller's umask applied
    if (name === '') fail(E.ENOENT);
    if (name.includes('/')) fail(E.EACCES);
    if (name.length > NAME_MAX) fail(E.ENAMETOOLONG);
    if (name === '.' || name === '..') fail(E.EACCES);
    const c = t.cred;
    let q = this.byName.get(name);
    const acc = oflag & O_ACCMODE;
    if (q === undefined) {
      if (!(oflag & O_CREAT)) fail(E.ENOENT);
      const [maxmsg, msgsize] = attr ?? [this.limits.msgDefault, this.limits.msgsizeDefault];
      if (maxmsg <= 0 || msgsize <= 0) fail(E.EINVAL);
      const resource = capable(c, CAP_SYS_RESOURCE);
      if (maxmsg > (resource ? HARD_MSGMAX : this.limits.msgMax) || msgsize > (resource ? HARD_MSGSIZEMAX : this.limits.msgsizeMax)) fail(E.EINVAL);
      if (this.byName.size >= this.limits.queuesMax && !resource) fail(E.ENOSPC);
      const mnt = this.mount(t);
      const fs = mnt.fs as TmpFs;
      const node = new TmpNode(fs, S_IFREG | (mode & 0o777), c.fsuid, c.fsgid, fs.rootNode);
      q = new MqQueue(name, node, maxmsg, msgsize);
      this.byName.set(name, q);
      return new MqFile(q, oflag & (O_ACCMODE | O_NONBLOCK), mnt);
    }
    if (oflag & O_CREAT && oflag & O_EXCL) fail(E.EEXIST);
    if (acc === 3) fail(E.EINVAL);
    // the file's permission checks (capabilities included), as inode_permission
    q.node.access(t, acc === O_RDONLY ? R_OK : acc === O_WRONLY ? W_OK : R_OK | W_OK);
    return new MqFile(q, oflag & (O_ACCMODE | O_NONBLOCK), this.mount(t));
  }

  /** mq_unlink(2): the name goes; the queue stays while an fd is open. Only its owner (or CAP_FOWNER) may remove it. */
  unlink(t: IoContext, name: string): number {
    if (name.length > NAME_MAX) fail(E.ENAMETOOLONG);
    const q = this.byName.get(name);
    if (q === undefined) return fail(E.ENOENT);
    const c = t.cred;
    // the sticky root: another's queue is refused (EACCES, as the oracle kernel answers)
    if (c.fsuid !== q.node.uid && !capable(c, CAP_FOWNER)) fail(E.EACCES);
    this.byName.delete(name);
    q.unlinked = true;
    return 0;
  }

  /**
   * mq_timedsend(2): `deadline` on nowMs()'s clock (Infinity without a
   * timeout); the message's bytes are read (`data`) once it is known to fit.
   * ERESTARTSYS when a signal ends the wait.
   */
  send(t: IoContext, f: MqFile, len: number, data: () => Buffer, prio: number, deadline: number, now: number): number {
    if ((f.flags & O_ACCMODE) === O_RDONLY) fail(E.EBADF);
    const q = f.queue;
    if (len > q.msgsize) fail(E.EMSGSIZE);
    const bytes = data();
    if (q.messages.length >= q.maxmsg) {
      if (f.flags & O_NONBLOCK) fail(E.EAGAIN);
      if (now >= deadline) fail(E.ETIMEDOUT);
      t.block([q.writers], { deadline, restart: 'sys' });
    }
    // in priority order, after the messages of the same priority
    let i = q.messages.length;
    while (i > 0 && q.messages[i - 1].prio < prio) i--;
    q.messages.splice(i, 0, { prio, data: bytes });
    q.bytes += bytes.length;
    q.mtime = Date.now();
    if (q.messages.length === 1 && q.notify !== null && q.readers.waiters.size === 0) this.fire(t, q);
    q.readers.wake();
    return 0;
  }

  /** A message reached an empty queue no receiver waits on: the registered process is told once. */
  private fire(t: IoContext, q: MqQueue): void {
    const n = q.notify!;
    q.notify = null;
    if (n.notify !== SIGEV_SIGNAL || n.signo === 0) return;
    const info = Buffer.alloc(128);
    info.writeInt32LE(n.signo, 0);
    info.writeInt32LE(SI_MESGQ, 8);
    info.writeInt32LE(t.pid, 16);
    info.writeUInt32LE(t.cred.ruid, 20);
    info.writeBigUInt64LE(BigInt.asUintN(64, n.value), 24);
    this.signal(n.pid, n.signo, info);
  }

  /** mq_timedreceive(2): the message's bytes and priority. */
  receive(t: IoContext, f: MqFile, len: number, deadline: number, now: number): MqMessage {
    if ((f.flags & O_ACCMODE) === O_WRONLY) fail(E.EBADF);
    const q = f.queue;
    if (len < q.msgsize) fail(E.EMSGSIZE);
    if (q.messages.length === 0) {
      if (f.flags & O_NONBLOCK) fail(E.EAGAIN);
      if (now >= deadline) fail(E.ETIMEDOUT);
      t.block([q.readers], { deadline, restart: 'sys' });
    }
    const m = q.messages.shift()!;
    q.bytes -= m.data.length;
    q.mtime = Date.now();
    q.writers.wake();
    return m;
  }

  /**
   * mq_notify(2): sigev null removes the caller's registration; else
   * [sigev_notify, sigev_signo, sigev_value]. EBUSY when another process
   * has one. SIGEV_THREAD (glibc's threads over a netlink socket) is not
   * implemented.
   */
  notify(t: IoContext, f: MqFile, sigev: MqSigevent | null): number {
    const q = f.queue;
    if (sigev === null) {
      if (q.notify !== null && q.notify.pid === t.pid) q.notify = null;
      return 0;
    }
    if (q.notify !== null) fail(E.EBUSY);
    q.notify = { pid: t.pid, notify: sigev.notify, signo: sigev.signo, value: sigev.value };
    return 0;
  }

  /** mq_getsetattr(2): the old attributes [flags, maxmsg, msgsize, curmsgs]; `newFlags` sets O_NONBLOCK only. */
  getsetattr(f: MqFile, newFlags: number | null): [number, number, number, number] {
    const q = f.queue;
    const old: [number, number, number, number] = [f.flags & O_NONBLOCK, q.maxmsg, q.msgsize, q.messages.length];
    if (newFlags !== null) f.flags = (f.flags & ~O_NONBLOCK) | (newFlags & O_NONBLOCK);
    return old;
  }

  /** A process ended: its notification registrations go (Linux drops them when the registering fd closes). */
  forget(pid: number): void {
    for (const q of this.byName.values()) if (q.notify?.pid === pid) q.notify = null;
  }
}

