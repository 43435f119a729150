// /proc/<pid>/ and /proc/<pid>/task/<tid>/: the entries of one process, as a
// table of small named builders (the writable ones in tunables.ts, memory's
// in memory.ts, limits, sched and ns/ in pidinfo.ts). Files are made when opened; fd/ and
// fdinfo/ list the process's open files; exe, cwd and root are "magic"
// links that lead to the place itself, without a path walk.
import { readFileSync } from 'node:fs';
import type { Task } from '../proc/task.js';
import type { Process } from '../proc/process.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { DT_DIR, DT_LNK, DT_REG } from '../abi/stat.js';
import type { Loc } from '../fs/vfs.js';
import { PROT_WRITE } from '../abi/mman.js';
import { isAnon } from '../mm/vma.js';
import { anonLoc, fdInfo, fdTarget } from './fds.js';
import { mountinfoText, mountsText } from './mounts.js';
import { memAt, memSummary, pagemapAt, rssOf, smapsRollupText, smapsText, statmText } from './memory.js';
import { netEntry } from './net.js';
import { attrEntry, limitsText, nsEntry, schedstatText, schedText } from './pidinfo.js';
import { TUNABLES } from './tunables.js';
import type { ProcNode } from './node.js';
import { auxvBytes, statText, statusText } from './text.js';

/** What an entry builder is given: the caller, the process shown, and the entry's /proc path. */
interface PidEntry {
  readonly t: Task;
  readonly p: Process;
  readonly path: string;
  /** the thread of a task/<tid>/ directory, null for the process's own */
  readonly tid: number | null;
}

/** Guest memory of the process between two addresses (argv, the environment); empty if unreadable. */
function mem(p: Process, start: number, end: number): Buffer {
  if (end <= start) return Buffer.alloc(0);
  try {
    return p.mm.space.read(start, end - start);
  } catch {
    return Buffer.alloc(0);
  }
}

/** The regular files, in the order a listing shows them: name -> its content. */
const FILES: Record<string, (e: PidEntry) => Buffer> = {
  cmdline: ({ p }) => (p.start ? mem(p, p.start.argStart, p.start.argEnd) : Buffer.alloc(0)),
  environ: ({ p }) => (p.start ? mem(p, p.start.envStart, p.start.envEnd) : Buffer.alloc(0)),
  stat: ({ t, p, tid }) => {
    const k = t.kernel;
    const view = { hostPpid: k.hostPpid, ttyNr: k.ttyNr, initSid: k.init?.sid ?? null, foreground: () => k.terminal.foreground() };
    return Buffer.from(statText(p, view, rssOf(p), tid === null ? null : thread(t, p, tid)));
  },
  status: ({ t, p }) => Buffer.from(statusText(p, t.kernel.hostPpid, memSummary(p))),
  maps: ({ p }) => Buffer.from(p.mm.space.maps().map((l) => l + '\n').join('')),
  auxv: ({ p }) => auxvBytes(p.start?.auxv ?? []),
  mounts: ({ t }) => mountsText(t.kernel.vfs),
  mountinfo: ({ t }) => mountinfoText(t.kernel.vfs),
  // one line per mount; no file system of the guest's has statistics to add (NFS's)
  mountstats: ({ t }) =>
    Buffer.from(
      mountsText(t.kernel.vfs)
        .toString('latin1')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [source, point, type] = l.split(' ');
          return `device ${source} mounted on ${point} with fstype ${type}\n`;
        })
        .join(''),
      'latin1',
    ),
  // the read and write calls' counts (syscalls/handlers/fs.ts); storage I/O is the host's, not counted per guest process
  io: ({ p }) => {
    const c = p.ioac;
    return Buffer.from(`rchar: ${c.rchar}\nwchar: ${c.wchar}\nsyscr: ${c.syscr}\nsyscw: ${c.syscw}\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n`);
  },
  // the POSIX timers (timer_create), of which elfrun has none: an empty list
  timers: () => Buffer.alloc(0),
  // the root of the (empty) cgroup2 hierarchy at /sys/fs/cgroup
  cgroup: () => Buffer.from('0::/\n'),
  // and in its cpuset
  cpuset: () => hostFile('/proc/self/cpuset'),
  limits: ({ p }) => Buffer.from(limitsText(p)),
  statm: ({ p }) => Buffer.from(statmText(p)),
  smaps: ({ p }) => Buffer.from(smapsText(p)),
  smaps_rollup: ({ p }) => Buffer.from(smapsRollupText(p)),
  schedstat: ({ t, p, tid }) => Buffer.from(schedstatText(thread(t, p, tid))),
};

/** Files Linux keeps private to the owner (0400), or lets the owner write (sched: 0644). */
const FILE_MODES: Record<string, number> = { auxv: 0o400, environ: 0o400, mountstats: 0o400, io: 0o400 };

/** the files built below rather than from a table: sched, and those read at an offset */
const AT_OFFSET = ['sched', 'mem', 'pagemap'];

/** The thread a /proc/<pid>/task/<tid>/ entry shows (the leader for /proc/<pid>/). */
function thread(t: Task, p: Process, tid: number | null): Task {
  const all = [...p.threads];
  return all.find((x) => x.tid === (tid ?? p.pid)) ?? all[0] ?? t;
}

function hostFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return Buffer.alloc(0);
  }
}

/** The magic links: name -> [its target's text, where it leads]. */
const LINKS: Record<string, (e: PidEntry) => [() => string, () => Loc | null]> = {
  exe: ({ p }) => [() => p.exePath, () => p.exe],
  cwd: ({ t, p }) => [() => t.kernel.vfs.shownPath(t, p.fs.cwd), () => p.fs.cwd],
  root: ({ t, p }) => [() => t.kernel.vfs.shownPath(t, p.fs.root ?? t.kernel.vfs.root), () => p.fs.root ?? t.kernel.vfs.root],
};

/** /proc/<pid>/: its files, links and the fd, fdinfo and task directories. */
function pidDir(path: string, thread: boolean): ProcNode {
  return {
    kind: 'dir',
    name: path,
    entries: () =>
      [
        ...Object.keys(FILES).map((n): [string, number] => [n, DT_REG]),
        ...Object.keys(TUNABLES).map((n): [string, number] => [n, DT_REG]),
        ...AT_OFFSET.map((n): [string, number] => [n, DT_REG]),
        ...Object.keys(LINKS).map((n): [string, number] => [n, DT_LNK]),
        // a thread's directory has children and no task/
        ...Object.keys(DIRS)
          .filter((n) => !thread || n !== 'task')
          .map((n): [string, number] => [n, DT_DIR]),
        ...(thread ? [['children', DT_REG] as [string, number]] : []),
      ].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  };
}

/** The open fd named by `name` in the process (ENOENT for another name); a path below it is ENOTDIR. */
function openFd(p: Process, more: string[]): number {
  if (more.length > 1) fail(E.ENOTDIR);
  const fd = Number(more[0]);
  if (!Number.isInteger(fd) || !p.fds.has(fd)) fail(E.ENOENT);
  return fd;
}

/** /proc/<pid>/fdinfo/[N]: a listing of the open fds, or fd N's position, flags and inode. */
function fdinfoEntry({ t, p, path }: PidEntry, more: string[]): ProcNode {
  if (more.length === 0) return { kind: 'dir', name: path, entries: () => p.fds.entries().map(([fd]): [string, number] => [String(fd), DT_REG]) };
  const e = p.fds.get(openFd(p, more));
  return { kind: 'file', name: path, content: () => fdInfo(t, e.file, e.cloexec, p.fds) };
}

/** /proc/<pid>/fd/[N]: a listing of the open fds, or a link to fd N's file. */
function fdEntry({ t, p, path }: PidEntry, more: string[]): ProcNode {
  // dr-x------: only the owner lists another process's fds
  if (more.length === 0) return { kind: 'dir', name: path, mode: 0o500, entries: () => p.fds.entries().map(([fd]): [string, number] => [String(fd), DT_LNK]) };
  const f = p.fds.file(openFd(p, more));
  // Linux: r-x for a file open for reading, -wx for writing, size 64
  const fdMode = (f.readable ? 0o500 : 0) | (f.writable ? 0o300 : 0);
  return { kind: 'link', name: path, target: () => fdTarget(f), fdMode, jump: () => f.loc ?? anonLoc(t, f, path) };
}

/** CAP_SYS_ADMIN: map_files/ lookups need it (EPERM) */
const CAP_SYS_ADMIN = 21n;

/** /proc/<pid>/map_files/[start-end]: a link per file mapping to its file (dr-x------; looking one up needs CAP_SYS_ADMIN). */
function mapFilesEntry({ t, p, path }: PidEntry, more: string[]): ProcNode {
  const files = (): Array<{ name: string; file: string; mode: number }> =>
    p.mm.space.vmas
      .filter((v) => !isAnon(v.info) || v.info.shared)
      .map((v) => ({ name: `${v.start.toString(16)}-${v.end.toString(16)}`, file: v.info.name, mode: 0o400 | (v.info.shared && v.prot & PROT_WRITE ? 0o200 : 0) }));
  if (more.length === 0) return { kind: 'dir', name: path, mode: 0o500, entries: () => files().map((f): [string, number] => [f.name, DT_LNK]) };
  if (more.length > 1) fail(E.ENOTDIR);
  if ((t.cred.caps.eff & (1n << CAP_SYS_ADMIN)) === 0n) fail(E.EPERM);
  const f = files().find((x) => x.name === more[0]) ?? fail(E.ENOENT);
  return { kind: 'link', name: path, target: () => f.file, fdMode: f.mode };
}

/** /proc/<pid>/task/[tid/...]: the threads, each a directory like the process's own. */
function taskEntry(e: PidEntry, more: string[]): ProcNode {
  const { p, path } = e;
  if (more.length === 0) return { kind: 'dir', name: path, entries: () => [...p.threads].map((x): [string, number] => [String(x.tid), DT_DIR]), subdirs: () => p.threads.size };
  const tid = Number(more[0]);
  if (![...p.threads].some((x) => x.tid === tid)) fail(E.ENOENT);
  return pidNode(e.t, p, more.slice(1), path, tid);
}

/** The directories below /proc/<pid>/: name -> the node for the rest of the path. */
const DIRS: Record<string, (e: PidEntry, more: string[]) => ProcNode> = {
  fdinfo: fdinfoEntry,
  fd: fdEntry,
  task: taskEntry,
  ns: ({ t, p, path }, more) => nsEntry(t, p, path, more),
  net: ({ t, path }, more) => netEntry(t, path, more),
  map_files: mapFilesEntry,
  attr: ({ path }, more) => attrEntry(path, more),
};

/** The node for `rest` below /proc/<pid>/ of process `p`; `path` is the whole /proc path. */
export function pidNode(t: Task, p: Process, rest: string[], path: string, tid: number | null = null): ProcNode {
  // owned by the process's effective ids, by root while it is not dumpable (prctl PR_SET_DUMPABLE 0), as Linux's task_dump_owner
  const owner = p.dumpable === 1 ? { uid: p.cred.euid, gid: p.cred.egid } : { uid: 0, gid: 0 };
  return { ...entryNode(t, p, rest, path, tid), owner };
}

function entryNode(t: Task, p: Process, rest: string[], path: string, tid: number | null): ProcNode {
  if (rest.length === 0) return tid === null ? { ...pidDir(path, false), tgid: p } : pidDir(path, true);
  const [first, ...more] = rest;
  const e: PidEntry = { t, p, path, tid };
  const dir = Object.hasOwn(DIRS, first) && !(tid !== null && first === 'task') ? DIRS[first] : undefined;
  if (dir !== undefined) return dir(e, more);
  const file = Object.hasOwn(FILES, first) ? FILES[first] : undefined;
  const tunable = Object.hasOwn(TUNABLES, first) ? TUNABLES[first] : undefined;
  if (more.length > 0) fail(file !== undefined || tunable !== undefined || AT_OFFSET.includes(first) || (first === 'children' && tid !== null) ? E.ENOTDIR : E.ENOENT);
  if (file !== undefined) return { kind: 'file', name: path, mode: FILE_MODES[first], content: () => file(e) };
  if (tunable !== undefined) return tunable(t, p, path);
  // read at an offset: the process's memory, its page map
  if (first === 'mem') return { kind: 'file', name: path, mode: 0o600, content: () => Buffer.alloc(0), at: (off, len) => memAt(p, off, len) };
  if (first === 'pagemap') return { kind: 'file', name: path, mode: 0o400, content: () => Buffer.alloc(0), at: (off, len) => pagemapAt(p, p.mm.space.layout.taskSize, off, len) };
  // task/<tid>/children: the children (zombies too), each pid and a space; elfrun keeps them per process, so the leader shows them all
  if (first === 'children' && tid !== null)
    return { kind: 'file', name: path, content: () => Buffer.from(tid === p.pid ? [...p.children].filter((c) => !c.reaped).map((c) => `${c.pid} `).join('') : '') };
  // sched: a write of anything resets its statistics, which elfrun does not keep
  if (first === 'sched') return { kind: 'file', name: path, mode: 0o644, content: () => Buffer.from(schedText(p, thread(t, p, tid))), write: (_t, d) => d.length };
  const link = Object.hasOwn(LINKS, first) ? LINKS[first] : undefined;
  if (link !== undefined) {
    const [target, jump] = link(e);
    return { kind: 'link', name: path, target, jump };
  }
  // any other name does not exist, as in a kernel built without it (docs/procfs.md lists what is left out)
  return fail(E.ENOENT);
}
