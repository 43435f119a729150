// Sending and delivering signals. Sending makes a signal pending on a process
// or thread (signals.ts) after its job-control effect at send time (SIGCONT
// continues at once), and wakes a task it may interrupt. Delivery runs between
// instructions in a task that owns its engine: it picks synchronous (fault)
// signals first, then the lowest-numbered, and either applies the default
// action, or finishes an interrupted syscall (EINTR, SA_RESTART, a partial
// result) and writes the handler's frame (sigframe.ts). A fault that cannot
// be handled kills the process, as Linux's force_sig does.
import { dumpCore } from './core.js';
import { E } from '../abi/errno.js';
import { ILL_ILLOPC, SA_NODEFER, SA_RESETHAND, SA_RESTART, SEGV_MAPERR, SIG, SIG_DFL, SIG_IGN, bit } from '../abi/signal.js';
import { NORETURN } from '../cpu/args.js';
import { deliverFrame } from './sigframe.js';
import type { Fault } from '../cpu/fault.js';
import { restartCode, type Restart } from '../abi/restart.js';
import { SYNCHRONOUS, UNBLOCKABLE, defaultAction, dropSignals, faultSiginfo, queueSignal, takeSignal } from './signals.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';
import type { Task } from './task.js';

/** An interrupted parked syscall: how it ends if a handler runs or the task stops. */
export interface Interrupted {
  regs: Uint32Array;
  restart: Restart;
  partial: number | null;
  onInterrupt: (() => number | void) | null;
}

export class SignalDelivery {
  constructor(private readonly k: Kernel) {}

  /** Has t a pending signal it does not block? */
  pending(t: Task): boolean {
    if (t.pending === 0n && t.proc.pending === 0n) return false;
    return ((t.pending | t.proc.pending) & ~t.sigmask) !== 0n;
  }

  private ignored(p: Process, sig: number): boolean {
    const a = p.sighand.actions[sig];
    return a.handler === SIG_IGN || (a.handler === SIG_DFL && defaultAction(sig) === 'ignore');
  }

  /** Linux's prepare_signal: SIGCONT continues at once; a stop signal drops a pending SIGCONT. */
  private jobControlOnSend(p: Process, sig: number): void {
    if (sig === SIG.SIGCONT) this.k.jobs.continue(p);
    else if (sig === SIG.SIGSTOP || sig === SIG.SIGTSTP || sig === SIG.SIGTTIN || sig === SIG.SIGTTOU) {
      dropSignals(p, bit(SIG.SIGCONT));
      for (const t of p.threads) dropSignals(t, bit(SIG.SIGCONT));
    }
  }

  /** A signal to a whole process (kill). */
  sendToProcess(p: Process, sig: number, info: Buffer): void {
    if (sig === 0 || p.exit !== null || p.exiting !== null) return;
    if (sig === SIG.SIGKILL) {
      this.k.exit.group(p, { kind: 'signaled', signal: SIG.SIGKILL });
      return;
    }
    this.jobControlOnSend(p, sig);
    const blockedEverywhere = [...p.threads].every((t) => (t.sigmask & bit(sig)) !== 0n);
    if (this.ignored(p, sig) && !blockedEverywhere) return;
    if (!queueSignal(p, sig, info)) return;
    p.sighand.signalfd.wake();
    for (const t of p.threads) {
      if (((t.sigmask & ~t.sigwait) & bit(sig)) === 0n) {
        if (t.state === 'blocked' && t.blocked?.interruptible) this.k.sched.wake(t);
        break;
      }
    }
  }

  /** A signal to one thread (tgkill, SIGPIPE, faults). */
  sendToTask(t: Task, sig: number, info: Buffer): void {
    if (sig === 0 || t.state === 'dead') return;
    if (sig === SIG.SIGKILL) {
      this.k.exit.group(t.proc, { kind: 'signaled', signal: SIG.SIGKILL });
      return;
    }
    this.jobControlOnSend(t.proc, sig);
    if (this.ignored(t.proc, sig) && (t.sigmask & bit(sig)) === 0n) return;
    if (!queueSignal(t, sig, info)) return;
    t.proc.sighand.signalfd.wake();
    if (t.state === 'blocked' && t.blocked?.interruptible && ((t.sigmask & ~t.sigwait) & bit(sig)) === 0n) this.k.sched.wake(t);
  }

  /** A fault: the signal is delivered now; blocked or ignored, it kills (Linux's force_sig). */
  force(t: Task, sig: number, fault: Fault): void {
    const k = this.k;
    // what the thread's signal frames report from now on (Linux's thread.trap_nr, error_code, cr2)
    const last = t.lastFault;
    t.lastFault = {
      trapno: fault.trapno ?? last.trapno,
      err: fault.err ?? 0,
      cr2: fault.access ? fault.addr : last.cr2,
      address: fault.access ? fault.addr : 0,
      esr: fault.esr ?? last.esr,
    };
    const code = fault.code ?? (sig === SIG.SIGSEGV ? SEGV_MAPERR : sig === SIG.SIGILL ? ILL_ILLOPC : 0);
    const a = t.sigactions[sig];
    if (a.handler === SIG_DFL || a.handler === SIG_IGN || (t.sigmask & bit(sig)) !== 0n) {
      const info = faultSiginfo(sig, code, fault.addr);
      if (k.tracing(t)) k.tracer!.signal(t, sig, info);
      const core = defaultAction(sig) === 'core' && dumpCore(k, t, sig, info);
      k.events?.signal(t, sig, defaultAction(sig) === 'core' ? 'core' : 'terminate');
      k.exit.group(t.proc, { kind: 'signaled', signal: sig, fault, ...(core ? { core } : {}) });
      return;
    }
    t.pending |= bit(sig);
    t.siginfo.set(sig, [faultSiginfo(sig, code, fault.addr)]);
    this.deliver(t, null);
  }

  /**
   * A handler is about to run in t, whose parked syscall a signal ended:
   * its partial result, a restart from its syscall instruction once the
   * handler returns (ERESTARTNOINTR, or ERESTARTSYS with SA_RESTART), or
   * EINTR with what the call leaves behind (the time left of a sleep).
   */
  private endInterrupted(t: Task, i: Interrupted, saRestart: boolean): void {
    const restart = i.restart === 'noint' || (i.restart === 'sys' && saRestart);
    const r = i.partial === null ? i.onInterrupt?.() : undefined;
    this.traceInterrupted(t, i, false, r);
    if (i.partial !== null) t.cpu.setReturnWith(i.partial, i.regs);
    else if (r !== undefined && r !== -E.EINTR) t.cpu.setReturnWith(r, i.regs);
    else if (restart) t.cpu.setPc(t.arch.syscallInsnAddr(i.regs));
    else t.cpu.setReturnWith(-E.EINTR, i.regs);
  }

  /**
   * t stops (a stop signal's default action) in a parked syscall: it ends
   * with its partial result, or EINTR for the calls a stop ends
   * (signal(7)); any other goes on waiting once continued, as Linux's
   * restart without a handler does (restart_syscall for the timed ones,
   * with the time that was left).
   */
  private stopInterrupted(t: Task, i: Interrupted): void {
    // what the call leaves behind (the time left) is written at any interruption, as Linux does
    const r = i.partial === null ? i.onInterrupt?.() : undefined;
    const failed = r !== undefined && r !== -E.EINTR;
    this.traceInterrupted(t, i, i.partial === null && !failed && i.restart === 'block', r);
    if (i.partial !== null) t.cpu.setReturnWith(i.partial, i.regs);
    else if (failed) t.cpu.setReturnWith(r, i.regs);
    else if (i.restart === 'intr') t.cpu.setReturnWith(-E.EINTR, i.regs);
    else t.blockRegs = i.regs; // retried when the task next runs (after SIGCONT)
  }

  /**
   * The tracer sees the call end as Linux's does: its partial result, an
   * error its interruption gave (EFAULT writing the time left), EINTR, or a
   * restart code.
   */
  private traceInterrupted(t: Task, i: Interrupted, resumes: boolean, left: number | void): void {
    const k = this.k;
    if (!k.tracing(t)) return;
    t.args.regs = i.regs;
    const failed = left !== undefined && left !== -E.EINTR ? left : null;
    const r = i.partial ?? failed ?? (i.restart === 'intr' ? -E.EINTR : -restartCode(i.restart));
    k.tracer!.interrupted(t, t.args, r, resumes);
  }

  /** Deliver pending signals to t (which owns its engine, between instructions). */
  deliver(t: Task, interrupted: Interrupted | null): void {
    const k = this.k;
    for (;;) {
      const ready = (t.pending | t.proc.pending) & ~t.sigmask;
      if (ready === 0n) break;
      const sync = ready & SYNCHRONOUS;
      const pick = sync !== 0n ? sync : ready;
      let sig = 1;
      while ((pick & bit(sig)) === 0n) sig++;
      const info = takeSignal(t.pending & bit(sig) ? t : t.proc, sig) ?? k.userInfo(sig, 0);
      const act = t.sigactions[sig];
      if (act.handler === SIG_IGN) continue;
      if (act.handler === SIG_DFL) {
        const d = defaultAction(sig);
        if (d === 'ignore' || d === 'cont') continue;
        if (d === 'stop') {
          if (sig !== SIG.SIGSTOP && k.jobs.orphanedPgrp(t.proc.pgid, t.proc.sid)) continue;
          if (interrupted !== null) this.stopInterrupted(t, interrupted);
          if (k.tracing(t)) k.tracer!.signal(t, sig, info);
          k.events?.signal(t, sig, 'stop');
          k.jobs.stop(t.proc, sig);
          return;
        }
        if (k.tracing(t)) k.tracer!.signal(t, sig, info);
        const core = d === 'core' && dumpCore(k, t, sig, info);
        k.events?.signal(t, sig, d === 'core' ? 'core' : 'terminate');
        k.exit.group(t.proc, { kind: 'signaled', signal: sig, ...(core ? { core } : {}) });
        return;
      }
      // A handler runs: an interrupted syscall ends first (EINTR, or restarted after the handler).
      if (interrupted !== null) {
        this.endInterrupted(t, interrupted, (act.flags & SA_RESTART) !== 0);
        interrupted = null;
      }
      if (k.tracing(t)) k.tracer!.signal(t, sig, info);
      const oldMask = t.savedMask ?? t.sigmask;
      t.savedMask = null;
      k.events?.signal(t, sig, 'handler');
      if (!deliverFrame(t, sig, act, info, oldMask)) {
        // the frame could not be written: Linux kills with SIGSEGV
        k.exit.group(t.proc, { kind: 'signaled', signal: SIG.SIGSEGV });
        return;
      }
      t.sigmask = (t.sigmask | act.mask | (act.flags & SA_NODEFER ? 0n : bit(sig))) & ~UNBLOCKABLE;
      if (act.flags & SA_RESETHAND) t.sigactions[sig] = { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n };
      break;
    }
    if (interrupted !== null) {
      // Nothing ran a handler: the syscall goes on waiting (Linux restarts it transparently).
      t.restarting = true;
      t.args.regs = interrupted.regs;
      try {
        const r = k.syscalls.dispatch(t, t.args);
        if (r !== NORETURN) t.cpu.setReturnWith(r, interrupted.regs);
      } finally {
        t.restarting = false;
      }
    }
  }
}
