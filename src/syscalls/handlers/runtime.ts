// Small calls runtimes make at start-up or in their allocators:
// personality, ioprio_get/ioprio_set, membarrier and mincore; the shadow-stack
// and uprobe calls, as a kernel whose CPU has neither.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { touchedPages } from '../../host/libc.js';
import { RLIMIT_MEMLOCK } from '../../abi/resource.js';
import { SIG, SIG_DFL, SIG_IGN, SI_KERNEL } from '../../abi/signal.js';
import { faultSiginfo } from '../../proc/signals.js';
import { partial, probe, supported, type Def } from './util.js';

const PAGE = 4096;
const CAP_SYS_ADMIN = 1n << 21n;
const CAP_SYS_NICE = 1n << 23n;

// ---- personality ----------------------------------------------------------

const PER_LINUX32 = 8;

/** personality(2): 0xffffffff asks; anything else is the new value. The old one is returned. */
function personality(t: Task, persona: number): number {
  // arm64 without AArch32 (elfrun runs no 32-bit code) refuses PER_LINUX32, as Linux's arm64 personality does
  if (t.arch.name === 'arm64' && persona !== 0xffffffff && (persona & 0xff) === PER_LINUX32) fail(E.EINVAL);
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
export function checkIoprio(t: Task, ioprio: number): void {
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

// ---- mlock ----------------------------------------------------------------

const CAP_IPC_LOCK = 1n << 14n;
const MLOCK_ONFAULT = 1;
const MCL_CURRENT = 1;
const MCL_FUTURE = 2;
const MCL_ONFAULT = 4;
const VM_LOCKED = 1;
const VM_LOCKONFAULT = 2;

const memlockLimit = (t: Task): bigint => t.rlimits[RLIMIT_MEMLOCK]?.[0] ?? 0n;
const mayLockAll = (t: Task): boolean => (t.cred.caps.eff & CAP_IPC_LOCK) !== 0n;

/** Linux's can_do_mlock: a non-zero RLIMIT_MEMLOCK or CAP_IPC_LOCK, else EPERM. */
function canLock(t: Task): void {
  if (memlockLimit(t) === 0n && !mayLockAll(t)) fail(E.EPERM);
}

/** The page range mlock and munlock work on: [addr rounded down, addr + len rounded up); EINVAL if it wraps (a range past the address space has no VMAs: ENOMEM). */
function lockRange(addr: number, len: number): [number, number] {
  const start = addr - (addr % PAGE);
  const end = Math.ceil((addr + len) / PAGE) * PAGE;
  if (!(end <= 2 ** 64)) fail(E.EINVAL);
  return [start, end];
}

/** mlock and mlock2: RLIMIT_MEMLOCK counts what is locked already once (Linux's count_mm_mlocked_page_nr). */
function mlock(t: Task, addr: number, len: number, flags: number): number {
  if (flags & ~MLOCK_ONFAULT) fail(E.EINVAL);
  canLock(t);
  const [start, end] = lockRange(addr, len);
  if (!mayLockAll(t)) {
    const limit = memlockLimit(t);
    let locked = BigInt(end - start + t.mm.lockedBytes());
    if (locked > limit) locked -= BigInt(t.mm.lockedBytes(start, end));
    if (locked > limit) fail(E.ENOMEM);
  }
  t.mm.lock(start, end, VM_LOCKED | (flags & MLOCK_ONFAULT ? VM_LOCKONFAULT : 0));
  return 0;
}

function munlock(t: Task, addr: number, len: number): number {
  const [start, end] = lockRange(addr, len);
  t.mm.lock(start, end, 0);
  return 0;
}

/** Every VMA gets `bits` (Linux's apply_mlockall_flags over the whole space). */
function lockEvery(t: Task, bits: number): void {
  for (const v of [...t.mm.vmas]) t.mm.lock(v.start, v.end, bits);
}

function mlockall(t: Task, flags: number): number {
  if (flags === 0 || flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || flags === MCL_ONFAULT) fail(E.EINVAL);
  canLock(t);
  if (flags & MCL_CURRENT && !mayLockAll(t) && BigInt(t.mm.vmas.reduce((n, v) => n + v.size, 0)) > memlockLimit(t)) fail(E.ENOMEM);
  const bits = VM_LOCKED | (flags & MCL_ONFAULT ? VM_LOCKONFAULT : 0);
  t.mm.lockFuture = flags & MCL_FUTURE ? bits : 0;
  if (flags & MCL_CURRENT) lockEvery(t, bits);
  return 0;
}

function munlockall(t: Task): number {
  t.mm.lockFuture = 0;
  lockEvery(t, 0);
  return 0;
}

/**
 * mmap with MAP_LOCKED, or after mlockall(MCL_FUTURE): the new mapping is
 * locked (EPERM without the right to lock, EAGAIN past RLIMIT_MEMLOCK, as
 * Linux's mlock_future_ok, checked before mapping).
 */
export function mmapLocked(t: Task, mapLocked: boolean, len: number, map: () => number): number {
  const bits = mapLocked ? VM_LOCKED : t.mm.lockFuture;
  if (bits === 0) return map();
  if (mapLocked) canLock(t);
  if (!mayLockAll(t) && BigInt(Math.ceil(len / PAGE) * PAGE + t.mm.lockedBytes()) > memlockLimit(t)) fail(E.EAGAIN);
  const start = map();
  t.mm.lock(start, start + Math.ceil(len / PAGE) * PAGE, bits);
  return start;
}

/** brk after mlockall(MCL_FUTURE): the heap's new pages are locked too. */
export function brkLocked(t: Task, grow: () => number): number {
  const old = t.mm.brk(0);
  const top = grow();
  const from = Math.ceil(old / PAGE) * PAGE;
  const to = Math.ceil(top / PAGE) * PAGE;
  if (t.mm.lockFuture !== 0 && to > from) t.mm.lock(from, to, t.mm.lockFuture);
  return top;
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

const MLOCK_NOTE = 'locks are kept per mapping (VmLck, smaps) and counted against RLIMIT_MEMLOCK; locked pages are faulted in on the host, not pinned there';

/**
 * uretprobe (x86_64): only a uretprobe's trampoline may call it, and elfrun
 * places none, so every call is the one Linux punishes: a forced SIGILL
 * (SI_KERNEL; unblocked and reset to the default action if blocked or
 * ignored, as force_sig does), and -1.
 */
function uretprobe(t: Task): number {
  const sig = SIG.SIGILL;
  const bit = 1n << BigInt(sig - 1);
  const act = t.sigactions[sig];
  if (act.handler === SIG_IGN || (t.sigmask & bit) !== 0n) {
    t.sigactions[sig] = { ...act, handler: SIG_DFL };
    t.sigmask &= ~bit;
  }
  t.kernel.sendToTask(t, sig, faultSiginfo(sig, SI_KERNEL, 0));
  return -1;
}

export const runtimeDefs: Record<string, Def> = {
  map_shadow_stack: probe(['ptr', 'size', 'hex'], 'glibc >= 2.39 asks for a shadow stack when the program and CPU have one; the engines have no CET or GCS, so as a kernel built without shadow stacks: ENOSYS'),
  uretprobe: supported([], uretprobe, 'no uretprobe trampoline exists: SIGILL, as Linux gives a call from anywhere else'),
  uprobe: supported([], () => -E.ENXIO, 'no uprobe trampoline exists: ENXIO, as Linux gives a call from anywhere else'),
  personality: partial(['hex'], (t, a) => personality(t, a.u32(0)), 'the value is kept, inherited and reported (/proc/<pid>/personality); PER_LINUX32 on x86_64 does not make uname say i686 (arm64 refuses it, having no AArch32); of its flags only ADDR_NO_RANDOMIZE has its effect, trivially (elfrun never randomizes its layout): READ_IMPLIES_EXEC, ADDR_COMPAT_LAYOUT, UNAME26, STICKY_TIMEOUTS, MMAP_PAGE_ZERO and the ADDR_LIMIT_* flags change nothing'),
  ioprio_set: partial(['int', 'int', 'hex'], (t, a) => ioprioSet(t, a.i32(0), a.i32(1), a.i32(2)), 'kept and checked as Linux checks them, inherited by fork; the host\'s I/O scheduler is not told'),
  ioprio_get: supported(['int', 'int'], (t, a) => ioprioGet(t, a.i32(0), a.i32(1))),
  membarrier: supported(['int', 'hex', 'int'], (t, a) => membarrier(t, a.i32(0), a.u32(1)), 'one guest thread runs at a time, so every barrier holds on return; registrations per address space, kept by fork'),
  mlock: supported(['ptr', 'size'], (t, a) => mlock(t, a.ptr(0), a.size(1), 0), MLOCK_NOTE),
  mlock2: supported(['ptr', 'size', 'hex'], (t, a) => mlock(t, a.ptr(0), a.size(1), a.u32(2)), MLOCK_NOTE),
  munlock: supported(['ptr', 'size'], (t, a) => munlock(t, a.ptr(0), a.size(1)), MLOCK_NOTE),
  mlockall: partial(['hex'], (t, a) => mlockall(t, a.i32(0)), `${MLOCK_NOTE}; MCL_FUTURE locks later mmaps and heap growth, not stack growth`),
  munlockall: supported([], (t) => munlockall(t), MLOCK_NOTE),
  mincore: partial(['ptr', 'size', 'ptr'], (t, a) => mincore(t, a.ptr(0), a.size(1), a.ptr(2)), 'the host\'s residency of the memory behind each mapping: anonymous and shared memory and read-only file mappings (the host file\'s own pages, so the page cache) as Linux; a writable private file mapping is a copy elfrun made, so its pages read as resident where Linux asks the page cache for those not yet written'),
};
