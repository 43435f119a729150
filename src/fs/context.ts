// What file systems, open files, pipes, ttys and sockets may know of the task
// that calls them: its memory, credentials and limits, how it parks, and the
// kernel's few services they need. The kernel's Task implements it; nothing
// below proc/ sees the Task itself.
import type { Arch } from '../cpu/arch.js';
import type { AddressSpace } from '../mm/address-space.js';
import type { Cred } from '../ctx/cred.js';
import type { BlockOptions, WaitQueue } from '../ctx/waitq.js';
import type { Loc, Vfs } from './vfs.js';
import type { TtyCtrl } from './tty.js';

export interface IoContext {
  readonly arch: Arch;
  /** the caller's memory: where its syscall's buffers are */
  readonly mm: AddressSpace;
  readonly cred: Cred;
  readonly pid: number;
  readonly tid: number;
  readonly cwd: Loc;
  /** the process's root directory (chroot), null for the VFS's own */
  readonly root: Loc | null;
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
 * The job-control side of terminals, answered by the kernel, which owns
 * sessions and process groups: which terminal is a process's controlling
 * one, the ioctls that need the process table, and Linux's checks of a
 * background process group reading or changing its terminal.
 */
export interface TerminalControl {
  /** the job-control state of the host terminal with this device number (st_rdev) */
  hostTty(rdev: number): TtyCtrl;
  /** the caller's controlling terminal, null without one */
  controlling(t: IoContext): TtyCtrl | null;
  /**
   * Linux's __tty_check_change: a caller of a background group of the
   * terminal's session gets `sig` (SIGTTIN for a read, SIGTTOU for a write
   * with TOSTOP or a change of the terminal) sent to its group and its call
   * parks until it is delivered; EIO instead for an orphaned group, or a
   * SIGTTIN it ignores or blocks (a SIGTTOU it ignores or blocks lets the
   * call go on).
   */
  check(t: IoContext, tty: TtyCtrl, sig: number): void;
  /**
   * TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY and TIOCNOTTY on this terminal
   * (`readable`: the fd was opened for reading; `master`: a pty master's fd,
   * which answers for its slave whoever asks); null for any other request.
   */
  jobIoctl(t: IoContext, tty: TtyCtrl, req: number, arg: number, readable: boolean, master?: boolean): number | null;
  /** open(2) of the terminal without O_NOCTTY: a session leader without one takes it as its controlling terminal */
  opened(t: IoContext, tty: TtyCtrl, readable: boolean): void;
  /** a signal from the terminal (^C, ^Z, SIGWINCH) to its foreground process group */
  signalForeground(tty: TtyCtrl, sig: number): void;
  /** the terminal hangs up: its session loses it, its leader gets SIGHUP and SIGCONT, its foreground group SIGHUP */
  hangup(tty: TtyCtrl): void;
}
