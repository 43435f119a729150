// procfs: /proc/self, /proc/thread-self and /proc/<pid> show guest processes
// (the host's /proc would show Node's), /proc/mounts the guest's mount table.
// The host's other processes show through from the host's /proc, as a native
// program sees them, unless the guest has a pid namespace (--sandbox).
// Host-wide entries (cpuinfo, meminfo, uptime, sys/...) are the host's own
// and pass through, read-only, below this mount.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { Task } from '../proc/task.js';
import type { Kernel } from '../proc/kernel.js';
import type { Process } from '../proc/process.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { Unsupported } from '../abi/errors.js';
import { FileDescription } from '../fs/file.js';
import { HostFile } from '../fs/hostfile.js';
import { type IoContext } from '../fs/context.js';
import { PipeEnd } from '../fs/pipe.js';
import { hostStatBytes, statFields, type StatFields } from '../fs/stat.js';
import { HostFs, HostNode } from '../fs/hostfs.js';
import { FileSystem, VNode, type Loc, type Mount } from '../fs/vfs.js';
import { S_IFDIR, S_IFLNK, S_IFREG } from '../abi/stat.js';
import { O_CLOEXEC, O_RDONLY } from '../abi/fcntl.js';
import { toHostOpenFlags } from '../fs/flags.js';
import { host, type Scratch } from '../host/libc.js';
import { writeDirents } from '../fs/dirents.js';

export type ProcNode =
  | { kind: 'file'; name: string; content: () => Buffer }
  | { kind: 'link'; name: string; target: () => string; fdMode?: number; jump?: () => Loc | null }
  | { kind: 'dir'; name: string; entries: () => Array<[string, number]> };

const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;
const PROC_DEV = 0x16;

const PER_PID_FILES = ['cmdline', 'comm', 'environ', 'stat', 'status', 'maps', 'auxv', 'mounts'];
const PER_PID_LINKS = ['exe', 'cwd', 'root'];
/** What Linux 6.x has in /proc/<pid>/ (those elfrun lacks are reported, not answered ENOENT) */
const LINUX_PID_ENTRIES = new Set(
  ('arch_status attr autogroup auxv cgroup clear_refs cmdline comm coredump_filter cpu_resctrl_groups cpuset cwd environ exe fd fdinfo ' +
    'gid_map io ksm_merging_pages ksm_stat latency limits loginuid map_files maps mem mountinfo mounts mountstats net ns numa_maps ' +
    'oom_adj oom_score oom_score_adj pagemap patch_state personality projid_map root sched schedstat sessionid setgroups smaps ' +
    'smaps_rollup stack stat statm status syscall task timens_offsets timers timerslack_ns uid_map wchan').split(' '),
);

function mem(p: Process, start: number, end: number): Buffer {
  if (end <= start) return Buffer.alloc(0);
  try {
    return p.mm.space.read(start, end - start);
  } catch {
    return Buffer.alloc(0);
  }
}

function stateChar(p: Process): string {
  if (p.exit !== null) return 'Z';
  if (p.stopped) return 'T';
  return [...p.threads].some((t) => t.state === 'runnable') ? 'R' : 'S';
}

function sigmaskHex(m: bigint): string {
  return m.toString(16).padStart(16, '0');
}

/** /proc/<pid>/fdinfo/N: position, flags (octal, with O_CLOEXEC), inode. */
function fdInfo(t: Task, f: FileDescription, cloexec: boolean): Buffer {
  let pos = 0;
  try {
    pos = f.lseek(0, 1 /* SEEK_CUR */);
  } catch {
    /* not seekable: 0, as Linux shows for pipes */
  }
  let ino = 0n;
  try {
    ino = statFields(f.statBytes(t)).ino;
  } catch {
    /* no inode */
  }
  const flags = (f.flags | (cloexec ? O_CLOEXEC : 0)).toString(8).padStart(7, '0');
  return Buffer.from(`pos:\t${pos}\nflags:\t${flags}\nmnt_id:\t${f.loc?.mnt.id ?? 0}\nino:\t${ino}\n`);
}

export function fdTarget(f: FileDescription): string {
  if (f.loc !== null) return f.loc.path;
  if (f instanceof PipeEnd) return `pipe:[${f.pipe.ino}]`;
  if (f instanceof HostFile) {
    try {
      return readlinkSync(`/proc/self/fd/${f.hostFd}`);
    } catch {
      return f.path;
    }
  }
  return 'anon_inode:[unknown]';
}

function pidNode(t: Task, p: Process, rest: string[], path: string): ProcNode {
  const pid = p.pid;
  if (rest.length === 0)
    return {
      kind: 'dir',
      name: path,
      entries: () => [...PER_PID_FILES.map((n): [string, number] => [n, DT_REG]), ...PER_PID_LINKS.map((n): [string, number] => [n, DT_LNK]), ['fd', DT_DIR], ['fdinfo', DT_DIR], ['task', DT_DIR]],
    };
  const [first, ...more] = rest;
  if (first === 'fdinfo') {
    if (more.length === 0) return { kind: 'dir', name: path, entries: () => p.fds.entries().map(([fd]): [string, number] => [String(fd), DT_REG]) };
    if (more.length > 1) fail(E.ENOTDIR);
    const fd = Number(more[0]);
    if (!Number.isInteger(fd) || !p.fds.has(fd)) fail(E.ENOENT);
    const e = p.fds.get(fd);
    return { kind: 'file', name: path, content: () => fdInfo(t, e.file, e.cloexec) };
  }
  if (first === 'fd' || first === 'task') {
    if (first === 'task') {
      if (more.length === 0) return { kind: 'dir', name: path, entries: () => [...p.threads].map((x): [string, number] => [String(x.tid), DT_DIR]) };
      const tid = Number(more[0]);
      if (![...p.threads].some((x) => x.tid === tid)) fail(E.ENOENT);
      return pidNode(t, p, more.slice(1), path);
    }
    if (more.length === 0) return { kind: 'dir', name: path, entries: () => p.fds.entries().map(([fd]): [string, number] => [String(fd), DT_LNK]) };
    if (more.length > 1) fail(E.ENOTDIR);
    const fd = Number(more[0]);
    if (!Number.isInteger(fd) || !p.fds.has(fd)) fail(E.ENOENT);
    const f = p.fds.file(fd);
    // Linux: r-x for a file open for reading, -wx for writing, size 64
    const fdMode = (f.readable ? 0o500 : 0) | (f.writable ? 0o300 : 0);
    return { kind: 'link', name: path, target: () => fdTarget(f), fdMode, jump: () => f.loc ?? anonLoc(t, f, path) };
  }
  if (more.length > 0) fail(PER_PID_FILES.includes(first) ? E.ENOTDIR : E.ENOENT);
  const s = p.start;
  switch (first) {
    case 'exe':
      return { kind: 'link', name: path, target: () => p.exePath, jump: () => p.exe };
    case 'cwd':
      return { kind: 'link', name: path, target: () => p.fs.cwd.path, jump: () => p.fs.cwd };
    case 'root':
      return { kind: 'link', name: path, target: () => '/', jump: () => t.kernel.vfs.root };
    case 'cmdline':
      return { kind: 'file', name: path, content: () => (s ? mem(p, s.argStart, s.argEnd) : Buffer.alloc(0)) };
    case 'environ':
      return { kind: 'file', name: path, content: () => (s ? mem(p, s.envStart, s.envEnd) : Buffer.alloc(0)) };
    case 'comm':
      return { kind: 'file', name: path, content: () => Buffer.from(`${p.comm}\n`) };
    case 'maps':
      return { kind: 'file', name: path, content: () => Buffer.from(p.mm.space.maps().map((l) => l + '\n').join('')) };
    case 'mounts':
      return { kind: 'file', name: path, content: () => mountsText(t) };
    case 'auxv':
      return {
        kind: 'file',
        name: path,
        content: () => {
          const pairs = s?.auxv ?? [];
          const b = Buffer.alloc(pairs.length * 16);
          pairs.forEach(([k, v], i) => {
            b.writeBigUInt64LE(BigInt(k), 16 * i);
            b.writeBigUInt64LE(BigInt(v), 16 * i + 8);
          });
          return b;
        },
      };
    case 'stat':
      return {
        kind: 'file',
        name: path,
        content: () => {
          const vsize = p.mm.space.vmas.reduce((n, v) => n + v.size, 0);
          const start = Math.round((p.startTime / 1000) * 100);
          const tick = (ms: number): number => Math.floor(ms / 10);
          const k = t.kernel;
          const ctty = k.ttyNr !== 0 && p.sid === (k.init?.sid ?? p.sid);
          const f = [pid, `(${p.comm})`, stateChar(p), p.ppid || k.hostPpid, p.pgid, p.sid, ctty ? k.ttyNr : 0, ctty ? k.terminal.foreground() : -1, 0x400000, 0, 0, 0, 0, tick(p.cpuMs), 0, tick(p.childrenCpuMs), 0, 20, 0, p.threads.size, 0, start, vsize, 0, '18446744073709551615', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
          return Buffer.from(f.join(' ') + '\n');
        },
      };
    case 'status':
      return {
        kind: 'file',
        name: path,
        content: () => {
          const c = p.cred;
          const leader = [...p.threads][0];
          const ign = p.sighand.actions.reduce((m, a, sig) => (sig > 0 && a.handler === 1 ? m | (1n << BigInt(sig - 1)) : m), 0n);
          const cgt = p.sighand.actions.reduce((m, a, sig) => (sig > 0 && a.handler > 1 ? m | (1n << BigInt(sig - 1)) : m), 0n);
          const vm = p.mm.space.vmas.reduce((n, v) => n + v.size, 0) >> 10;
          const st = stateChar(p);
          const lines = [
            `Name:\t${p.comm}`,
            `Umask:\t${p.fs.umask.toString(8).padStart(4, '0')}`,
            `State:\t${st} (${{ R: 'running', S: 'sleeping', Z: 'zombie', T: 'stopped' }[st]})`,
            `Tgid:\t${pid}`,
            `Ngid:\t0`,
            `Pid:\t${pid}`,
            `PPid:\t${p.ppid || t.kernel.hostPpid}`,
            `TracerPid:\t0`,
            `Uid:\t${c.ruid}\t${c.euid}\t${c.suid}\t${c.fsuid}`,
            `Gid:\t${c.rgid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`,
            `FDSize:\t${Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, ...p.fds.entries().map(([fd]) => fd + 1)))))}`,
            `Groups:\t${c.groups.map((g) => `${g} `).join('') || ' '}`,
            `VmSize:\t${String(vm).padStart(8)} kB`,
            `Threads:\t${p.threads.size}`,
            `SigPnd:\t${sigmaskHex(leader?.pending ?? 0n)}`,
            `ShdPnd:\t${sigmaskHex(p.pending)}`,
            `SigBlk:\t${sigmaskHex(leader?.sigmask ?? 0n)}`,
            `SigIgn:\t${sigmaskHex(ign)}`,
            `SigCgt:\t${sigmaskHex(cgt)}`,
          ];
          return Buffer.from(lines.join('\n') + '\n');
        },
      };
    default:
      // an entry Linux has but elfrun does not emulate is reported; any other name does not exist
      if (LINUX_PID_ENTRIES.has(first)) throw new Unsupported(`procfs entry /proc/<pid>/${first}`, E.ENOENT);
      return fail(E.ENOENT);
  }
}

/**
 * The node for an absolute guest path under /proc, or null when the host's
 * /proc answers it (host-wide entries). `follow`: resolve a final symlink.
 */
export function procNode(t: Task, absPath: string): ProcNode | null {
  const norm = posix.normalize(absPath);
  if (norm !== '/proc' && !norm.startsWith('/proc/')) return null;
  const parts = norm.split('/').filter(Boolean).slice(1);
  const k = t.kernel;
  if (parts.length === 0)
    return {
      kind: 'dir',
      name: '/proc',
      entries: () => {
        const all = readdirSync('/proc', { withFileTypes: true });
        const host = all.filter((d) => !/^\d+$/.test(d.name) && d.name !== 'self' && d.name !== 'thread-self' && d.name !== 'mounts');
        const guest = [...k.processes.values()].filter((p) => !p.reaped);
        const pids = guest.map((p): [string, number] => [String(p.pid), DT_DIR]);
        // the host's processes, where the guest sees them; a guest pid hides a host one
        // (the first guest process is elfrun's own host process)
        const hostPids = k.hostProcesses
          ? all.filter((d) => /^\d+$/.test(d.name) && !k.processes.has(Number(d.name))).map((d): [string, number] => [d.name, DT_DIR])
          : [];
        return [
          ...host.map((d): [string, number] => [d.name, d.isDirectory() ? DT_DIR : d.isSymbolicLink() ? DT_LNK : DT_REG]),
          ['self', DT_LNK],
          ['thread-self', DT_LNK],
          ['mounts', DT_LNK],
          ...[...pids, ...hostPids].sort((a, b) => Number(a[0]) - Number(b[0])),
        ];
      },
    };
  const [head, ...rest] = parts;
  let p: Process | undefined;
  // Linux: /proc/mounts is a link to self/mounts
  if (head === 'mounts' && rest.length === 0) return { kind: 'link', name: norm, target: () => 'self/mounts' };
  if (head === 'self' || head === 'thread-self') {
    if (rest.length === 0) return { kind: 'link', name: norm, target: () => (head === 'self' ? String(t.pid) : `${t.pid}/task/${t.tid}`) };
    p = t.proc;
    if (head === 'thread-self') return pidNode(t, p, ['task', String(t.tid), ...rest], norm);
  } else if (/^\d+$/.test(head)) {
    p = k.processes.get(Number(head)) ?? k.tasks.get(Number(head))?.proc;
    if (!p || p.reaped) {
      // another host process: the host's /proc shows it (unless --sandbox, a pid namespace of its own)
      if (k.isHostPid(Number(head))) return null;
      fail(E.ENOENT);
    }
  } else return null;
  return pidNode(t, p, rest, norm);
}

function nodeStat(t: IoContext, n: ProcNode): StatFields {
  const now = Date.now();
  let ino = 0;
  for (const c of n.name) ino = (ino * 31 + c.charCodeAt(0)) >>> 0;
  const fdLink = n.kind === 'link' && n.fdMode !== undefined;
  const mode = n.kind === 'dir' ? 0o040555 : n.kind === 'link' ? 0o120000 | (fdLink ? n.fdMode! : 0o777) : 0o100444;
  return { dev: PROC_DEV, ino: ino || 1, mode, nlink: n.kind === 'dir' ? 2 : 1, uid: t.cred.euid, gid: t.cred.egid, rdev: 0, size: fdLink ? 64 : 0, blksize: 1024, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now };
}

interface MountLine {
  source: string;
  point: string;
  type: string;
  opts: string;
}

const unescape = (f: string): string => f.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
const escape = (p: string): string => p.replace(/[ \t\n\\]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));

function hostMounts(): MountLine[] {
  try {
    return readFileSync('/proc/self/mounts', 'latin1')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [source, point, type, opts] = l.split(' ');
        return { source: unescape(source), point: unescape(point), type, opts };
      });
  } catch {
    return [];
  }
}

const under = (p: string, dir: string): boolean => dir === '/' || p === dir || p.startsWith(dir + '/');

/**
 * /proc/mounts: the guest's mount table in Linux's format. A host directory
 * shows as the host file system holding it, with the host's mounts below it
 * that no guest mount hides.
 */
function mountsText(t: Task): Buffer {
  const mounts = t.kernel.vfs.visibleMounts();
  const host = mounts.some((m) => m.fs instanceof HostFs) ? hostMounts() : [];
  const hidden = (guestPath: string, self: Mount): boolean => mounts.some((m) => m !== self && m.path !== '/' && under(guestPath, m.path) && !under(self.path, m.path));
  const lines: string[] = [];
  const add = (l: MountLine, ro: boolean): void => {
    const opts = ro ? l.opts.replace(/^rw\b/, 'ro') : l.opts;
    lines.push(`${escape(l.source)} ${escape(l.point)} ${l.type} ${opts} 0 0\n`);
  };
  for (const m of mounts) {
    if (!(m.fs instanceof HostFs)) {
      add({ source: m.opts.source ?? m.fs.type, point: m.path, type: m.fs.type, opts: 'rw,relatime' }, m.readonly);
      continue;
    }
    const root = m.fs.hostRoot;
    const base = host.filter((h) => under(root, h.point)).reduce<MountLine | null>((best, h) => (best === null || h.point.length >= best.point.length ? h : best), null);
    add(base ? { ...base, point: m.path } : { source: m.opts.source ?? root, point: m.path, type: 'hostfs', opts: 'rw' }, m.readonly);
    for (const h of host) {
      if (h.point === root || !under(h.point, root) || h.point === base?.point) continue;
      const g = m.path === '/' ? h.point.slice(root === '/' ? 0 : root.length) : m.path + h.point.slice(root.length);
      if (!hidden(g, m)) add({ ...h, point: g }, m.readonly);
    }
  }
  return Buffer.from(lines.join(''), 'latin1');
}

/** An open file that has no path (a pipe, an inherited host fd), as /proc/<pid>/fd/N leads to it. */
class AnonNode extends VNode {
  readonly type: number;
  readonly key: string;
  constructor(
    readonly fs: FileSystem,
    private f: FileDescription,
    name: string,
  ) {
    super();
    this.key = name;
    this.type = f instanceof PipeEnd ? 0o010000 : 0o100000;
  }
  stat(t: IoContext): Uint8Array {
    return this.f.statBytes(t);
  }
  parent(): VNode {
    return this;
  }
  access(): void {}
  open(t: IoContext, flags: number): FileDescription {
    const f = this.f;
    if (f instanceof PipeEnd) return new PipeEnd(f.pipe, flags);
    if (f instanceof HostFile) {
      // the host reopens its own fd (a terminal, a host pipe or file elfrun was given)
      const fd = host.openat(-100, Buffer.from(`/proc/self/fd/${f.hostFd}\0`), toHostOpenFlags(t.arch.name, flags) | O_CLOEXEC, 0);
      if (fd < 0) fail(-fd);
      return new HostFile(fd, flags & ~O_CLOEXEC, f.path, null, t.vfs.writers);
    }
    return fail(E.ENXIO);
  }
}

/** The place an open file is at: where it was opened, or a pathless node of its own (pipes). */
export function fdLoc(t: Task, f: FileDescription): Loc {
  return f.loc ?? anonLoc(t, f, fdTarget(f));
}

function anonLoc(t: Task, f: FileDescription, name: string): Loc {
  const procMnt = t.kernel.vfs.mounts.find((m) => m.fs instanceof ProcFs) ?? t.kernel.vfs.root.mnt;
  return { mnt: procMnt, node: new AnonNode(procMnt.fs, f, name), path: fdTarget(f) };
}

const PROC_SUPER_MAGIC = 0x9fa0;

/** The proc file system: guest processes from the kernel's tables, the rest from the host's /proc. */
export class ProcFs extends FileSystem {
  readonly type = 'proc';
  constructor(private readonly kernel: Kernel) {
    super();
  }
  /** the task behind a caller: procfs shows what the kernel knows of it */
  task(t: IoContext): Task {
    return this.kernel.tasks.get(t.tid)!;
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
    b.writeBigInt64LE(255n, 64);
    b.writeBigInt64LE(4096n, 72);
    b.writeBigInt64LE(0x20n | 0x2n | 0x4n | 0x8n, 80); // relatime, nosuid, nodev, noexec
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
    const n = super.lookup(t, name) as HostNode;
    return new ProcHostNode(this.fs, n.path, n.type);
  }
  override open(t: IoContext, flags: number, loc: Loc): FileDescription {
    if ((flags & 3) !== O_RDONLY) fail(E.EACCES); // the host's /proc stays the host's
    return super.open(t, flags, loc);
  }
}

const KIND_TYPE = { file: S_IFREG, link: S_IFLNK, dir: S_IFDIR };

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
    const f = openProc(this.pn(t), flags);
    f.loc = loc;
    return f;
  }
  access(t: IoContext, mode: number): void {
    const n = this.pn(t);
    if (mode & 2 /* W_OK */) fail(E.EACCES);
    if (mode & 1 /* X_OK */ && n.kind === 'file') fail(E.EACCES);
  }
}

/** An open procfs file or directory: content captured at open, as Linux's seq_file reads do. */
export class ProcFile extends FileDescription {
  private pos = 0;
  private data: Buffer | null = null;
  constructor(
    readonly node: ProcNode,
    flags: number,
  ) {
    super(flags);
  }
  get path(): string {
    return this.node.name;
  }
  private bytes(): Buffer {
    if (this.node.kind !== 'file') fail(E.EISDIR);
    this.data ??= this.node.content();
    return this.data;
  }
  override read(t: IoContext, addr: number, len: number): number {
    const b = this.bytes();
    const n = Math.max(0, Math.min(len, b.length - this.pos));
    if (n > 0) t.mm.write(addr, b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return n;
  }
  override pread(t: IoContext, addr: number, len: number, off: number): number {
    const b = this.bytes();
    const n = Math.max(0, Math.min(len, b.length - off));
    if (n > 0) t.mm.write(addr, b.subarray(off, off + n));
    return n;
  }
  override lseek(off: number, whence: number): number {
    const base = whence === 0 ? 0 : whence === 1 ? this.pos : whence === 2 && this.node.kind === 'file' ? this.bytes().length : fail(E.EINVAL);
    if (base + off < 0) fail(E.EINVAL);
    this.pos = base + off;
    return this.pos;
  }
  override getdents64(t: IoContext, addr: number, len: number): number {
    if (this.node.kind !== 'dir') fail(E.ENOTDIR);
    const entries: Array<[string, number, number]> = [['.', DT_DIR, 0], ['..', DT_DIR, 0], ...this.node.entries().map(([n, ty]): [string, number, number] => [n, ty, 0])];
    for (const e of entries) {
      let ino = 0;
      for (const c of e[0]) ino = (ino * 31 + c.charCodeAt(0)) >>> 0;
      e[2] = ino || 1;
    }
    return writeDirents(t, addr, len, entries, { offset: this.pos }, (p) => (this.pos = p));
  }
  override statBytes(t: IoContext): Uint8Array {
    return hostStatBytes(nodeStat(t, this.node));
  }
  override kread(_t: IoContext, s: Scratch, len: number, off: number | null): number {
    const b = this.bytes();
    const from = off ?? this.pos;
    const out = b.subarray(from, Math.min(b.length, from + len));
    s.bytes.set(out);
    if (off === null) this.pos += out.length;
    return out.length;
  }
}

export function openProc(n: ProcNode, flags: number): ProcFile {
  if (n.kind === 'link') fail(E.ELOOP);
  if ((flags & 3) !== O_RDONLY) fail(E.EACCES);
  return new ProcFile(n, flags);
}
