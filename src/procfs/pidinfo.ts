// Read-only text of /proc/<pid>/ from the kernel's tables: limits (the
// process's rlimits), sched and schedstat (its threads' CPU time), and the
// ns/ links (the host's namespaces the guest shares, and the pid namespace
// of its own under --sandbox), which lead to an nsfs inode per namespace.
import { readlinkSync } from 'node:fs';
import type { Process } from '../proc/process.js';
import type { Task } from '../proc/task.js';
import type { Uts } from '../proc/uts.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { DT_LNK, DT_REG, NSFS_MAGIC, S_IFREG, ST_VALID, W_OK, X_OK } from '../abi/stat.js';
import type { IoContext } from '../fs/context.js';
import { FileDescription } from '../fs/file.js';
import { hostStatBytes } from '../fs/stat.js';
import { FileSystem, VNode, type Loc, type Mount, type Vfs } from '../fs/vfs.js';
import type { ProcNode } from './node.js';

const RLIM_INFINITY = 0xffffffffffffffffn;

/** proc_pid_limits's rows, by RLIMIT_* number: name and unit */
const LIMITS: Array<[string, string]> = [
  ['Max cpu time', 'seconds'],
  ['Max file size', 'bytes'],
  ['Max data size', 'bytes'],
  ['Max stack size', 'bytes'],
  ['Max core file size', 'bytes'],
  ['Max resident set', 'bytes'],
  ['Max processes', 'processes'],
  ['Max open files', 'files'],
  ['Max locked memory', 'bytes'],
  ['Max address space', 'bytes'],
  ['Max file locks', 'locks'],
  ['Max pending signals', 'signals'],
  ['Max msgqueue size', 'bytes'],
  ['Max nice priority', ''],
  ['Max realtime priority', ''],
  ['Max realtime timeout', 'us'],
];

/** /proc/<pid>/limits: "%-25s %-20s %-20s %-10s" per limit, unlimited for RLIM_INFINITY. */
export function limitsText(p: Process): string {
  const v = (x: bigint): string => (x === RLIM_INFINITY ? 'unlimited' : x.toString()).padEnd(20);
  let s = `${'Limit'.padEnd(25)} ${'Soft Limit'.padEnd(20)} ${'Hard Limit'.padEnd(20)} ${'Units'.padEnd(10)}\n`;
  LIMITS.forEach(([name, unit], i) => {
    const [soft, hard] = p.rlimits[i] ?? [RLIM_INFINITY, RLIM_INFINITY];
    s += `${name.padEnd(25)} ${v(soft)} ${v(hard)} ${unit ? unit.padEnd(10) : ''}\n`;
  });
  return s;
}

/** the task's CPU time in ns */
const runNs = (x: Task): number => Math.round(x.cpuNow * 1e6);

/** /proc/<pid>/schedstat: time on the CPU (ns), time waiting for it (not kept: 0), time slices (not kept: 0). */
export function schedstatText(x: Task): string {
  return `${runNs(x)} 0 0\n`;
}

/**
 * /proc/<pid>/sched: the header (comm, the pid as the reader's namespace
 * sees it, the threads) and the lines elfrun keeps: run time (ms), policy
 * (SCHED_OTHER), prio (120 + nice).
 */
export function schedText(p: Process, x: Task): string {
  const row = (k: string, v: string): string => `${k.padEnd(45)}:${v.padStart(21)}\n`;
  return (
    `${p.comm} (${x.tid}, #threads: ${p.threads.size})\n${'-'.repeat(67)}\n` +
    row('se.sum_exec_runtime', (x.cpuNow).toFixed(6)) +
    row('policy', '0') +
    row('prio', String(120 + p.nice))
  );
}

/** the namespace kinds of /proc/<pid>/ns, in Linux's listing order */
const NS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'pid_for_children', 'time', 'time_for_children', 'user', 'uts'];

/** the host's link for a namespace kind ("pid:[4026531836]"), read once */
const hostNs = new Map<string, string>();
function hostLink(kind: string): string {
  let l = hostNs.get(kind);
  if (l === undefined) {
    try {
      l = readlinkSync(`/proc/self/ns/${kind}`);
    } catch {
      l = `${kind.replace(/_for_children$/, '')}:[0]`;
    }
    hostNs.set(kind, l);
  }
  return l;
}

/**
 * The inode of the guest's own pid namespace (--sandbox): Linux numbers
 * namespaces made after boot from 0xF0000000 up; one number per run.
 */
const SANDBOX_PID_NS = 0xf0000000 + (process.pid & 0xfffff);

/** /proc/<pid>/ns/[kind]: the directory (r-x--x--x), or the link to one namespace. */
export function nsEntry(t: Task, p: Process, path: string, more: string[]): ProcNode {
  if (more.length === 0) return { kind: 'dir', name: path, mode: 0o511, entries: () => NS.map((n): [string, number] => [n, DT_LNK]) };
  if (more.length > 1) fail(E.ENOTDIR);
  const kind = more[0];
  if (!NS.includes(kind)) fail(E.ENOENT);
  const target = (): string => nsLink(t, p, kind);
  return { kind: 'link', name: path, target, jump: () => nsLoc(t, target(), kind === 'uts' ? (p.uts ?? t.kernel.uts) : null) };
}

/** What /proc/<pid>/ns/<kind> of p reads: the namespace's name and inode ("uts:[4026531838]") */
export function nsLink(t: Task, p: Process, kind: string): string {
  const own = !t.kernel.hostProcesses && (kind === 'pid' || kind === 'pid_for_children');
  // --net none: the guest's network namespace is its own, numbered after the pid namespace
  const ownNet = kind === 'net' && t.kernel.net === 'none';
  // a UTS namespace the guest made (unshare, CLONE_NEWUTS): its own inode, numbered after those
  const ownUts = kind === 'uts' && p.uts !== null && p.uts.serial > 0 ? p.uts.serial : 0;
  return own ? `pid:[${SANDBOX_PID_NS}]` : ownNet ? `net:[${SANDBOX_PID_NS + 1}]` : ownUts > 0 ? `uts:[${SANDBOX_PID_NS + 1 + ownUts}]` : hostLink(kind);
}

/** /proc/<pid>/attr/: no security module, so every file's read and write is EINVAL, as Linux without an LSM answers. */
export function attrEntry(path: string, more: string[]): ProcNode {
  const names = ['current', 'exec', 'fscreate', 'keycreate', 'prev', 'sockcreate'];
  if (more.length === 0) return { kind: 'dir', name: path, entries: () => names.map((n): [string, number] => [n, DT_REG]) };
  if (more.length > 1) fail(E.ENOTDIR);
  if (!names.includes(more[0])) fail(E.ENOENT);
  return { kind: 'file', name: path, mode: more[0] === 'prev' ? 0o444 : 0o666, content: () => fail(E.EINVAL), write: () => fail(E.EINVAL) };
}


/** nsfs: where the ns/ links lead, one inode per namespace (device 0:4, as Linux's nsfs has). */
class NsFs extends FileSystem {
  readonly type = 'nsfs';
  constructor() {
    super();
    this.dev = 4;
  }
  root(): VNode {
    return new NsNode(this, 'nsfs:[0]', 0);
  }
  statfs(): Uint8Array {
    const b = Buffer.alloc(120);
    b.writeBigInt64LE(BigInt(NSFS_MAGIC), 0);
    b.writeBigInt64LE(4096n, 8);
    b.writeBigInt64LE(255n, 64);
    b.writeBigInt64LE(4096n, 72);
    b.writeBigInt64LE(BigInt(ST_VALID), 80);
    return b;
  }
}

/** A namespace's inode: an empty regular file, r--r--r--, owned by root. */
class NsNode extends VNode {
  readonly type = S_IFREG;
  constructor(
    readonly fs: NsFs,
    readonly key: string,
    readonly ino: number,
    /** the UTS namespace it is (setns joins it) */
    readonly uts: Uts | null = null,
  ) {
    super();
  }
  stat(): Uint8Array {
    return hostStatBytes({ dev: this.fs.dev, ino: this.ino, mode: S_IFREG | 0o444, nlink: 1, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0 });
  }
  parent(): VNode {
    return this;
  }
  access(_t: IoContext, mode: number): void {
    if (mode & (W_OK | X_OK)) fail(E.EACCES);
  }
  open(_t: IoContext, flags: number, loc: Loc): FileDescription {
    const f = new NsFile(flags, this);
    f.loc = loc;
    return f;
  }
}

/** An open namespace: it can be fstat'ed and given to setns; a read is EINVAL. */
export class NsFile extends FileDescription {
  constructor(
    flags: number,
    readonly node: NsNode,
  ) {
    super(flags);
  }
  override statBytes(): Uint8Array {
    return this.node.stat();
  }
}

/** the nsfs mount of each tree, made when a link is first followed (a kernel mount, not listed) */
const nsMounts = new WeakMap<Vfs, Mount>();

/** Where /proc/<pid>/ns/<kind> leads: the namespace's inode, named by the link's text. */
function nsLoc(t: Task, link: string, uts: Uts | null): Loc {
  const vfs = t.kernel.vfs;
  let m = nsMounts.get(vfs);
  if (m === undefined) nsMounts.set(vfs, (m = vfs.kernMount(new NsFs())));
  const ino = Number(/\[(\d+)\]$/.exec(link)?.[1] ?? 0);
  return { mnt: m, node: new NsNode(m.fs as NsFs, link, ino, uts), path: link };
}
