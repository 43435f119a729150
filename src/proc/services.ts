// What the kernel needs from the layers above it, as interfaces: the syscall
// layer that services a task's syscall, and an observer of signals and exits
// (the strace-style tracer). The Machine gives the kernel both, so proc/
// knows nothing of the table, the handlers or the trace format.
import type { Args } from '../cpu/args.js';
import type { ExitState } from './process.js';
import type { Task } from './task.js';

export interface SyscallLayer {
  /** Service the syscall whose registers t.args holds: its result, or NORETURN (registers set, or the task parked). */
  dispatch(t: Task, a: Args): number;
  /** the tracer that observes the syscalls, told of signals and exits too (null: none) */
  readonly tracer: KernelObserver | null;
}

/** What the kernel tells a tracer, for the tasks the tracer follows. */
export interface KernelObserver {
  /** follow children (strace -f), or only the first process */
  readonly follow: boolean;
  /** told how many tasks live (strace prefixes lines with the pid while more than one does) */
  live: () => number;
  signal(t: Task, sig: number, info: Buffer): void;
  /**
   * A signal ended t's parked syscall, whose registers `a` holds, with `ret`
   * (a restart code, EINTR or a partial result); `resumes`: restart_syscall
   * will resume it.
   */
  interrupted(t: Task, a: Args, ret: number, resumes: boolean): void;
  stopped(t: Task, sig: number): void;
  exited(t: Task, state: ExitState): void;
}

/**
 * What the library's user may be told of (Machine.on): each call is made
 * as the kernel does the thing, before the guest goes on.
 */
export interface ProcessEvents {
  /** t's process now runs the program at `path` (a successful execve; also the first program) */
  exec(t: Task, path: string, argv: string[]): void;
  /** `child` was created by t (fork, vfork, clone; `thread`: in t's process) */
  clone(t: Task, child: Task, thread: boolean): void;
  /** p ended (every thread gone); `state` is what its parent's wait reports */
  exit(p: import('./process.js').Process, state: ExitState): void;
  /** a signal is acted on for t: its handler runs, or its default action (terminate, core, stop) is taken */
  signal(t: Task, sig: number, action: 'handler' | 'terminate' | 'core' | 'stop'): void;
}
