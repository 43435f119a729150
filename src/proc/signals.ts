// Pending-signal state and the facts of each signal, with no engine, task or
// kernel behind them: how a signal becomes pending on a thread or a process
// (standard signals merge, real-time ones queue with their siginfo), how one
// is taken and how a set is dropped, what a signal does by default, which
// cannot be blocked and which a fault raises, and the siginfo the kernel
// writes for kill, faults and child events. The kernel's sending and delivery
// (deliver.ts) are built on these; unit tests check them without Unicorn.
import { CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, SI_USER, SIG, SIGRTMIN, bit } from '../abi/signal.js';
import type { Process } from './process.js';

/** What holds pending signals: a thread (thread-directed) or a process (process-directed). */
export interface SignalTarget {
  pending: bigint;
  /** siginfo of each pending signal: one for a standard signal, a queue for a real-time one */
  siginfo: Map<number, Buffer[]>;
}

/** Real-time signals queue up to this many instances per target (Linux's limit is RLIMIT_SIGPENDING, ~60k) */
export const RT_QUEUE_MAX = 4096;

/**
 * Make a signal pending on a thread or process: a standard signal is pending
 * once (a second is merged), a real-time one queues every instance with its
 * siginfo. false when a real-time queue is full (the signal is dropped).
 */
export function queueSignal(target: SignalTarget, sig: number, info: Buffer): boolean {
  const q = target.siginfo.get(sig);
  if (q === undefined) target.siginfo.set(sig, [info]);
  else if (sig >= SIGRTMIN) {
    if (q.length >= RT_QUEUE_MAX) return false;
    q.push(info);
  }
  target.pending |= bit(sig);
  return true;
}

/** Forget pending signals of a mask, with their siginfo. */
export function dropSignals(target: SignalTarget, mask: bigint): void {
  target.pending &= ~mask;
  for (const sig of [...target.siginfo.keys()]) if (mask & bit(sig)) target.siginfo.delete(sig);
}

/**
 * What runs when a siginfo is taken (delivered, or read by sigwaitinfo or a
 * signalfd), before it is copied out: a POSIX timer's signal fills in its
 * overrun count and re-arms the timer then, as Linux's dequeue_signal does.
 */
export const onTake = new WeakMap<Buffer, (info: Buffer) => void>();

/** Take one instance of a pending signal: its siginfo (the bit stays while more are queued). */
export function takeSignal(target: SignalTarget, sig: number): Buffer | undefined {
  const q = target.siginfo.get(sig);
  const info = q?.shift();
  if (q === undefined || q.length === 0) {
    target.siginfo.delete(sig);
    target.pending &= ~bit(sig);
  }
  if (info !== undefined) onTake.get(info)?.(info);
  return info;
}

export type DefaultAction = 'term' | 'core' | 'ignore' | 'stop' | 'cont';

/** What a signal does under SIG_DFL (signal(7)); real-time signals terminate. */
export function defaultAction(sig: number): DefaultAction {
  switch (sig) {
    case SIG.SIGCHLD:
    case SIG.SIGURG:
    case SIG.SIGWINCH:
      return 'ignore';
    case SIG.SIGCONT:
      return 'cont';
    case SIG.SIGSTOP:
    case SIG.SIGTSTP:
    case SIG.SIGTTIN:
    case SIG.SIGTTOU:
      return 'stop';
    case SIG.SIGQUIT:
    case SIG.SIGILL:
    case SIG.SIGTRAP:
    case SIG.SIGABRT:
    case SIG.SIGBUS:
    case SIG.SIGFPE:
    case SIG.SIGSEGV:
    case SIG.SIGXCPU:
    case SIG.SIGXFSZ:
    case SIG.SIGSYS:
      return 'core';
    default:
      return 'term';
  }
}

/** Signals no mask blocks and no handler catches. */
export const UNBLOCKABLE = bit(SIG.SIGKILL) | bit(SIG.SIGSTOP);
/** Signals a fault raises: delivered before any other pending signal. */
export const SYNCHRONOUS = bit(SIG.SIGSEGV) | bit(SIG.SIGBUS) | bit(SIG.SIGILL) | bit(SIG.SIGTRAP) | bit(SIG.SIGFPE) | bit(SIG.SIGSYS);
/** The stop signals: a SIGCONT cancels those pending, and one of them a pending SIGCONT. */
export const STOP_SIGNALS = bit(SIG.SIGSTOP) | bit(SIG.SIGTSTP) | bit(SIG.SIGTTIN) | bit(SIG.SIGTTOU);

/** siginfo for a signal sent by a process (SI_USER): its pid and real uid. */
export function userSiginfo(sig: number, pid: number, uid: number): Buffer {
  const b = Buffer.alloc(128);
  b.writeInt32LE(sig, 0);
  b.writeInt32LE(SI_USER, 8);
  b.writeInt32LE(pid, 16);
  b.writeUInt32LE(uid, 20);
  return b;
}

/** siginfo of a fault: its si_code and the faulting address. */
export function faultSiginfo(sig: number, code: number, addr: number): Buffer {
  const info = Buffer.alloc(128);
  info.writeInt32LE(sig, 0);
  info.writeInt32LE(code, 8);
  // si_addr is the unsigned address (exact below 2^53, as guest addresses are)
  info.writeBigUInt64LE(BigInt.asUintN(64, BigInt(addr)), 16);
  return info;
}

/** A child's change of state that its parent hears of: a stop (by this signal) or a continue. */
export type ChildEvent = { stopped: number } | 'continued';

/**
 * The CLD_* siginfo of a child (signo: its exit signal, or SIGCHLD for
 * waitid): ended, or `event` stopped by a signal / continued. The signal to
 * the parent carries the CPU times Linux puts in it (the whole group's at an
 * exit, the stopping thread's at a stop); waitid's has none.
 */
export function childSiginfo(p: Process, signo: number, event: ChildEvent | null, times: { utimeMs: number; stimeMs: number } | null = null): Buffer {
  const b = Buffer.alloc(128);
  b.writeInt32LE(signo, 0);
  b.writeInt32LE(p.pid, 16);
  b.writeUInt32LE(p.cred.ruid, 20);
  if (times !== null) {
    // si_utime and si_stime, in clock ticks (USER_HZ 100), as do_notify_parent's nsec_to_clock_t makes them
    b.writeBigInt64LE(BigInt(Math.floor(times.utimeMs / 10)), 32);
    b.writeBigInt64LE(BigInt(Math.floor(times.stimeMs / 10)), 40);
  }
  if (event === 'continued') {
    b.writeInt32LE(CLD_CONTINUED, 8);
    b.writeInt32LE(SIG.SIGCONT, 24);
  } else if (event !== null) {
    b.writeInt32LE(CLD_STOPPED, 8);
    b.writeInt32LE(event.stopped, 24);
  } else {
    const s = p.exit!;
    b.writeInt32LE(s.kind === 'exited' ? CLD_EXITED : s.core ? CLD_DUMPED : CLD_KILLED, 8);
    b.writeInt32LE(s.kind === 'exited' ? s.code : s.signal, 24);
  }
  return b;
}
