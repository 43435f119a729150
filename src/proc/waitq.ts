// Wait queues: a task that must wait parks on one; a wake makes every waiter
// runnable again, and each retries its syscall (which re-checks its condition).
import type { Task } from './task.js';
import { nowMs } from '../host/clock.js';

export class WaitQueue {
  readonly waiters = new Set<Task>();

  constructor(readonly name: string) {}

  add(t: Task): void {
    this.waiters.add(t);
  }

  remove(t: Task): void {
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
