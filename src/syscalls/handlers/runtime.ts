// Small calls runtimes make at start-up or in their allocators:
// personality, ioprio_get/ioprio_set, membarrier and mincore.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { touchedPages } from '../../host/libc.js';
import { partial, supported, type Def } from './util.js';

const PAGE = 4096;
const CAP_SYS_ADMIN = 1n << 21n;
const CAP_SYS_NICE = 1n << 23n;

// ---- personality ----------------------------------------------------------

/** personality(2): 0xffffffff asks; anything else is the new value. The old one is returned. */
function personality(t: Task, persona: number): number {
  const old = t.personality;
  if (persona !== 0xffffffff) t.personality = persona >>> 0;
  return old;
}

// ---- ioprio ---------------------------------------------------------------

const IOPRIO_WHO_PROCESS = 1;
const IOPRIO_WHO_PGRP = 2;
const IOPRIO_WHO_USER = 3;
const IOPRIO_CLASS_NONE = 0;
const IOPRIO_CLASS_RT = 1;
const IOPRIO_CLASS_BE = 2;
const IOPRIO_CLASS_IDLE = 3;

/** Linux's ioprio_check_cap: a known class, no level with IOPRIO_CLASS_NONE, CAP_SYS_NICE or CAP_SYS_ADMIN for real-time. */
function checkIoprio(t: Task, ioprio: number): void {
  const cls = (ioprio >> 13) & 7;
  const level = ioprio & 7;
  switch (cls) {
    case IOPRIO_CLASS_RT:
      if (!(t.cred.caps.eff & (CAP_SYS_NICE | CAP_SYS_ADMIN))) fail(E.EPERM);
      break;
    case IOPRIO_CLASS_BE:
    case IOPRIO_CLASS_IDLE:
      break;
    case IOPRIO_CLASS_NONE:
      if (level !== 0) fail(E.EINVAL);
      break;
    default:
      fail(E.EINVAL);
  }
}

/** The threads a (which, who) pair names: ESRCH for none, EINVAL for another `which`. */
function ioprioTargets(t: Task, which: number, who: number): Task[] {
  const live = (): Task[] => [...t.kernel.tasks.values()].filter((x) => x.state !== 'dead');
  let out: Task[];
  if (which === IOPRIO_WHO_PROCESS) {
    const th = who === 0 ? t : t.kernel.tasks.get(who);
    out = th === undefined || th.state === 'dead' ? [] : [th];
  } else if (which === IOPRIO_WHO_PGRP) out = live().filter((x) => x.proc.pgid === (who === 0 ? t.proc.pgid : who));
  else if (which === IOPRIO_WHO_USER) out = live().filter((x) => x.proc.cred.ruid === (who === 0 ? t.cred.ruid : who));
  else return fail(E.EINVAL);
  if (out.length === 0) fail(E.ESRCH);
  return out;
}

function ioprioSet(t: Task, which: number, who: number, ioprio: number): number {
  checkIoprio(t, ioprio);
  for (const th of ioprioTargets(t, which, who)) {
    // another user's thread needs CAP_SYS_NICE (Linux's set_task_ioprio)
    const o = th.proc.cred;
    if (o.ruid !== t.cred.euid && o.ruid !== t.cred.ruid && !(t.cred.caps.eff & CAP_SYS_NICE)) fail(E.EPERM);
    th.ioprio = ioprio & 0xffff;
  }
  return 0;
}

/** ioprio_get: the thread's value; for a group or user, the best (lowest) of theirs, as Linux's ioprio_best. */
const ioprioGet = (t: Task, which: number, who: number): number => Math.min(...ioprioTargets(t, which, who).map((th) => th.ioprio));

// ---- membarrier -----------------------------------------------------------

const MEMBARRIER_CMD_QUERY = 0;
const MEMBARRIER_CMD_GLOBAL = 1;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED = 2;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED = 4;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED = 8;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 16;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE = 32;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE = 64;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 128;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256;
const MEMBARRIER_CMD_GET_REGISTRATIONS = 512;
const MEMBARRIER_CMD_FLAG_CPU = 1;
/** every command, as a Linux 6.3+ kernel without nohz_full answers MEMBARRIER_CMD_QUERY */
const MEMBARRIER_CMD_BITMASK = 0x3ff;

/**
 * membarrier(2). elfrun runs one guest thread at a time and switches
 * between them only at syscalls or block boundaries, so every barrier is
 * already satisfied on return; what remains is Linux's rules: the flags,
 * and EPERM for a private expedited command the address space has not
 * registered for.
 */
function membarrier(t: Task, cmd: number, flags: number): number {
  if (cmd === MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ? flags !== 0 && flags !== MEMBARRIER_CMD_FLAG_CPU : flags !== 0) fail(E.EINVAL);
  const mm = t.mm;
  const registered = (reg: number): number => (mm.membarrier & reg ? 0 : fail(E.EPERM));
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY:
      return MEMBARRIER_CMD_BITMASK;
    case MEMBARRIER_CMD_GLOBAL:
    case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
      return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED:
      return registered(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE:
      return registered(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE);
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
      return registered(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ);
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
      mm.membarrier |= cmd;
      return 0;
    case MEMBARRIER_CMD_GET_REGISTRATIONS:
      return mm.membarrier;
    default:
      return fail(E.EINVAL);
  }
}

// ---- mincore --------------------------------------------------------------

/**
 * mincore(2): a byte per page, bit 0 set if the page is resident. The
 * answer is the host's for the host memory behind each VMA: an anonymous
 * page is resident once touched (and again not after MADV_DONTNEED), a
 * shared one while its memfd holds it. As Linux, the vector is written a
 * VMA at a time, so a hole (ENOMEM) comes after what precedes it is written.
 */
function mincore(t: Task, addr: number, len: number, vecAddr: number): number {
  if (addr % PAGE !== 0) fail(E.EINVAL);
  if (addr + len > t.mm.layout.taskSize) fail(E.ENOMEM);
  let pages = Math.ceil(len / PAGE);
  let cur = addr;
  let out = vecAddr;
  while (pages > 0) {
    const v = t.mm.find(cur) ?? fail(E.ENOMEM);
    const end = Math.min(v.end, cur + pages * PAGE);
    const n = (end - cur) / PAGE;
    const vec = touchedPages(v.hostAddr(cur), end - cur);
    // with swap on the host cannot tell touched pages from others: all resident
    t.mm.write(out, vec === null ? new Uint8Array(n).fill(1) : vec.map((b) => b & 1));
    cur = end;
    out += n;
    pages -= n;
  }
  return 0;
}

export const runtimeDefs: Record<string, Def> = {
  personality: partial(['hex'], (t, a) => personality(t, a.u32(0)), 'the value is kept, inherited and reported (/proc/<pid>/personality); of its flags only ADDR_NO_RANDOMIZE has its effect, trivially (elfrun never randomizes its layout): READ_IMPLIES_EXEC, ADDR_COMPAT_LAYOUT, UNAME26, STICKY_TIMEOUTS, MMAP_PAGE_ZERO and the ADDR_LIMIT_* flags change nothing'),
  ioprio_set: partial(['int', 'int', 'hex'], (t, a) => ioprioSet(t, a.i32(0), a.i32(1), a.i32(2)), 'kept and checked as Linux checks them, inherited by fork; the host\'s I/O scheduler is not told'),
  ioprio_get: supported(['int', 'int'], (t, a) => ioprioGet(t, a.i32(0), a.i32(1))),
  membarrier: supported(['int', 'hex', 'int'], (t, a) => membarrier(t, a.i32(0), a.u32(1)), 'one guest thread runs at a time, so every barrier holds on return; registrations per address space, kept by fork'),
  mincore: partial(['ptr', 'size', 'ptr'], (t, a) => mincore(t, a.ptr(0), a.size(1), a.ptr(2)), 'the host\'s residency of elfrun\'s memory behind each mapping (a file mapping\'s pages are elfrun\'s copy, not the page cache)'),
};
