// seccomp(2) and prctl's PR_SET_SECCOMP / PR_GET_SECCOMP, and the gate the
// dispatcher runs before every syscall of a task in seccomp mode: strict
// mode's four calls, or the verdict of the task's filter chain
// (proc/seccomp.ts) and what each action does, as Linux's
// __secure_computing does it.
import type { Task } from '../../proc/task.js';
import type { Args } from '../../cpu/args.js';
import { NORETURN } from '../../cpu/args.js';
import { E } from '../../abi/errno.js';
import { fail, Unsupported } from '../../abi/errors.js';
import { SIG, SIG_DFL, SIG_IGN, bit } from '../../abi/signal.js';
import { ARM64_SYSCALLS, X86_64_SYSCALLS } from '../../abi/numbers.js';
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  BPF_MAXINSNS,
  MAX_INSNS_PER_PATH,
  SECCOMP_MODE_FILTER,
  SECCOMP_MODE_STRICT,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
  SeccompFilter,
  checkFilter,
  runFilters,
} from '../../proc/seccomp.js';
import { partial, type Def } from './util.js';
import { dumpCore } from '../../proc/core.js';

const SECCOMP_SET_MODE_STRICT = 0;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_GET_ACTION_AVAIL = 2;
const SECCOMP_GET_NOTIF_SIZES = 3;

const FLAG_TSYNC = 1;
const FLAG_NEW_LISTENER = 8;
const FLAG_TSYNC_ESRCH = 16;
const FLAG_WAIT_KILLABLE_RECV = 32;
const FLAG_LOG = 2;
/** TSYNC, LOG, SPEC_ALLOW, NEW_LISTENER, TSYNC_ESRCH, WAIT_KILLABLE_RECV */
const FLAG_MASK = 0x3f;

const CAP_SYS_ADMIN = 1n << 21n;
/** SYS_SECCOMP, SIGSYS's si_code for a seccomp trap */
const SYS_SECCOMP = 1;
const MAX_ERRNO = 4095;

const KNOWN_ACTIONS = new Set([SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP, SECCOMP_RET_ERRNO, SECCOMP_RET_USER_NOTIF, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW]);

/** strict mode's calls per arch: read, write, exit, rt_sigreturn */
const strictSet = (names: Readonly<Record<number, string>>): Set<number> =>
  new Set(Object.entries(names).filter(([, n]) => ['read', 'write', 'exit', 'rt_sigreturn'].includes(n)).map(([nr]) => Number(nr)));
const STRICT = { x86_64: strictSet(X86_64_SYSCALLS), arm64: strictSet(ARM64_SYSCALLS) };

/** struct seccomp_data of the call being made, reused (one call is filtered at a time) */
const data = new Uint32Array(16);

/** the address after the syscall instruction (instruction_pointer, si_call_addr) as lo, hi */
function callAddr(t: Task, regs: Uint32Array): [number, number] {
  if (t.arch.name === 'arm64') return [regs[14], regs[15]];
  const lo = regs[14] + 2;
  return [lo >>> 0, (regs[15] + (lo > 0xffffffff ? 1 : 0)) >>> 0];
}

const auditArch = (t: Task): number => (t.arch.name === 'x86_64' ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64);

/**
 * Before a syscall of a task with seccomp state: null to go on with the
 * call, or what the call returns instead (NORETURN when the task was killed
 * or its registers stay as they are).
 */
export function seccompGate(t: Task, a: Args): number | null {
  const s = t.seccomp!;
  const regs = a.regs;
  const nr = regs[0];
  if (s.mode === SECCOMP_MODE_STRICT) {
    if (STRICT[t.arch.name].has(nr)) return null;
    killThread(t, SIG.SIGKILL);
    return NORETURN;
  }
  data[0] = nr;
  data[1] = auditArch(t);
  [data[2], data[3]] = callAddr(t, regs);
  for (let i = 0; i < 12; i++) data[4 + i] = regs[2 + i];
  const ret = runFilters(s.filter!, data);
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  const value = ret & SECCOMP_RET_DATA;
  switch (action) {
    case SECCOMP_RET_ALLOW:
    case SECCOMP_RET_LOG:
      return null;
    case SECCOMP_RET_ERRNO:
      return -Math.min(value, MAX_ERRNO);
    case SECCOMP_RET_TRACE: // no tracer of elfrun's guests asks for PTRACE_EVENT_SECCOMP
    case SECCOMP_RET_USER_NOTIF: // no filter has a listener: Linux fails the call with ENOSYS
      return -E.ENOSYS;
    case SECCOMP_RET_TRAP:
      forceSigsys(t, nr, value);
      return rolledBack(t, a);
    default: {
      // KILL_THREAD of the last thread, KILL_PROCESS and unknown actions: a core-dumping SIGSYS
      if (action === SECCOMP_RET_KILL_THREAD && t.proc.threads.size > 1) {
        killThread(t, SIG.SIGSYS);
        return NORETURN;
      }
      killProcess(t, sigsysInfo(t, nr, value));
      return NORETURN;
    }
  }
}

/**
 * The registers as Linux's syscall_rollback leaves them: x86_64's rax holds
 * the syscall number again, arm64's x0 its first argument (never written).
 */
function rolledBack(t: Task, a: Args): number {
  if (t.arch.name === 'x86_64') return a.regs[0];
  t.stopReason = 'signal';
  return NORETURN;
}

/** do_exit of one thread (the last one ends its process, killed by sig) */
function killThread(t: Task, sig: number): void {
  const k = t.kernel;
  if (t.proc.threads.size > 1) k.exit.thread(t, 0);
  else k.exit.group(t.proc, { kind: 'signaled', signal: sig });
}

/** SIGSYS's siginfo for a seccomp action: SYS_SECCOMP, the call's address, number and arch, the filter's data as si_errno */
function sigsysInfo(t: Task, nr: number, errno: number, code = SYS_SECCOMP): Buffer {
  const info = Buffer.alloc(128);
  info.writeInt32LE(SIG.SIGSYS, 0);
  info.writeInt32LE(errno, 4);
  info.writeInt32LE(code, 8);
  const [lo, hi] = callAddr(t, t.args.regs);
  info.writeUInt32LE(lo, 16);
  info.writeUInt32LE(hi, 20);
  info.writeInt32LE(nr | 0, 24);
  info.writeUInt32LE(auditArch(t), 28);
  return info;
}

/**
 * force_sig_seccomp for SECCOMP_RET_TRAP: SIGSYS to the task; blocked or
 * ignored, its action becomes SIG_DFL and it is unblocked. It is delivered
 * when the call returns.
 */
function forceSigsys(t: Task, nr: number, errno: number, code = SYS_SECCOMP): void {
  const b = bit(SIG.SIGSYS);
  const act = t.sigactions[SIG.SIGSYS];
  if ((t.sigmask & b) !== 0n || act.handler === SIG_IGN) {
    t.sigactions[SIG.SIGSYS] = { ...act, handler: SIG_DFL };
    t.sigmask &= ~b;
  }
  t.pending |= b;
  t.siginfo.set(SIG.SIGSYS, [sigsysInfo(t, nr, errno, code)]);
}

/** A syscall stopped before it ran with a forced SIGSYS of this si_code (syscall user dispatch's trigger_sigsys): what the call returns. */
export function trapSyscall(t: Task, a: Args, code: number): number {
  forceSigsys(t, a.regs[0], 0, code);
  return rolledBack(t, a);
}

/**
 * A kill action: SIGSYS's default action on the whole process, whatever its
 * handler or mask (Linux's HANDLER_EXIT, an immutable SIG_DFL, which a
 * tracer sees no signal-delivery stop of): a core file as RLIMIT_CORE allows.
 */
function killProcess(t: Task, info: Buffer): void {
  const k = t.kernel;
  const core = dumpCore(k, t, SIG.SIGSYS, info);
  k.events?.signal(t, SIG.SIGSYS, 'core');
  k.exit.group(t.proc, { kind: 'signaled', signal: SIG.SIGSYS, ...(core ? { core } : {}) });
}

/** seccomp(2) */
export function seccomp(t: Task, op: number, flags: number, uargs: number): number {
  switch (op) {
    case SECCOMP_SET_MODE_STRICT:
      if (flags !== 0 || uargs !== 0) fail(E.EINVAL);
      if (t.seccomp !== null && t.seccomp.mode !== SECCOMP_MODE_STRICT) fail(E.EINVAL);
      t.seccomp = { mode: SECCOMP_MODE_STRICT, filter: null };
      return 0;
    case SECCOMP_SET_MODE_FILTER:
      return setFilter(t, flags, uargs);
    case SECCOMP_GET_ACTION_AVAIL: {
      if (flags !== 0) fail(E.EINVAL);
      const action = t.mm.u32(uargs);
      if (!KNOWN_ACTIONS.has(action)) fail(E.EOPNOTSUPP);
      return 0;
    }
    case SECCOMP_GET_NOTIF_SIZES: {
      if (flags !== 0) fail(E.EINVAL);
      // struct seccomp_notif_sizes: seccomp_notif 80, seccomp_notif_resp 24, seccomp_data 64
      const b = Buffer.alloc(6);
      b.writeUInt16LE(80, 0);
      b.writeUInt16LE(24, 2);
      b.writeUInt16LE(64, 4);
      t.mm.write(uargs, b);
      return 0;
    }
    default:
      fail(E.EINVAL);
  }
}

/** SECCOMP_SET_MODE_FILTER, in the order of Linux's checks */
function setFilter(t: Task, flags: number, uargs: number): number {
  if (flags & ~FLAG_MASK) fail(E.EINVAL);
  if (flags & FLAG_TSYNC && flags & FLAG_NEW_LISTENER && !(flags & FLAG_TSYNC_ESRCH)) fail(E.EINVAL);
  if (flags & FLAG_WAIT_KILLABLE_RECV && !(flags & FLAG_NEW_LISTENER)) fail(E.EINVAL);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const fprog = t.mm.read(uargs, 16);
  const len = fprog.readUInt16LE(0);
  const ptr = fprog.readBigUInt64LE(8);
  if (len === 0 || len > BPF_MAXINSNS) fail(E.EINVAL);
  if (!t.proc.noNewPrivs && !(t.cred.caps.eff & CAP_SYS_ADMIN)) fail(E.EACCES);
  if (ptr === 0n) fail(E.EINVAL);
  const raw = t.mm.read(ptr > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(ptr), len * 8);
  const { errno, prog } = checkFilter(raw);
  if (prog === null) fail(errno);
  if (flags & FLAG_NEW_LISTENER) throw new Unsupported('seccomp user notification (SECCOMP_FILTER_FLAG_NEW_LISTENER)', E.EINVAL);
  const cur = t.seccomp;
  if (cur !== null && cur.mode !== SECCOMP_MODE_FILTER) fail(E.EINVAL);
  const own = cur?.filter ?? null;
  if (flags & FLAG_TSYNC) {
    // every other thread must be unfiltered or run an ancestor of the caller's chain
    for (const th of t.proc.threads) {
      if (th === t || th.state === 'dead') continue;
      const s = th.seccomp;
      if (s === null || (s.mode === SECCOMP_MODE_FILTER && SeccompFilter.ancestor(s.filter, own))) continue;
      if (flags & FLAG_TSYNC_ESRCH) fail(E.ESRCH);
      return th.tid;
    }
  }
  const f = new SeccompFilter(prog, own, (flags & FLAG_LOG) !== 0);
  if (f.pathInsns > MAX_INSNS_PER_PATH) fail(E.ENOMEM);
  const state = { mode: SECCOMP_MODE_FILTER, filter: f } as const;
  t.seccomp = state;
  if (flags & FLAG_TSYNC) for (const th of t.proc.threads) if (th.state !== 'dead') th.seccomp = state;
  return 0;
}

/** prctl(PR_SET_SECCOMP, mode, filter): strict mode ignores the filter argument */
export function prctlSetSeccomp(t: Task, mode: number, filter: number): number {
  if (mode === SECCOMP_MODE_STRICT) return seccomp(t, SECCOMP_SET_MODE_STRICT, 0, 0);
  if (mode === SECCOMP_MODE_FILTER) return seccomp(t, SECCOMP_SET_MODE_FILTER, 0, filter);
  fail(E.EINVAL);
}

export const seccompDefs: Record<string, Def> = {
  seccomp: partial(['seccompop', 'seccompflags', 'seccompargs'], (t, a) => seccomp(t, a.u32(0), a.u32(1), a.ptr(2)),
    'strict mode; filters (classic BPF, Linux\'s checks) with every action, stacked, inherited, kept across execve; TSYNC, LOG, SPEC_ALLOW; GET_ACTION_AVAIL, GET_NOTIF_SIZES. SECCOMP_FILTER_FLAG_NEW_LISTENER (user notification) is reported as unsupported; SECCOMP_RET_TRACE fails the call with ENOSYS (no tracer asks for seccomp events), SECCOMP_RET_LOG is not logged'),
};
