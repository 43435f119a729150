// prctl(2): every option of Linux 6.x (kernel/sys.c's switch, commoncap's
// and Yama's options before it, and the arch hooks of x86_64 and of an
// arm64 CPU as the engine models it: a Cortex-A72 without SVE, SME,
// pointer authentication, MTE or GCS), with each option's argument checks
// in Linux's order. Options of other arches (PPC, RISC-V, MIPS FP modes,
// unaligned-access and FP-emulation controls, endianness) are EINVAL as on
// both of ours.
import { existsSync, readFileSync } from 'node:fs';
import koffi from '../../host/ffi.js';
import type { Task } from '../../proc/task.js';
import type { Process } from '../../proc/process.js';
import type { Args } from '../../cpu/args.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import * as PR from '../../abi/prctl.js';
import { CR4_TSD, X86 } from '../../cpu/x86_64.js';
import { prctlSetSeccomp, trapSyscall } from './seccomp.js';
import { NORETURN } from '../../cpu/args.js';
import { SIG } from '../../abi/signal.js';
import { prctlShape } from '../trace-prctl.js';
import { partial, type Def } from './util.js';
import { prctlMm } from './prctl-mm.js';

const CAP_SETPCAP = 8;
const CAP_SYS_RESOURCE = 24;
const DEFAULT_TIMER_SLACK_NS = 50000;
/** _NSIG: the largest signal number */
const NSIG = 64;

const capable = (t: Task, cap: number): boolean => (t.cred.caps.eff >> BigInt(cap)) & 1n ? true : false;

/** The host kernel's CAP_LAST_CAP: the same for every Machine, read once. */
let lastCap = -1;
export function capLastCap(): number {
  if (lastCap < 0) {
    try {
      lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'latin1').trim());
    } catch {
      lastCap = 40;
    }
  }
  return lastCap;
}

/** Up to max bytes of a string, stopping at its NUL or at the first unreadable byte after the first. */
function readUpTo(t: Task, addr: number, max: number): Buffer {
  const out: number[] = [];
  for (let i = 0; i < max; i++) {
    let c: number;
    try {
      c = t.mm.u8(addr + i);
    } catch (e) {
      if (i === 0) throw e;
      break;
    }
    if (c === 0) break;
    out.push(c);
  }
  return Buffer.from(out);
}

/** PR_GET_TSC/PR_SET_TSC (x86 only): CR4.TSD of the thread's CPU state, which makes rdtsc fault (SIGSEGV). */
function tscMode(t: Task, set: boolean, arg: Args): number {
  if (t.arch.name !== 'x86_64') fail(E.EINVAL);
  const cr4 = t.cpu.regBig(X86.CR4);
  if (!set) {
    t.mm.setU32(arg.ptr(1), cr4 & BigInt(CR4_TSD) ? PR.PR_TSC_SIGSEGV : PR.PR_TSC_ENABLE);
    return 0;
  }
  const v = arg.u32(1);
  if (v !== PR.PR_TSC_ENABLE && v !== PR.PR_TSC_SIGSEGV) fail(E.EINVAL);
  t.cpu.setReg(X86.CR4, v === PR.PR_TSC_SIGSEGV ? cr4 | BigInt(CR4_TSD) : cr4 & ~BigInt(CR4_TSD));
  return 0;
}

// ---- capabilities (commoncap's cap_task_prctl) ----------------------------

function capPrctl(t: Task, op: number, a2: number, a3: number, a4: number, a5: number): number {
  const cred = t.proc.cred;
  const c = cred.caps;
  const valid = (cap: number): boolean => cap >= 0 && cap <= capLastCap();
  const has = (set: bigint, cap: number): boolean => ((set >> BigInt(cap)) & 1n) === 1n;
  switch (op) {
    case PR.PR_CAPBSET_READ:
      if (!valid(a2)) fail(E.EINVAL);
      return has(c.bnd, a2) ? 1 : 0;
    case PR.PR_CAPBSET_DROP:
      if (!capable(t, CAP_SETPCAP)) fail(E.EPERM);
      if (!valid(a2)) fail(E.EINVAL);
      c.bnd &= ~(1n << BigInt(a2));
      return 0;
    case PR.PR_GET_SECUREBITS:
      return cred.securebits;
    case PR.PR_SET_SECUREBITS: {
      const old = cred.securebits;
      // no changing a locked bit, no unlocking, no unknown bits, and CAP_SETPCAP for anything
      if (a2 > 0xfff || ((old & PR.SECURE_ALL_LOCKS) >>> 1) & (old ^ a2) || old & PR.SECURE_ALL_LOCKS & ~a2 || a2 & ~(PR.SECURE_ALL_LOCKS | PR.SECURE_ALL_BITS) || !capable(t, CAP_SETPCAP)) fail(E.EPERM);
      cred.securebits = a2;
      return 0;
    }
    case PR.PR_GET_KEEPCAPS:
      return cred.securebits & PR.SECURE_KEEP_CAPS ? 1 : 0;
    case PR.PR_SET_KEEPCAPS:
      if (a2 > 1) fail(E.EINVAL);
      if (cred.securebits & PR.SECURE_KEEP_CAPS_LOCKED) fail(E.EPERM);
      cred.securebits = a2 ? cred.securebits | PR.SECURE_KEEP_CAPS : cred.securebits & ~PR.SECURE_KEEP_CAPS;
      return 0;
    default: {
      // PR_CAP_AMBIENT
      if (a2 === PR.PR_CAP_AMBIENT_CLEAR_ALL) {
        if (a3 || a4 || a5) fail(E.EINVAL);
        c.amb = 0n;
        return 0;
      }
      if (!valid(a3) || a4 || a5) fail(E.EINVAL);
      if (a2 === PR.PR_CAP_AMBIENT_IS_SET) return has(c.amb, a3) ? 1 : 0;
      if (a2 !== PR.PR_CAP_AMBIENT_RAISE && a2 !== PR.PR_CAP_AMBIENT_LOWER) fail(E.EINVAL);
      const b = 1n << BigInt(a3);
      if (a2 === PR.PR_CAP_AMBIENT_RAISE) {
        if (!has(c.prm, a3) || !has(c.inh, a3) || cred.securebits & PR.SECURE_NO_CAP_AMBIENT_RAISE) fail(E.EPERM);
        c.amb |= b;
      } else c.amb &= ~b;
      return 0;
    }
  }
}

// ---- child subreapers ---------------------------------------------------------

/** propagate_has_child_subreaper: every descendant now looks for a subreaper among its ancestors (a subtree that already does is skipped). */
function markDescendants(p: Process): void {
  for (const c of p.children) {
    if (c.hasChildSubreaper) continue;
    c.hasChildSubreaper = true;
    markDescendants(c);
  }
}

// ---- speculation controls -------------------------------------------------------

const libc = koffi.load('libc.so.6');
const hostPrctl = libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const errnoLoc = libc.func('int *__errno_location()');
const hostSpec = new Map<number, number>();

/** The host's PR_GET_SPECULATION_CTRL for a feature: its mitigation mode, which is the machine's (reading it changes nothing). */
function hostSpecGet(which: number): number {
  let v = hostSpec.get(which);
  if (v === undefined) {
    v = hostPrctl(PR.PR_GET_SPECULATION_CTRL, which, 0, 0, 0) as number;
    if (v < 0) v = -(koffi.decode(errnoLoc(), 'int') as number);
    hostSpec.set(which, v);
  }
  return v;
}

const CTRLS = new Set([PR.PR_SPEC_ENABLE, PR.PR_SPEC_DISABLE, PR.PR_SPEC_FORCE_DISABLE, PR.PR_SPEC_DISABLE_NOEXEC]);

/**
 * x86_64: the host CPU's answer (elfrun's guests run on it); where a mode is
 * not per-task (PR_SPEC_PRCTL unset) a change is refused as Linux refuses
 * it. arm64: the Cortex-A72 the engine models is affected by speculative
 * store bypass and has no firmware mitigation, so Linux reports it
 * vulnerable (ssbd_prctl_get: PR_SPEC_ENABLE) whatever a task asks; it has
 * no other control (ENODEV).
 */
function specCtrl(t: Task, set: boolean, which: number, ctrl: number): number {
  if (t.arch.name === 'arm64') {
    if (which !== PR.PR_SPEC_STORE_BYPASS) fail(E.ENODEV);
    if (!set) return PR.PR_SPEC_ENABLE;
    if (!CTRLS.has(ctrl)) fail(E.ERANGE);
    const forced = t.specForceDisabled;
    if (ctrl === PR.PR_SPEC_ENABLE && forced) fail(E.EPERM);
    if (ctrl === PR.PR_SPEC_DISABLE_NOEXEC && forced) fail(E.EPERM);
    if (ctrl === PR.PR_SPEC_FORCE_DISABLE) t.specForceDisabled = true;
    return 0;
  }
  if (which > PR.PR_SPEC_L1D_FLUSH) fail(E.ENODEV);
  const host = hostSpecGet(which);
  if (host < 0) fail(-host);
  if (!set) return host;
  if (host & PR.PR_SPEC_PRCTL) throw new Unsupported(`prctl PR_SET_SPECULATION_CTRL on a host whose mitigation is per task`, E.EINVAL);
  if (which === PR.PR_SPEC_STORE_BYPASS) fail(E.ENXIO); // ssb_prctl_set: not in prctl or seccomp mode
  if (which === PR.PR_SPEC_L1D_FLUSH) {
    if (host === PR.PR_SPEC_FORCE_DISABLE) fail(E.EPERM); // l1d flushing not enabled at boot
    throw new Unsupported('prctl PR_SET_SPECULATION_CTRL(PR_SPEC_L1D_FLUSH)', E.EINVAL);
  }
  // indirect branches, user mitigations off (always enabled) or not affected
  if (host !== PR.PR_SPEC_ENABLE && host !== PR.PR_SPEC_NOT_AFFECTED) throw new Unsupported('prctl PR_SET_SPECULATION_CTRL on a host with strict indirect-branch mitigation', E.EINVAL);
  if (ctrl === PR.PR_SPEC_ENABLE) return 0;
  if (ctrl === PR.PR_SPEC_DISABLE || ctrl === PR.PR_SPEC_FORCE_DISABLE) fail(E.EPERM);
  return fail(E.ERANGE);
}

// ---- syscall user dispatch (x86_64; arm64's 6.x kernels lack GENERIC_ENTRY, which it needs) ----

function setUserDispatch(t: Task, mode: number, o: bigint, l: bigint, selector: number): number {
  if (t.arch.name !== 'x86_64') fail(E.EINVAL);
  const TWO64 = 2n ** 64n;
  switch (mode) {
    case PR.PR_SYS_DISPATCH_OFF:
      if (o || l || selector) fail(E.EINVAL);
      t.userDispatch = null;
      return 0;
    case PR.PR_SYS_DISPATCH_ON:
      if (o && o + l >= TWO64) fail(E.EINVAL);
      break;
    case 2: // PR_SYS_DISPATCH_INCLUSIVE_ON: the range is the one that dispatches, kept inverted
      if (l === 0n || o + l >= TWO64) fail(E.EINVAL);
      [o, l] = [(o + l) % TWO64, (TWO64 - l) % TWO64];
      break;
    default:
      fail(E.EINVAL);
  }
  if (selector && selector >= t.mm.layout.taskSize) fail(E.EFAULT);
  t.userDispatch = { offset: o, len: l, selector };
  return 0;
}

/**
 * Before each syscall of a task with syscall user dispatch on (Linux's
 * syscall_user_dispatch, ahead of tracers and seccomp): null to run the
 * call; else it does not run, and SIGSYS (SYS_USER_DISPATCH) is forced on
 * the task, the registers rolled back. A selector that cannot be read ends
 * the process with SIGSEGV, one neither ALLOW nor BLOCK with SIGSYS.
 */
export function userDispatchGate(t: Task, a: Args): number | null {
  const d = t.userDispatch!;
  const regs = a.regs;
  // the address after the syscall instruction (x86_64's pc slot holds the instruction's own)
  const ip = ((BigInt(regs[15]) << 32n) | BigInt(regs[14])) + (t.arch.name === 'x86_64' ? 2n : 0n);
  if ((ip - d.offset + 2n ** 64n) % 2n ** 64n < d.len) return null;
  if (d.selector !== 0) {
    let state: number;
    try {
      state = t.mm.u8(d.selector);
    } catch {
      t.kernel.exit.group(t.proc, { kind: 'signaled', signal: SIG.SIGSEGV });
      return NORETURN;
    }
    if (state === PR.SYSCALL_DISPATCH_FILTER_ALLOW) return null;
    if (state !== PR.SYSCALL_DISPATCH_FILTER_BLOCK) {
      t.kernel.exit.group(t.proc, { kind: 'signaled', signal: SIG.SIGSYS });
      return NORETURN;
    }
  }
  return trapSyscall(t, a, PR.SYS_USER_DISPATCH);
}

// ---- the rest of the mm-wide and per-task options ----------------------------

function mdwe(t: Task, set: boolean, a2: number, a3: number, a4: number, a5: number): number {
  const f = t.proc.mm.flags;
  if (!set) {
    if (a2 || a3 || a4 || a5) fail(E.EINVAL);
    return f.mdwe;
  }
  if (a3 || a4 || a5) fail(E.EINVAL);
  if (a2 & ~(PR.PR_MDWE_REFUSE_EXEC_GAIN | PR.PR_MDWE_NO_INHERIT)) fail(E.EINVAL);
  if (a2 & PR.PR_MDWE_NO_INHERIT && !(a2 & PR.PR_MDWE_REFUSE_EXEC_GAIN)) fail(E.EINVAL);
  if (f.mdwe && f.mdwe !== a2) fail(E.EPERM); // cannot be unset or changed
  f.mdwe = a2;
  return 0;
}

/** PR_SET_PTRACER is Yama's: without Yama in the host kernel, no module takes it (EINVAL), as there. */
const yama = (): boolean => existsSync('/proc/sys/kernel/yama');

/** sizeof(mm->saved_auxv): AT_VECTOR_SIZE longs, 2*(AT_VECTOR_SIZE_ARCH + AT_VECTOR_SIZE_BASE(24) + 1); x86_64's ARCH is 3, arm64's 2 */
const savedAuxvBytes = (t: Task): number => 8 * 2 * ((t.arch.name === 'x86_64' ? 3 : 2) + 24 + 1);

function getAuxv(t: Task, addr: number, len: number): number {
  const size = savedAuxvBytes(t);
  const n = Math.min(size, len);
  if (n > 0) {
    const b = Buffer.alloc(size);
    (t.proc.start?.auxv ?? []).forEach(([k, v], i) => {
      if (16 * i + 16 > size - 32) return; // the last two entries stay AT_NULL
      b.writeBigUInt64LE(BigInt(k), 16 * i);
      b.writeBigUInt64LE(BigInt(v), 16 * i + 8);
    });
    t.mm.write(addr, b.subarray(0, n));
  }
  return size;
}

function prctl(t: Task, a: Args): number {
  const op = a.i32(0);
  const a2 = a.u64(1);
  const a3 = a.u64(2);
  const a4 = a.u64(3);
  const a5 = a.u64(4);
  const p = t.proc;
  const mmf = p.mm.flags;
  const x86 = t.arch.name === 'x86_64';
  switch (op) {
    // commoncap's options, and Yama's
    case PR.PR_CAPBSET_READ:
    case PR.PR_CAPBSET_DROP:
    case PR.PR_GET_SECUREBITS:
    case PR.PR_SET_SECUREBITS:
    case PR.PR_GET_KEEPCAPS:
    case PR.PR_SET_KEEPCAPS:
    case PR.PR_CAP_AMBIENT:
      return capPrctl(t, op, a2, a3, a4, a5);
    case PR.PR_SET_PTRACER: {
      if (!yama()) fail(E.EINVAL);
      const pid = a.i64(1);
      if (pid !== 0 && pid !== PR.PR_SET_PTRACER_ANY && !t.kernel.tasks.has(pid)) fail(E.ESRCH);
      return 0;
    }
    case PR.PR_SET_PDEATHSIG:
      if (a2 > NSIG) fail(E.EINVAL);
      t.pdeathsig = a2;
      return 0;
    case PR.PR_GET_PDEATHSIG:
      t.mm.setI32(a.ptr(1), t.pdeathsig);
      return 0;
    case PR.PR_GET_DUMPABLE:
      return p.dumpable;
    case PR.PR_SET_DUMPABLE:
      if (a2 !== 0 && a2 !== 1) fail(E.EINVAL);
      p.dumpable = a2;
      return 0;
    case PR.PR_GET_TIMING:
      return 0; // PR_TIMING_STATISTICAL
    case PR.PR_SET_TIMING:
      if (a2 !== 0) fail(E.EINVAL);
      return 0;
    case PR.PR_SET_NAME: {
      // Linux copies at most 15 bytes (strncpy_from_user into a 16-byte comm)
      const name = t.mm.read(a.ptr(1), 1)[0] === 0 ? Buffer.alloc(0) : readUpTo(t, a.ptr(1), 15);
      t.comm = name.toString('latin1'); // the calling thread's name
      return 0;
    }
    case PR.PR_GET_NAME: {
      const b = Buffer.alloc(16);
      b.write(t.comm, 0, 15, 'latin1');
      t.mm.write(a.ptr(1), b);
      return 0;
    }
    case PR.PR_GET_SECCOMP:
      return t.seccomp?.mode ?? 0;
    case PR.PR_SET_SECCOMP:
      return prctlSetSeccomp(t, a2, a.ptr(2));
    case PR.PR_GET_TSC:
    case PR.PR_SET_TSC:
      return tscMode(t, op === PR.PR_SET_TSC, a);
    case PR.PR_TASK_PERF_EVENTS_DISABLE:
    case PR.PR_TASK_PERF_EVENTS_ENABLE:
      return 0; // the task has no perf events (elfrun has no perf_event_open) to switch
    case PR.PR_GET_TIMERSLACK:
      return p.tunables.timerSlackNs;
    case PR.PR_SET_TIMERSLACK:
      p.tunables.timerSlackNs = a2 === 0 ? DEFAULT_TIMER_SLACK_NS : Math.min(a2, Number.MAX_SAFE_INTEGER);
      return 0;
    case PR.PR_MCE_KILL:
      if (a4 || a5) fail(E.EINVAL);
      if (a2 === PR.PR_MCE_KILL_CLEAR) {
        if (a3 !== 0) fail(E.EINVAL);
        t.mceKill = PR.PR_MCE_KILL_DEFAULT;
        return 0;
      }
      if (a2 !== PR.PR_MCE_KILL_SET || (a3 !== PR.PR_MCE_KILL_EARLY && a3 !== PR.PR_MCE_KILL_LATE && a3 !== PR.PR_MCE_KILL_DEFAULT)) fail(E.EINVAL);
      t.mceKill = a3;
      return 0;
    case PR.PR_MCE_KILL_GET:
      if (a2 || a3 || a4 || a5) fail(E.EINVAL);
      return t.mceKill;
    case PR.PR_SET_MM:
      return prctlMm(t, a2, a3, a4, a5);
    case PR.PR_GET_TID_ADDRESS:
      t.mm.setU64(a.ptr(1), t.clearChildTid);
      return 0;
    case PR.PR_SET_CHILD_SUBREAPER:
      p.subreaper = a2 !== 0;
      if (p.subreaper) markDescendants(p);
      return 0;
    case PR.PR_GET_CHILD_SUBREAPER:
      t.mm.setI32(a.ptr(1), p.subreaper ? 1 : 0);
      return 0;
    case PR.PR_SET_NO_NEW_PRIVS:
      if (a2 !== 1 || a3 || a4 || a5) fail(E.EINVAL);
      p.noNewPrivs = true;
      return 0;
    case PR.PR_GET_NO_NEW_PRIVS:
      if (a2 || a3 || a4 || a5) fail(E.EINVAL);
      return p.noNewPrivs ? 1 : 0;
    case PR.PR_GET_THP_DISABLE:
      if (a2 || a3 || a4 || a5) fail(E.EINVAL);
      return mmf.thpDisable;
    case PR.PR_SET_THP_DISABLE: {
      // arg3: PR_THP_DISABLE_EXCEPT_ADVISED (2), only when disabling
      if (a4 || a5) fail(E.EINVAL);
      if ((a2 === 0 && a3) || a3 & ~2) fail(E.EINVAL);
      mmf.thpDisable = a2 === 0 ? 0 : 1 | a3;
      return 0;
    }
    case PR.PR_GET_SPECULATION_CTRL:
      if (a3 || a4 || a5) fail(E.EINVAL);
      return specCtrl(t, false, a2, 0);
    case PR.PR_SET_SPECULATION_CTRL:
      if (a4 || a5) fail(E.EINVAL);
      return specCtrl(t, true, a2, a3);
    case PR.PR_PAC_RESET_KEYS:
    case PR.PR_PAC_SET_ENABLED_KEYS:
    case PR.PR_PAC_GET_ENABLED_KEYS:
      return fail(E.EINVAL); // no pointer authentication on either CPU (and each one's argument checks end in EINVAL too)
    case PR.PR_SET_TAGGED_ADDR_CTRL:
      if (a3 || a4 || a5 || x86) fail(E.EINVAL);
      // arm64 without MTE: only PR_TAGGED_ADDR_ENABLE is valid
      if (a2 & ~1) fail(E.EINVAL);
      t.taggedAddr = a2 === 1;
      return 0;
    case PR.PR_GET_TAGGED_ADDR_CTRL:
      if (a2 || a3 || a4 || a5 || x86) fail(E.EINVAL);
      return t.taggedAddr ? 1 : 0;
    case PR.PR_SET_IO_FLUSHER:
      if (!capable(t, CAP_SYS_RESOURCE)) fail(E.EPERM);
      if (a3 || a4 || a5 || a2 > 1) fail(E.EINVAL);
      t.ioFlusher = a2 === 1;
      return 0;
    case PR.PR_GET_IO_FLUSHER:
      if (!capable(t, CAP_SYS_RESOURCE)) fail(E.EPERM);
      if (a2 || a3 || a4 || a5) fail(E.EINVAL);
      return t.ioFlusher ? 1 : 0;
    case PR.PR_SET_SYSCALL_USER_DISPATCH:
      return setUserDispatch(t, a2, a.big(2), a.big(3), a.ptr(4));
    case PR.PR_SET_MDWE:
    case PR.PR_GET_MDWE:
      return mdwe(t, op === PR.PR_SET_MDWE, a2, a3, a4, a5);
    case PR.PR_SET_MEMORY_MERGE:
      if (a3 || a4 || a5) fail(E.EINVAL);
      mmf.mergeAny = a2 !== 0;
      return 0;
    case PR.PR_GET_MEMORY_MERGE:
      if (a2 || a3 || a4 || a5) fail(E.EINVAL);
      return mmf.mergeAny ? 1 : 0;
    case PR.PR_GET_AUXV:
      if (a4 || a5) fail(E.EINVAL);
      return getAuxv(t, a.ptr(1), a.size(2));
    case PR.PR_TIMER_CREATE_RESTORE_IDS:
      if (a3 || a4 || a5) fail(E.EINVAL);
      if (a2 === 0 || a2 === 2) return 0; // OFF, or GET: off
      if (a2 === 1) throw new Unsupported('prctl PR_TIMER_CREATE_RESTORE_IDS_ON', E.EINVAL);
      return fail(E.EINVAL);
    case PR.PR_FUTEX_HASH:
      // elfrun's futexes live in one table: the global hash, whose slot count reads as 0
      if (a2 === 2) return 0;
      if (a2 === 1) throw new Unsupported('prctl PR_FUTEX_HASH_SET_SLOTS', E.EINVAL);
      return fail(E.EINVAL);
    default:
      // other arches' options, options of kernel configurations elfrun's is without
      // (PR_SET_VMA: CONFIG_ANON_VMA_NAME; PR_SCHED_CORE: CONFIG_SCHED_CORE), retired ones (MPX), unknown ones
      return fail(E.EINVAL);
  }
}

export const prctlDef: Def = partial(
  prctlShape,
  prctl,
  'every Linux 6.x option with its argument checks; orphans go to the nearest subreaper; the parent-death signal follows the parent thread; keepcaps and securebits act on setuid and exec; MDWE refuses W+X and exec-gaining mmap/mprotect; syscall user dispatch raises SIGSYS (x86_64); PR_SET_MM: PR_SET_MM_ARG_*/ENV_* (what /proc/<pid>/cmdline and environ show), other fields and PR_SET_MM_MAP are reported as unsupported; THP disabling, KSM merge-any, the MCE-kill policy, the IO flusher flag and the tagged-address ABI are recorded and reported (elfrun has no huge pages, merges no pages, has no memory errors or writeback; syscalls do not untag pointers); PR_SET_VMA and PR_SCHED_CORE are EINVAL (a kernel without CONFIG_ANON_VMA_NAME and CONFIG_SCHED_CORE, as the host\'s); PR_SET_SPECULATION_CTRL where the host\'s mitigation is per task, PR_TIMER_CREATE_RESTORE_IDS_ON and PR_FUTEX_HASH_SET_SLOTS are reported as unsupported',
);
