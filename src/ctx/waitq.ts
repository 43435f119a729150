// Wait queues: a task that must wait parks on one; a wake makes every waiter
// runnable again, and each retries its syscall (which re-checks its condition).
// Subsystems (pipes, sockets, ttys, epoll) own queues without knowing what a
// task is: a waiter is anything that can be woken.

/** Something parked on wait queues: the kernel's task. */
export interface Waiter {
  wake(): void;
}

/** How a handler parks its task (IoContext.block). */
export interface BlockOptions {
  /** absolute deadline in ms (nowMs()); Infinity by default */
  deadline?: number;
  /** a signal with SA_RESTART restarts the call (default) rather than failing it with EINTR */
  restartable?: boolean;
  /** false for waits no signal interrupts */
  interruptible?: boolean;
  /** a partial result to return if a signal interrupts (bytes already transferred) */
  partial?: number;
}

export class WaitQueue {
  readonly waiters = new Set<Waiter>();

  constructor(readonly name: string) {}

  add(t: Waiter): void {
    this.waiters.add(t);
  }

  remove(t: Waiter): void {
    this.waiters.delete(t);
  }

  wake(): void {
    if (this.waiters.size === 0) return;
    for (const t of [...this.waiters]) t.wake();
  }
}

/** Thrown by a handler to park its task; the syscall is retried when woken. */
export class Blocked {
  constructor(
    readonly queues: WaitQueue[],
    /** absolute deadline in ms (nowMs()), or Infinity */
    readonly deadline: number,
    /** true when a signal with SA_RESTART should restart (not EINTR) the call */
    readonly restartable: boolean,
    /** false for waits no signal interrupts (vfork's wait for its child) */
    readonly interruptible = true,
    /** a partial result to return if a signal interrupts (bytes already transferred) */
    readonly partial: number | null = null,
  ) {}
}
