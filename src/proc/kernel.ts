// The kernel: the object every task, handler and the Machine hold. It keeps
// the process and thread tables and pid allocation, and is composed of one
// part per concern, each in its own module: the scheduler and parking
// (sched.ts), signal sending and delivery (deliver.ts, on the pending-signal
// state of signals.ts), job control (jobctl.ts), exit and reaping (exit.ts),
// futexes and robust lists (futex.ts), interval timers and RLIMIT_CPU (itimer.ts), host fds
// polled while idle (hostpoll.ts), host signals forwarded to the guest
// (hostsig.ts) and the engine pool (engines.ts). Many guest processes live in
// this one Node process: one guest task runs at a time inside uc_emu_start.
// The methods below that only delegate keep the names the syscall handlers,
// dispatch and the Machine call.
import { Uts } from './uts.js';
import type { GdbStub } from './gdb.js';
import type { ProcessEvents } from './services.js';
import { existsSync, readFileSync } from 'node:fs';
import type { Arch } from '../cpu/arch.js';
import type { Cpu } from '../cpu/engine.js';
import { FdTable } from '../fs/fdtable.js';
import type { Loc, Vfs } from '../fs/vfs.js';
import { host, hostProc } from '../host/libc.js';
import { FsState, Mm, Process, SigHand, type ExitState } from './process.js';
import { HostMemory } from '../mm/host-memory.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { Chunk } from '../mm/chunk.js';
import { SHARED_ANON_NAME } from '../mm/vma.js';
import { IpcNamespace } from '../ipc/namespace.js';
import { Task, type TaskOptions } from './task.js';
import type { Blocked } from '../ctx/waitq.js';
import type { KernelObserver, SyscallLayer } from './services.js';
import { Terminal } from './terminal.js';
import type { IoContext } from '../fs/context.js';
import { Scheduler } from './sched.js';
import { SignalDelivery } from './deliver.js';
import { JobControl } from './jobctl.js';
import { Exit } from './exit.js';
import { Futexes } from './futex.js';
import { Itimers, type ItimerValue } from './itimer.js';
import { HostPoller } from './hostpoll.js';
import { Engines } from './engines.js';
import { forwardHostSignals } from './hostsig.js';
import { OomKiller } from './oom.js';
import { ExeCache } from './exec.js';
import { childSiginfo, userSiginfo, type ChildEvent } from './signals.js';
import { SI_KERNEL, SIG } from '../abi/signal.js';
import { nowMs } from '../host/clock.js';

/** Field 7 of the host's /proc/self/stat: elfrun's controlling terminal. */
function hostTtyNr(): number {
  try {
    const s = readFileSync('/proc/self/stat', 'latin1');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[4]) || 0;
  } catch {
    return 0;
  }
}

export class Kernel {
  readonly processes = new Map<number, Process>();
  readonly tasks = new Map<number, Task>();
  init: Process | null = null;
  readonly hostPpid = process.ppid;
  /** elfrun's controlling terminal (tty_nr of /proc/<pid>/stat; 0 for none): the guest's session shares it */
  readonly ttyNr = hostTtyNr();
  private nextPid = process.pid;
  fatal: Error | null = null;
  readonly uid = process.getuid!();
  readonly gid = process.getgid!();
  /** the guest's file system tree */
  vfs!: Vfs;
  /** the host memory of this Machine's address spaces (the pool, shared file mappings, program images) */
  readonly memory = new HostMemory();

  readonly sched = new Scheduler(this);
  readonly signals = new SignalDelivery(this);
  readonly jobs = new JobControl(this);
  readonly exit = new Exit(this);
  readonly futex = new Futexes(this);
  readonly itimers = new Itimers(this);
  readonly hostPoll = new HostPoller();
  readonly engines = new Engines(this);
  /** --max-memory's OOM killer */
  readonly oom = new OomKiller(this);
  /** The controlling terminal's job control: its foreground process group */
  readonly terminal = new Terminal(this);
  /** the programs execve opened last (a shell runs the same few over and over) */
  readonly exeCache = new ExeCache();
  /** the guest's System V IPC objects */
  readonly ipc = new IpcNamespace({
    spaces: () => this.liveSpaces(),
    signal: (pid, sig, info) => {
      const p = this.processes.get(pid);
      if (p !== undefined && p.exit === null) this.signals.sendToProcess(p, sig, info);
    },
  });

  constructor(
    readonly opts: TaskOptions,
    /** services each task's syscalls */
    readonly syscalls: SyscallLayer,
  ) {
    if (syscalls.tracer !== null) syscalls.tracer.live = () => this.tasks.size;
    this.oom.install();
  }

  /** who is told of signals and exits (the syscall layer's strace-style tracer), when asked for */
  get tracer(): KernelObserver | null {
    return this.syscalls.tracer;
  }

  /** Is t's process one the tracer follows? */
  tracing(t: Task): boolean {
    return this.tracer !== null && (this.tracer.follow || t.proc === this.init);
  }

  /** The address spaces of the processes not exiting, each once. */
  private *liveSpaces(): Iterable<AddressSpace> {
    const seen = new Set<AddressSpace>();
    for (const p of this.processes.values()) {
      if (p.exit !== null || p.exiting !== null || seen.has(p.mm.space)) continue;
      seen.add(p.mm.space);
      yield p.mm.space;
    }
  }

  // ---- pids and the tables ------------------------------------------------------

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

  /** the guest's network (TaskOptions.net) */
  get net(): 'host' | 'none' {
    return this.opts.net ?? 'host';
  }
  get hostProcesses(): boolean {
    return this.opts.hostProcesses === true;
  }

  /**
   * Is pid a host process the guest may see (not one of its own, nor one of
   * elfrun's own threads)? Calls that name one go to the host.
   */
  /**
   * Private writable memory the guest processes may still commit under
   * --max-memory (Infinity without it): the cap less what every live
   * address space has mapped private and writable, as Linux's strict
   * overcommit accounting (vm.overcommit_memory=2) counts.
   */
  commitRoom(): number {
    const cap = this.opts.maxMemory;
    return cap === undefined ? Infinity : cap - this.committedMemory();
  }

  /**
   * bytes of private writable memory mapped by the live guest processes, of
   * the shared anonymous memory they map (each object once, whole, however
   * many map it: Linux accounts a shmem object from its creation to its end),
   * and of the data in tmpfs and memfd files and System V segments
   */
  committedMemory(): number {
    const seen = new Set<Mm>();
    const shared = new Set<Chunk>();
    const lazy = new Set<Chunk>();
    let n = 0;
    for (const p of this.processes.values()) {
      if (p.exit !== null || seen.has(p.mm)) continue;
      seen.add(p.mm);
      // what is committed at mmap, and the memory charged as touched (MAP_NORESERVE)
      n += p.mm.space.committed() + p.mm.space.touched(lazy);
      for (const v of p.mm.space.vmas) if (v.info.shared && v.info.name === SHARED_ANON_NAME) shared.add(v.chunk);
    }
    for (const c of shared) n += c.size;
    // tmpfs and memfd data, System V segments
    return n + this.vfs.shmem.bytes;
  }

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
    this.terminal.attachInit(p);
    const t = new Task(this, pid, p, this.opts);
    p.threads.add(t);
    this.processes.set(pid, p);
    this.tasks.set(pid, t);
    this.init = p;
    this.sched.push(t);
    return t;
  }

  /** Register a new task (clone): runnable at once. */
  addTask(t: Task): void {
    this.tasks.set(t.tid, t);
    t.proc.threads.add(t);
    if (!this.processes.has(t.proc.pid)) this.processes.set(t.proc.pid, t.proc);
    this.sched.push(t);
    this.sched.kick();
  }

  /** execve from a non-leader thread: it takes the leader's id. */
  retid(t: Task, tid: number): void {
    this.tasks.delete(t.tid);
    t.tid = tid;
    this.tasks.set(tid, t);
  }

  /** The task behind an I/O context (the caller of a file system, file or socket). */
  taskOf(t: IoContext): Task {
    return this.tasks.get(t.tid)!;
  }

  /** The process of the task behind an I/O context. */
  processOf(t: IoContext): Process {
    return this.taskOf(t).proc;
  }

  // ---- the run --------------------------------------------------------------------

  /** Run the guest until its init ends: init's exit state. */
  async run(): Promise<ExitState> {
    const init = this.init!;
    const unforward = forwardHostSignals(this);
    const deadline = this.opts.timeoutMs !== undefined ? nowMs() + this.opts.timeoutMs : Infinity;
    let timer: NodeJS.Timeout | null = null;
    // host timers last at most 2^31-1 ms: a longer timeout is re-armed
    const arm = (): void => {
      const left = deadline - nowMs();
      if (left > 0) {
        timer = setTimeout(arm, Math.min(left, 0x7fffffff));
        timer.unref();
        return;
      }
      this.timedOut = true;
      const info = this.userInfo(SIG.SIGKILL, 0);
      info.writeInt32LE(SI_KERNEL, 8);
      for (const p of [...this.processes.values()]) if (p.exit === null) this.signals.sendToProcess(p, SIG.SIGKILL, info);
      this.sched.kick();
    };
    if (deadline !== Infinity) arm();
    try {
      const state = await this.sched.loop(init);
      this.gdb?.exited(state);
      return state;
    } finally {
      if (timer !== null) clearTimeout(timer);
      unforward();
    }
  }

  /** the run's --timeout passed: every guest process was killed */
  timedOut = false;
  /** where core files go (--core-dir); null: the dumping process's working directory */
  coreDir: string | null = null;
  /** the guest's UTS names: nodename and domainname are its own (sethostname) */
  readonly uts = new Uts();
  /** a gdb connected through the remote protocol (--gdb), or null */
  gdb: GdbStub | null = null;
  /** the library user's listeners (Machine.on), or null */
  events: ProcessEvents | null = null;

  /** The run is over: every process is killed, timers cleared, engines, cached programs and pooled memory released. */
  shutdown(): void {
    for (const p of [...this.processes.values()]) if (p.exit === null) this.exit.group(p, { kind: 'signaled', signal: SIG.SIGKILL });
    this.hostPoll.stop();
    for (const t of this.tasks.values()) t.timer?.clear();
    this.engines.bury();
    this.engines.close();
    this.exeCache.close();
    this.memory.drain();
  }

  // ---- what the handlers, dispatch and the Machine call ----------------------------

  /** siginfo for a signal sent by a process (SI_USER). */
  userInfo(sig: number, pid: number): Buffer {
    return userSiginfo(sig, pid, this.uid);
  }

  /**
   * The CLD_* siginfo of a child (signo: its exit signal, or SIGCHLD for
   * waitid): ended, or `event` stopped by a signal / continued.
   */
  childInfo(p: Process, signo = p.exitSignal, event: ChildEvent | null = null): Buffer {
    return childSiginfo(p, signo, event);
  }

  sendToProcess(p: Process, sig: number, info: Buffer): void {
    this.signals.sendToProcess(p, sig, info);
  }

  sendToTask(t: Task, sig: number, info: Buffer): void {
    this.signals.sendToTask(t, sig, info);
  }

  exitGroup(p: Process, state: ExitState): void {
    this.exit.group(p, state);
  }

  exitThread(t: Task, code: number): void {
    this.exit.thread(t, code);
  }

  killThreadForExec(t: Task): void {
    this.exit.killTask(t);
  }

  reap(p: Process): void {
    this.exit.reap(p);
  }

  park(t: Task, b: Blocked, regs: Uint32Array): void {
    this.sched.park(t, b, regs);
  }

  handOff(t: Task, next: Task): void {
    this.sched.handOff(t, next);
  }

  setItimer(p: Process, which: number, ms: number, interval: number): ItimerValue {
    return this.itimers.set(p, which, ms, interval);
  }

  futexesMoved(moved: ReadonlyArray<readonly [from: number, to: number, size: number]>): void {
    this.futex.moved(moved);
  }

  engine(arch: Arch): Cpu {
    return this.engines.engine(arch);
  }

  releaseMm(mm: Mm, heir: Mm | null = null): void {
    this.engines.releaseMm(mm, heir);
  }
}
