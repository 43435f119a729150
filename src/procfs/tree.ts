// The tree under /proc: the root (the host's host-wide entries, the guest's
// processes, and the host's other processes where the guest sees them),
// /proc/self, /proc/thread-self, /proc/mounts, and each /proc/<pid>.
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { Task } from '../proc/task.js';
import type { Process } from '../proc/process.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { DT_DIR, DT_LNK, DT_REG } from '../abi/stat.js';
import type { ProcNode } from './node.js';
import { pidNode } from './pid.js';
import { cpuinfo } from './cpuinfo.js';
import { aioLimits } from '../fs/aio.js';
import { kstrto } from './tunables.js';

/** /proc/sysvipc's files, in Linux's (name) order */
const SYSVIPC = ['msg', 'sem', 'shm'] as const;

/** what mount(2) makes in the guest (syscalls/handlers/mount.ts) */
const GUEST_TYPES = ['sysfs', 'tmpfs', 'proc', 'cgroup2', 'devtmpfs', 'mqueue'];

/** /proc/filesystems: the host's lines for the types the guest can mount. */
function guestFilesystems(): Buffer {
  let host: string[] = [];
  try {
    host = readFileSync('/proc/filesystems', 'latin1').split('\n');
  } catch {
    /* no host list: Linux's order */
  }
  const lines = host.filter((l) => GUEST_TYPES.includes(l.split('\t')[1] ?? ''));
  for (const ty of GUEST_TYPES) if (!lines.some((l) => l.endsWith(`\t${ty}`))) lines.push(`nodev\t${ty}`);
  return Buffer.from(lines.map((l) => l + '\n').join(''), 'latin1');
}

/**
 * The node for an absolute guest path under /proc, or null when the host's
 * /proc answers it (host-wide entries).
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
        const host = all.filter((d) => !/^\d+$/.test(d.name) && d.name !== 'self' && d.name !== 'thread-self' && d.name !== 'mounts' && d.name !== 'net' && d.name !== 'cpuinfo' && d.name !== 'locks' && d.name !== 'filesystems');
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
          ['net', DT_LNK],
          ['cpuinfo', DT_REG],
          ['locks', DT_REG],
          ['filesystems', DT_REG],
          ...[...pids, ...hostPids].sort((a, b) => Number(a[0]) - Number(b[0])),
        ];
      },
    };
  const [head, ...rest] = parts;
  let p: Process | undefined;
  // Linux: /proc/mounts is a link to self/mounts
  if (head === 'mounts' && rest.length === 0) return { kind: 'link', name: norm, target: () => 'self/mounts' };
  // and /proc/net to self/net
  if (head === 'net' && rest.length === 0) return { kind: 'link', name: norm, target: () => 'self/net' };
  // the guest's own UTS names (sethostname): root may write them, as proc_do_uts_string lets it
  if (head === 'sys' && rest.length === 2 && rest[0] === 'kernel' && (rest[1] === 'hostname' || rest[1] === 'domainname')) {
    const which = rest[1] === 'hostname' ? 'nodename' : 'domainname';
    return {
      kind: 'file',
      name: norm,
      mode: 0o644,
      content: () => Buffer.concat([(t.proc.uts ?? k.uts)[which], Buffer.from('\n')]),
      write: (_t, data) => {
        // proc_dostring: the bytes up to a newline or NUL, at most 64 of them
        let end = data.findIndex((b) => b === 0x0a || b === 0);
        if (end < 0) end = data.length;
        (t.proc.uts ?? k.uts)[which] = Buffer.from(data.subarray(0, Math.min(end, 64)));
        return data.length;
      },
    };
  }
  // the guest's AIO counts: aio-nr (read-only) and its limit aio-max-nr, which root may change (proc_doulongvec_minmax)
  if (head === 'sys' && rest.length === 2 && rest[0] === 'fs' && (rest[1] === 'aio-nr' || rest[1] === 'aio-max-nr')) {
    const lim = aioLimits(k.vfs);
    if (rest[1] === 'aio-nr') return { kind: 'file', name: norm, content: () => Buffer.from(`${lim.nr}\n`) };
    return {
      kind: 'file',
      name: norm,
      mode: 0o644,
      content: () => Buffer.from(`${lim.maxNr}\n`),
      write: (_t, data) => {
        const v = kstrto(data.toString('latin1').trim(), 10, false, (1n << 64n) - 1n);
        lim.maxNr = Number(v);
        return data.length;
      },
    };
  }
  // under --max-memory, the guest's memory size is the cap (as a cgroup's limit shows in a container's meminfo)
  if (head === 'meminfo' && rest.length === 0 && k.opts.maxMemory !== undefined)
    return { kind: 'file', name: norm, content: () => Buffer.from(cappedMeminfo(readFileSync('/proc/meminfo', 'latin1'), k.opts.maxMemory!, k.commitRoom())) };
  // the guest's CPU, not the host's
  if (head === 'cpuinfo' && rest.length === 0) return { kind: 'file', name: norm, content: () => cpuinfo(t) };
  // the file system types mount(2) can make in the guest, in the host kernel's order
  if (head === 'filesystems' && rest.length === 0) return { kind: 'file', name: norm, content: () => guestFilesystems() };
  // the guest's locks (a host process's locks are not listed)
  if (head === 'locks' && rest.length === 0) return { kind: 'file', name: norm, content: () => Buffer.from(k.vfs.locks.procLocks()) };
  // the guest's System V IPC objects, not the host's
  if (head === 'sysvipc') {
    if (rest.length === 0) return { kind: 'dir', name: norm, entries: () => SYSVIPC.map((n): [string, number] => [n, DT_REG]) };
    const which = SYSVIPC.find((n) => n === rest[0]);
    if (which === undefined) fail(E.ENOENT);
    if (rest.length > 1) fail(E.ENOTDIR);
    return { kind: 'file', name: norm, content: () => Buffer.from(k.ipc[which].procText(), 'latin1') };
  }
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

/**
 * The host's /proc/meminfo as a memory cgroup's view shows it (lxcfs's
 * way): MemTotal the cap, MemFree and MemAvailable at most what is left of
 * it, no page cache or swap of the guest's own (so that total - free -
 * buffers - cached, what free(1) calls used, is what the guests committed);
 * each line keeps its width.
 */
export function cappedMeminfo(text: string, cap: number, left: number): string {
  const kb = (n: number): number => Math.max(0, Math.floor(n / 1024));
  const set = (line: string, value: (host: number) => number): string => {
    const m = /^([^:]+:)(\s*)(\d+)( kB)$/.exec(line);
    if (m === null) return line;
    const v = String(value(Number(m[3])));
    return m[1] + v.padStart(m[2]!.length + m[3]!.length, ' ') + m[4];
  };
  return text
    .split('\n')
    .map((l) =>
      l.startsWith('MemTotal:')
        ? set(l, () => kb(cap))
        : l.startsWith('MemFree:') || l.startsWith('MemAvailable:')
          ? set(l, (h) => Math.min(h, kb(left)))
          : /^(Buffers|Cached|SwapCached|SwapTotal|SwapFree|SReclaimable|Shmem|Active\(file\)|Inactive\(file\)):/.test(l)
            ? set(l, () => 0)
            : l,
    )
    .join('\n');
}
