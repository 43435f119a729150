// The scheduler: the run queue, the loop that gives the engine to one task at
// a time, time slices, and parking. A syscall that must wait parks its task
// (the engine stops) and the loop runs another task or awaits the event loop;
// a parked syscall is retried in JS when woken, so it completes before any
// signal that arrived meanwhile is delivered, as on Linux. What stopped the
// engine (a syscall's yield, a signal, sigreturn, a fault) is settled here.
import { initFpu, sigreturn } from './sigframe.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Fault } from '../cpu/fault.js';
import { UC_ERR_EXCEPTION, UC_ERR_FETCH_UNALIGNED, UC_ERR_INSN_INVALID, UC_ERR_READ_UNALIGNED, UC_ERR_WRITE_UNALIGNED } from '../cpu/unicorn.js';
import { NORETURN } from '../cpu/args.js';
import { MSR_MISC_FEATURES_ENABLES, X86 } from '../cpu/x86_64.js';
import { BUS_ADRALN, ILL_ILLOPC, ILL_ILLOPN, SEGV_MAPERR, SIG, SI_KERNEL } from '../abi/signal.js';
import type { ArchName } from '../cpu/arch.js';
import type { Blocked } from '../ctx/waitq.js';
import { nowMs } from '../host/clock.js';
import { HostTimer } from '../host/timer.js';
import type { Kernel } from './kernel.js';
import type { Process, ExitState } from './process.js';
import type { Task } from './task.js';

/** A task that keeps making syscalls yields to others after this long. */
const SLICE_MS = 10;

/**
 * The signal and si_code an engine error raises when no hook reported a
 * fault: an invalid instruction is x86's #UD (ILL_ILLOPN) or arm64's
 * undefined instruction (ILL_ILLOPC), a misaligned access BUS_ADRALN.
 */
function ucErrorSignal(err: number, arch: ArchName): { signal: number; code: number; trapno: number } {
  switch (err) {
    case UC_ERR_INSN_INVALID:
    case UC_ERR_EXCEPTION:
      return { signal: SIG.SIGILL, code: arch === 'x86_64' ? ILL_ILLOPN : ILL_ILLOPC, trapno: 6 };
    case UC_ERR_READ_UNALIGNED:
    case UC_ERR_WRITE_UNALIGNED:
    case UC_ERR_FETCH_UNALIGNED:
      return { signal: SIG.SIGBUS, code: BUS_ADRALN, trapno: 17 };
    default:
      return { signal: SIG.SIGSEGV, code: SEGV_MAPERR, trapno: 13 };
  }
}

export class Scheduler {
  /** when the running task's slice ends (checked at its syscalls) */
  sliceEnd = 0;
  /** host timers armed (parked deadlines, itimers): events that may make a task runnable */
  timers = 0;
  private runq: Task[] = [];
  private wakeup: (() => void) | null = null;

  constructor(private readonly k: Kernel) {}

  /** Queue a runnable task at the back. */
  push(t: Task): void {
    this.runq.push(t);
  }

  /** Run tasks until init ends or elfrun fails; then every process is killed and the engines closed. */
  async loop(init: Process): Promise<ExitState> {
    const k = this.k;
    let sinceYield = nowMs();
    while (init.exit === null && k.fatal === null) {
      // a debugger holding the guest: nothing runs until it resumes it
      const held = k.gdb?.gate();
      if (held) {
        await held;
        sinceYield = nowMs();
        continue;
      }
      const t = this.runq.shift();
      if (t === undefined) {
        // a host fd about to be ready (a loopback peer's reply) is waited for here
        if (this.timers === 0 && k.hostPoll.pollBriefly(1)) continue;
        await this.idle();
        sinceYield = nowMs();
        continue;
      }
      if (t.state !== 'runnable') continue;
      this.runTask(t);
      k.oom.killPending(); // (between runs: no engine runs, no syscall is half done)
      k.engines.bury();
      if (nowMs() - sinceYield > 20) {
        // host fds waited on meanwhile are watched while Node's loop turns
        k.hostPoll.start();
        await yieldToEventLoop();
        sinceYield = nowMs();
      }
    }
    k.shutdown();
    if (k.fatal) throw k.fatal;
    return init.exit!;
  }

  private idle(): Promise<void> {
    if (this.runq.length > 0) return Promise.resolve();
    this.k.hostPoll.start();
    // Every task waits. If nothing outside can wake them the guest is deadlocked,
    // and hangs as it would on Linux: keep Node alive (a host signal can end it).
    const keepAlive = setInterval(() => {}, 1 << 30);
    return new Promise((resolve) => {
      this.wakeup = () => {
        clearInterval(keepAlive);
        resolve();
      };
    });
  }

  /** Something became runnable from an async source: resume the scheduler. */
  kick(): void {
    const w = this.wakeup;
    if (w) {
      this.wakeup = null;
      w();
    }
  }

  /** Give the engine to t, saving the registers of the task that held it. */
  switchTo(t: Task): void {
    const mm = t.proc.mm;
    const cpu = mm.cpu;
    if (cpu.owner !== t) {
      const prev = cpu.owner as Task | null;
      if (prev !== null && prev.state !== 'dead') prev.ctx = cpu.saveContext(prev.ctx);
      if (cpu.active !== mm.space) cpu.activate(mm.space, mm.space.regions());
      if (t.ctx !== null) cpu.restoreContext(t.ctx);
      cpu.owner = t;
    } else if (cpu.active !== mm.space) cpu.activate(mm.space, mm.space.regions());
    if (t.pendingRegs.length) {
      for (const [r, v] of t.pendingRegs) cpu.setReg(r, v);
      t.pendingRegs = [];
    }
    if (t.pendingFpuInit) {
      // exec: the FPU's init state, and cpuid no longer faults (arch_setup_new_exec)
      initFpu(cpu, t.arch.name);
      if (t.arch.name === 'x86_64') cpu.setMsr(MSR_MISC_FEATURES_ENABLES, X86.MSR, 0n);
      t.pendingFpuInit = false;
    }
    cpu.client = t;
  }

  private runTask(t: Task): void {
    const k = this.k;
    if (t.proc.stopped) {
      t.state = 'stopped'; // until SIGCONT (a blocked call is retried then)
      return;
    }
    // from here to the engine's run, elfrun works for t (a retried syscall,
    // a signal's delivery): its system time, as is every syscall in the run
    const u0 = t.utimeMs;
    const s0 = t.stimeMs;
    t.account(nowMs(), null);
    this.runKernel(t);
    t.account(nowMs(), undefined);
    if (t.state !== 'dead') k.itimers.charge(t.proc, t.utimeMs - u0, t.stimeMs - s0);
  }

  /** t's turn: what the kernel does for it, then the engine running it until it stops. */
  private runKernel(t: Task): void {
    const k = this.k;
    this.switchTo(t);
    if (t.blockRegs !== null) {
      this.retry(t);
      if (t.state !== 'runnable') return;
    }
    if (k.gdb !== null) {
      if (k.gdb.beforeRun(t)) {
        this.runq.unshift(t);
        return;
      }
      if (t.state !== 'runnable') return;
    }
    if (k.signals.pending(t)) {
      k.signals.deliver(t, null);
      if (t.state !== 'runnable') return;
    }
    t.stopReason = null;
    t.fault = null;
    const cpu = t.cpu;
    // A task that makes syscalls yields at one once its slice is over
    // (Task.onSyscall); one that computes without them is stopped by the
    // trampoline's watchdog at a block boundary (Unicorn's own timeout stops
    // anywhere and leaves a stale pc, unicorn issue #1105).
    const start = nowMs();
    this.sliceEnd = start + SLICE_MS;
    t.account(start, cpu);
    // A spin-wait hint (x86 pause, arm64 yield/wfe) ends the run as a
    // preemption does while another task could run: a thread spinning for
    // another's flag or lock gives the engine up at its first hint instead of
    // at the end of its slice. Alone, the hints stay no-ops, as natively.
    const spin = this.runq.length > 0;
    if (spin !== cpu.spinYield && cpu.lib.spinYield !== null) {
      cpu.spinYield = spin;
      cpu.lib.spinYield(cpu.uc, spin);
    }
    const err = cpu.run(k.gdb !== null && k.gdb.stepTask === t ? 1 : 0);
    // what follows the engine's stop (a fault's signal, a preemption) is the kernel's
    t.account(nowMs(), null);
    const next = t.handOffTo;
    t.handOffTo = null;
    if (cpu.internalError !== null) {
      k.fatal = cpu.internalError;
      cpu.internalError = null;
      return;
    }
    if (t.state === 'dead') return;
    if (t.stopReason === 'sigreturn' && !sigreturn(t)) {
      k.exit.group(t.proc, { kind: 'signaled', signal: SIG.SIGSEGV });
      return;
    }
    const f = t.fault as Fault | null;
    if (f === null && err === 0 && t.stopReason === null) {
      // Nothing in elfrun stopped the engine: the watchdog's preemption, or
      // the engine's own halt (x86 hlt, which is privileged: #GP on Linux).
      const hlt = !cpu.preempted && t.arch.name === 'x86_64' ? this.haltedAt(t) : null;
      if (hlt !== null) {
        cpu.setPc(hlt);
        k.signals.force(t, SIG.SIGSEGV, { signal: SIG.SIGSEGV, code: SI_KERNEL, addr: 0, pc: hlt, what: 'privileged instruction (hlt)', trapno: 13, err: 0 });
        if (t.state !== 'runnable') return;
      } else t.stopReason = 'preempt';
    }
    if (f !== null || (err !== 0 && t.stopReason === null)) {
      const e = f === null ? ucErrorSignal(err, t.arch.name) : null;
      const sig = f?.signal ?? e!.signal;
      const pc = cpu.pc;
      const fault = f ?? { signal: sig, code: e!.code, addr: pc, pc, what: cpu.lib.strerror(err), trapno: e!.trapno, err: 0 };
      // a debugger sees the fault first (a breakpoint is its own)
      if (k.gdb !== null && k.gdb.afterRun(t, fault)) {
        this.runq.unshift(t);
        return;
      }
      k.signals.force(t, sig, fault);
      if (t.state !== 'runnable') return;
    } else if (k.gdb !== null && t.state === 'runnable' && k.gdb.afterRun(t, null)) {
      this.runq.unshift(t);
      return;
    }
    // a task stopped to take a signal or after exec keeps its turn (as on Linux, where
    // returning to user mode does not reschedule); a yield or preemption goes to the back
    if (t.state === 'runnable') {
      const why = t.stopReason as Task['stopReason'];
      if (why === 'yield' || why === 'preempt') this.runq.push(t);
      else this.runq.unshift(t);
    }
    if (next !== null) {
      const i = this.runq.indexOf(next);
      if (i > 0) {
        this.runq.splice(i, 1);
        this.runq.unshift(next);
      }
    }
  }

  /** The address of the hlt instruction the engine stopped after, if it did (x86_64). */
  private haltedAt(t: Task): number | null {
    const pc = t.cpu.pc;
    try {
      return t.mm.u8(pc - 1) === 0xf4 ? pc - 1 : null;
    } catch {
      return null;
    }
  }

  /**
   * t's syscall ends its turn, and `next` (runnable, queued) runs first, then t:
   * a forked child takes the engine as the parent left it (see forkMm).
   */
  handOff(t: Task, next: Task): void {
    t.stopReason = 'handoff';
    t.handOffTo = next;
  }

  /** Are other tasks runnable, or host events (timers, signals, I/O) possibly due? */
  othersWaiting(): boolean {
    return this.runq.length > 0 || this.k.hostPoll.active || this.timers > 0;
  }

  /** Wake a parked task: it retries its syscall when next scheduled. */
  wake(t: Task): void {
    if (t.state !== 'blocked') return;
    for (const q of t.blocked?.queues ?? []) q.remove(t);
    if (t.timer) {
      t.timer.clear();
      t.timer = null;
      this.timers--;
    }
    t.state = 'runnable';
    this.runq.push(t);
    this.kick();
  }

  /** Called by dispatch when a handler throws Blocked. */
  park(t: Task, b: Blocked, regs: Uint32Array): void {
    t.blocked = b;
    t.blockRegs = regs === t.blockRegs ? regs : Uint32Array.from(regs.subarray(0, 20));
    t.state = 'blocked';
    t.stopReason = 'block';
    for (const q of b.queues) q.add(t);
    if (b.deadline !== Infinity) {
      const ms = Math.max(0, b.deadline - nowMs());
      this.timers++;
      t.timer = new HostTimer(ms, () => {
        t.timer = null;
        this.timers--;
        this.wake(t);
      });
    }
  }

  /** Forget a parked syscall (interrupted by a signal, or its task killed): the task is runnable, not queued. */
  unpark(t: Task): void {
    t.sigwait = 0n;
    if (t.futexWait !== null) this.k.futex.leave(t);
    for (const q of t.blocked?.queues ?? []) q.remove(t);
    if (t.timer) {
      t.timer.clear();
      t.timer = null;
      this.timers--;
    }
    t.blocked = null;
    t.blockRegs = null;
    t.state = 'runnable';
  }

  /** Retry a woken task's parked syscall. */
  private retry(t: Task): void {
    const k = this.k;
    const regs = t.blockRegs!;
    t.blocked = null;
    t.restarting = true;
    t.args.regs = regs;
    let r: number;
    try {
      r = k.syscalls.dispatch(t, t.args);
    } catch (e) {
      k.fatal = e as Error;
      return;
    } finally {
      t.restarting = false;
    }
    if (r === NORETURN) {
      if (t.state === 'blocked' && t.blocked!.interruptible && k.signals.pending(t)) {
        const nb = t.blocked!;
        this.unpark(t);
        k.signals.deliver(t, { regs, restart: nb.restart, partial: nb.partial, onInterrupt: nb.onInterrupt });
      }
      return;
    }
    t.blockRegs = null;
    t.cpu.setReturnWith(r, regs);
  }
}
