// The per-process entries of /proc/<pid>/ that a process (or root) may
// write: oom_score_adj and its legacy oom_adj, coredump_filter,
// timerslack_ns, comm, clear_refs; and those that read a fixed answer of the
// guest's own kernel: oom_score, loginuid, sessionid, personality, wchan,
// the user namespace's maps and setgroups. Each parses its input as the
// kernel does (kstrtoint and friends) and fails with the kernel's errno.
import { readFileSync } from 'node:fs';
import type { Process } from '../proc/process.js';
import type { Task } from '../proc/task.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import type { IoContext } from '../fs/context.js';
import type { ProcNode } from './node.js';
import { residentPages } from './memory.js';

/** CAP_SYS_RESOURCE (linux/capability.h): lowers oom_score_adj below its floor */
const CAP_SYS_RESOURCE = 24n;
/** CAP_SYS_NICE: sets another process's timer slack */
const CAP_SYS_NICE = 23n;
const OOM_SCORE_ADJ_MIN = -1000;
const OOM_SCORE_ADJ_MAX = 1000;
/** oom_adj's range: OOM_DISABLE .. OOM_ADJUST_MAX */
const OOM_DISABLE = -17;
const OOM_ADJUST_MAX = 15;
/** PROC_NUMBUF: the oom and clear_refs writers read at most 12 bytes */
const PROC_NUMBUF = 13;
/** TASK_COMM_LEN */
const TASK_COMM_LEN = 16;
/** coredump_filter's bits (MMF_DUMP_FILTER_BITS) */
const DUMP_FILTER_MASK = 0x1ff;
/** the timer slack a task starts with, and gets back by writing 0 */
const DEFAULT_TIMER_SLACK_NS = 50000;

const capable = (t: IoContext, cap: bigint): boolean => (t.cred.caps.eff & (1n << cap)) !== 0n;

/**
 * The kernel's kstrto* parse: an optional sign ('-' only when signed), then
 * digits in `base` (0: a 0x prefix is hex, a leading 0 octal), then at most
 * one newline. EINVAL for anything else, ERANGE past `max`.
 */
export function kstrto(s: string, base: 0 | 10, signed: boolean, max: bigint): bigint {
  let str = s.endsWith('\n') ? s.slice(0, -1) : s;
  let neg = false;
  if (str.startsWith('+')) str = str.slice(1);
  else if (str.startsWith('-') && signed) {
    neg = true;
    str = str.slice(1);
  }
  let radix: number = base === 0 ? 10 : base;
  if (base === 0 && /^0[xX][0-9a-fA-F]/.test(str)) {
    radix = 16;
    str = str.slice(2);
  } else if (base === 0 && str.length > 1 && str.startsWith('0')) radix = 8;
  const digits = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!digits.test(str)) fail(E.EINVAL);
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : '';
  const v = BigInt(prefix + str);
  if (neg ? v > max + 1n : v > max) fail(E.ERANGE);
  return neg ? -v : v;
}

/** strstrip: leading and trailing white space off */
const strip = (b: Buffer): string => b.toString('latin1').split('\0')[0].trim();

/** An int written to an oom or clear_refs file: at most 12 bytes, stripped, kstrtoint (base 0 for the oom files). */
function numbuf(data: Buffer, base: 0 | 10): number {
  return Number(kstrto(strip(data.subarray(0, PROC_NUMBUF - 1)), base, true, 0x7fffffffn));
}

/** __set_oom_adj: a new oom_score_adj, refused below the floor (legacy oom_adj: below the current value) without CAP_SYS_RESOURCE. */
function setOomAdj(t: IoContext, p: Process, adj: number, legacy: boolean): void {
  const s = p.tunables;
  const floor = legacy ? s.oomScoreAdj : s.oomScoreAdjMin;
  if (adj < floor && !capable(t, CAP_SYS_RESOURCE)) fail(E.EACCES);
  s.oomScoreAdj = adj;
  if (!legacy && capable(t, CAP_SYS_RESOURCE)) s.oomScoreAdjMin = adj;
}

/** RAM plus swap, in pages: what oom_score is a share of */
function totalPages(): number {
  try {
    const m = readFileSync('/proc/meminfo', 'latin1');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(m)?.[1] ?? 0);
    return Math.max(1, Math.floor((kb('MemTotal') + kb('SwapTotal')) / 4));
  } catch {
    return 1;
  }
}

/** proc_oom_score: (1000 + badness * 1000 / totalpages) * 2 / 3, badness being the resident pages plus the adjustment's share; 0 when unkillable. */
function oomScore(p: Process): number {
  const adj = p.tunables.oomScoreAdj;
  if (adj === OOM_SCORE_ADJ_MIN) return 0;
  const total = totalPages();
  const rss = p.mm.space.vmas.reduce((n, v) => n + residentPages(v).resident, 0);
  // (the adjustment is in thousandths of totalpages, rounded down first, as oom_badness does)
  const badness = rss + adj * Math.trunc(total / 1000);
  return Math.trunc(((1000 + Math.trunc((badness * 1000) / total)) * 2) / 3);
}

/** the same thread group as the caller */
const own = (t: Task, p: Process): boolean => t.proc === p;

/** The files of this module: name -> its node (content, mode, writer) for process `p` seen by `t`. */
export const TUNABLES: Record<string, (t: Task, p: Process, path: string) => ProcNode> = {
  oom_score: (_t, p, name) => ({ kind: 'file', name, content: () => Buffer.from(`${oomScore(p)}\n`) }),
  oom_score_adj: (_t, p, name) => ({
    kind: 'file',
    name,
    mode: 0o644,
    content: () => Buffer.from(`${p.tunables.oomScoreAdj}\n`),
    write: (t, data) => {
      const v = numbuf(data, 0);
      if (v < OOM_SCORE_ADJ_MIN || v > OOM_SCORE_ADJ_MAX) fail(E.EINVAL);
      setOomAdj(t, p, v, false);
      return Math.min(data.length, PROC_NUMBUF - 1);
    },
  }),
  // the legacy scale: -17..15, 15 being the maximum and the rest scaled by 1000/17
  oom_adj: (_t, p, name) => ({
    kind: 'file',
    name,
    mode: 0o644,
    content: () => {
      const adj = p.tunables.oomScoreAdj;
      return Buffer.from(`${adj === OOM_SCORE_ADJ_MAX ? OOM_ADJUST_MAX : Math.trunc((adj * -OOM_DISABLE) / OOM_SCORE_ADJ_MAX)}\n`);
    },
    write: (t, data) => {
      const v = numbuf(data, 0);
      if (v < OOM_DISABLE || v > OOM_ADJUST_MAX) fail(E.EINVAL);
      setOomAdj(t, p, v === OOM_ADJUST_MAX ? OOM_SCORE_ADJ_MAX : Math.trunc((v * OOM_SCORE_ADJ_MAX) / -OOM_DISABLE), true);
      return Math.min(data.length, PROC_NUMBUF - 1);
    },
  }),
  coredump_filter: (_t, p, name) => ({
    kind: 'file',
    name,
    mode: 0o644,
    content: () => Buffer.from(`${p.tunables.coredumpFilter.toString(16).padStart(8, '0')}\n`),
    write: (_t2, data) => {
      if (data.length > 127) fail(E.EINVAL);
      const v = kstrto(data.toString('latin1'), 0, false, 0xffffffffn);
      p.tunables.coredumpFilter = Number(v) & DUMP_FILTER_MASK;
      return data.length;
    },
  }),
  timerslack_ns: (_t, p, name) => ({
    kind: 'file',
    name,
    mode: 0o666,
    content: () => Buffer.from(`${p.tunables.timerSlackNs}\n`),
    write: (t, data) => {
      if (data.length > 127) fail(E.EINVAL);
      const v = kstrto(data.toString('latin1'), 10, false, 0xffffffffffffffffn);
      if (!own(t as Task, p) && !capable(t, CAP_SYS_NICE)) fail(E.EPERM);
      p.tunables.timerSlackNs = v === 0n ? DEFAULT_TIMER_SLACK_NS : Number(v);
      return data.length;
    },
  }),
  // the name up to 15 bytes, newline and all, as Linux keeps it; only the process itself may rename it
  comm: (_t, p, name) => ({
    kind: 'file',
    name,
    mode: 0o644,
    content: () => Buffer.from(`${p.comm}\n`, 'latin1'),
    write: (t, data) => {
      if (!own(t as Task, p)) fail(E.EINVAL);
      p.comm = data.subarray(0, TASK_COMM_LEN - 1).toString('latin1').split('\0')[0];
      return data.length;
    },
  }),
  // write-only: 1..5 clear the referenced or soft-dirty bits, which elfrun does not keep (Referenced is Rss)
  clear_refs: (_t, _p, name) => ({
    kind: 'file',
    name,
    mode: 0o200,
    content: () => fail(E.EINVAL),
    write: (_t2, data) => {
      const v = numbuf(data, 10);
      if (v < 1 || v > 5) fail(E.EINVAL);
      return data.length;
    },
  }),
  // no audit login: the unset ids; writing needs CAP_AUDIT_CONTROL, which the guest is not given
  loginuid: (_t, _p, name) => ({ kind: 'file', name, mode: 0o644, content: () => Buffer.from('4294967295'), write: () => fail(E.EPERM) }),
  sessionid: (_t, _p, name) => ({ kind: 'file', name, content: () => Buffer.from('4294967295') }),
  // the thread group leader's personality(2), as %08x
  personality: (_t, p, name) => ({ kind: 'file', name, mode: 0o400, content: () => Buffer.from(`${(([...p.threads].find((th) => th.tid === p.pid) ?? [...p.threads][0])?.personality ?? 0).toString(16).padStart(8, '0')}\n`) }),
  // Linux shows 0 to everyone since 5.x (no kernel symbol names)
  wchan: (_t, _p, name) => ({ kind: 'file', name, content: () => Buffer.from('0') }),
  // the initial user namespace: the identity map; a write there is EPERM
  uid_map: (_t, _p, name) => ({ kind: 'file', name, mode: 0o644, content: () => Buffer.from(`${'0'.padStart(10)} ${'0'.padStart(10)} ${'4294967295'.padStart(10)}\n`), write: () => fail(E.EPERM) }),
  gid_map: (_t, _p, name) => ({ kind: 'file', name, mode: 0o644, content: () => Buffer.from(`${'0'.padStart(10)} ${'0'.padStart(10)} ${'4294967295'.padStart(10)}\n`), write: () => fail(E.EPERM) }),
  // "allow" is what the initial namespace has; "deny" there is EPERM, anything else EINVAL
  setgroups: (_t, _p, name) => ({
    kind: 'file',
    name,
    mode: 0o644,
    content: () => Buffer.from('allow\n'),
    write: (_t2, data) => {
      const m = /^(allow|deny)\s*$/.exec(data.toString('latin1').split('\0')[0]);
      if (m === null) fail(E.EINVAL);
      if (m[1] === 'deny') fail(E.EPERM);
      return data.length;
    },
  }),
  // the initial time namespace: no offsets, and they are frozen (a write is EACCES)
  timens_offsets: (_t, _p, name) => ({ kind: 'file', name, mode: 0o644, content: () => Buffer.from(['monotonic', 'boottime'].map((c) => `${c.padEnd(10)} ${'0'.padStart(10)} ${'0'.padStart(9)}\n`).join('')), write: () => fail(E.EACCES) }),
  projid_map: (_t, _p, name) => ({ kind: 'file', name, mode: 0o644, content: () => Buffer.from(`${'0'.padStart(10)} ${'0'.padStart(10)} ${'4294967295'.padStart(10)}\n`), write: () => fail(E.EPERM) }),
};
