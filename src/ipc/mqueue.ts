// POSIX message queues (Linux's ipc/mqueue.c): named queues of the IPC
// namespace, opened as files (mq_open gives an fd; read(2) of it gives
// Linux's QSIZE/NOTIFY line; poll says POLLIN while a message waits and
// POLLOUT while there is room), messages by priority (highest first, in
// order within one), senders and receivers waiting with an absolute
// CLOCK_REALTIME timeout, and mq_notify's signal when a message reaches an
// empty queue no receiver waits on. A queue lives while its name or an
// open fd does. The namespace's mqueue file system (MqueueFs: one directory
// of the queues) is what every mount(2) of mqueue shows, and where the
// queues' fds live.
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import { O_ACCMODE, O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_WRONLY } from '../abi/fcntl.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../abi/poll.js';
import { DT_DIR, DT_REG, R_OK, S_IFDIR, S_IFREG, ST_VALID, W_OK } from '../abi/stat.js';
import { WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from '../fs/context.js';
import { FileDescription } from '../fs/file.js';
import { hostStatBytes } from '../fs/stat.js';
import { writeDirents } from '../fs/dirents.js';
import { cred, FileSystem, permitted, VNode, type Loc, type Mount } from '../fs/vfs.js';
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
    readonly node: MqNode,
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
    loc: Loc,
  ) {
    super(flags);
    this.loc = loc;
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

  override statBytes(t: IoContext): Uint8Array {
    return this.queue.node.stat(t);
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
  /** the namespace's mqueue file system: every mount of mqueue shows it, and the queues' fds are on it */
  readonly fs = new MqueueFs(this);

  constructor(
    readonly limits: MqLimits,
    private readonly signal: SignalProcess,
  ) {}

  /** The mqueue file system the queues' files live on (made on first use). */
  private mount(t: IoContext): Mount {
    return (this.mnt ??= t.vfs.kernMount(this.fs));
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
      const node = new MqNode(this.fs, S_IFREG | (mode & 0o777), c.fsuid, c.fsgid);
      q = new MqQueue(name, node, maxmsg, msgsize);
      node.queue = q;
      this.byName.set(name, q);
      return this.file(t, q, oflag);
    }
    if (oflag & O_CREAT && oflag & O_EXCL) fail(E.EEXIST);
    if (acc === 3) fail(E.EINVAL);
    // the file's permission checks (capabilities included), as inode_permission
    q.node.access(t, acc === O_RDONLY ? R_OK : acc === O_WRONLY ? W_OK : R_OK | W_OK);
    return this.file(t, q, oflag);
  }

  /** An open queue, on the internal mount (as mq_open's files are on Linux's). */
  private file(t: IoContext, q: MqQueue, oflag: number): MqFile {
    return new MqFile(q, oflag & (O_ACCMODE | O_NONBLOCK), { mnt: this.mount(t), node: q.node, path: `/${q.name}` });
  }

  /** The queues by name, in the order they were made (the mqueue directory's entries). */
  named(): IterableIterator<MqQueue> {
    return this.byName.values();
  }
  find(name: string): MqQueue | undefined {
    return this.byName.get(name);
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


/** MQUEUE_MAGIC */
const MQUEUE_MAGIC = 0x19800202;
/** the mqueue root's size: two entries, and DIRENT_SIZE more for each queue */
const DIRENT_SIZE = 20;
let nextIno = 1;

/** A queue's inode: what stat, access and open(2) through a mount of mqueue see. */
export class MqNode extends VNode {
  readonly type = S_IFREG;
  readonly ino = ++nextIno;
  readonly key = `mq:${this.ino}`;
  queue!: MqQueue;
  constructor(
    readonly fs: MqueueFs,
    public mode: number,
    public uid: number,
    public gid: number,
  ) {
    super();
  }
  stat(_t: IoContext): Uint8Array {
    const q = this.queue;
    return hostStatBytes({ dev: this.fs.dev, ino: this.ino, mode: this.mode, nlink: q.unlinked ? 0 : 1, uid: this.uid, gid: this.gid, rdev: 0, size: FILENT_SIZE, blksize: 4096, blocks: 0, atimeMs: q.mtime, mtimeMs: q.mtime, ctimeMs: q.ctime });
  }
  parent(_t: IoContext): VNode {
    return this.fs.dir;
  }
  access(t: IoContext, mode: number): void {
    if (!permitted(cred(t), this.mode, this.uid, this.gid, mode)) fail(E.EACCES);
  }
  /** open(2) of a queue by its path: an mq descriptor like mq_open's */
  open(_t: IoContext, flags: number, loc: Loc): FileDescription {
    return new MqFile(this.queue, flags & (O_ACCMODE | O_NONBLOCK), loc);
  }
}

/** The mqueue file system's one directory: the namespace's queues, sticky and writable by all. */
class MqDir extends VNode {
  readonly type = S_IFDIR;
  readonly key = 'mq:/';
  readonly ino = ++nextIno;
  readonly created = Date.now();
  constructor(readonly fs: MqueueFs) {
    super();
  }
  private get queues(): PosixQueues {
    return this.fs.queues;
  }
  stat(_t: IoContext): Uint8Array {
    const n = [...this.queues.named()].length;
    return hostStatBytes({ dev: this.fs.dev, ino: this.ino, mode: S_IFDIR | 0o1777, nlink: 2, uid: 0, gid: 0, rdev: 0, size: DIRENT_SIZE * (2 + n), blksize: 4096, blocks: 0, atimeMs: this.created, mtimeMs: this.created, ctimeMs: this.created });
  }
  parent(_t: IoContext): VNode {
    return this;
  }
  access(t: IoContext, mode: number): void {
    if (!permitted(cred(t), 0o1777, 0, 0, mode)) fail(E.EACCES);
  }
  override lookup(_t: IoContext, name: string): VNode {
    return this.queues.find(name)?.node ?? fail(E.ENOENT);
  }
  override entries(_t: IoContext): Array<[string, number, number]> {
    return [...this.queues.named()].map((q): [string, number, number] => [q.name, DT_REG, q.node.ino]);
  }
  /** open(2) with O_CREAT: a queue with the default attributes (the mode has the umask applied) */
  override create(t: IoContext, name: string, flags: number, mode: number, _loc: Loc): FileDescription {
    return this.queues.open(t, name, flags | O_CREAT, mode, null);
  }
  override unlink(t: IoContext, name: string): void {
    this.queues.unlink(t, name);
  }
  open(_t: IoContext, flags: number, _loc: Loc): FileDescription {
    return new MqDirFile(this, flags);
  }
}

/** An open mqueue directory: getdents64 over its queues. */
class MqDirFile extends FileDescription {
  private pos = 0;
  private list: Array<[string, number, number]> | null = null;
  constructor(
    readonly dir: MqDir,
    flags: number,
  ) {
    super(flags);
  }
  override read(): number {
    return fail(E.EISDIR);
  }
  override lseek(off: number, whence: number): number {
    if (whence !== 0 || off < 0) fail(E.EINVAL);
    this.pos = off;
    if (off === 0) this.list = null;
    return off;
  }
  get offset(): number {
    return this.pos;
  }
  override getdents64(t: IoContext, addr: number, len: number): number {
    this.list ??= [['.', DT_DIR, this.dir.ino], ['..', DT_DIR, this.dir.ino], ...this.dir.entries(t)];
    return writeDirents(t, addr, len, this.list, this, (p) => (this.pos = p));
  }
  override statBytes(t: IoContext): Uint8Array {
    return this.dir.stat(t);
  }
}

/** The mqueue file system of one IPC namespace (one superblock, whatever the number of mounts). */
export class MqueueFs extends FileSystem {
  readonly type = 'mqueue';
  readonly dir: MqDir = new MqDir(this);
  constructor(readonly queues: PosixQueues) {
    super();
  }
  root(): VNode {
    return this.dir;
  }
  statfs(_t: IoContext, _node: VNode): Uint8Array {
    const b = Buffer.alloc(120);
    b.writeBigInt64LE(BigInt(MQUEUE_MAGIC), 0);
    b.writeBigInt64LE(4096n, 8);
    b.writeBigInt64LE(255n, 64);
    b.writeBigInt64LE(4096n, 72);
    b.writeBigInt64LE(BigInt(ST_VALID), 80);
    return b;
  }
}
