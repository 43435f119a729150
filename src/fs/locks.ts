// Advisory file locks, one table per Machine, by file identity (a tmpfs
// inode, a host dev:ino): flock(2) locks, owned by an open-file description;
// POSIX record locks, owned by a process's fd table (Linux's fl_owner is its
// files_struct: a fork does not inherit them, exec keeps them, any close of
// the file by the owner drops them all); OFD record locks, owned by an
// open-file description. flock and record locks do not see each other; POSIX
// and OFD locks conflict. A lock that must wait parks its task on a queue of
// its own, which any change to the file's locks wakes (the retry checks
// again); POSIX waiters are what EDEADLK detection follows. On host files
// the host's own locks are taken as well (hostlocks.ts), so host processes
// and the guest see each other's.
import type { IoContext } from './context.js';
import { WaitQueue } from '../ctx/waitq.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { F_RDLCK, F_UNLCK, F_WRLCK } from '../abi/fcntl.js';
import { nowMs } from '../host/clock.js';
import type { FileDescription } from './file.js';
import { statFields } from './stat.js';
import { HostLocks } from './hostlocks.js';
import { LeaseTable } from './leases.js';

/** loff_t's largest value: a lock's end when it runs to EOF (l_len 0) */
export const OFFSET_MAX = 0x7fffffffffffffffn;
/** how often a lock that waits for a host process's lock asks the host again (ms) */
const HOST_POLL_MS = 20;
/** Linux's MAX_DEADLK_ITERATIONS: how far EDEADLK detection follows waiters */
const MAX_DEADLK_ITERATIONS = 10;

export type LockClass = 'flock' | 'posix' | 'ofd';

/** A byte range and lock type (F_RDLCK, F_WRLCK, or F_UNLCK to remove); end is inclusive. */
export interface LockRange {
  type: number;
  start: bigint;
  end: bigint;
}

/** Who may hold locks: a process's fd table (POSIX) or an open-file description (flock, OFD). */
export interface LockHolder {
  /** the table it holds (or may hold) locks in; null when it holds none */
  locks: LockTable | null;
}

interface Lock extends LockRange {
  cls: LockClass;
  owner: LockHolder;
  /** the process that took it (tgid), as F_GETLK and /proc/locks show it */
  pid: number;
  /** the description it was taken through (fdinfo's lock lines) */
  file: FileDescription;
  /** creation order: /proc/locks lists the newest first */
  seq: number;
}

/** The locks of one file. */
export class FileLocks {
  readonly locks: Lock[] = [];
  constructor(
    readonly key: string,
    readonly dev: bigint,
    readonly ino: bigint,
  ) {}
}

/** A task parked on a lock: what it asked for and (for guest conflicts) the lock it waits behind. */
interface Wait {
  owner: LockHolder;
  cls: LockClass;
  req: LockRange;
  pid: number;
  blocker: Lock | null;
  file: FileLocks;
  queue: WaitQueue;
}

/** A conflicting lock, as F_GETLK reports it. */
export interface Conflict extends LockRange {
  pid: number;
}

const overlaps = (a: LockRange, b: LockRange): boolean => a.start <= b.end && b.start <= a.end;
const conflicts = (a: LockRange, b: LockRange): boolean => overlaps(a, b) && (a.type === F_WRLCK || b.type === F_WRLCK);

export class LockTable {
  private readonly files = new Map<string, FileLocks>();
  private readonly waits = new Map<IoContext, Wait>();
  private seq = 0;
  readonly host = new HostLocks();
  /** the leases on the Machine's files (F_SETLEASE), by the same identities */
  readonly leases = new LeaseTable();

  /** f's file's identity in the tables ("dev:ino", from fstat, kept on the description); null if it has none. */
  keyOf(t: IoContext | null, f: FileDescription): string | null {
    if (f.lockKey === null) {
      const id = f.identity() ?? (t !== null ? statFields(f.statBytes(t)) : null);
      if (id === null) return null;
      f.lockKey = `${id.dev}:${id.ino}`;
    }
    return f.lockKey;
  }

  /** The locks of f's file; with create, made for it (the identity from fstat, kept on the description). */
  private fileOf(t: IoContext | null, f: FileDescription, create: boolean): FileLocks | null {
    let key = f.lockKey;
    if (key === null) {
      const id = f.identity() ?? (t !== null ? statFields(f.statBytes(t)) : null);
      if (id === null) return null;
      key = f.lockKey = `${id.dev}:${id.ino}`;
    }
    let fl = this.files.get(key);
    if (fl === undefined && create) {
      const [dev, ino] = key.split(':');
      fl = new FileLocks(key, BigInt(dev), BigInt(ino));
      this.files.set(key, fl);
    }
    return fl ?? null;
  }

  /** A file without locks (or host lock fds) is forgotten. */
  private tidy(fl: FileLocks): void {
    if (fl.locks.length === 0 && !this.host.holds(fl)) this.files.delete(fl.key);
  }

  /** The file's locks changed: every task waiting on it tries again. */
  private changed(fl: FileLocks): void {
    for (const w of this.waits.values()) if (w.file === fl) w.queue.wake();
  }

  /** The caller's wait (if it was parked on a lock) is over: it is retrying, or asks anew. */
  private endWait(t: IoContext): void {
    this.waits.delete(t);
  }

  /** Live waits: a record whose task is no longer parked (interrupted, woken, gone) is dropped. */
  private live(): Wait[] {
    const out: Wait[] = [];
    for (const [t, w] of this.waits) {
      if (w.queue.waiters.size > 0) out.push(w);
      else this.waits.delete(t);
    }
    return out;
  }

  /**
   * A conflict: EAGAIN without waiting; else EDEADLK if the owner of the
   * blocking lock waits (through others) for the caller, as Linux's
   * posix_locks_deadlock (POSIX locks only); else the caller parks, on its
   * own queue, or polling the host when a host process holds the lock.
   */
  private conflict(t: IoContext, w: Omit<Wait, 'queue'>, wait: boolean): never {
    if (!wait) fail(E.EAGAIN);
    if (w.cls === 'posix' && w.blocker !== null && this.deadlock(w.owner, w.blocker)) fail(E.EDEADLK);
    const queue = new WaitQueue('file-lock');
    this.waits.set(t, { ...w, queue });
    return t.block([queue], w.blocker === null ? { deadline: nowMs() + HOST_POLL_MS } : {});
  }

  private deadlock(caller: LockHolder, blocker: Lock): boolean {
    const waits = this.live();
    let b = blocker;
    for (let i = 0; i <= MAX_DEADLK_ITERATIONS; i++) {
      const w = waits.find((x) => x.cls === 'posix' && x.owner === b.owner && x.blocker !== null);
      if (w === undefined) return false;
      b = w.blocker!;
      if (b.owner === caller) return true;
    }
    return false;
  }

  // ---- flock(2) ------------------------------------------------------------------------

  /**
   * flock(2) on description f: type F_RDLCK (LOCK_SH), F_WRLCK (LOCK_EX) or
   * F_UNLCK. A conversion drops the old lock first, as Linux's
   * flock_lock_inode does (it stays dropped if the new one must wait or fails).
   */
  flock(t: IoContext, f: FileDescription, type: number, wait: boolean): void {
    this.endWait(t);
    const fl = this.fileOf(t, f, true)!;
    const i = fl.locks.findIndex((l) => l.cls === 'flock' && l.owner === f);
    if (i >= 0) {
      if (fl.locks[i].type === type) return;
      fl.locks.splice(i, 1);
      this.host.flock(f, F_UNLCK);
      this.changed(fl);
    }
    if (type === F_UNLCK) return this.tidy(fl);
    const req = { type, start: 0n, end: OFFSET_MAX };
    const c = fl.locks.find((l) => l.cls === 'flock' && l.owner !== f && conflicts(l, req));
    if (c !== undefined) this.conflict(t, { owner: f, cls: 'flock', req, pid: t.pid, blocker: c, file: fl }, wait);
    if (!this.host.flock(f, type)) this.conflict(t, { owner: f, cls: 'flock', req, pid: t.pid, blocker: null, file: fl }, wait);
    fl.locks.push({ ...req, cls: 'flock', owner: f, pid: t.pid, file: f, seq: ++this.seq });
    f.locks = this;
  }

  // ---- record locks ------------------------------------------------------------------

  /** The first lock of another owner that conflicts with req (flock locks aside). */
  private conflicting(fl: FileLocks, owner: LockHolder, req: LockRange): Lock | undefined {
    return fl.locks.find((l) => l.cls !== 'flock' && l.owner !== owner && conflicts(l, req));
  }

  /**
   * F_SETLK/F_SETLKW (cls 'posix', owner the fd table) and F_OFD_SETLK/W
   * (cls 'ofd', owner the description): set req's type over its range in
   * the owner's locks, splitting and merging them as Linux's posix_lock_inode.
   */
  setRecord(t: IoContext, f: FileDescription, cls: 'posix' | 'ofd', owner: LockHolder, req: LockRange, wait: boolean): void {
    this.endWait(t);
    const fl = this.fileOf(t, f, true)!;
    const pid = cls === 'ofd' ? -1 : t.pid;
    if (req.type !== F_UNLCK) {
      const c = this.conflicting(fl, owner, req);
      if (c !== undefined) this.conflict(t, { owner, cls, req, pid, blocker: c, file: fl }, wait);
    }
    const mine = (l: Lock): boolean => l.cls !== 'flock' && l.owner === owner;
    if (!this.host.record(fl, f, cls, owner, req, () => fl.locks.filter(mine))) this.conflict(t, { owner, cls, req, pid, blocker: null, file: fl }, wait);
    const keep: Lock[] = [];
    const n: Lock | null = req.type === F_UNLCK ? null : { ...req, cls, owner, pid: t.pid, file: f, seq: ++this.seq };
    for (const l of fl.locks) {
      if (!mine(l)) keep.push(l);
      else if (n !== null && l.type === n.type && l.start <= n.end + 1n && n.start <= l.end + 1n) {
        // the same type, overlapping or adjacent: one lock
        if (l.start < n.start) n.start = l.start;
        if (l.end > n.end) n.end = l.end;
      } else if (!overlaps(l, req)) keep.push(l);
      else {
        // what lies outside the request stays
        if (l.start < req.start) keep.push({ ...l, end: req.start - 1n });
        if (l.end > req.end) keep.push({ ...l, start: req.end + 1n, seq: ++this.seq });
      }
    }
    if (n !== null) keep.push(n);
    fl.locks.splice(0, fl.locks.length, ...keep);
    if (n !== null) owner.locks = this;
    this.host.settled(fl, owner, fl.locks.some(mine));
    this.changed(fl);
    this.tidy(fl);
  }

  /** F_GETLK/F_OFD_GETLK: the first lock that would block req, or null. */
  getRecord(t: IoContext, f: FileDescription, cls: 'posix' | 'ofd', owner: LockHolder, req: LockRange): Conflict | null {
    const fl = this.fileOf(t, f, false);
    if (req.type === F_UNLCK) {
      // an unlock's test finds the owner's own lock over the range (Linux's posix_test_locks_conflict)
      const own = fl?.locks.find((l) => l.cls !== 'flock' && l.owner === owner && overlaps(l, req));
      return own === undefined ? null : { type: own.type, start: own.start, end: own.end, pid: own.cls === 'ofd' ? -1 : own.pid };
    }
    const c = fl !== null ? this.conflicting(fl, owner, req) : undefined;
    if (c !== undefined) return { type: c.type, start: c.start, end: c.end, pid: c.cls === 'ofd' ? -1 : c.pid };
    return this.host.test(fl, f, cls, owner, req);
  }

  // ---- releases --------------------------------------------------------------------

  /** The owner (an fd table) closed an fd of f's file: its POSIX locks on the file go (Linux's locks_remove_posix). */
  closed(owner: LockHolder, f: FileDescription): void {
    const fl = this.fileOf(null, f, false);
    if (fl !== null) this.drop(fl, (l) => l.cls === 'posix' && l.owner === owner, owner);
    if (![...this.files.values()].some((x) => x.locks.some((l) => l.owner === owner))) owner.locks = null;
  }

  /** The description's last reference went: its flock and OFD locks go (Linux's locks_remove_file). */
  released(f: FileDescription): void {
    if (f.lockKey !== null && this.leases.count > 0) this.leases.released(f.lockKey, f);
    const fl = this.fileOf(null, f, false);
    if (fl !== null) this.drop(fl, (l) => l.cls !== 'posix' && l.owner === f, f);
    f.locks = null;
  }

  private drop(fl: FileLocks, gone: (l: Lock) => boolean, owner: LockHolder): void {
    const before = fl.locks.length;
    const keep = fl.locks.filter((l) => !gone(l));
    if (keep.length === before) return;
    fl.locks.splice(0, before, ...keep);
    this.host.settled(fl, owner, false);
    this.changed(fl);
    this.tidy(fl);
  }

  // ---- what /proc shows ------------------------------------------------------------

  /** One lock as Linux's lock_get_status prints it (after the "N: " and any "-> "). */
  private static line(cls: LockClass, r: LockRange, pid: number, fl: FileLocks): string {
    const kind = cls === 'posix' ? 'POSIX  ADVISORY  ' : cls === 'ofd' ? 'OFDLCK ADVISORY  ' : 'FLOCK  ADVISORY  ';
    const type = r.type === F_WRLCK ? 'WRITE' : r.type === F_RDLCK ? 'READ' : 'UNLCK';
    // st_dev as glibc's gnu_dev_major/minor decode it
    const d = fl.dev;
    const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
    const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
    const hex2 = (v: bigint): string => v.toString(16).padStart(2, '0');
    const range = cls === 'flock' ? '0 EOF' : r.end === OFFSET_MAX ? `${r.start} EOF` : `${r.start} ${r.end}`;
    return `${kind}${type} ${cls === 'ofd' ? -1 : pid} ${hex2(major)}:${hex2(minor)}:${fl.ino} ${range}\n`;
  }

  /** /proc/locks: every lock, newest first, each followed by the requests waiting behind it. */
  procLocks(): string {
    const all: Array<[FileLocks, Lock]> = [];
    for (const fl of this.files.values()) for (const l of fl.locks) all.push([fl, l]);
    all.sort((a, b) => b[1].seq - a[1].seq);
    const waits = this.live();
    let out = '';
    all.forEach(([fl, l], i) => {
      out += `${i + 1}: ${LockTable.line(l.cls, l, l.pid, fl)}`;
      for (const w of waits) if (w.blocker === l) out += `${i + 1}: -> ${LockTable.line(w.cls, w.req, w.pid, fl)}`;
    });
    return out;
  }

  /** fdinfo's "lock:" lines: the locks taken through f that the fd table `owner` or f itself holds. */
  fdinfo(f: FileDescription, owner: LockHolder): string {
    const fl = f.lockKey !== null ? this.files.get(f.lockKey) : undefined;
    if (fl === undefined) return '';
    const order: LockClass[] = ['flock', 'posix', 'ofd'];
    const mine = fl.locks.filter((l) => l.file === f && (l.owner === owner || l.owner === f));
    mine.sort((a, b) => order.indexOf(a.cls) - order.indexOf(b.cls) || (a.cls === 'flock' ? 0 : a.start < b.start ? -1 : 1));
    return mine.map((l, i) => `lock:\t${i + 1}: ${LockTable.line(l.cls, l, l.pid, fl)}`).join('');
  }
}
