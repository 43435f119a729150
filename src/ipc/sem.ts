// System V semaphores (Linux's ipc/sem.c): sets of counters changed by
// atomic groups of operations. An operation group that cannot complete
// waits in its set's queue, in arrival order; whoever changes the set (an
// operation, SETVAL, SETALL, an exit's undo) completes the waiting groups
// that can now complete, on their behalf, and wakes their tasks, as Linux's
// update_queue does, so a waiter counts in GETNCNT/GETZCNT until it is done.
// SEM_UNDO adjustments belong to a process (its threads share them) and are
// applied when it exits.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import type { Cred } from '../ctx/cred.js';
import { WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from '../fs/context.js';
import { nowMs } from '../host/clock.js';
import { IPC64_PERM_SIZE, IpcIds, IpcPerm, nowSec, S_IRUGO, S_IRWXUGO, S_IWUGO, type IpcObject } from './ids.js';
import { GETALL, GETNCNT, GETPID, GETVAL, GETZCNT, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, SEMAEM, SEMMNS, SEMOPM, SEMUSZ, SEMVMX, SEM_INFO, SEM_STAT, SEM_STAT_ANY, SEM_UNDO, SETALL, SETVAL } from '../abi/ipc.js';
import type { IpcLimits } from './limits.js';


/** struct sembuf: unsigned short sem_num; short sem_op; short sem_flg */
export interface Sop {
  num: number;
  op: number;
  flg: number;
}

class Sem {
  val = 0;
  pid = 0;
}

/** A task's operation group waiting in its set's queue. */
interface SemWaiter {
  readonly sops: Sop[];
  readonly undo: number[] | null;
  readonly pid: number;
  /** the operation it waits on (GETNCNT, GETZCNT) */
  blocking: Sop;
  readonly alter: boolean;
  /** its task parks here; no waiter left means it no longer waits (a signal, its timeout, its end) */
  readonly queue: WaitQueue;
  readonly deadline: number;
  readonly set: SemSet;
  /** completed by another task: 0 or -errno */
  result: number | null;
}

export class SemSet implements IpcObject {
  readonly perm: IpcPerm;
  readonly sems: Sem[];
  otime = 0;
  ctime = nowSec();
  /** waiting operation groups, oldest first */
  pending: SemWaiter[] = [];
  /** the SEM_UNDO adjustments of every process over this set (SETVAL and SETALL clear them) */
  readonly undos = new Set<number[]>();
  constructor(key: number, mode: number, c: Cred, nsems: number) {
    this.perm = new IpcPerm(key, mode, c);
    this.sems = Array.from({ length: nsems }, () => new Sem());
  }
}

/** A process's SEM_UNDO adjustments, per set (shared with CLONE_SYSVSEM). */
export class SemUndoList {
  refs = 1;
  readonly bySet = new Map<SemSet, number[]>();
}

const waiting = (w: SemWaiter): boolean => w.result === null && w.queue.waiters.size > 0;

export class Semaphores {
  readonly ids: IpcIds<SemSet>;
  /** semaphores in all sets (used_sems) */
  private used = 0;
  /** the waiting group of each parked task, by tid (its retry finds it) */
  private readonly parked = new Map<number, SemWaiter>();

  constructor(private readonly limits: IpcLimits) {
    this.ids = new IpcIds(() => limits.semmni);
  }

  /** semget(2) */
  get(t: IoContext, key: number, nsems: number, flags: number): number {
    if (nsems < 0 || nsems > this.limits.semmsl) fail(E.EINVAL);
    return this.ids.getOrMake(
      key,
      flags,
      t.cred,
      () => {
        if (nsems === 0) fail(E.EINVAL);
        if (this.used + nsems > this.limits.semmns) fail(E.ENOSPC);
        if (this.ids.inUse >= this.limits.semmni) fail(E.ENOSPC);
        this.used += nsems;
        return new SemSet(key, flags & S_IRWXUGO, t.cred, nsems);
      },
      (s) => {
        if (nsems > s.sems.length) fail(E.EINVAL);
      },
    );
  }

  /**
   * semop(2) and semtimedop(2): `sops` as read from the caller, `deadline`
   * (nowMs()) Infinity without a timeout. Parks the caller while the group
   * cannot complete, EAGAIN at the deadline or with IPC_NOWAIT, EIDRM if the
   * set goes meanwhile; a signal ends the wait with EINTR, handler or not.
   */
  semop(t: IoContext, id: number, sops: Sop[], deadline: number, undoList: () => SemUndoList): number {
    let max = 0;
    let undos = false;
    let alter = false;
    for (const s of sops) {
      max = Math.max(max, s.num);
      if (s.flg & SEM_UNDO) undos = true;
      if (s.op !== 0) alter = true;
    }
    const set = this.ids.get(id);
    let undo: number[] | null = null;
    if (max >= set.sems.length) fail(E.EFBIG);
    set.perm.check(t.cred, alter ? S_IWUGO : S_IRUGO);
    if (undos) {
      const list = undoList();
      undo = list.bySet.get(set) ?? null;
      if (undo === null) {
        undo = new Array<number>(set.sems.length).fill(0);
        list.bySet.set(set, undo);
        set.undos.add(undo);
      }
    }
    const nw: SemWaiter = { sops, undo, pid: t.pid, blocking: sops[0], alter, queue: new WaitQueue('semop'), deadline, set, result: null };
    const r = this.perform(set, nw);
    if (r === 0) {
      if (alter) this.update(set);
      return 0;
    }
    if (r < 0) return fail(-r);
    if (nowMs() >= deadline) fail(E.EAGAIN);
    set.pending.push(nw);
    this.parked.set(t.tid, nw);
    return t.block([nw.queue], { deadline, restart: 'intr' });
  }

  /**
   * A parked semop retried: its result if another task completed it, EAGAIN
   * past its deadline, else another attempt; null when the task had no
   * group waiting.
   */
  retry(t: IoContext, id: number, undoList: () => SemUndoList): number | null {
    const w = this.parked.get(t.tid);
    if (w === undefined) return null;
    this.parked.delete(t.tid);
    this.dequeue(w);
    if (w.result !== null) return w.result < 0 ? fail(-w.result) : 0;
    if (nowMs() >= w.deadline) fail(E.EAGAIN);
    return this.semop(t, id, w.sops, w.deadline, undoList);
  }

  private dequeue(w: SemWaiter): void {
    const i = w.set.pending.indexOf(w);
    if (i >= 0) w.set.pending.splice(i, 1);
  }

  /**
   * perform_atomic_semop: every operation of the group in order, or none: 0
   * when done, 1 when it must wait (`w.blocking` says on what), -EAGAIN for
   * that with IPC_NOWAIT, -ERANGE past SEMVMX or the undo range.
   */
  private perform(set: SemSet, w: SemWaiter): number {
    const vals = set.sems.map((s) => s.val);
    const adj = w.undo === null ? null : [...w.undo];
    for (const sop of w.sops) {
      const cur = vals[sop.num];
      const r = cur + sop.op;
      if ((sop.op === 0 && cur !== 0) || r < 0) {
        w.blocking = sop;
        return sop.flg & IPC_NOWAIT ? -E.EAGAIN : 1;
      }
      if (r > SEMVMX) return -E.ERANGE;
      if (sop.flg & SEM_UNDO && adj !== null) {
        const u = adj[sop.num] - sop.op;
        if (u < -SEMAEM - 1 || u > SEMAEM) return -E.ERANGE;
        adj[sop.num] = u;
      }
      vals[sop.num] = r;
    }
    for (const sop of w.sops) {
      set.sems[sop.num].val = vals[sop.num];
      set.sems[sop.num].pid = w.pid;
    }
    if (adj !== null) for (let i = 0; i < adj.length; i++) w.undo![i] = adj[i];
    set.otime = nowSec();
    return 0;
  }

  /** update_queue: complete the waiting groups the set's values now allow, oldest first, and wake them. */
  private update(set: SemSet): void {
    for (let again = true; again; ) {
      again = false;
      for (const w of [...set.pending]) {
        if (!waiting(w)) {
          this.dequeue(w);
          continue;
        }
        const r = this.perform(set, w);
        if (r === 1) continue;
        w.result = r < 0 ? r : 0;
        this.dequeue(w);
        w.queue.wake();
        if (r === 0 && w.alter) {
          again = true;
          break;
        }
      }
    }
  }

  /** A process's last user of its undo list is gone: its adjustments are applied (exit_sem), clamped to 0..SEMVMX. */
  exit(list: SemUndoList, pid: number): void {
    if (--list.refs > 0) return;
    for (const [set, adj] of list.bySet) {
      set.undos.delete(adj);
      if (!set.perm.valid) continue;
      for (let i = 0; i < adj.length; i++) {
        if (adj[i] === 0) continue;
        const s = set.sems[i];
        s.val = Math.min(Math.max(s.val + adj[i], 0), SEMVMX);
        s.pid = pid;
      }
      set.otime = nowSec();
      this.update(set);
    }
    list.bySet.clear();
  }

  /** count_semcnt: the waiting groups blocked on semaphore `num` decreasing it (or, `zero`, waiting for 0). */
  private count(set: SemSet, num: number, zero: boolean): number {
    let n = 0;
    for (const w of set.pending) if (waiting(w) && w.blocking.num === num && (zero ? w.blocking.op === 0 : w.blocking.op < 0)) n++;
    return n;
  }

  /** semctl(2): `arg` is the union semun as a pointer, `val` as SETVAL's int. */
  ctl(t: IoContext, id: number, num: number, cmd: number, arg: number, val: number): number {
    if (id < 0) fail(E.EINVAL);
    const c = t.cred;
    switch (cmd) {
      case IPC_INFO:
      case SEM_INFO: {
        const l = this.limits;
        const b = Buffer.alloc(40);
        const info = cmd === SEM_INFO;
        // semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem
        const v = [SEMMNS, l.semmni, l.semmns, SEMMNS, l.semmsl, l.semopm, SEMOPM, info ? this.ids.inUse : SEMUSZ, SEMVMX, info ? this.used : SEMAEM];
        v.forEach((x, i) => b.writeInt32LE(x | 0, i * 4));
        t.mm.write(arg, b);
        return Math.max(this.ids.maxIdx(), 0);
      }
      case IPC_STAT:
      case SEM_STAT:
      case SEM_STAT_ANY: {
        const s = cmd === IPC_STAT ? this.ids.get(id) : this.ids.at(id);
        if (cmd !== SEM_STAT_ANY) s.perm.check(c, S_IRUGO);
        t.mm.write(arg, this.encode(s, t.arch.name === 'x86_64'));
        return cmd === IPC_STAT ? 0 : s.perm.id;
      }
      case GETALL:
      case GETVAL:
      case GETPID:
      case GETNCNT:
      case GETZCNT:
      case SETALL: {
        const s = this.ids.get(id);
        s.perm.check(c, cmd === SETALL ? S_IWUGO : S_IRUGO);
        const n = s.sems.length;
        if (cmd === GETALL) {
          const b = Buffer.alloc(n * 2);
          s.sems.forEach((x, i) => b.writeUInt16LE(x.val, i * 2));
          t.mm.write(arg, b);
          return 0;
        }
        if (cmd === SETALL) {
          const b = t.mm.read(arg, n * 2);
          const vals = Array.from({ length: n }, (_, i) => b.readUInt16LE(i * 2));
          if (vals.some((v) => v > SEMVMX)) fail(E.ERANGE);
          vals.forEach((v, i) => {
            s.sems[i].val = v;
            s.sems[i].pid = t.pid;
          });
          for (const u of s.undos) u.fill(0);
          s.ctime = nowSec();
          this.update(s);
          return 0;
        }
        if (num < 0 || num >= n) fail(E.EINVAL);
        if (cmd === GETVAL) return s.sems[num].val;
        if (cmd === GETPID) return s.sems[num].pid;
        return this.count(s, num, cmd === GETZCNT);
      }
      case SETVAL: {
        if (val > SEMVMX || val < 0) fail(E.ERANGE);
        const s = this.ids.get(id);
        if (num < 0 || num >= s.sems.length) fail(E.EINVAL);
        s.perm.check(c, S_IWUGO);
        for (const u of s.undos) u[num] = 0;
        s.sems[num].val = val;
        s.sems[num].pid = t.pid;
        s.ctime = nowSec();
        this.update(s);
        return 0;
      }
      case IPC_SET:
      case IPC_RMID: {
        const b = cmd === IPC_SET ? t.mm.read(arg, IPC64_PERM_SIZE) : null;
        const s = this.ids.get(id);
        s.perm.checkOwner(c);
        if (b !== null) {
          s.perm.update(b);
          s.ctime = nowSec();
          return 0;
        }
        this.ids.remove(s);
        this.used -= s.sems.length;
        for (const w of s.pending) {
          w.result = -E.EIDRM;
          w.queue.wake();
        }
        s.pending = [];
        s.undos.clear();
        return 0;
      }
      default:
        return fail(E.EINVAL);
    }
  }

  /** struct semid64_ds: x86_64's has a word after each time (104 bytes), the generic one not (88). */
  private encode(s: SemSet, x86: boolean): Buffer {
    const b = Buffer.alloc(x86 ? 104 : 88);
    s.perm.encode(b, 0);
    b.writeBigInt64LE(BigInt(s.otime), 48);
    b.writeBigInt64LE(BigInt(s.ctime), x86 ? 64 : 56);
    b.writeBigUInt64LE(BigInt(s.sems.length), x86 ? 80 : 64);
    return b;
  }

  /** /proc/sysvipc/sem */
  procText(): string {
    let out = '       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n';
    for (const s of [...this.ids.values()].sort((a, b) => (a.perm.id % 32768) - (b.perm.id % 32768))) {
      const p = s.perm;
      out +=
        `${String(p.key | 0).padStart(10)} ${String(p.id).padStart(10)}  ${p.mode.toString(8).padStart(4)} ${String(s.sems.length).padStart(10)} ` +
        `${String(p.uid).padStart(5)} ${String(p.gid).padStart(5)} ${String(p.cuid).padStart(5)} ${String(p.cgid).padStart(5)} ` +
        `${String(s.otime).padStart(10)} ${String(s.ctime).padStart(10)}\n`;
    }
    return out;
  }
}
