// procfs, the per-process part: /proc/self, /proc/thread-self and
// /proc/<pid> show guest processes (the host's /proc would show Node's).
// Host-wide entries (cpuinfo, meminfo, uptime, mounts, sys/...) are the
// host's own and pass through. Until the VFS issue's mount table lands this
// is consulted by the path syscalls before they reach the host.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { Task } from '../proc/task.js';
import type { Process } from '../proc/process.js';
import { E, fail } from '../syscalls/errno.js';
import { Unsupported } from '../syscalls/dispatch.js';
import { FileDescription, HostFile, type IoContext } from './file.js';
import { PipeEnd } from './pipe.js';
import { writeStat, type StatFields } from './stat.js';
import { PROT_WRITE } from '../mm/address-space.js';
import { O_RDONLY } from './flags.js';

export type ProcNode =
  | { kind: 'file'; name: string; content: () => Buffer }
  | { kind: 'link'; name: string; target: () => string; fdMode?: number }
  | { kind: 'dir'; name: string; entries: () => Array<[string, number]> };

const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;
const PROC_DEV = 0x16;

const PER_PID_FILES = ['cmdline', 'comm', 'environ', 'stat', 'status', 'maps', 'auxv', 'mounts'];
const PER_PID_LINKS = ['exe', 'cwd', 'root'];

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
  return [...p.threads].some((t) => t.state === 'runnable') ? 'R' : 'S';
}

function sigmaskHex(m: bigint): string {
  return m.toString(16).padStart(16, '0');
}

function fdTarget(f: FileDescription): string {
  if (f instanceof PipeEnd) return `pipe:[${f.pipe.ino}]`;
  if (f instanceof HostFile) {
    try {
      return readlinkSync(`/proc/self/fd/${f.hostFd}`);
    } catch {
      return f.path;
    }
  }
  if (f instanceof ProcFile) return f.path;
  return 'anon_inode:[unknown]';
}

function pidNode(t: Task, p: Process, rest: string[], path: string): ProcNode {
  const pid = p.pid;
  if (rest.length === 0)
    return {
      kind: 'dir',
      name: path,
      entries: () => [...PER_PID_FILES.map((n): [string, number] => [n, DT_REG]), ...PER_PID_LINKS.map((n): [string, number] => [n, DT_LNK]), ['fd', DT_DIR], ['task', DT_DIR]],
    };
  const [first, ...more] = rest;
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
    return { kind: 'link', name: path, target: () => fdTarget(f), fdMode };
  }
  if (more.length > 0) fail(PER_PID_FILES.includes(first) ? E.ENOTDIR : E.ENOENT);
  const s = p.start;
  switch (first) {
    case 'exe':
      return { kind: 'link', name: path, target: () => p.exePath };
    case 'cwd':
      return { kind: 'link', name: path, target: () => p.fs.cwd };
    case 'root':
      return { kind: 'link', name: path, target: () => '/' };
    case 'cmdline':
      return { kind: 'file', name: path, content: () => (s ? mem(p, s.argStart, s.argEnd) : Buffer.alloc(0)) };
    case 'environ':
      return { kind: 'file', name: path, content: () => (s ? mem(p, s.envStart, s.envEnd) : Buffer.alloc(0)) };
    case 'comm':
      return { kind: 'file', name: path, content: () => Buffer.from(`${p.comm}\n`) };
    case 'maps':
      return { kind: 'file', name: path, content: () => Buffer.from(p.mm.space.maps().map((l) => l + '\n').join('')) };
    case 'mounts':
      return { kind: 'file', name: path, content: () => readFileSync('/proc/self/mounts') };
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
          const f = [pid, `(${p.comm})`, stateChar(p), p.ppid || t.kernel.hostPpid, p.pgid, p.sid, 0, -1, 0x400000, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, p.threads.size, 0, start, vsize, 0, '18446744073709551615', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
          return Buffer.from(f.join(' ') + '\n');
        },
      };
    case 'status':
      return {
        kind: 'file',
        name: path,
        content: () => {
          const uid = t.kernel.uid;
          const gid = process.getgid!();
          const leader = [...p.threads][0];
          const ign = p.sighand.actions.reduce((m, a, sig) => (sig > 0 && a.handler === 1 ? m | (1n << BigInt(sig - 1)) : m), 0n);
          const cgt = p.sighand.actions.reduce((m, a, sig) => (sig > 0 && a.handler > 1 ? m | (1n << BigInt(sig - 1)) : m), 0n);
          const vm = p.mm.space.vmas.reduce((n, v) => n + v.size, 0) >> 10;
          const st = stateChar(p);
          const lines = [
            `Name:\t${p.comm}`,
            `Umask:\t${p.fs.umask.toString(8).padStart(4, '0')}`,
            `State:\t${st} (${{ R: 'running', S: 'sleeping', Z: 'zombie' }[st]})`,
            `Tgid:\t${pid}`,
            `Ngid:\t0`,
            `Pid:\t${pid}`,
            `PPid:\t${p.ppid || t.kernel.hostPpid}`,
            `TracerPid:\t0`,
            `Uid:\t${uid}\t${uid}\t${uid}\t${uid}`,
            `Gid:\t${gid}\t${gid}\t${gid}\t${gid}`,
            `FDSize:\t${Math.max(64, 2 ** Math.ceil(Math.log2(Math.max(1, ...p.fds.entries().map(([fd]) => fd + 1)))))}`,
            `Groups:\t`,
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
      throw new Unsupported(`procfs entry /proc/<pid>/${first}`, E.ENOENT);
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
        const host = readdirSync('/proc', { withFileTypes: true }).filter((d) => !/^\d+$/.test(d.name) && d.name !== 'self' && d.name !== 'thread-self');
        const pids = [...k.processes.values()].filter((p) => !p.reaped).map((p): [string, number] => [String(p.pid), DT_DIR]);
        return [
          ...host.map((d): [string, number] => [d.name, d.isDirectory() ? DT_DIR : d.isSymbolicLink() ? DT_LNK : DT_REG]),
          ['self', DT_LNK],
          ['thread-self', DT_LNK],
          ...pids,
        ];
      },
    };
  const [head, ...rest] = parts;
  let p: Process | undefined;
  if (head === 'self' || head === 'thread-self') {
    if (rest.length === 0) return { kind: 'link', name: norm, target: () => (head === 'self' ? String(t.pid) : `${t.pid}/task/${t.tid}`) };
    p = t.proc;
    if (head === 'thread-self') return pidNode(t, p, ['task', String(t.tid), ...rest], norm);
  } else if (/^\d+$/.test(head)) {
    p = k.processes.get(Number(head)) ?? k.tasks.get(Number(head))?.proc;
    if (!p || p.reaped) fail(E.ENOENT); // not a process of this guest: Linux's pid namespace hides it
  } else return null;
  return pidNode(t, p, rest, norm);
}

/** The absolute guest path a (dirfd, path) pair names, when it can be known without the host. */
export function guestAbsPath(t: Task, dirfd: number, path: string): string | null {
  if (path.startsWith('/')) return path;
  if (dirfd === -100) return posix.join(t.cwd, path);
  const f = t.fds.has(dirfd) ? t.fds.file(dirfd) : null;
  if (f instanceof ProcFile) return posix.join(f.path, path);
  return null;
}

function nodeStat(t: Task, n: ProcNode): StatFields {
  const now = Date.now();
  let ino = 0;
  for (const c of n.name) ino = (ino * 31 + c.charCodeAt(0)) >>> 0;
  const fdLink = n.kind === 'link' && n.fdMode !== undefined;
  const mode = n.kind === 'dir' ? 0o040555 : n.kind === 'link' ? 0o120000 | (fdLink ? n.fdMode! : 0o777) : 0o100444;
  return { dev: PROC_DEV, ino: ino || 1, mode, nlink: n.kind === 'dir' ? 2 : 1, uid: t.kernel.uid, gid: process.getgid!(), rdev: 0, size: fdLink ? 64 : 0, blksize: 1024, blocks: 0, atimeMs: now, mtimeMs: now, ctimeMs: now };
}

export function procStat(t: Task, n: ProcNode, addr: number): void {
  writeStat(t, addr, nodeStat(t, n));
}

/** Follow /proc links (self, exe...) to the node or host path they name. */
export function procFollow(t: Task, n: ProcNode, depth = 0): ProcNode | string {
  if (n.kind !== 'link') return n;
  if (depth > 8) fail(E.ELOOP);
  const target = n.target();
  const abs = target.startsWith('/') ? target : posix.join(posix.dirname(n.name), target);
  const next = procNode(t, abs);
  return next === null ? abs : procFollow(t, next, depth + 1);
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
    const entries: Array<[string, number]> = [['.', DT_DIR], ['..', DT_DIR], ...this.node.entries()];
    let out = 0;
    const recs: Buffer[] = [];
    while (this.pos < entries.length) {
      const [name, type] = entries[this.pos];
      const nb = Buffer.from(name);
      const reclen = (19 + nb.length + 1 + 7) & ~7;
      if (out + reclen > len) {
        if (out === 0) fail(E.EINVAL);
        break;
      }
      const r = Buffer.alloc(reclen);
      let ino = 0;
      for (const c of name) ino = (ino * 31 + c.charCodeAt(0)) >>> 0;
      r.writeBigUInt64LE(BigInt(ino || 1), 0);
      r.writeBigInt64LE(BigInt(this.pos + 1), 8);
      r.writeUInt16LE(reclen, 16);
      r.writeUInt8(type, 18);
      nb.copy(r, 19);
      recs.push(r);
      out += reclen;
      this.pos++;
    }
    t.mm.check(addr, out, PROT_WRITE);
    t.mm.write(addr, Buffer.concat(recs));
    return out;
  }
  override fstat(t: IoContext, addr: number): void {
    procStat(t, this.node, addr);
  }
  /** Up to n bytes from the current position, for sendfile. */
  takeBytes(n: number): Buffer {
    const b = this.bytes();
    const out = b.subarray(this.pos, Math.min(b.length, this.pos + n));
    this.pos += out.length;
    return out;
  }
}

export function openProc(n: ProcNode, flags: number): ProcFile {
  if (n.kind === 'link') fail(E.ELOOP);
  if ((flags & 3) !== O_RDONLY) fail(E.EACCES);
  return new ProcFile(n, flags);
}
