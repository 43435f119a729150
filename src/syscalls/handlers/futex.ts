// futex(2) with every operation Linux has (FUTEX_FD excepted: Linux removed
// it, ENOSYS), futex_waitv and the futex2 calls futex_wait, futex_wake and
// futex_requeue, with their checks in Linux's order. The queues
// and the PI lock hand-over are the kernel's (proc/futex.ts, futex-pi.ts).
import type { Task } from '../../proc/task.js';
import type { Args } from '../../cpu/args.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import {
  FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMD_MASK, FUTEX_CMP_REQUEUE, FUTEX_CMP_REQUEUE_PI, FUTEX_LOCK_PI, FUTEX_LOCK_PI2,
  FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAIT_REQUEUE_PI, FUTEX_WAKE,
  FUTEX_WAKE_BITSET, FUTEX_WAKE_OP, FUTEX2_MPOL, FUTEX2_NUMA, FUTEX2_PRIVATE, FUTEX2_SIZE_MASK, FUTEX2_SIZE_U32, FUTEX_WAITV_MAX,
} from '../../abi/futex.js';
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from '../../abi/time.js';
import { FutexWait } from '../../proc/futex.js';
import type { BlockOptions } from '../../ctx/waitq.js';
import { cmpRequeuePi, lockPi, unlockPi, waitRequeuePi } from '../../proc/futex-pi.js';
import { nowMs } from '../../host/clock.js';
import type { Restart } from '../../abi/restart.js';
import { futexShape } from '../signature.js';
import { supported, timeDeadline, type Def } from './util.js';

type Clock = 'rel' | 'abs-mono' | 'abs-real';

/** The key of a word a wake or requeue names: null for unmapped private memory (nobody waits there: Linux keys private futexes by address alone). */
function wakeKey(t: Task, addr: number, align: number, shared: boolean): number | null {
  if (addr % align !== 0) fail(E.EINVAL);
  if (!shared && t.proc.mm.space.hostRange(addr, 4, 0) < 0) return null;
  return t.kernel.futex.key(t.proc.mm, addr);
}

/**
 * The retry of a parked futex wait: 0 (or the index futex_waitv reports)
 * once woken (a PI waiter: once the lock is its), ETIMEDOUT after its
 * deadline, otherwise it parks again, as `restart` says for the wait as it
 * now is. null when t has no wait going on (a fresh call, or one resumed
 * after a stop, which starts over with what is left of its timeout).
 */
function resumeWait(t: Task, restart: Restart | ((w: FutexWait) => Pick<BlockOptions, 'restart' | 'onInterrupt'>)): number | null {
  const w = t.futexWait;
  if (!t.restarting || w === null) return null;
  if (w.woken >= 0) {
    t.futexWait = null;
    return w.woken;
  }
  const deadline = t.restartState ?? Infinity;
  if (nowMs() >= deadline) {
    t.kernel.futex.leave(t);
    fail(E.ETIMEDOUT);
  }
  t.block([], { deadline, ...(typeof restart === 'string' ? { restart } : restart(w)) });
}

/** The deadline of a wait: read from the guest on a fresh call, kept across its retries. */
function waitDeadline(t: Task, tsAddr: number, clock: Clock): number {
  if (t.restarting) {
    const d = t.restartState ?? Infinity;
    if (nowMs() >= d) fail(E.ETIMEDOUT);
    return d;
  }
  const d = timeDeadline(t, tsAddr, clock);
  t.restartState = d === Infinity ? null : d;
  return d;
}

/** Park t on the words (addr, val) of a plain wait until woken, its deadline, or a signal. */
function waitOn(t: Task, words: ReadonlyArray<readonly [addr: number, val: number]>, mask: number, deadline: number, restart: Restart): never {
  const f = t.kernel.futex;
  const keys = words.map(([addr]) => f.key(t.proc.mm, addr));
  words.forEach(([addr, val]) => {
    if (t.mm.u32(addr) !== val) fail(E.EAGAIN);
  });
  f.begin(t, new FutexWait('plain'));
  keys.forEach((key, i) => f.enqueue(t, key, { mask, index: i, addr: words[i][0] }));
  t.block([], { deadline, restart });
}

/** FUTEX_WAIT and FUTEX_WAIT_BITSET: a timed wait is resumed by restart_syscall (futex_wait_restart). */
function futexWait(t: Task, addr: number, val: number, mask: number, tsAddr: number, clock: Clock): number {
  const timed = t.restarting ? t.restartState !== null : tsAddr !== 0;
  const restart: Restart = timed ? 'block' : 'sys';
  const r = resumeWait(t, restart);
  if (r !== null) return 0;
  if (mask === 0) fail(E.EINVAL);
  if (addr % 4 !== 0) fail(E.EINVAL);
  const deadline = waitDeadline(t, tsAddr, clock);
  waitOn(t, [[addr, val]], mask, deadline, restart);
}

/** futex_atomic_op_inuser: FUTEX_WAKE_OP's operation on the word at addr2, and whether its comparison holds. */
function wakeOp(t: Task, addr2: number, encoded: number): boolean {
  const op = (encoded >>> 28) & 7;
  const cmp = (encoded >>> 24) & 15;
  let oparg = ((encoded >>> 12) & 0xfff) << 20 >> 20;
  const cmparg = (encoded & 0xfff) << 20 >> 20;
  if (encoded & 0x80000000) {
    if (oparg < 0 || oparg > 31) oparg &= 31;
    oparg = 1 << oparg;
  }
  if (op > 4) fail(E.ENOSYS);
  const old = t.mm.u32(addr2);
  const ops = [(): number => oparg, (): number => old + oparg, (): number => old | oparg, (): number => old & ~oparg, (): number => old ^ oparg];
  t.mm.setU32(addr2, ops[op]() >>> 0);
  const o = old | 0;
  switch (cmp) {
    case 0:
      return o === cmparg;
    case 1:
      return o !== cmparg;
    case 2:
      return o < cmparg;
    case 3:
      return o <= cmparg;
    case 4:
      return o > cmparg;
    case 5:
      return o >= cmparg;
    default:
      fail(E.ENOSYS);
  }
}

/** LOCK_PI, LOCK_PI2 and TRYLOCK_PI: a signal never ends them (ERESTARTNOINTR); the timeout is absolute. */
function futexLockPi(t: Task, addr: number, tsAddr: number, clock: Clock, trylock: boolean): number {
  if (resumeWait(t, 'noint') !== null) return 0;
  const deadline = trylock ? Infinity : waitDeadline(t, tsAddr, clock);
  if (lockPi(t.kernel, t, addr, trylock)) return 0;
  t.block([], { deadline, restart: 'noint' });
}

/** FUTEX_WAIT_REQUEUE_PI: before its requeue a signal restarts it; after, it ends with EAGAIN (Linux saves the restart). */
function futexWaitRequeuePi(t: Task, addr: number, val: number, tsAddr: number, clock: Clock, addr2: number): number {
  if (resumeWait(t, (w) => (w.requeued ? { restart: 'intr', onInterrupt: () => -E.EAGAIN } : { restart: 'noint' })) !== null) return 0;
  const deadline = waitDeadline(t, tsAddr, clock);
  waitRequeuePi(t.kernel, t, addr, val, addr2);
  t.block([], { deadline, restart: 'noint' });
}

function futex(t: Task, a: Args): number {
  const addr = a.ptr(0);
  const op = a.i32(1);
  const cmd = op & FUTEX_CMD_MASK;
  const val = a.u32(2);
  const shared = (op & FUTEX_PRIVATE_FLAG) === 0;
  const k = t.kernel;
  if (op & FUTEX_CLOCK_REALTIME && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_WAIT_REQUEUE_PI && cmd !== FUTEX_LOCK_PI2) fail(E.ENOSYS);
  const abs: Clock = op & FUTEX_CLOCK_REALTIME ? 'abs-real' : 'abs-mono';
  switch (cmd) {
    case FUTEX_WAIT:
      return futexWait(t, addr, val, FUTEX_BITSET_MATCH_ANY, a.ptr(3), 'rel');
    case FUTEX_WAIT_BITSET:
      return futexWait(t, addr, val, a.u32(5), a.ptr(3), abs);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const mask = cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : a.u32(5);
      if (mask === 0) fail(E.EINVAL);
      const key = wakeKey(t, addr, 4, shared);
      return key === null ? 0 : k.futex.wake(key, val | 0, mask);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const nWake = val | 0;
      const nRequeue = a.i32(3);
      if (nWake < 0 || nRequeue < 0) fail(E.EINVAL);
      const from = wakeKey(t, addr, 4, shared);
      const to = wakeKey(t, a.ptr(4), 4, true);
      if (cmd === FUTEX_CMP_REQUEUE && t.mm.u32(addr) !== a.u32(5)) fail(E.EAGAIN);
      return from === null || to === null ? 0 : k.futex.requeue(from, to, nWake, nRequeue);
    }
    case FUTEX_WAKE_OP: {
      const addr2 = a.ptr(4);
      const key = wakeKey(t, addr, 4, shared);
      if (addr2 % 4 !== 0) fail(E.EINVAL);
      const key2 = k.futex.key(t.proc.mm, addr2);
      const hit = wakeOp(t, addr2, a.u32(5));
      let woken = key === null ? 0 : k.futex.wake(key, val | 0, FUTEX_BITSET_MATCH_ANY);
      if (woken < 0) return woken;
      if (hit) {
        const more = k.futex.wake(key2, a.i32(3), FUTEX_BITSET_MATCH_ANY);
        if (more < 0) return more;
        woken += more;
      }
      return woken;
    }
    case FUTEX_LOCK_PI:
      // its timeout is on CLOCK_REALTIME, always
      return futexLockPi(t, addr, a.ptr(3), 'abs-real', false);
    case FUTEX_LOCK_PI2:
      return futexLockPi(t, addr, a.ptr(3), abs, false);
    case FUTEX_TRYLOCK_PI:
      return futexLockPi(t, addr, 0, abs, true);
    case FUTEX_UNLOCK_PI:
      return unlockPi(k, t, addr);
    case FUTEX_WAIT_REQUEUE_PI:
      return futexWaitRequeuePi(t, addr, val, a.ptr(3), abs, a.ptr(4));
    case FUTEX_CMP_REQUEUE_PI:
      return cmpRequeuePi(k, t, addr, val | 0, a.i32(3), a.ptr(4), a.u32(5));
    default:
      // FUTEX_FD (removed in Linux 2.6.26) and unknown operations
      fail(E.ENOSYS);
  }
}

// ---- futex_waitv ---------------------------------------------------------------------------------

const FUTEX2_VALID = FUTEX2_SIZE_MASK | FUTEX2_NUMA | FUTEX2_MPOL | FUTEX2_PRIVATE;

/** futex2_to_flags and futex_flags_valid: only 32-bit futexes exist (EINVAL). */
function futex2Flags(flags: number): void {
  if (flags & ~FUTEX2_VALID || (flags & FUTEX2_SIZE_MASK) !== FUTEX2_SIZE_U32) fail(E.EINVAL);
}

/** A futex2 value or mask must fit the futex's 32 bits. */
function fits(v: number): number {
  if (!(v <= 0xffffffff)) fail(E.EINVAL);
  return v;
}

/**
 * A futex2 word's address: aligned to its size (twice that with FUTEX2_NUMA,
 * whose node number follows the word: -1 asks for the caller's node, which
 * is written back; a node that does not exist is EINVAL; elfrun's machine
 * has node 0 only).
 */
function futex2Addr(t: Task, addr: number, flags: number): number {
  const numa = (flags & FUTEX2_NUMA) !== 0;
  if (addr % (numa ? 8 : 4) !== 0) fail(E.EINVAL);
  if (numa) {
    const node = t.mm.u32(addr + 4) | 0;
    if (node !== -1 && node !== 0) fail(E.EINVAL);
    if (node === -1) t.mm.setU32(addr + 4, 0);
  }
  return addr;
}

/** A futex2 timeout: absolute, on CLOCK_MONOTONIC or CLOCK_REALTIME (EINVAL otherwise). */
function futex2Clock(tsAddr: number, clockid: number): Clock {
  if (tsAddr !== 0 && clockid !== CLOCK_MONOTONIC && clockid !== CLOCK_REALTIME) fail(E.EINVAL);
  return clockid === CLOCK_REALTIME ? 'abs-real' : 'abs-mono';
}

/** struct futex_waitv entries (24 bytes: val, uaddr, flags, reserved), checked as futex_parse_waitv does. */
function readWaitv(t: Task, vec: number, n: number): Array<{ val: number; addr: number; flags: number }> {
  const b = t.mm.read(vec, n * 24);
  const out: Array<{ val: number; addr: number; flags: number }> = [];
  for (let i = 0; i < n; i++) {
    const o = i * 24;
    const flags = b.readUInt32LE(o + 16);
    if (flags & ~FUTEX2_VALID || b.readUInt32LE(o + 20) !== 0) fail(E.EINVAL);
    futex2Flags(flags);
    const val = b.readBigUInt64LE(o);
    if (val > 0xffffffffn) fail(E.EINVAL);
    out.push({ val: Number(val), addr: Number(b.readBigUInt64LE(o + 8)), flags });
  }
  return out;
}

function futexWaitv(t: Task, a: Args): number {
  const r = resumeWait(t, 'sys');
  if (r !== null) return r;
  const vec = a.ptr(0);
  const n = a.u32(1);
  if (a.u32(2) !== 0) fail(E.EINVAL);
  if (n === 0 || n > FUTEX_WAITV_MAX || vec === 0) fail(E.EINVAL);
  const tsAddr = a.ptr(3);
  const clock = futex2Clock(tsAddr, a.i32(4));
  const deadline = waitDeadline(t, tsAddr, clock);
  const ws = readWaitv(t, vec, n);
  const words = ws.map((w) => [futex2Addr(t, w.addr, w.flags), w.val] as const);
  waitOn(t, words, FUTEX_BITSET_MATCH_ANY, deadline, 'sys');
}

/** futex_wait: a 32-bit value and mask, an absolute timeout on the clock given (ERESTARTSYS: no restart block, unlike FUTEX_WAIT). */
function futex2Wait(t: Task, a: Args): number {
  const r = resumeWait(t, 'sys');
  if (r !== null) return 0;
  const flags = a.u32(3);
  futex2Flags(flags);
  const val = fits(a.u64(1));
  const mask = fits(a.u64(2));
  const tsAddr = a.ptr(4);
  const clock = futex2Clock(tsAddr, a.i32(5));
  const deadline = waitDeadline(t, tsAddr, clock);
  if (mask === 0) fail(E.EINVAL);
  waitOn(t, [[futex2Addr(t, a.ptr(0), flags), val]], mask, deadline, 'sys');
}

/** futex_wake: as FUTEX_WAKE_BITSET, but a count of 0 wakes none (FLAGS_STRICT). */
function futex2Wake(t: Task, a: Args): number {
  const flags = a.u32(3);
  futex2Flags(flags);
  const mask = fits(a.u64(1));
  if (mask === 0) fail(E.EINVAL);
  const addr = futex2Addr(t, a.ptr(0), flags);
  const key = wakeKey(t, addr, 4, (flags & FUTEX2_PRIVATE) === 0);
  return key === null ? 0 : t.kernel.futex.wake(key, a.i32(2), mask, true);
}

/** futex_requeue: two struct futex_waitv (from, with the value to compare, and to), as FUTEX_CMP_REQUEUE. */
function futex2Requeue(t: Task, a: Args): number {
  if (a.u32(1) !== 0) fail(E.EINVAL);
  const [from, to] = readWaitv(t, a.ptr(0), 2);
  const nWake = a.i32(2);
  const nRequeue = a.i32(3);
  if (nWake < 0 || nRequeue < 0) fail(E.EINVAL);
  const k1 = wakeKey(t, futex2Addr(t, from!.addr, from!.flags), 4, (from!.flags & FUTEX2_PRIVATE) === 0);
  const k2 = wakeKey(t, futex2Addr(t, to!.addr, to!.flags), 4, true);
  if (t.mm.u32(from!.addr) !== from!.val) fail(E.EAGAIN);
  return k1 === null || k2 === null ? 0 : t.kernel.futex.requeue(k1, k2, nWake, nRequeue);
}

export const futexDefs: Record<string, Def> = {
  futex: supported(
    futexShape,
    futex,
    'every operation but FUTEX_FD (removed from Linux: ENOSYS); PI futexes hand the lock over as Linux does, with no priority boost (the scheduler has no priorities to lend)',
  ),
  futex_waitv: supported(['futexwaitv', 'uint', 'hex', 'ts', 'clock'], futexWaitv, '32-bit futexes, as Linux has; FUTEX2_NUMA on a machine of one node'),
  futex_wait: supported(['ptr', 'hex', 'hex', 'hex', 'ts', 'clock'], futex2Wait, '32-bit futexes, as Linux has; FUTEX2_NUMA on a machine of one node'),
  futex_wake: supported(['ptr', 'hex', 'int', 'hex'], futex2Wake, '32-bit futexes, as Linux has; FUTEX2_NUMA on a machine of one node'),
  futex_requeue: supported(['futexwaitv2', 'hex', 'int', 'int'], futex2Requeue, '32-bit futexes, as Linux has'),
};
