// A guest process (thread group) and the state its threads may share.
import type { HostTimer } from '../host/timer.js';
import type { CpuTimer } from './itimer.js';
import type { PosixTimer } from './posixtimer.js';
import type { Arch } from '../cpu/arch.js';
import type { Cpu } from '../cpu/engine.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { FdTable } from '../fs/fdtable.js';
import type { StartInfo } from '../loader/load.js';
import type { Loc } from '../fs/vfs.js';
import type { TtyCtrl } from '../fs/tty.js';
import type { SemUndoList } from '../ipc/sem.js';
import type { Uts } from './uts.js';
import { Cred } from '../ctx/cred.js';
import { NSIG, SIG, SIG_DFL } from '../abi/signal.js';
import { WaitQueue } from '../ctx/waitq.js';
import type { Task } from './task.js';
import { nowMs } from '../host/clock.js';

export interface SigAction {
  handler: number; // SIG_DFL = 0, SIG_IGN = 1, else a guest address
  flags: number;
  restorer: number;
  mask: bigint;
}

/** Signal handlers (shared by CLONE_SIGHAND). */
export class SigHand {
  actions: SigAction[];
  refs = 1;
  /** woken when a signal becomes pending on a thread or process that uses these handlers: signalfd readers and pollers */
  readonly signalfd = new WaitQueue('signalfd');
  constructor(actions?: SigAction[]) {
    this.actions = actions ?? Array.from({ length: NSIG + 1 }, () => ({ handler: SIG_DFL, flags: 0, restorer: 0, mask: 0n }));
  }
  clone(): SigHand {
    return new SigHand(this.actions.map((a) => ({ ...a })));
  }
}

/** cwd and umask (shared by CLONE_FS). */
export class FsState {
  refs = 1;
  /** the process's root directory (chroot); null: the VFS's root */
  root: Loc | null = null;
  constructor(
    public cwd: Loc,
    public umask: number,
  ) {}
  clone(): FsState {
    const c = new FsState(this.cwd, this.umask);
    c.root = this.root;
    return c;
  }
}

/** An address space (shared by CLONE_VM), run on its arch's shared engine. */
export class Mm {
  refs = 1;
  /**
   * Linux's mm flags that prctl sets: PR_SET_THP_DISABLE (1, or 3 with PR_THP_DISABLE_EXCEPT_ADVISED), PR_SET_MEMORY_MERGE
   * (KSM's merge-any), PR_SET_MDWE's bits. fork and exec keep them, but
   * for MDWE with PR_MDWE_NO_INHERIT.
   */
  flags = { thpDisable: 0, mergeAny: false, mdwe: 0 };
  constructor(
    readonly cpu: Cpu,
    readonly space: AddressSpace,
  ) {}
}

export type ExitState = { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number; core?: boolean; fault?: import('../cpu/fault.js').Fault };

/** wait(2) status word for an exit state */
export function waitStatus(s: ExitState): number {
  return s.kind === 'exited' ? (s.code & 0xff) << 8 : (s.signal & 0x7f) | (s.core ? 0x80 : 0);
}

export class Process {
  readonly threads = new Set<Task>();
  readonly children = new Set<Process>();
  /** woken when a child changes state (wait4) */
  readonly childEvents = new WaitQueue('wait');
  /** woken when the process exits and when it is reaped (pidfds poll it) */
  readonly exitEvents = new WaitQueue('pidfd');
  /** woken when a vfork child execs or exits */
  readonly vforkDone = new WaitQueue('vfork');
  parent: Process | null = null;
  pgid: number;
  sid: number;
  /** has called setsid (Linux's signal->leader): it cannot move to another group, and its exit hangs up its terminal */
  leader = false;
  /** its controlling terminal (inherited by fork, lost by setsid and TIOCNOTTY) */
  ctty: TtyCtrl | null = null;
  /** a session leader whose terminal hung up: the foreground group then, which gets SIGHUP when it exits (Linux's tty_old_pgrp) */
  ttyOldPgrp: number | null = null;
  /**
   * handed to the guest's init when its parent ended: on Linux its parent
   * would be pid 1 (or a subreaper), outside its session, so it no longer
   * keeps its group from being orphaned, nor may init setpgid it
   */
  adopted = false;
  /** signal sent to the parent when this process ends (clone's low byte) */
  exitSignal: number = SIG.SIGCHLD;
  /** set when every thread is gone: the process is a zombie until reaped */
  exit: ExitState | null = null;
  reaped = false;
  /** has called execve (setpgid on it from the parent: EACCES) */
  execed = false;
  /** the pending exit_group status, while threads are being torn down */
  exiting: ExitState | null = null;
  /** a vfork child, until it execs or exits: the parent waits on it */
  vforkParent: Process | null = null;
  /** the running program: its guest path (/proc/self/exe) and place */
  exePath = '';
  exe: Loc | null = null;
  /** fileId of the program it runs: writes to that file fail with ETXTBSY while it does (deny_write_access) */
  exeId: string | null = null;
  /** user and group ids (the first process: the host's) */
  cred = Cred.host();
  /** arm64: address of our rt_sigreturn trampoline page (Linux's vDSO sigtramp) */
  sigtramp = 0;
  comm = '';
  start: StartInfo | null = null;
  rlimits: Array<[bigint, bigint]> = [];
  /** prctl PR_SET_CHILD_SUBREAPER: orphans below it come to it instead of init (not inherited) */
  subreaper = false;
  /** an ancestor is (or was) a subreaper: an orphan's new parent is looked for among the ancestors (Linux's has_child_subreaper) */
  hasChildSubreaper = false;
  /** the thread of the parent that created it (Linux's real_parent): when that thread ends, the children it made go to another and get their parent-death signal */
  parentThread: Task | null = null;
  /**
   * What procfs keeps per process: oom_score_adj (-1000..1000) and the floor
   * an unprivileged write may not lower it below (set by privileged writes,
   * Linux's oom_score_adj_min), coredump_filter's bits, timerslack_ns.
   * A fork copies them.
   */
  tunables = { oomScoreAdj: 0, oomScoreAdjMin: 0, coredumpFilter: 0x33, timerSlackNs: 50000 };
  /** /proc/<pid>/io's counts of the read and write calls (read, pread64, readv, write...) and their bytes; a new process starts at 0 */
  ioac = { rchar: 0, wchar: 0, syscr: 0, syscw: 0 };
  dumpable = 1;
  noNewPrivs = false;
  /** its UTS namespace; null: the machine's first one (Kernel.uts) */
  uts: Uts | null = null;
  /** its SEM_UNDO adjustments (its threads', and with CLONE_SYSVSEM another process's too), applied at its exit */
  semUndo: SemUndoList | null = null;
  /** user and system CPU time (ms) of threads that have ended, and of reaped children (with theirs) */
  deadUtimeMs = 0;
  deadStimeMs = 0;
  childrenUtimeMs = 0;
  childrenStimeMs = 0;
  /** user time of the whole thread group so far */
  get utimeMs(): number {
    let n = this.deadUtimeMs;
    for (const t of this.threads) n += t.utimeNow;
    return n;
  }
  /** system time of the whole thread group so far */
  get stimeMs(): number {
    let n = this.deadStimeMs;
    for (const t of this.threads) n += t.stimeNow;
    return n;
  }
  /** CPU time (user and system) of the whole thread group so far */
  get cpuMs(): number {
    let n = this.deadUtimeMs + this.deadStimeMs;
    for (const t of this.threads) n += t.cpuNow;
    return n;
  }
  /** the nice value (-20..19); the first process has elfrun's own */
  nice = 0;
  /** job control: stopped by a stop signal until SIGCONT */
  stopped = false;
  /** a stop (its signal) or a continue that wait4/waitid has not reported yet */
  stopReport: number | null = null;
  contReport = false;
  /** process-directed pending signals */
  pending = 0n;
  siginfo = new Map<number, Buffer[]>();
  /** ITIMER_REAL (alarm, setitimer): its interval (ms), and the host timer (with when it fires) */
  itimer: { interval: number; timer: HostTimer } | null = null;
  /** ITIMER_VIRTUAL and ITIMER_PROF: CPU time left and interval (ms) */
  vtimer: CpuTimer | null = null;
  ptimer: CpuTimer | null = null;
  /** POSIX timers (timer_create) by id, and the next id to give (kept across exec, as Linux's signal_struct keeps it) */
  readonly posixTimers = new Map<number, PosixTimer>();
  nextTimerId = 0;
  readonly startTime = nowMs();

  constructor(
    readonly pid: number,
    public arch: Arch,
    public mm: Mm,
    public fds: FdTable,
    public fs: FsState,
    public sighand: SigHand,
  ) {
    this.pgid = pid;
    this.sid = pid;
  }

  get ppid(): number {
    return this.parent?.pid ?? 0;
  }
}
