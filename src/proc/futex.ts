// Futexes, keyed by the host memory behind the futex word: threads (one
// address space) and processes sharing memory (MAP_SHARED, shared files)
// meet on the same key, as Linux's shared futexes do; private memory is
// private to its process. When private memory moves to other host memory
// (fork's swap, a dying space's gift) its waiters move with it. A thread that
// ends holding robust mutexes releases them here (Linux's exit_robust_list).
//
// A waiting task has one FutexWait: the queues it is on (futex_waitv waits
// on several), what kind of waiter it is (plain, a PI lock waiter, a
// requeue-PI waiter) and how its wait ended (woken, with the index of the
// word that woke it; a PI lock handed to it). It leaves every queue when the
// wait ends in any way (woken, timed out, interrupted, killed), so a wake-up
// never reaches a task that stopped waiting. Priority-inheritance futexes
// (futex-pi.ts) queue their lock waiters here too.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { FUTEX_BITSET_MATCH_ANY, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from '../abi/futex.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './process.js';
import type { Task } from './task.js';

/** What a waiter waits for: a wake-up, a PI lock, or a wake-up that requeues it onto a PI lock. */
export type WaiterKind = 'plain' | 'pi' | 'requeue-pi';

/** A task's place on one futex queue. */
export interface Entry {
  /** FUTEX_WAIT_BITSET's mask (all bits for the other waits) */
  mask: number;
  /** its word in its futex_waitv vector (0 for the other waits) */
  index: number;
  /** the word's address in the waiter's own address space */
  addr: number;
}

/** Waiters on one futex word, in arrival order. */
export class FutexQueue {
  readonly waiters = new Map<Task, Entry>();
  /** PI: the task the waiters wait behind (Linux's pi_state owner), null before one attaches */
  piOwner: Task | null = null;
  constructor(public key: number) {}
}

/** A task's futex wait, from the call that starts it until it ends. */
export class FutexWait {
  readonly queues: FutexQueue[] = [];
  /** the index of the word that woke it, -1 while none has; a PI waiter is woken only when the lock is handed to it (unlock, a dying owner, requeue-PI's proxy lock) */
  woken = -1;
  /** requeue-PI: moved onto its PI futex, where it now waits for the lock */
  requeued = false;
  constructor(
    readonly kind: WaiterKind,
    /** requeue-PI: the key of the PI futex it expects to be requeued to */
    readonly piKey = -1,
    /** requeue-PI: that futex's address in the waiter's space */
    readonly piAddr = 0,
  ) {}
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

  /** The queue of a futex key, or null when nobody waits on it. */
  existing(key: number): FutexQueue | null {
    return this.queues.get(key) ?? null;
  }

  private queueOf(key: number): FutexQueue {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = new FutexQueue(key)));
    return q;
  }

  /** Start a wait of this kind for t: enqueue() then puts it on its queues. */
  begin(t: Task, w: FutexWait): FutexWait {
    if (t.futexWait !== null) this.leave(t);
    t.futexWait = w;
    return w;
  }

  /** Put t (its wait begun) on the queue of key, last. */
  enqueue(t: Task, key: number, e: Entry): void {
    const q = this.queueOf(key);
    q.waiters.set(t, e);
    t.futexWait!.queues.push(q);
  }

  /** t's wait ends: off every queue it is on. */
  leave(t: Task): void {
    const w = t.futexWait;
    if (w === null) return;
    t.futexWait = null;
    for (const q of w.queues) {
      q.waiters.delete(t);
      this.dropIfEmpty(q);
    }
  }

  private dropIfEmpty(q: FutexQueue): void {
    if (q.waiters.size === 0 && this.queues.get(q.key) === q) this.queues.delete(q.key);
  }

  /** End t's wait as woken by its word `index` (a PI waiter: with the lock), and make it run. */
  release(t: Task, index: number): void {
    const w = t.futexWait!;
    this.leave(t);
    w.woken = index;
    // the retry of its parked call reads how the wait ended
    t.futexWait = w;
    w.queues.length = 0;
    if (t.state === 'blocked') this.k.sched.wake(t);
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
      q.key = m[1] + (key - m[0]);
      this.queues.set(q.key, q);
    }
  }

  /**
   * Wake waiters of key whose bitset meets mask, as Linux's futex_wake counts
   * them: n of them, but at least one (a count of 0 or less wakes one) unless
   * strict (futex2's futex_wake, where 0 wakes none). A PI or requeue-PI
   * waiter met on the way ends the walk with EINVAL (those woken before it
   * stay woken).
   */
  wake(key: number, n: number, mask: number, strict = false): number {
    if (strict && n <= 0) return 0;
    const q = this.queues.get(key);
    if (!q) return 0;
    let woken = 0;
    for (const [t, e] of [...q.waiters]) {
      if (t.futexWait!.kind !== 'plain') return -E.EINVAL;
      if ((e.mask & mask) === 0) continue;
      this.release(t, e.index);
      if (++woken >= n) break;
    }
    return woken;
  }

  /**
   * FUTEX_REQUEUE and FUTEX_CMP_REQUEUE: wake nWake plain waiters of from
   * and move up to nRequeue more onto to (its place kept when from is to).
   * The number woken and moved, or EINVAL at a PI or requeue-PI waiter.
   */
  requeue(from: number, to: number, nWake: number, nRequeue: number): number {
    const q = this.queues.get(from);
    if (!q) return 0;
    let count = 0;
    for (const [t, e] of [...q.waiters]) {
      if (count - nWake >= nRequeue) break;
      const w = t.futexWait!;
      if (w.kind !== 'plain') return -E.EINVAL;
      if (++count <= nWake) this.release(t, e.index);
      else if (from !== to) this.move(t, q, to, e);
    }
    return count;
  }

  /** Move t's entry from queue q onto the queue of key to. */
  move(t: Task, q: FutexQueue, to: number, e: Entry): void {
    q.waiters.delete(t);
    const dst = this.queueOf(to);
    dst.waiters.set(t, e);
    const w = t.futexWait!;
    w.queues[w.queues.indexOf(q)] = dst;
    this.dropIfEmpty(q);
  }

  /** Wake one waiter of a word the kernel itself releases (clear_child_tid, a robust futex). */
  wakeOne(mm: Mm, addr: number): void {
    try {
      this.wake(this.key(mm, addr), 1, FUTEX_BITSET_MATCH_ANY);
    } catch {
      /* an unmapped word: nobody can wait on it */
    }
  }

  /** The queues whose PI waiters wait behind t. */
  ownedBy(t: Task): FutexQueue[] {
    const r: FutexQueue[] = [];
    for (const q of this.queues.values()) if (q.piOwner === t) r.push(q);
    return r;
  }

  /** A dying task waits on no futex. */
  forget(t: Task): void {
    this.leave(t);
  }

  /**
   * A thread ends holding robust mutexes (set_robust_list): each futex word it
   * owns gets FUTEX_OWNER_DIED, and for a plain (not PI) one a waiter is
   * woken (Linux's exit_robust_list); PI waiters get the lock from the
   * dying owner's PI state (futex-pi.ts exitPi).
   */
  exitRobustList(t: Task): void {
    const head = t.robustList;
    if (head === 0) return;
    const mm = t.proc.mm;
    const death = (uaddr: number, pi: boolean): void => {
      const val = t.mm.u32(uaddr);
      if ((val & FUTEX_TID_MASK) !== t.tid) return;
      t.mm.setU32(uaddr, ((val & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
      if (!pi && val & FUTEX_WAITERS) this.wakeOne(mm, uaddr);
    };
    try {
      let entry = t.mm.u64(head);
      const offset = t.mm.i64(head + 8);
      const pending = t.mm.u64(head + 16);
      // (the low bit of an entry marks a PI futex; addresses pass 2^32: no bitwise operators)
      const clean = (p: number): number => p - (p % 2);
      for (let limit = 2048; entry !== head && entry !== 0 && limit > 0; limit--) {
        const next = t.mm.u64(clean(entry));
        if (clean(entry) !== clean(pending)) death(clean(entry) + offset, entry % 2 === 1);
        entry = next;
      }
      if (pending !== 0) death(clean(pending) + offset, pending % 2 === 1);
    } catch {
      /* a damaged list ends the walk, as on Linux */
    }
  }
}
