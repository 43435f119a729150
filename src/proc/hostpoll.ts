// Host fds that may block (stdin, host pipes): a task that must wait on one
// parks on a queue here, and while the scheduler is idle a host timer polls
// the fds, backing off from 1 to 20 ms while none is ready, and wakes the
// queues of those that are.
import { host } from '../host/libc.js';
import { WaitQueue } from '../ctx/waitq.js';

export class HostPoller {
  private polls = new Map<number, { queue: WaitQueue; events: number }>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay = 1;

  /** Is any host fd waited on? */
  get active(): boolean {
    return this.polls.size > 0;
  }

  /** A queue woken when the host fd is ready (POLLIN=1, POLLOUT=4). */
  queue(fd: number, events: number): WaitQueue {
    let e = this.polls.get(fd);
    if (!e) {
      e = { queue: new WaitQueue(`host fd ${fd}`), events };
      this.polls.set(fd, e);
    }
    e.events |= events;
    return e.queue;
  }

  /** Start polling now, if any fd is waited on (the scheduler has nothing to run). */
  start(): void {
    if (this.polls.size > 0) this.schedule(0);
  }

  /** Stop polling (the run ends). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      let woke = false;
      for (const [fd, e] of this.polls) {
        if (e.queue.waiters.size === 0) {
          this.polls.delete(fd);
          continue;
        }
        if (host.pollReady(fd, e.events)) {
          this.polls.delete(fd);
          e.queue.wake();
          woke = true;
        }
      }
      if (woke) this.delay = 1;
      else this.delay = Math.min(this.delay * 2, 20);
      if (this.polls.size > 0) this.schedule(this.delay);
    }, delay);
  }
}
