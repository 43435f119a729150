// procfs: /proc/self, /proc/thread-self and /proc/<pid> show guest processes
// (the host's /proc would show Node's), /proc/mounts the guest's mount table.
// The host's other processes show through from the host's /proc, as a native
// program sees them, unless the guest has a pid namespace (--sandbox).
// /proc/cpuinfo is the emulated CPU's (cpuinfo.ts). Other host-wide entries
// (meminfo, uptime, sys/...) are the host's own and pass through, read-only,
// below this mount.
//
// This module is the file system and its nodes; what each path is comes from
// tree.ts (the root) and pid.ts (a process's entries), cpuinfo from
// cpuinfo.ts, open files from
// file.ts, the fd links from fds.ts, the mount table's text from mounts.ts.
import type { Task } from '../proc/task.js';
import type { Kernel } from '../proc/kernel.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_ACCMODE, O_RDONLY, O_RDWR } from '../abi/fcntl.js';
import { NAME_MAX } from '../abi/limits.js';
import { PROC_SUPER_MAGIC, S_IFDIR, ST_NODEV, ST_NOEXEC, ST_NOSUID, ST_VALID, R_OK, W_OK, X_OK } from '../abi/stat.js';
import type { FileDescription } from '../fs/file.js';
import { type IoContext } from '../fs/context.js';
import { hostStatBytes } from '../fs/stat.js';
import { HostFs, HostNode } from '../fs/hostfs.js';
import { cred, FileSystem, permitted, VNode, type Loc } from '../fs/vfs.js';
import { openProc } from './file.js';
import { KIND_TYPE, nodeStat, type ProcNode } from './node.js';
import { procNode } from './tree.js';

// what the syscalls and the tracer use of /proc: the place and name of an open file, procfs's open files

/** The proc file system: guest processes from the kernel's tables, the rest from the host's /proc. */
export class ProcFs extends FileSystem {
  readonly type = 'proc';
  constructor(private readonly kernel: Kernel) {
    super();
  }
  /** the task behind a caller: procfs shows what the kernel knows of it */
  task(t: IoContext): Task {
    return this.kernel.taskOf(t);
  }
  readonly host = new ProcHostFs(this);
  private rootNode = new ProcVNode(this, '/proc', S_IFDIR);
  root(): VNode {
    return this.rootNode;
  }
  statfs(): Uint8Array {
    const b = Buffer.alloc(120);
    b.writeBigInt64LE(BigInt(PROC_SUPER_MAGIC), 0);
    b.writeBigInt64LE(4096n, 8);
    b.writeBigInt64LE(BigInt(NAME_MAX), 64);
    b.writeBigInt64LE(4096n, 72);
    b.writeBigInt64LE(BigInt(ST_VALID | ST_NOSUID | ST_NODEV | ST_NOEXEC), 80);
    return b;
  }
}

/** The host's /proc below the guest's: its nodes climb back into the guest's procfs. */
class ProcHostFs extends HostFs {
  override readonly hostChecked = true;
  // its nodes lead back into the guest's procfs, whose answers are per process
  override readonly walkCacheable = false;
  constructor(readonly proc: ProcFs) {
    super('/proc');
  }
}

class ProcHostNode extends HostNode {
  override parent(t: IoContext): VNode {
    const i = this.path.lastIndexOf('/');
    const up = this.path.slice(0, i);
    return up === '/proc' ? (this.fs as ProcHostFs).proc.root() : new ProcHostNode(this.fs, up, S_IFDIR);
  }
  override lookup(t: IoContext, name: string): VNode {
    // a host-wide entry the guest has its own of (/proc/sys/kernel/hostname): the guest's
    const proc = (this.fs as ProcHostFs).proc;
    const full = `${this.path}/${name}`;
    const own = procNode(proc.task(t), full);
    if (own !== null) return new ProcVNode(proc, full, KIND_TYPE[own.kind]).withNode(t, own);
    const n = super.lookup(t, name) as HostNode;
    return new ProcHostNode(this.fs, n.path, n.type);
  }
  override open(t: IoContext, flags: number, loc: Loc): FileDescription {
    if ((flags & O_ACCMODE) !== O_RDONLY) fail(E.EACCES); // the host's /proc stays the host's
    return super.open(t, flags, loc);
  }
}

class ProcVNode extends VNode {
  constructor(
    readonly fs: ProcFs,
    /** '/proc/...', whatever the mount point */
    readonly name: string,
    readonly type: number,
  ) {
    super();
  }
  get key(): string {
    return this.name;
  }
  /**
   * What procNode answered for this node in the current path resolution:
   * one syscall (busybox's readlink of /proc/self/exe at every start) asked
   * it again for each permission check, stat and readlink.
   */
  private known: ProcNode | null = null;
  private knownEpoch = -1;
  /** this node, as `n` describes it for the current path resolution */
  withNode(t: IoContext, n: ProcNode): this {
    this.known = n;
    this.knownEpoch = t.vfs.lookups.epoch;
    return this;
  }
  private pn(t: IoContext): ProcNode {
    if (this.known !== null && this.knownEpoch === t.vfs.lookups.epoch) return this.known;
    const n = procNode(this.fs.task(t), this.name) ?? fail(E.ENOENT);
    return this.withNode(t, n).known!;
  }
  stat(t: IoContext): Uint8Array {
    return hostStatBytes(nodeStat(t, this.pn(t)));
  }
  override owner(t: IoContext): { mode: number; uid: number; gid: number } {
    return nodeStat(t, this.pn(t));
  }
  parent(): VNode {
    if (this.name === '/proc') return this;
    return new ProcVNode(this.fs, this.name.slice(0, this.name.lastIndexOf('/')), S_IFDIR);
  }
  override lookup(t: IoContext, name: string): VNode {
    if (this.type !== S_IFDIR) fail(E.ENOTDIR);
    const full = `${this.name}/${name}`;
    const n = procNode(this.fs.task(t), full);
    if (n !== null) return new ProcVNode(this.fs, full, KIND_TYPE[n.kind]).withNode(t, n);
    // a host-wide entry: the host's own
    return new ProcHostNode(this.fs.host, '/proc', S_IFDIR).lookup(t, name);
  }
  override readlink(t: IoContext): Buffer {
    const n = this.pn(t);
    if (n.kind !== 'link') fail(E.EINVAL);
    return Buffer.from(n.target(), 'latin1');
  }
  override jump(t: IoContext): Loc | null {
    const n = this.pn(t);
    return n.kind === 'link' && n.jump ? n.jump() : null;
  }
  open(t: IoContext, flags: number, loc: Loc): FileDescription {
    const n = this.pn(t);
    const acc = flags & O_ACCMODE;
    const want = (acc === O_RDONLY || acc === O_RDWR ? R_OK : 0) | (acc !== O_RDONLY ? W_OK : 0);
    if (n.kind === 'file' && want) this.access(t, want);
    const f = openProc(n, flags);
    f.loc = loc;
    return f;
  }
  access(t: IoContext, mode: number): void {
    const n = this.pn(t);
    const st = nodeStat(t, n);
    if (mode & X_OK && n.kind === 'file') fail(E.EACCES);
    if (!permitted(cred(t), st.mode, st.uid, st.gid, mode & 7)) fail(E.EACCES);
  }
}
