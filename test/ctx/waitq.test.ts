// Wait queues without a kernel: a wake tells every waiter once (the kernel
// then unparks it, and its syscall checks its condition again); a waiter
// that left (its wait ended another way) is not told.
import { describe, expect, it } from 'vitest';
import { Blocked, WaitQueue, type Waiter } from '../../src/ctx/waitq.js';

const waiter = (log: string[], name: string): Waiter => ({ wake: () => log.push(name) });

describe('wait queues', () => {
  it('wake wakes each waiter once, in arrival order; a removed one not at all', () => {
    const log: string[] = [];
    const q = new WaitQueue('test');
    const a = waiter(log, 'a');
    const b = waiter(log, 'b');
    const c = waiter(log, 'c');
    q.add(a);
    q.add(b);
    q.add(a);
    q.add(c);
    q.remove(b);
    q.wake();
    expect(log).toEqual(['a', 'c']);
  });

  it('a Blocked carries how the wait may end', () => {
    const q = new WaitQueue('test');
    const b = new Blocked([q], 1234, 'nohand', true, 7);
    expect([b.queues, b.deadline, b.restart, b.interruptible, b.partial, b.onInterrupt]).toEqual([[q], 1234, 'nohand', true, 7, null]);
  });
});
