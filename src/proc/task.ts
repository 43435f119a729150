// A guest task: one thread of a process, with its own CPU context, signal
// mask and pending signals. Handlers receive it; what the process shares
// (memory, fds, cwd, signal handlers) is reached through it.
import type { HostTimer } from '../host/timer.js';
import type { Arch } from '../cpu/arch.js';
import type { Cpu } from '../cpu/engine.js';
import type { CpuClient, Fault } from '../cpu/fault.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { MemPolicy } from '../mm/vma.js';
import type { FdTable } from '../fs/fdtable.js';
import type { Loc, Vfs } from '../fs/vfs.js';
import { Args, NORETURN } from '../cpu/args.js';
import type { Kernel } from './kernel.js';
import type { Process, SigAction } from './process.js';
import { Blocked, type BlockOptions, type WaitQueue } from '../ctx/waitq.js';
import type { Cred } from '../ctx/cred.js';
import type { SeccompState } from './seccomp.js';
import type { IoContext, PendingSignals, TerminalControl } from '../fs/context.js';
import { SYNCHRONOUS, takeSignal } from './signals.js';
import { nowMs } from '../host/clock.js';
import type { FutexWait } from './futex.js';
import { SS_DISABLE } from '../abi/signal.js';
import { RLIM_INFINITY, RLIMIT_AS, RLIMIT_STACK } from '../abi/resource.js';

export type { ExitState } from './process.js';

export type NetPolicy = 'host' | 'none';

export interface TaskOptions {
  onMissing: 'panic' | 'enosys';
  debug: boolean;
  /**
   * The guest sees the host's other processes, as a native program does
   * (their /proc entries, and kill, priority, affinity, pgid and sid calls on
   * them go to the host); --sandbox hides them. Default: hidden.
   */
  hostProcesses?: boolean;
  /**
   * The guest's network: 'host' (default), the host's own, its AF_INET and
   * AF_INET6 sockets host sockets; 'none', an empty network of its own
   * holding only `lo`, its inet sockets elfrun's (net/loop.ts).
   */
  net?: NetPolicy;
  /** elfrun-wide caps (--max-procs, --max-fds, --timeout): guest tasks at once (EAGAIN at clone past it) */
  maxTasks?: number;
  /** bytes of private writable memory all guest processes together may commit (ENOMEM past it) */
  maxMemory?: number;
  /** the most fds a guest process may have open (its nr_open: RLIMIT_NOFILE cannot be raised past it) */
  maxFds?: number;
  /** the whole run is killed (SIGKILL to every guest process) after this many ms */
  timeoutMs?: number;
}

/** Linux's default fs.nr_open: the ceiling of RLIMIT_NOFILE */
export const NR_OPEN = 1048576;

/** stopped: its process is stopped (job control) and it waits for SIGCONT */
export type TaskState = 'runnable' | 'blocked' | 'stopped' | 'dead';

/**
 * signalfd's view of a task's pending signals (IoContext.signals): a take
 * is Linux's dequeue_signal, the thread's own signals before its
 * process's, a fault's before others, then the lowest number.
 */
function pendingSignals(t: Task): PendingSignals {
  return {
    pending: (mask) => (t.pending | t.proc.pending) & mask,
    take: (mask) => {
      for (const target of [t, t.proc]) {
        let set = target.pending & mask;
        if (set === 0n) continue;
        if (set & SYNCHRONOUS) set &= SYNCHRONOUS;
        let sig = 1;
        while ((set & (1n << BigInt(sig - 1))) === 0n) sig++;
        return takeSignal(target, sig) ?? t.kernel.userInfo(sig, 0);
      }
      return null;
    },
    get queue() {
      return t.proc.sighand.signalfd;
    },
  };
}

export class Task implements CpuClient, IoContext {
  readonly args = new Args();
  private syscalls = 0;
  state: TaskState = 'runnable';
  /**
   * CPU time (ms) as Linux splits it: user time is the engine running the
   * guest's code, system time elfrun servicing it (syscalls, their retries,
   * signal delivery). The engine's runs are timed as a whole, and the engine
   * times the syscalls in them (Cpu.sysMicros: in the trampoline, without a
   * clock read in JavaScript per syscall); the rest of a run is user time.
   */
  utimeMs = 0;
  stimeMs = 0;
  /** while elfrun works for the task (outside the engine) or the engine runs it: since when (ms; -1: neither) */
  runStart = -1;
  /** the engine running it (null: elfrun works for it), and that engine's syscall time when the run began */
  private runCpu: Cpu | null = null;
  private runSys = 0;
  /** the stretch in progress as [user, system] ms, up to `now` */
  private stretch(now: number): [number, number] {
    if (this.runStart < 0) return [0, 0];
    const all = now - this.runStart;
    if (this.runCpu === null) return [0, all];
    const sys = Math.min(all, ((this.runCpu.sysMicros() - this.runSys) >>> 0) / 1000);
    return [all - sys, sys];
  }
  /** user time so far, counting the stretch in progress */
  get utimeNow(): number {
    return this.utimeMs + this.stretch(nowMs())[0];
  }
  /** system time so far, counting the stretch in progress */
  get stimeNow(): number {
    return this.stimeMs + this.stretch(nowMs())[1];
  }
  /** CPU time so far (user and system), counting the stretch in progress */
  get cpuNow(): number {
    return this.utimeMs + this.stimeMs + (this.runStart >= 0 ? nowMs() - this.runStart : 0);
  }
  /**
   * Close the stretch in progress at `now` (ms) and begin another: the engine
   * `cpu` running the task, elfrun working for it (null), or neither (undefined).
   */
  account(now: number, cpu: Cpu | null | undefined): void {
    const [u, s] = this.stretch(now);
    this.utimeMs += u;
    this.stimeMs += s;
    this.runStart = cpu === undefined ? -1 : now;
    this.runCpu = cpu ?? null;
    if (cpu) this.runSys = cpu.sysMicros();
  }
  /** why the engine was stopped from inside a hook, if it was */
  /** why the engine stopped: 'yield' gives the turn to others; the rest keep it */
  stopReason: 'block' | 'exit' | 'exec' | 'signal' | 'sigreturn' | 'yield' | 'preempt' | 'handoff' | null = null;
  /** the task that runs before this one's next turn (Kernel.handOff) */
  handOffTo: Task | null = null;
  /** an error thrown by elfrun itself while servicing the guest (a bug, or a panic) */
  error: Error | null = null;
  /** the engine context holding this task's registers while another task owns the engine */
  ctx: unknown = null;
  /** registers to set when this task next owns its engine (fork/clone children, a new image) */
  pendingRegs: Array<[number, number | bigint]> = [];
  /** a new image (exec): its FPU starts from the init state when the task next owns its engine */
  pendingFpuInit = false;

  // signals
  /** what a signalfd read by this task sees (made on use: a field of closures on every task costs memory for nothing) */
  get signals(): PendingSignals {
    return pendingSignals(this);
  }
  sigmask = 0n;
  pending = 0n;
  /** siginfo of pending signals: one for a standard signal, a queue for a real-time one */
  readonly siginfo = new Map<number, Buffer[]>();
  /** NUMA memory policy (set_mempolicy); one node here, so it places nothing differently */
  mempolicy: MemPolicy = { mode: 0, nodes: 0n, home: -1 };
  /** personality(2): the execution domain (PER_LINUX) and its flags; copied by fork and clone */
  personality = 0;
  /** ioprio_set's class and data (0: none set, the CPU's nice value decides); copied by fork and clone */
  ioprio = 0;
  /** signals rt_sigtimedwait is waiting for (they wake it although blocked) */
  sigwait = 0n;
  /** the mask to restore after a sigsuspend-style temporary mask, once a handler runs */
  savedMask: bigint | null = null;
  altstack = { sp: 0, flags: SS_DISABLE, size: 0 };

  // a parked syscall
  blocked: Blocked | null = null;
  blockRegs: Uint32Array | null = null;
  /** true while a parked syscall is being retried */
  restarting = false;
  /** per-syscall scratch that must survive a retry (e.g. a sleep's deadline) */
  restartState: number | null = null;
  timer: HostTimer | null = null;

  /** seccomp's mode and filters (null: none; the dispatcher's only cost without them); fork and clone copy it, execve keeps it */
  seccomp: SeccompState | null = null;
  /** sched_setaffinity's mask, when set (null: elfrun's own) */
  affinity: Uint8Array | null = null;
  clearChildTid = 0;
  /** prctl PR_SET_PDEATHSIG: the signal this thread's process gets when this thread's parent thread ends (a fork starts with 0) */
  pdeathsig = 0;
  /** prctl PR_MCE_KILL: the memory-error kill policy (PR_MCE_KILL_DEFAULT 2, EARLY 1, LATE 0); a fork keeps it */
  mceKill = 2;
  /** prctl PR_SET_IO_FLUSHER (PF_MEMALLOC_NOIO|PF_LOCAL_THROTTLE); a fork keeps it */
  ioFlusher = false;
  /** prctl PR_SET_SYSCALL_USER_DISPATCH: the range whose syscalls always run, and the selector byte's address; fork and exec end it */
  userDispatch: { offset: bigint; len: bigint; selector: number } | null = null;
  /** arm64 prctl PR_SET_TAGGED_ADDR_CTRL's PR_TAGGED_ADDR_ENABLE (TIF_TAGGED_ADDR); a fork keeps it */
  taggedAddr = false;
  /** arm64 prctl PR_SET_SPECULATION_CTRL(PR_SPEC_FORCE_DISABLE) of speculative store bypass, which cannot be undone; a fork keeps it */
  specForceDisabled = false;
  robustList = 0;
  robustListLen = 0;
  fault: Fault | null = null;
  /**
   * The last fault's trace in the thread (Linux's thread struct), which every
   * signal frame reports: x86's trap number, error code and cr2, arm64's
   * fault address (0 after a fault that is no memory access).
   */
  lastFault = { trapno: 0, err: 0, cr2: 0, address: 0, esr: 0 };

  constructor(
    readonly kernel: Kernel,
    public tid: number,
    public proc: Process,
    readonly opts: TaskOptions,
  ) {}

  /** the name of a thread that is not its process's leader (the leader's is Process.comm) */
  private threadComm = '';
  /** this thread's name (comm: prctl PR_SET_NAME, gdb's thread names); the leader's is its process's */
  get comm(): string {
    return this.tid === this.proc.pid ? this.proc.comm : this.threadComm;
  }
  set comm(v: string) {
    if (this.tid === this.proc.pid) this.proc.comm = v;
    else this.threadComm = v;
  }

  // ---- what the process shares, as handlers see it --------------------------
  get arch(): Arch {
    return this.proc.arch;
  }
  get mm(): AddressSpace {
    return this.proc.mm.space;
  }
  get cpu(): Cpu {
    return this.proc.mm.cpu;
  }
  get fds(): FdTable {
    return this.proc.fds;
  }
  get pid(): number {
    return this.proc.pid;
  }
  get ppid(): number {
    return this.proc.parent?.pid ?? this.kernel.hostPpid;
  }
  get root(): Loc | null {
    return this.proc.fs.root;
  }
  get cwd(): Loc {
    return this.proc.fs.cwd;
  }
  set cwd(v: Loc) {
    this.proc.fs.cwd = v;
  }
  get umask(): number {
    return this.proc.fs.umask;
  }
  set umask(v: number) {
    this.proc.fs.umask = v;
  }
  get sigactions(): SigAction[] {
    return this.proc.sighand.actions;
  }
  get rlimits(): Array<[bigint, bigint]> {
    return this.proc.rlimits;
  }
  set rlimits(v: Array<[bigint, bigint]>) {
    this.proc.rlimits = v;
  }
  get exePath(): string {
    return this.proc.exePath;
  }
  get cred(): Cred {
    return this.proc.cred;
  }
  get vfs(): Vfs {
    return this.kernel.vfs;
  }
  get terminal(): TerminalControl {
    return this.kernel.terminal;
  }
  hostPollQueue(fd: number, events: number): WaitQueue {
    return this.kernel.hostPoll.queue(fd, events);
  }

  // ---- engine events ----------------------------------------------------------

  onSyscall(cpu: Cpu, regs: Uint32Array): void {
    this.args.regs = regs;
    // a debugger's syscall catchpoint stops the call at its entry (it runs once gdb resumes) and exit
    const gdb = this.kernel.gdb;
    if (gdb !== null && gdb.syscallEntry(this, cpu, regs)) return;
    const r = this.kernel.syscalls.dispatch(this, this.args);
    if (r === NORETURN) {
      // parked with a signal already pending: wake at once, the retry is interrupted by it
      if (this.state === 'blocked' && this.blocked!.interruptible && this.kernel.signals.pending(this)) this.kernel.sched.wake(this);
      cpu.stop();
      return;
    }
    cpu.setReturn(r);
    gdb?.syscallDone(this, cpu);
    if (this.stopReason !== null || this.kernel.signals.pending(this)) {
      this.stopReason ??= 'signal';
      cpu.stop();
    } else if ((++this.syscalls & 15) === 0 && nowMs() > this.kernel.sched.sliceEnd && this.kernel.sched.othersWaiting()) {
      this.stopReason = 'yield'; // the slice is over and others are waiting
      cpu.stop();
    }
  }

  onFault(_cpu: Cpu, fault: Fault): void {
    this.fault ??= fault;
  }

  touchLazy(addr: number, prot: number): boolean {
    return this.mm.lazyFault(addr, prot);
  }

  growStack(addr: number): boolean {
    const limit = this.rlimits[RLIMIT_STACK]?.[0] ?? 8n << 20n;
    const as = this.rlimits[RLIMIT_AS]?.[0] ?? RLIM_INFINITY;
    const big = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v));
    return this.mm.growStack(addr, big(limit), { as: big(as), data: Infinity, commit: this.kernel.commitRoom() });
  }

  // ---- parking ------------------------------------------------------------------

  /** Park on these queues (and/or until a deadline); the syscall is retried when woken. */
  block(queues: WaitQueue[], opts: BlockOptions = {}): never {
    throw new Blocked(queues, opts.deadline ?? Infinity, opts.restart ?? 'sys', opts.interruptible ?? true, opts.partial ?? null, opts.onInterrupt ?? null);
  }

  /** a futex wait going on (its queues, how it ended), null when none */
  futexWait: FutexWait | null = null;

  wake(): void {
    if (this.state !== 'blocked') return;
    this.kernel.sched.wake(this);
  }

  /**
   * A signal the kernel raises synchronously in this task (SIGPIPE on a write
   * to a broken pipe): queued like any other, delivered when the syscall returns.
   */
  raise(sig: number): void {
    this.kernel.signals.sendToTask(this, sig, this.kernel.userInfo(sig, this.pid));
  }
}
