// Futexes, keyed by the host memory behind the futex word: threads (one
// address space) and processes sharing memory (MAP_SHARED, shared files)
// meet on the same key, as Linux's shared futexes do; private memory is
// private to its process. When private memory moves to other host memory
// (fork's swap, a dying space's gift) its waiters move with it. A thread that
// ends holding robust mutexes releases them here (Linux's exit_robust_list).
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { FUTEX_BITSET_MATCH_ANY, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from '../abi/futex.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './process.js';
import type { Task } from './task.js';

/** Waiters on one futex word, each with its FUTEX_BITSET mask, in arrival order. */
export class FutexQueue {
  readonly waiters = new Map<Task, number>();
  add(t: Task, mask: number): void {
    this.waiters.set(t, mask);
  }
}

export class Futexes {
  private queues = new Map<number, FutexQueue>();

  constructor(private readonly k: Kernel) {}

  /** The key of a futex word: its host address (EFAULT if unmapped). */
  key(mm: Mm, addr: number): number {
    const h = mm.space.hostRange(addr, 4, 0);
    if (h < 0) fail(E.EFAULT);
    return h;
  }

  /** The queue of a futex word, made if none waits on it yet. */
  queue(mm: Mm, addr: number): FutexQueue {
    const key = this.key(mm, addr);
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = new FutexQueue()));
    return q;
  }

  /**
   * Private memory moved to other host memory ([from, to, bytes] each: fork's
   * swap and a dying space's gift, see AddressSpace.forkInto and giveTo):
   * its waiters (the process's other threads) are waiting on the new place.
   */
  moved(moved: ReadonlyArray<readonly [from: number, to: number, size: number]>): void {
    if (this.queues.size === 0) return;
    for (const [key, q] of [...this.queues]) {
      const m = moved.find(([from, , size]) => key >= from && key < from + size);
      if (m === undefined) continue;
      this.queues.delete(key);
      this.queues.set(m[1] + (key - m[0]), q);
    }
  }

  /** Wake up to n waiters whose bitset intersects mask. */
  wake(mm: Mm, addr: number, n: number, mask: number): number {
    const key = this.key(mm, addr);
    const q = this.queues.get(key);
    if (!q) return 0;
    let woken = 0;
    for (const [t, m] of q.waiters) {
      if (woken >= n) break;
      if ((m & mask) === 0) continue;
      q.waiters.delete(t);
      if (t.state === 'blocked') {
        t.futexWoken = true;
        this.k.sched.wake(t);
        woken++;
      }
    }
    if (q.waiters.size === 0) this.queues.delete(key);
    return woken;
  }

  /** Move up to n waiters from one futex to another. */
  requeue(mm: Mm, from: number, to: number, n: number): number {
    const q = this.queues.get(this.key(mm, from));
    if (!q) return 0;
    const dst = this.queue(mm, to);
    let moved = 0;
    for (const [t, m] of q.waiters) {
      if (moved >= n) break;
      q.waiters.delete(t);
      dst.waiters.set(t, m);
      moved++;
    }
    return moved;
  }

  /** Wake one waiter of a word the kernel itself releases (clear_child_tid, a robust futex). */
  wakeOne(mm: Mm, addr: number): void {
    try {
      this.wake(mm, addr, 1, FUTEX_BITSET_MATCH_ANY);
    } catch {
      /* an unmapped word: nobody can wait on it */
    }
  }

  /** A dying task waits on no futex. */
  forget(t: Task): void {
    for (const q of this.queues.values()) q.waiters.delete(t);
  }

  /**
   * A thread ends holding robust mutexes (set_robust_list): each futex word it
   * owns gets FUTEX_OWNER_DIED and one waiter is woken (Linux's exit_robust_list).
   */
  exitRobustList(t: Task): void {
    const head = t.robustList;
    if (head === 0) return;
    const mm = t.proc.mm;
    const death = (uaddr: number): void => {
      const val = t.mm.u32(uaddr);
      if ((val & FUTEX_TID_MASK) !== t.tid) return;
      t.mm.setU32(uaddr, ((val & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
      if (val & FUTEX_WAITERS) this.wakeOne(mm, uaddr);
    };
    try {
      let entry = t.mm.u64(head);
      const offset = t.mm.i64(head + 8);
      const pending = t.mm.u64(head + 16);
      // (the low bit of an entry marks a PI futex; addresses pass 2^32: no bitwise operators)
      const clean = (p: number): number => p - (p % 2);
      for (let limit = 2048; entry !== head && entry !== 0 && limit > 0; limit--) {
        const next = t.mm.u64(clean(entry));
        if (clean(entry) !== clean(pending)) death(clean(entry) + offset);
        entry = next;
      }
      if (pending !== 0) death(clean(pending) + offset);
    } catch {
      /* a damaged list ends the walk, as on Linux */
    }
  }
}
