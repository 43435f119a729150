// The kernel core: process and thread table, the scheduler, signals, exit and
// wait. Many guest processes live in this one Node process: one guest task
// runs at a time inside uc_emu_start; a syscall that must wait parks its task
// (the engine stops) and the scheduler runs another task or awaits the event
// loop. A parked syscall is retried in JS when woken, so it completes before
// any signal that arrived meanwhile is delivered, as on Linux.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { existsSync, readFileSync } from 'node:fs';
import type { Arch, ArchName } from '../cpu/arch.js';
import { Cpu, type Fault } from '../cpu/engine.js';
import { setX86Hwcap } from '../cpu/x86_64.js';
import { UC_ERR_EXCEPTION, UC_ERR_FETCH_UNALIGNED, UC_ERR_INSN_INVALID, UC_ERR_READ_UNALIGNED, UC_ERR_WRITE_UNALIGNED } from '../cpu/unicorn.js';
import { FdTable } from '../fs/fdtable.js';
import type { Loc, Vfs } from '../fs/vfs.js';
import { host, hostProc, Scratch } from '../host/libc.js';
import { NORETURN } from '../cpu/args.js';
import { HostMemory } from '../mm/host-memory.js';
import { Unsupported } from '../abi/errors.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { FsState, Mm, Process, SigHand, SIG_DFL, SIG_IGN, type ExitState } from './process.js';
import { SIG, bit } from '../abi/signal.js';
import { deliverFrame, sigreturn } from './sigframe.js';
import { Task, type TaskOptions } from './task.js';
import { Blocked, WaitQueue } from '../ctx/waitq.js';
import type { KernelObserver, SyscallLayer } from './services.js';
import { Terminal } from './terminal.js';
import type { IoContext } from '../fs/context.js';
import { nowMs } from '../host/clock.js';

const SA_NOCLDWAIT = 2;
const SA_RESTART = 0x10000000;

/** Field 7 of the host's /proc/self/stat: elfrun's controlling terminal. */
function hostTtyNr(): number {
  try {
    const s = readFileSync('/proc/self/stat', 'latin1');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[4]) || 0;
  } catch {
    return 0;
  }
}

const SIGRTMIN = 32;
/** Real-time signals queue up to this many instances per target (Linux's limit is RLIMIT_SIGPENDING, ~60k) */
const RT_QUEUE_MAX = 4096;

/**
 * Make a signal pending on a thread or process: a standard signal is pending
 * once (a second is merged), a real-time one queues every instance with its
 * siginfo. false when a real-time queue is full (the signal is dropped).
 */
export function queueSignal(target: { pending: bigint; siginfo: Map<number, Buffer[]> }, sig: number, info: Buffer): boolean {
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
function dropSignals(target: { pending: bigint; siginfo: Map<number, Buffer[]> }, mask: bigint): void {
  target.pending &= ~mask;
  for (const sig of [...target.siginfo.keys()]) if (mask & bit(sig)) target.siginfo.delete(sig);
}

/** Take one instance of a pending signal: its siginfo (the bit stays while more are queued). */
export function takeSignal(target: { pending: bigint; siginfo: Map<number, Buffer[]> }, sig: number): Buffer | undefined {
  const q = target.siginfo.get(sig);
  const info = q?.shift();
  if (q === undefined || q.length === 0) {
    target.siginfo.delete(sig);
    target.pending &= ~bit(sig);
  }
  return info;
}

function defaultAction(sig: number): 'term' | 'core' | 'ignore' | 'stop' | 'cont' {
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

const UNBLOCKABLE = bit(SIG.SIGKILL) | bit(SIG.SIGSTOP);
/** Signals a fault raises: delivered before any other pending signal. */
const SYNCHRONOUS = bit(SIG.SIGSEGV) | bit(SIG.SIGBUS) | bit(SIG.SIGILL) | bit(SIG.SIGTRAP) | bit(SIG.SIGFPE) | bit(SIG.SIGSYS);

function ucErrorSignal(err: number): number {
  switch (err) {
    case UC_ERR_INSN_INVALID:
    case UC_ERR_EXCEPTION:
      return SIG.SIGILL;
    case UC_ERR_READ_UNALIGNED:
    case UC_ERR_WRITE_UNALIGNED:
    case UC_ERR_FETCH_UNALIGNED:
      return SIG.SIGBUS;
    default:
      return SIG.SIGSEGV;
  }
}

/** Interrupted parked syscall: how to finish it if a handler runs. */
interface Interrupted {
  regs: Uint32Array;
  restartable: boolean;
  partial: number | null;
}

/** Waiters on one futex word, each with its FUTEX_BITSET mask, in arrival order. */
export class FutexQueue {
  readonly waiters = new Map<Task, number>();
  add(t: Task, mask: number): void {
    this.waiters.set(t, mask);
  }
}

/** A task that keeps making syscalls yields to others after this long. */
const SLICE_MS = 10;

export class Kernel {
  /** when the running task's slice ends (checked at its syscalls) */
  sliceEnd = 0;
  private timers = 0;
  readonly processes = new Map<number, Process>();
  readonly tasks = new Map<number, Task>();
  private runq: Task[] = [];
  init: Process | null = null;
  readonly hostPpid = process.ppid;
  /** elfrun's controlling terminal (tty_nr of /proc/<pid>/stat; 0 for none): the guest's session shares it */
  readonly ttyNr = hostTtyNr();
  private nextPid = process.pid;
  private wakeup: (() => void) | null = null;
  /**
   * address spaces to destroy once no hook of their engine is on the stack,
   * each with the space that may take the memory the engine maps (buryEngines)
   */
  private graveyard: Array<{ mm: Mm; heir: Mm | null }> = [];
  private hostPolls = new Map<number, { queue: WaitQueue; events: number }>();
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  fatal: Error | null = null;
  readonly uid = process.getuid!();
  readonly gid = process.getgid!();
  /** the guest's file system tree */
  vfs!: Vfs;
  /** the host memory of this Machine's address spaces (the pool, the shared file mappings) */
  readonly memory = new HostMemory();

  /** who is told of signals and exits (the strace-style tracer), when asked for */
  tracer: KernelObserver | null = null;

  constructor(
    readonly opts: TaskOptions,
    /** services each task's syscalls */
    readonly syscalls: SyscallLayer,
  ) {}

  setTracer(tr: KernelObserver): void {
    this.tracer = tr;
    tr.live = () => this.tasks.size;
  }

  /**
   * Guest pids continue from elfrun's own (the first guest process is
   * elfrun's host process, its parent elfrun's parent). When the guest sees
   * the host's processes, its new pids skip those the host uses.
   */
  allocPid(): number {
    let pid = this.nextPid;
    while (this.tasks.has(pid) || this.processes.has(pid) || this.pgroupInUse(pid) || (this.hostProcesses && hostProc.exists(pid)))
      pid = pid >= 4194304 ? 300 : pid + 1;
    this.nextPid = pid + 1;
    return pid;
  }

  private pgroupInUse(id: number): boolean {
    for (const p of this.processes.values()) if (p.pgid === id || p.sid === id) return true;
    return false;
  }

  get hostProcesses(): boolean {
    return this.opts.hostProcesses === true;
  }

  /**
   * Is pid a host process the guest may see (not one of its own, nor one of
   * elfrun's own threads)? Calls that name one go to the host.
   */
  isHostPid(pid: number): boolean {
    if (!this.hostProcesses || !(pid > 0) || this.processes.has(pid) || this.tasks.has(pid)) return false;
    return hostProc.exists(pid) && !existsSync(`/proc/self/task/${pid}`);
  }

  /** The first process: its exit ends the run. It is elfrun's own host process, pid and all. */
  createInit(arch: Arch, mm: Mm, cwd: Loc, umask: number): Task {
    const pid = process.pid;
    this.nextPid = pid + 1;
    const p = new Process(pid, arch, mm, new FdTable(), new FsState(cwd, umask), new SigHand());
    // like any process, the first one is in elfrun's own process group and session
    p.pgid = host.getpgrp();
    p.sid = host.getsid();
    const t = new Task(this, pid, p, this.opts);
    p.threads.add(t);
    this.processes.set(pid, p);
    this.tasks.set(pid, t);
    this.init = p;
    this.runq.push(t);
    return t;
  }

  /** Register a new task (clone): runnable at once. */
  addTask(t: Task): void {
    this.tasks.set(t.tid, t);
    t.proc.threads.add(t);
    if (!this.processes.has(t.proc.pid)) this.processes.set(t.proc.pid, t.proc);
    this.runq.push(t);
    this.kick();
  }

  // ---- the scheduler ------------------------------------------------------------

  /** The controlling terminal's job control: its foreground process group */
  readonly terminal = new Terminal(this);

  /** The process of the task behind an I/O context. */
  processOf(t: IoContext): Process {
    return this.tasks.get(t.tid)!.proc;
  }

  /** Host signals reach the guest: ^C (SIGINT, SIGQUIT) its foreground process group, SIGTERM/SIGHUP its init. */
  private forwardHostSignals(): () => void {
    const handlers: Array<[NodeJS.Signals, () => void]> = [];
    const on = (name: NodeJS.Signals, sig: number, group: boolean): void => {
      const h = (): void => {
        const init = this.init!;
        const info = this.userInfo(sig, 0);
        info.writeInt32LE(0x80, 8); // SI_KERNEL
        const fg = this.terminal.foreground();
        for (const p of [...this.processes.values()]) if (p.exit === null && (group ? p.pgid === fg : p === init)) this.sendToProcess(p, sig, info);
        this.kick();
      };
      process.on(name, h);
      handlers.push([name, h]);
    };
    on('SIGINT', SIG.SIGINT, true);
    on('SIGQUIT', SIG.SIGQUIT, true);
    on('SIGTSTP', SIG.SIGTSTP, true); // ^Z: the guest's foreground group stops (and elfrun with its init)
    on('SIGCONT', SIG.SIGCONT, true); // fg: it continues
    on('SIGTERM', SIG.SIGTERM, false);
    on('SIGHUP', SIG.SIGHUP, false);
    return () => handlers.forEach(([n, h]) => process.off(n, h));
  }

  async run(): Promise<ExitState> {
    const init = this.init!;
    const unforward = this.forwardHostSignals();
    try {
      return await this.loop(init);
    } finally {
      unforward();
    }
  }

  private async loop(init: Process): Promise<ExitState> {
    let sinceYield = nowMs();
    while (init.exit === null && this.fatal === null) {
      const t = this.runq.shift();
      if (t === undefined) {
        await this.idle();
        sinceYield = nowMs();
        continue;
      }
      if (t.state !== 'runnable') continue;
      this.runTask(t);
      this.buryEngines();
      if (nowMs() - sinceYield > 20) {
        await yieldToEventLoop();
        sinceYield = nowMs();
      }
    }
    this.shutdown();
    if (this.fatal) throw this.fatal;
    return init.exit!;
  }

  private idle(): Promise<void> {
    if (this.runq.length > 0) return Promise.resolve();
    if (this.hostPolls.size > 0) this.schedulePoll(0);
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
  private kick(): void {
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
    cpu.client = t;
  }

  private runTask(t: Task): void {
    if (t.proc.stopped) {
      t.state = 'stopped'; // until SIGCONT (a blocked call is retried then)
      return;
    }
    this.switchTo(t);
    if (t.blockRegs !== null) {
      this.retry(t);
      if (t.state !== 'runnable') return;
    }
    if (this.signalsPending(t)) {
      this.deliver(t, null);
      if (t.state !== 'runnable') return;
    }
    t.stopReason = null;
    t.fault = null;
    const cpu = t.cpu;
    // No asynchronous time limit: Unicorn's timeout stop leaves a stale pc (unicorn
    // issue #1105) and resuming re-executes instructions. Tasks yield at syscalls
    // once their slice is over (Task.onSyscall).
    this.sliceEnd = nowMs() + SLICE_MS;
    t.runStart = nowMs();
    const err = cpu.run(0);
    t.cpuMs += nowMs() - t.runStart;
    t.runStart = -1;
    const next = t.handOffTo;
    t.handOffTo = null;
    if (cpu.internalError !== null) {
      this.fatal = cpu.internalError;
      cpu.internalError = null;
      return;
    }
    if (t.state === 'dead') return;
    if (t.stopReason === 'sigreturn' && !sigreturn(t)) {
      this.exitGroup(t.proc, { kind: 'signaled', signal: SIG.SIGSEGV });
      return;
    }
    const f = t.fault as Fault | null;
    if (f !== null || (err !== 0 && t.stopReason === null)) {
      const sig = f?.signal ?? ucErrorSignal(err);
      const pc = cpu.pc;
      const fault = f ?? { signal: sig, addr: pc, pc, what: cpu.lib.strerror(err) };
      this.forceSignal(t, sig, fault);
      if (t.state !== 'runnable') return;
    }
    // a task stopped to take a signal or after exec keeps its turn (as on Linux, where
    // returning to user mode does not reschedule); a yield goes to the back
    if (t.state === 'runnable') {
      if (t.stopReason === 'yield') this.runq.push(t);
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
    return this.runq.length > 0 || this.hostPolls.size > 0 || this.timers > 0;
  }

  /**
   * ITIMER_REAL of a process (alarm, setitimer): SIGALRM after `ms`, then every
   * `interval` ms; 0 disarms. Returns what was left of the old one (ms) and its interval.
   */
  setItimer(p: Process, ms: number, interval: number): { left: number; interval: number } {
    const old = p.itimer;
    const left = old ? Math.max(0, old.due - nowMs()) : 0;
    if (old) {
      clearTimeout(old.timer);
      this.timers--;
      p.itimer = null;
    }
    if (ms > 0) this.armItimer(p, ms, interval);
    return { left, interval: old?.interval ?? 0 };
  }

  private armItimer(p: Process, ms: number, interval: number): void {
    this.timers++;
    const timer = setTimeout(() => {
      this.timers--;
      p.itimer = null;
      if (p.exit !== null) return;
      if (interval > 0) this.armItimer(p, interval, interval);
      const info = this.userInfo(SIG.SIGALRM, 0);
      info.writeInt32LE(0x80, 8); // SI_KERNEL, as Linux's it_real_fn sends it
      this.sendToProcess(p, SIG.SIGALRM, info);
      this.kick();
    }, ms);
    p.itimer = { due: nowMs() + ms, interval, timer };
  }

  /** Wake a parked task: it retries its syscall when next scheduled. */
  wake(t: Task): void {
    if (t.state !== 'blocked') return;
    for (const q of t.blocked?.queues ?? []) q.remove(t);
    if (t.timer) {
      clearTimeout(t.timer);
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
      t.timer = setTimeout(() => {
        t.timer = null;
        this.timers--;
        this.wake(t);
      }, ms);
    }
  }

  private unpark(t: Task): void {
    t.sigwait = 0n;
    for (const q of t.blocked?.queues ?? []) q.remove(t);
    if (t.timer) {
      clearTimeout(t.timer);
      t.timer = null;
      this.timers--;
    }
    t.blocked = null;
    t.blockRegs = null;
    t.state = 'runnable';
  }

  /** Retry a woken task's parked syscall. */
  private retry(t: Task): void {
    const regs = t.blockRegs!;
    t.blocked = null;
    t.restarting = true;
    t.args.regs = regs;
    let r: number;
    try {
      r = this.syscalls.dispatch(t, t.args);
    } catch (e) {
      this.fatal = e as Error;
      return;
    } finally {
      t.restarting = false;
    }
    if (r === NORETURN) {
      if (t.state === 'blocked' && t.blocked!.interruptible && this.signalsPending(t)) {
        const nb = t.blocked!;
        this.unpark(t);
        this.deliver(t, { regs, restartable: nb.restartable, partial: nb.partial });
      }
      return;
    }
    t.blockRegs = null;
    t.cpu.setReturnWith(r, regs);
  }

  // ---- host fds that may block (stdin, host pipes) ----------------------------------

  /** A queue woken when the host fd is ready (POLLIN=1, POLLOUT=4). */
  hostPollQueue(fd: number, events: number): WaitQueue {
    let e = this.hostPolls.get(fd);
    if (!e) {
      e = { queue: new WaitQueue(`host fd ${fd}`), events };
      this.hostPolls.set(fd, e);
    }
    e.events |= events;
    return e.queue;
  }

  private pollDelay = 1;
  private schedulePoll(delay: number): void {
    if (this.pollTimer !== null) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      let woke = false;
      for (const [fd, e] of this.hostPolls) {
        if (e.queue.waiters.size === 0) {
          this.hostPolls.delete(fd);
          continue;
        }
        if (host.pollReady(fd, e.events)) {
          this.hostPolls.delete(fd);
          e.queue.wake();
          woke = true;
        }
      }
      if (woke) this.pollDelay = 1;
      else this.pollDelay = Math.min(this.pollDelay * 2, 20);
      if (this.hostPolls.size > 0) this.schedulePoll(this.pollDelay);
    }, delay);
  }

  // ---- signals ---------------------------------------------------------------------

  signalsPending(t: Task): boolean {
    if (t.pending === 0n && t.proc.pending === 0n) return false;
    return ((t.pending | t.proc.pending) & ~t.sigmask) !== 0n;
  }

  /** siginfo for a signal sent by a process (SI_USER). */
  userInfo(sig: number, pid: number): Buffer {
    const b = Buffer.alloc(128);
    b.writeInt32LE(sig, 0);
    b.writeInt32LE(0, 8); // SI_USER
    b.writeInt32LE(pid, 16);
    b.writeUInt32LE(this.uid, 20);
    return b;
  }

  private ignored(p: Process, sig: number): boolean {
    const a = p.sighand.actions[sig];
    return a.handler === SIG_IGN || (a.handler === SIG_DFL && defaultAction(sig) === 'ignore');
  }

  /** Linux's prepare_signal: SIGCONT continues at once; a stop signal drops a pending SIGCONT. */
  private jobControlOnSend(p: Process, sig: number): void {
    if (sig === SIG.SIGCONT) this.continueProcess(p);
    else if (sig === SIG.SIGSTOP || sig === SIG.SIGTSTP || sig === SIG.SIGTTIN || sig === SIG.SIGTTOU) {
      dropSignals(p, bit(SIG.SIGCONT));
      for (const t of p.threads) dropSignals(t, bit(SIG.SIGCONT));
    }
  }

  /** A signal to a whole process (kill). */
  sendToProcess(p: Process, sig: number, info: Buffer): void {
    if (sig === 0 || p.exit !== null || p.exiting !== null) return;
    if (sig === SIG.SIGKILL) {
      this.exitGroup(p, { kind: 'signaled', signal: SIG.SIGKILL });
      return;
    }
    this.jobControlOnSend(p, sig);
    const blockedEverywhere = [...p.threads].every((t) => (t.sigmask & bit(sig)) !== 0n);
    if (this.ignored(p, sig) && !blockedEverywhere) return;
    if (!queueSignal(p, sig, info)) return;
    for (const t of p.threads) {
      if (((t.sigmask & ~t.sigwait) & bit(sig)) === 0n) {
        if (t.state === 'blocked' && t.blocked?.interruptible) this.wake(t);
        break;
      }
    }
  }

  /** A signal to one thread (tgkill, SIGPIPE, faults). */
  sendToTask(t: Task, sig: number, info: Buffer): void {
    if (sig === 0 || t.state === 'dead') return;
    if (sig === SIG.SIGKILL) {
      this.exitGroup(t.proc, { kind: 'signaled', signal: SIG.SIGKILL });
      return;
    }
    this.jobControlOnSend(t.proc, sig);
    if (this.ignored(t.proc, sig) && (t.sigmask & bit(sig)) === 0n) return;
    if (!queueSignal(t, sig, info)) return;
    if (t.state === 'blocked' && t.blocked?.interruptible && ((t.sigmask & ~t.sigwait) & bit(sig)) === 0n) this.wake(t);
  }

  /** A fault: the signal is delivered now; blocked or ignored, it kills (Linux's force_sig). */
  private forceSignal(t: Task, sig: number, fault: { signal: number; addr: number; pc: number; what: string; code?: number }): void {
    const code = fault.code ?? (sig === SIG.SIGSEGV ? 1 /* SEGV_MAPERR */ : sig === SIG.SIGILL ? 1 /* ILL_ILLOPC */ : 0);
    const a = t.sigactions[sig];
    if (a.handler === SIG_DFL || a.handler === SIG_IGN || (t.sigmask & bit(sig)) !== 0n) {
      if (this.tracing(t)) {
        const info = Buffer.alloc(128);
        info.writeInt32LE(sig, 0);
        info.writeInt32LE(code, 8);
        info.writeBigUInt64LE(BigInt(fault.addr), 16);
        this.tracer!.signal(t, sig, info);
      }
      this.exitGroup(t.proc, { kind: 'signaled', signal: sig, fault });
      return;
    }
    const info = Buffer.alloc(128);
    info.writeInt32LE(sig, 0);
    info.writeInt32LE(code, 8);
    info.writeBigUInt64LE(BigInt(fault.addr), 16);
    t.pending |= bit(sig);
    t.siginfo.set(sig, [info]);
    this.deliver(t, null);
  }

  /** Deliver pending signals to t (which owns its engine, between instructions). */
  deliver(t: Task, interrupted: Interrupted | null): void {
    for (;;) {
      const ready = (t.pending | t.proc.pending) & ~t.sigmask;
      if (ready === 0n) break;
      const sync = ready & SYNCHRONOUS;
      const pick = sync !== 0n ? sync : ready;
      let sig = 1;
      while ((pick & bit(sig)) === 0n) sig++;
      const info = takeSignal(t.pending & bit(sig) ? t : t.proc, sig) ?? this.userInfo(sig, 0);
      const act = t.sigactions[sig];
      if (act.handler === SIG_IGN) continue;
      if (act.handler === SIG_DFL) {
        const d = defaultAction(sig);
        if (d === 'ignore' || d === 'cont') continue;
        if (this.tracing(t)) this.tracer!.signal(t, sig, info);
        if (d === 'stop') {
          if (sig !== SIG.SIGSTOP && this.orphanedPgrp(t.proc.pgid, t.proc.sid)) continue;
          this.stopProcess(t.proc, sig);
          return;
        }
        this.exitGroup(t.proc, { kind: 'signaled', signal: sig });
        return;
      }
      // A handler runs: finish an interrupted syscall first (EINTR, or restart after the handler).
      if (interrupted !== null) {
        const { regs, restartable, partial } = interrupted;
        interrupted = null;
        if (partial !== null) t.cpu.setReturnWith(partial, regs);
        else if (restartable && act.flags & SA_RESTART) t.cpu.setPc(t.arch.syscallInsnAddr(regs));
        else t.cpu.setReturnWith(-E.EINTR, regs);
      }
      if (this.tracing(t)) this.tracer!.signal(t, sig, info);
      const oldMask = t.savedMask ?? t.sigmask;
      t.savedMask = null;
      if (!deliverFrame(t, sig, act, info, oldMask)) {
        // the frame could not be written: Linux kills with SIGSEGV
        this.exitGroup(t.proc, { kind: 'signaled', signal: SIG.SIGSEGV });
        return;
      }
      t.sigmask = (t.sigmask | act.mask | (act.flags & 0x40000000 /* SA_NODEFER */ ? 0n : bit(sig))) & ~UNBLOCKABLE;
      if (act.flags & 0x80000000 /* SA_RESETHAND */) t.sigactions[sig] = { handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n };
      break;
    }
    if (interrupted !== null) {
      // Nothing ran a handler: the syscall goes on waiting (Linux restarts it transparently).
      t.restarting = true;
      t.args.regs = interrupted.regs;
      try {
        const r = this.syscalls.dispatch(t, t.args);
        if (r !== NORETURN) t.cpu.setReturnWith(r, interrupted.regs);
      } finally {
        t.restarting = false;
      }
    }
  }

  // ---- exit and wait -------------------------------------------------------------------

  /** End every thread of p with this status; p becomes a zombie for its parent. */
  private tracing(t: Task): boolean {
    return this.tracer !== null && (this.tracer.follow || t.proc === this.init);
  }

  exitGroup(p: Process, state: ExitState): void {
    if (p.exit !== null) return;
    const leader = [...p.threads][0];
    if (leader && this.tracing(leader)) this.tracer!.exited(leader, state);
    if (this.opts.debug && state.kind === 'signaled' && state.fault && p !== this.init) {
      const f = state.fault;
      process.stderr.write(`elfrun: pid ${p.pid} killed by signal ${state.signal}: ${f.what} at 0x${f.addr.toString(16)} (pc 0x${f.pc.toString(16)})\n`);
    }
    p.exiting = state;
    for (const t of [...p.threads]) this.killTask(t);
    p.threads.clear();
    this.releaseResources(p);
    p.exit = state;
    if (p.vforkParent) {
      p.vforkParent = null;
      p.parent?.vforkDone.wake();
    }
    // orphans go to init (or die with it)
    for (const c of [...p.children]) {
      p.children.delete(c);
      if (c.pdeathsig) this.sendToProcess(c, c.pdeathsig, this.userInfo(c.pdeathsig, p.pid));
      if (p === this.init || this.init === null || this.init.exit !== null) {
        if (c.exit === null) this.exitGroup(c, { kind: 'signaled', signal: SIG.SIGKILL });
        continue;
      }
      c.parent = this.init;
      this.init.children.add(c);
      if (c.exit !== null) this.init.childEvents.wake();
    }
    const parent = p.parent;
    if (parent === null) return;
    if (p.exitSignal === SIG.SIGCHLD) {
      const a = parent.sighand.actions[SIG.SIGCHLD];
      if (a.handler === SIG_IGN || a.flags & SA_NOCLDWAIT) {
        this.reap(p); // auto-reaped: no zombie
        parent.childEvents.wake();
        return;
      }
    }
    if (p.exitSignal > 0) this.sendToProcess(parent, p.exitSignal, this.childInfo(p));
    parent.childEvents.wake();
  }

  /**
   * The CLD_* siginfo of a child (signo: its exit signal, or SIGCHLD for
   * waitid): ended, or `event` stopped by a signal / continued.
   */
  childInfo(p: Process, signo = p.exitSignal, event: { stopped: number } | 'continued' | null = null): Buffer {
    const b = Buffer.alloc(128);
    b.writeInt32LE(signo, 0);
    b.writeInt32LE(p.pid, 16);
    b.writeUInt32LE(p.cred.ruid, 20);
    if (event === 'continued') {
      b.writeInt32LE(6 /* CLD_CONTINUED */, 8);
      b.writeInt32LE(SIG.SIGCONT, 24);
    } else if (event !== null) {
      b.writeInt32LE(5 /* CLD_STOPPED */, 8);
      b.writeInt32LE(event.stopped, 24);
    } else {
      const s = p.exit!;
      b.writeInt32LE(s.kind === 'exited' ? 1 /* CLD_EXITED */ : s.core ? 3 : 2 /* CLD_KILLED */, 8);
      b.writeInt32LE(s.kind === 'exited' ? s.code : s.signal, 24);
    }
    return b;
  }

  // ---- job control ------------------------------------------------------------------

  /**
   * A process group is orphaned when no member's parent is in another group
   * of the same session: terminal stop signals (TSTP, TTIN, TTOU) are then
   * discarded, since nobody could continue it (Linux's is_current_pgrp_orphaned).
   */
  private orphanedPgrp(pgid: number, sid: number): boolean {
    for (const p of this.processes.values()) {
      if (p.pgid !== pgid || p.exit !== null) continue;
      const parent = p.parent;
      if (parent === null ? p === this.init : parent.pgid !== pgid && parent.sid === sid) return false;
    }
    return true;
  }

  /** A stop signal's default action: every thread stops; the parent hears CLD_STOPPED. */
  private stopProcess(p: Process, sig: number): void {
    if (p.stopped || p.exit !== null) return;
    p.stopped = true;
    p.stopReport = sig;
    p.contReport = false;
    for (const t of p.threads) if (t.state === 'runnable') t.state = 'stopped';
    const leader = [...p.threads][0];
    if (leader && this.tracing(leader)) this.tracer!.stopped(leader, sig);
    this.notifyParent(p, { stopped: sig });
    // the guest's init stopped: elfrun stops too, as a native program would (^Z, kill -STOP)
    if (p === this.init) this.stopSelf();
  }

  /** SIGCONT's effect, at the moment it is sent: the process runs again; the parent hears CLD_CONTINUED. */
  private continueProcess(p: Process): void {
    // a continue cancels pending stops (and a stop cancels a pending continue: see send)
    const stops = bit(SIG.SIGSTOP) | bit(SIG.SIGTSTP) | bit(SIG.SIGTTIN) | bit(SIG.SIGTTOU);
    dropSignals(p, stops);
    for (const t of p.threads) dropSignals(t, stops);
    if (!p.stopped) return;
    p.stopped = false;
    p.stopReport = null;
    p.contReport = true;
    for (const t of p.threads) {
      if (t.state === 'stopped') {
        t.state = 'runnable';
        this.runq.push(t);
      }
    }
    this.notifyParent(p, 'continued');
    this.kick();
  }

  private notifyParent(p: Process, event: { stopped: number } | 'continued'): void {
    const parent = p.parent;
    if (parent === null) return;
    const a = parent.sighand.actions[SIG.SIGCHLD];
    if (!(a.flags & 1 /* SA_NOCLDSTOP */)) this.sendToProcess(parent, SIG.SIGCHLD, this.childInfo(p, SIG.SIGCHLD, event));
    parent.childEvents.wake();
  }

  /** elfrun's own process stops (its parent shell sees it stopped); on SIGCONT the guest's init continues. */
  private stopSelf(): void {
    setImmediate(() => {
      if (!this.init?.stopped || this.init.exit !== null) return;
      process.kill(process.pid, 'SIGSTOP');
    });
  }

  private killTask(t: Task): void {
    if (t.state === 'dead') return;
    for (const q of this.futexes.values()) q.waiters.delete(t);
    if (t.state === 'blocked') this.unpark(t);
    t.proc.deadThreadsCpuMs += t.cpuNow;
    t.state = 'dead';
    t.blockRegs = null;
    this.exitRobustList(t);
    // CLONE_CHILD_CLEARTID: zero the tid word and wake one waiter (pthread_join).
    // The memory is still mapped here, even when the whole process is ending.
    if (t.clearChildTid !== 0) {
      try {
        t.mm.setU32(t.clearChildTid, 0);
      } catch {
        /* Linux ignores a bad clear_child_tid */
      }
      this.futexWake(t.proc.mm, t.clearChildTid, 1);
    }
    this.tasks.delete(t.tid);
    if (t.ctx !== null) {
      t.cpu.freeContext(t.ctx);
      t.ctx = null;
    }
    if (t.cpu.owner === t) t.cpu.owner = null;
    t.stopReason = 'exit';
    t.cpu.stopIfRunning(t);
  }

  // ---- futexes -----------------------------------------------------------------------
  // Keyed by the host memory behind the futex word: threads (one address space)
  // and processes sharing memory (MAP_SHARED, shared files) meet on the same key,
  // as Linux's shared futexes do; private memory is private to its process.

  private futexes = new Map<number, FutexQueue>();

  /** The key of a futex word: its host address (EFAULT if unmapped). */
  futexKey(mm: Mm, addr: number): number {
    const h = mm.space.hostRange(addr, 4, 0);
    if (h < 0) fail(E.EFAULT);
    return h;
  }

  futexQueue(mm: Mm, addr: number): FutexQueue {
    const key = this.futexKey(mm, addr);
    let q = this.futexes.get(key);
    if (!q) this.futexes.set(key, (q = new FutexQueue()));
    return q;
  }

  /**
   * Private memory moved to other host memory ([from, to, bytes] each: fork's
   * swap and a dying space's gift, see AddressSpace.forkInto and giveTo):
   * its waiters (the process's other threads) are waiting on the new place.
   */
  futexesMoved(moved: ReadonlyArray<readonly [from: number, to: number, size: number]>): void {
    if (this.futexes.size === 0) return;
    for (const [key, q] of [...this.futexes]) {
      const m = moved.find(([from, , size]) => key >= from && key < from + size);
      if (m === undefined) continue;
      this.futexes.delete(key);
      this.futexes.set(m[1] + (key - m[0]), q);
    }
  }

  /** Wake up to n waiters whose bitset intersects mask. */
  futexWakeN(mm: Mm, addr: number, n: number, mask: number): number {
    const key = this.futexKey(mm, addr);
    const q = this.futexes.get(key);
    if (!q) return 0;
    let woken = 0;
    for (const [t, m] of q.waiters) {
      if (woken >= n) break;
      if ((m & mask) === 0) continue;
      q.waiters.delete(t);
      if (t.state === 'blocked') {
        t.futexWoken = true;
        this.wake(t);
        woken++;
      }
    }
    if (q.waiters.size === 0) this.futexes.delete(key);
    return woken;
  }

  /** Move up to n waiters from one futex to another. */
  futexRequeue(mm: Mm, from: number, to: number, n: number): number {
    const q = this.futexes.get(this.futexKey(mm, from));
    if (!q) return 0;
    const dst = this.futexQueue(mm, to);
    let moved = 0;
    for (const [t, m] of q.waiters) {
      if (moved >= n) break;
      q.waiters.delete(t);
      dst.waiters.set(t, m);
      moved++;
    }
    return moved;
  }

  private futexWake(mm: Mm, addr: number, n: number): void {
    try {
      this.futexWakeN(mm, addr, n, 0xffffffff);
    } catch {
      /* an unmapped word: nobody can wait on it */
    }
  }

  /**
   * A thread ends holding robust mutexes (set_robust_list): each futex word it
   * owns gets FUTEX_OWNER_DIED and one waiter is woken (Linux's exit_robust_list).
   */
  private exitRobustList(t: Task): void {
    const head = t.robustList;
    if (head === 0) return;
    const FUTEX_WAITERS = 0x80000000;
    const FUTEX_OWNER_DIED = 0x40000000;
    const FUTEX_TID_MASK = 0x3fffffff;
    const mm = t.proc.mm;
    const death = (uaddr: number): void => {
      const val = t.mm.u32(uaddr);
      if ((val & FUTEX_TID_MASK) !== t.tid) return;
      t.mm.setU32(uaddr, ((val & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
      if (val & FUTEX_WAITERS) this.futexWake(mm, uaddr, 1);
    };
    try {
      let entry = t.mm.u64(head);
      const offset = t.mm.i64(head + 8);
      const pending = t.mm.u64(head + 16);
      // (the low bit of an entry marks a PI futex; addresses pass 2^32: no bitwise operators)
      const clean = (p: number): number => p - (p % 2);
      for (let limit = 2048; entry !== head && entry !== 0 && limit > 0; limit--) {
        const next = t.mm.u64(clean(entry));
        if (clean(entry) !== clean(pending)) death(clean(entry) + offset);
        entry = next;
      }
      if (pending !== 0) death(clean(pending) + offset);
    } catch {
      /* a damaged list ends the walk, as on Linux */
    }
  }

  /** exit(2): one thread ends; the last one ends the process. */
  exitThread(t: Task, code: number): void {
    const p = t.proc;
    if (p.threads.size <= 1) {
      this.exitGroup(p, { kind: 'exited', code });
      return;
    }
    this.killTask(t);
    p.threads.delete(t);
  }

  killThreadForExec(t: Task): void {
    this.killTask(t);
  }

  /** execve from a non-leader thread: it takes the leader's id. */
  retid(t: Task, tid: number): void {
    this.tasks.delete(t.tid);
    t.tid = tid;
    this.tasks.set(tid, t);
  }

  /** Host memory for results the host writes before elfrun translates them. */
  readonly scratch = new Scratch(4096);

  /** Drop a reference to an address space; the last one destroys it once no hook is on the stack. */
  releaseMm(mm: Mm, heir: Mm | null = null): void {
    if (--mm.refs > 0) return;
    this.graveyard.push({ mm, heir: heir !== null && heir !== mm && heir.cpu === mm.cpu ? heir : null });
  }

  private engines = new Map<ArchName, Cpu>();

  /** The engine that runs every process of this arch. */
  engine(arch: Arch): Cpu {
    let cpu = this.engines.get(arch.name);
    if (!cpu) {
      cpu = new Cpu(arch);
      if (arch.name === 'x86_64') setX86Hwcap(cpu.cpuid(1)[3]);
      this.engines.set(arch.name, cpu);
    }
    return cpu;
  }

  private releaseResources(p: Process): void {
    this.setItimer(p, 0, 0);
    if (--p.fds.refs === 0) p.fds.closeAll();
    if (--p.fs.refs < 0) p.fs.refs = 0;
    if (--p.sighand.refs < 0) p.sighand.refs = 0;
    // the parent (most likely to run next) may take the memory the engine maps
    this.releaseMm(p.mm, p.parent !== null && p.parent.exit === null ? p.parent.mm : null);
  }

  reap(p: Process): void {
    // the parent takes over its CPU time (and that of the children it reaped)
    if (p.parent) p.parent.childrenCpuMs += p.deadThreadsCpuMs + p.childrenCpuMs;
    p.reaped = true;
    p.parent?.children.delete(p);
    this.processes.delete(p.pid);
  }

  /** Close engines whose hooks are no longer on the stack. */
  private buryEngines(): void {
    if (this.graveyard.length === 0) return;
    for (const { mm, heir } of this.graveyard) {
      // the memory the engine maps goes to the space that runs next, most
      // likely: a forked child's, which was its parent's, back to the parent;
      // the old image's to the exec'd one (AddressSpace.giveTo)
      if (heir !== null && heir.refs > 0) this.futexesMoved(mm.space.giveTo(heir.space, (s, e, h) => mm.cpu.holds(s, e, h)));
      // Leave the engine's mappings alone: the next activation keeps what the
      // next space shares with this one (its text, and the translations of it).
      mm.cpu.deactivate(mm.space);
      mm.space.destroy();
    }
    this.graveyard = [];
  }

  private shutdown(): void {
    for (const p of [...this.processes.values()]) if (p.exit === null) this.exitGroup(p, { kind: 'signaled', signal: SIG.SIGKILL });
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const t of this.tasks.values()) if (t.timer) clearTimeout(t.timer);
    this.buryEngines();
    for (const cpu of this.engines.values()) cpu.close();
    this.engines.clear();
    this.memory.drain();
  }
}
