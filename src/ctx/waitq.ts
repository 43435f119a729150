// Wait queues: a task that must wait parks on one; a wake makes every waiter
// runnable again, and each retries its syscall (which re-checks its condition).
// Subsystems (pipes, sockets, ttys, epoll) own queues without knowing what a
// task is: a waiter is anything that can be woken.

import type { Restart } from '../abi/restart.js';

/** Something parked on wait queues: the kernel's task. */
export interface Waiter {
  /** an exclusive waiter returns whether the wake reached someone (Linux's exclusive wake-ups stop at the first that does) */
  wake(): void | boolean;
  /** woken only while no other exclusive waiter of the queue has taken the wake (EPOLLEXCLUSIVE) */
  readonly exclusive?: boolean;
}

/** How a handler parks its task (IoContext.block). */
export interface BlockOptions {
  /** absolute deadline in ms (nowMs()); Infinity by default */
  deadline?: number;
  /** how a signal ends the wait (Linux's restart codes); 'sys' by default */
  restart?: Restart;
  /**
   * A signal's handler ends the call (with EINTR): what it leaves behind
   * (the time left of a sleep), and the result, -EINTR unless that fails.
   */
  onInterrupt?: () => number | void;
  /** false for waits no signal interrupts */
  interruptible?: boolean;
  /** a partial result to return if a signal interrupts (bytes already transferred) */
  partial?: number;
}

export class WaitQueue {
  readonly waiters = new Set<Waiter>();

  constructor(
    readonly name: string,
    /** woken some time after the change it reports (a host fd's readiness, seen by a watcher): its owner's poll answer may change first */
    readonly late = false,
  ) {}

  add(t: Waiter): void {
    this.waiters.add(t);
  }

  remove(t: Waiter): void {
    this.waiters.delete(t);
  }

  wake(): void {
    if (this.waiters.size === 0) return;
    let taken = false;
    for (const t of [...this.waiters]) {
      if (!t.exclusive) t.wake();
      else if (!taken) taken = t.wake() === true;
    }
  }
}

/** Thrown by a handler to park its task; the syscall is retried when woken. */
export class Blocked {
  constructor(
    readonly queues: WaitQueue[],
    /** absolute deadline in ms (nowMs()), or Infinity */
    readonly deadline: number,
    /** how a signal ends the wait */
    readonly restart: Restart,
    /** false for waits no signal interrupts (vfork's wait for its child) */
    readonly interruptible = true,
    /** a partial result to return if a signal interrupts (bytes already transferred) */
    readonly partial: number | null = null,
    /** runs when a handler ends the call; returns the result if not -EINTR */
    readonly onInterrupt: (() => number | void) | null = null,
  ) {}
}
