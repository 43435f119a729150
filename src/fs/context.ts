// What file systems, open files, pipes, ttys and sockets may know of the task
// that calls them: its memory, credentials and limits, how it parks, and the
// kernel's few services they need. The kernel's Task implements it; nothing
// below proc/ sees the Task itself.
import type { Arch } from '../cpu/arch.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { Cred } from '../ctx/cred.js';
import type { BlockOptions, WaitQueue } from '../ctx/waitq.js';
import type { Loc, Vfs } from './vfs.js';

export interface IoContext {
  readonly arch: Arch;
  /** the caller's memory: where its syscall's buffers are */
  readonly mm: AddressSpace;
  readonly cred: Cred;
  readonly pid: number;
  readonly tid: number;
  readonly cwd: Loc;
  /** the guest's file system tree */
  readonly vfs: Vfs;
  /** getrlimit's values by resource (RLIMIT_FSIZE for writes) */
  readonly rlimits: ReadonlyArray<readonly [bigint, bigint]>;
  /** true while a parked syscall is being retried, and the scratch it kept across the park */
  readonly restarting: boolean;
  restartState: number | null;
  /** Park the caller on these queues (and/or until a deadline); its syscall is retried when woken. */
  block(queues: WaitQueue[], opts?: BlockOptions): never;
  /** A signal raised by the call itself (SIGPIPE, SIGXFSZ), delivered when it returns. */
  raise(sig: number): void;
  /** A queue woken when host fd `fd` is ready for `events` (POLLIN/POLLOUT/POLLPRI). */
  hostPollQueue(fd: number, events: number): WaitQueue;
  /** The job-control side of the controlling terminal: its process groups are the guest's. */
  readonly terminal: TerminalControl;
  /** The caller's pending signals, for signalfd. */
  readonly signals: PendingSignals;
}

/** The signals pending for the calling thread (its own and its process's), as a signalfd reads them. */
export interface PendingSignals {
  /** which signals of `mask` are pending */
  pending(mask: bigint): bigint;
  /** Take one signal of `mask` as Linux's dequeue_signal does (the thread's own first, a fault's first, then the lowest): its siginfo, or null. */
  take(mask: bigint): Buffer | null;
  /** woken when a signal becomes pending on the thread or its process (Linux's sighand->signalfd_wqh) */
  readonly queue: WaitQueue;
}

/**
 * The terminal ioctls that need the process table (TIOCGPGRP, TIOCSPGRP,
 * TIOCGSID), answered by the kernel, which owns sessions and process groups.
 */
export interface TerminalControl {
  /** the terminal's foreground process group */
  foreground(): number;
  /** the session the terminal belongs to, as the caller sees it */
  session(t: IoContext): number;
  /** tcsetpgrp: ENOTTY, ESRCH or EPERM as Linux's tiocspgrp */
  setForeground(t: IoContext, pgid: number): void;
}
