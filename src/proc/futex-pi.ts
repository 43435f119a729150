// Priority-inheritance futexes (Linux's kernel/futex/pi.c and requeue.c):
// the futex word holds its owner's tid and FUTEX_WAITERS/FUTEX_OWNER_DIED;
// the kernel hands the lock to its first waiter on unlock and when the owner
// dies. elfrun's scheduler has no priorities to inherit, so the waiters are
// served in arrival order and nobody is boosted; everything a program can see
// (the word's values, the results and errors, who owns the lock when) is
// Linux's.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from '../abi/futex.js';
import { FutexWait, type Futexes } from './futex.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';

/** The first PI lock waiter of key's queue (a requeued requeue-PI waiter counts). */
function topPiWaiter(f: Futexes, key: number): Task | null {
  const q = f.existing(key);
  if (q === null) return null;
  for (const t of q.waiters.keys()) {
    const w = t.futexWait!;
    if (w.kind === 'pi' || w.requeued) return t;
  }
  return null;
}

/**
 * futex_lock_pi_atomic: take the PI futex at addr (in t's space) for `owner`
 * (t itself, or requeue-PI's waiter): true when taken (an unowned word keeps
 * its FUTEX_OWNER_DIED); false when someone holds it, after FUTEX_WAITERS is
 * set in the word and the holder found (ESRCH when its tid names no thread);
 * EDEADLK when owner holds it already.
 */
export function piAcquire(k: Kernel, t: Task, addr: number, key: number, owner: Task, setWaiters: boolean): boolean {
  const uval = t.mm.u32(addr);
  const tid = uval & FUTEX_TID_MASK;
  if (tid === owner.tid) fail(E.EDEADLK);
  if (tid === 0) {
    const waiters = setWaiters || topPiWaiter(k.futex, key) !== null;
    t.mm.setU32(addr, ((uval & FUTEX_OWNER_DIED) | owner.tid | (waiters ? FUTEX_WAITERS : 0)) >>> 0);
    const q = k.futex.existing(key);
    if (q !== null) q.piOwner = owner;
    return true;
  }
  t.mm.setU32(addr, (uval | FUTEX_WAITERS) >>> 0);
  const holder = k.tasks.get(tid);
  if (holder === undefined || holder.state === 'dead') fail(E.ESRCH);
  return false;
}

/**
 * FUTEX_LOCK_PI, FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI: a fresh attempt. Returns
 * true when t took the lock; false when it is now queued behind the holder
 * (the caller parks it). A trylock that finds the lock held fails with EAGAIN
 * (leaving FUTEX_WAITERS set, as Linux does).
 */
export function lockPi(k: Kernel, t: Task, addr: number, trylock: boolean): boolean {
  if (addr % 4 !== 0) fail(E.EINVAL);
  const f = k.futex;
  const key = f.key(t.proc.mm, addr);
  if (piAcquire(k, t, addr, key, t, false)) return true;
  if (trylock) fail(E.EAGAIN);
  const holder = k.tasks.get(t.mm.u32(addr) & FUTEX_TID_MASK)!;
  f.begin(t, new FutexWait('pi'));
  f.enqueue(t, key, { mask: 0xffffffff, index: 0, addr });
  f.existing(key)!.piOwner = holder;
  return false;
}

/** Hand the PI lock of key to its waiter w: the word becomes w's tid with FUTEX_WAITERS (and extra bits), w runs. */
function handTo(k: Kernel, key: number, w: Task, extra: number): void {
  const e = k.futex.existing(key)!.waiters.get(w)!;
  w.mm.setU32(e.addr, (FUTEX_WAITERS | w.tid | extra) >>> 0);
  k.futex.release(w, 0);
  const q = k.futex.existing(key);
  if (q !== null) q.piOwner = w;
}

/** FUTEX_UNLOCK_PI: t releases the lock at addr, to its first waiter if one is queued (EPERM unless t owns it). */
export function unlockPi(k: Kernel, t: Task, addr: number): number {
  if (addr % 4 !== 0) fail(E.EINVAL);
  const key = k.futex.key(t.proc.mm, addr);
  const uval = t.mm.u32(addr);
  if ((uval & FUTEX_TID_MASK) !== t.tid) fail(E.EPERM);
  const top = topPiWaiter(k.futex, key);
  if (top !== null) {
    // (written through t first: a read-only word fails with EFAULT before anything changes)
    t.mm.setU32(addr, (FUTEX_WAITERS | top.tid) >>> 0);
    handTo(k, key, top, 0);
  } else {
    t.mm.setU32(addr, 0);
  }
  return 0;
}

/**
 * A dying thread owned PI locks that others wait for: each goes to its first
 * waiter, marked FUTEX_OWNER_DIED (Linux's exit_pi_state_list, and the new
 * owner's fixup_pi_state_owner).
 */
export function exitPi(k: Kernel, t: Task): void {
  for (const q of k.futex.ownedBy(t)) {
    q.piOwner = null;
    const top = topPiWaiter(k.futex, q.key);
    if (top === null) continue;
    try {
      handTo(k, q.key, top, FUTEX_OWNER_DIED);
    } catch {
      /* the word went away: the waiter is woken by its own end */
    }
  }
}

/**
 * FUTEX_WAIT_REQUEUE_PI's start: t waits on the plain futex at addr (EAGAIN
 * unless it holds val) to be requeued onto the PI futex at addr2 by
 * FUTEX_CMP_REQUEUE_PI.
 */
export function waitRequeuePi(k: Kernel, t: Task, addr: number, val: number, addr2: number): void {
  if (addr % 4 !== 0 || addr2 % 4 !== 0) fail(E.EINVAL);
  if (addr === addr2) fail(E.EINVAL);
  const f = k.futex;
  const key2 = f.key(t.proc.mm, addr2);
  const key = f.key(t.proc.mm, addr);
  if (t.mm.u32(addr) !== val) fail(E.EAGAIN);
  if (key === key2) fail(E.EINVAL);
  f.begin(t, new FutexWait('requeue-pi', key2, addr2));
  f.enqueue(t, key, { mask: 0xffffffff, index: 0, addr });
}

/**
 * FUTEX_CMP_REQUEUE_PI (futex_requeue with requeue_pi): nWake must be 1; the
 * first waiter takes the PI futex at addr2 if it is free and is woken,
 * the others (up to nRequeue, and the first too if the lock is held) move
 * onto it to wait for the lock. Each waiter must be a requeue-PI one
 * expecting addr2 (EINVAL). Returns how many were woken or moved.
 */
export function cmpRequeuePi(k: Kernel, t: Task, addr: number, nWake: number, nRequeue: number, addr2: number, val3: number): number {
  if (addr % 4 !== 0 || addr2 % 4 !== 0) fail(E.EINVAL);
  if (nWake < 0 || nRequeue < 0) fail(E.EINVAL);
  if (addr === addr2) fail(E.EINVAL);
  if (nWake !== 1) fail(E.EINVAL);
  const f = k.futex;
  const key = f.key(t.proc.mm, addr);
  const key2 = f.key(t.proc.mm, addr2);
  if (key === key2) fail(E.EINVAL);
  if (t.mm.u32(addr) !== val3) fail(E.EAGAIN);
  const q = f.existing(key);
  if (q === null) return 0;
  const valid = (w: Task): boolean => {
    const fw = w.futexWait!;
    return fw.kind === 'requeue-pi' && fw.piKey === key2;
  };
  let count = 0;
  const first = q.waiters.keys().next().value as Task;
  if (!valid(first)) fail(E.EINVAL);
  // the proxy trylock: the word is read and written through the waker's space
  if (piAcquire(k, t, addr2, key2, first, nRequeue > 0)) {
    f.release(first, 0);
    count = 1;
  }
  const holder = k.tasks.get(t.mm.u32(addr2) & FUTEX_TID_MASK) ?? null;
  for (const [w, e] of [...q.waiters]) {
    if (count - nWake >= nRequeue) break;
    if (!valid(w)) return count > 0 ? count : -E.EINVAL;
    const fw = w.futexWait!;
    f.move(w, q, key2, { mask: e.mask, index: 0, addr: fw.piAddr });
    fw.requeued = true;
    const q2 = f.existing(key2)!;
    q2.piOwner = holder;
    count++;
  }
  return count;
}
