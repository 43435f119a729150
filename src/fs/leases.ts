// File leases (fcntl F_SETLEASE, F_GETLEASE) between the guest's processes,
// as Linux's fs/locks.c keeps them: a lease belongs to an open-file
// description of a regular file, by file identity. An open or truncate that
// conflicts (a read lease with a write, a write lease with anything) breaks
// it (__break_lease): the holder's owner gets F_SETSIG's signal or SIGIO
// with POLL_MSG and the lease's fd, F_GETLEASE reports what it must become,
// and the breaker waits (EWOULDBLOCK with O_NONBLOCK) until the holder
// downgrades or removes it, or lease-break-time passes and the kernel does.
// The host's own leases are not taken: a host process's open breaks no lease
// of the guest's, and the guest's leases do not see host processes' opens.
import { readFileSync } from 'node:fs';
import { WaitQueue } from '../ctx/waitq.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { F_RDLCK, F_UNLCK, F_WRLCK } from '../abi/fcntl.js';
import { nowMs } from '../host/clock.js';
import type { IoContext } from './context.js';
import type { FileDescription } from './file.js';
import { POLL_MSG, type SigioSender } from './fasync.js';

interface Lease {
  readonly file: FileDescription;
  type: number;
  /** a conflicting open is waiting for F_UNLCK (FL_UNLOCK_PENDING) or F_RDLCK (FL_DOWNGRADE_PENDING) */
  pending: 'none' | 'unlock' | 'downgrade';
  /** when the kernel does it itself (ms, nowMs()) */
  deadline: number;
  /** the fd of the F_SETLEASE call (si_fd) and who sends its signal */
  fd: number;
  readonly sender: SigioSender;
}

/** How many descriptions have the file open, as Linux's i_readcount (read-only) and i_writecount count them. */
export interface OpenCounts {
  readers: number;
  writers: number;
}

let breakSecs: number | undefined;
/** /proc/sys/fs/lease-break-time, the host's (the guest's procfs shows it) */
function leaseBreakMs(): number {
  if (breakSecs === undefined) {
    try {
      breakSecs = Number(readFileSync('/proc/sys/fs/lease-break-time', 'latin1').trim()) || 0;
    } catch {
      breakSecs = 45;
    }
  }
  return breakSecs * 1000;
}

export class LeaseTable {
  private readonly byKey = new Map<string, Lease[]>();
  /** breakers wait here; woken by every change of a lease */
  readonly queue = new WaitQueue('lease break');
  /** leases held: opens look for none while there are none */
  count = 0;
  /**
   * The writers waiting for a file's leases to break: Linux's breaker has
   * its file open already, so they count as opens for writing (a holder
   * cannot downgrade to a read lease while one waits)
   */
  private readonly breakers = new Map<string, Set<IoContext>>();

  private list(key: string): Lease[] {
    let l = this.byKey.get(key);
    if (l === undefined) this.byKey.set(key, (l = []));
    return l;
  }

  private remove(key: string, l: Lease): void {
    const list = this.byKey.get(key);
    if (list === undefined) return;
    const i = list.indexOf(l);
    if (i < 0) return;
    list.splice(i, 1);
    this.count--;
    if (list.length === 0) {
      // the file's last lease: its waiting writers open it now, and count as its opens from then on
      this.byKey.delete(key);
      this.breakers.delete(key);
    }
    this.queue.wake();
  }

  /** lease_modify: a new type; F_UNLCK removes the lease, and its description's owner and signal (f_delown) */
  private modify(key: string, l: Lease, type: number): void {
    l.type = type;
    if (type === F_UNLCK) {
      l.pending = 'none';
      if (l.file.owner !== null) {
        l.file.owner.pid = 0;
        l.file.owner.signum = 0;
      }
      this.remove(key, l);
      return;
    }
    // lease_clear_pending: a downgrade ends a pending downgrade (an unlock stays pending)
    if (l.pending === 'downgrade') l.pending = 'none';
    this.queue.wake();
  }

  /** time_out_leases: breaks whose time has passed are done by the kernel */
  private timeOut(key: string): void {
    const now = nowMs();
    for (const l of [...(this.byKey.get(key) ?? [])]) {
      if (l.pending === 'none' || l.deadline > now) continue;
      if (l.pending === 'downgrade') {
        this.modify(key, l, F_RDLCK);
      } else this.modify(key, l, F_UNLCK);
    }
  }

  /** fcntl_getlease: the lease of f, or what a pending break will make it (target_leasetype) */
  get(key: string, f: FileDescription): number {
    this.timeOut(key);
    const l = this.byKey.get(key)?.find((x) => x.file === f);
    if (l === undefined) return F_UNLCK;
    return l.pending === 'unlock' ? F_UNLCK : l.pending === 'downgrade' ? F_RDLCK : l.type;
  }

  /**
   * generic_setlease after vfs_setlease's checks: F_UNLCK removes f's lease
   * (EAGAIN without one); F_RDLCK and F_WRLCK take or change it unless
   * another open conflicts (check_conflicting_open: a read lease on a file
   * open for writing, a write lease on a file open by any other
   * description) or another description holds one (for a write lease), or
   * is being broken for a writer (EAGAIN).
   */
  set(key: string, f: FileDescription, fd: number, type: number, opens: OpenCounts, sender: SigioSender): void {
    this.timeOut(key);
    const list = this.byKey.get(key) ?? [];
    const mine = list.find((x) => x.file === f);
    if (type === F_UNLCK) {
      if (mine === undefined) fail(E.EAGAIN);
      this.modify(key, mine, F_UNLCK);
      return;
    }
    if (type !== F_RDLCK && type !== F_WRLCK) fail(E.EINVAL);
    opens = { readers: opens.readers, writers: opens.writers + (this.breakers.get(key)?.size ?? 0) };
    if (type === F_RDLCK && opens.writers > 0) fail(E.EAGAIN);
    if (type === F_WRLCK) {
      const selfW = f.writable ? 1 : 0;
      const selfR = !f.writable && f.readable ? 1 : 0;
      if (opens.writers !== selfW || opens.readers !== selfR) fail(E.EAGAIN);
    }
    for (const l of list) {
      if (l === mine) continue;
      if (type === F_WRLCK || l.pending === 'unlock') fail(E.EAGAIN);
    }
    if (mine !== undefined) {
      mine.fd = fd;
      this.modify(key, mine, type);
      return;
    }
    this.list(key).push({ file: f, type, pending: 'none', deadline: 0, fd, sender });
    this.count++;
  }

  /**
   * __break_lease for an open (or truncate: a writer) of the file: each
   * conflicting lease not yet being broken is told (its owner's signal),
   * and the caller waits for the first until the holder gives way or its
   * time passes; EWOULDBLOCK without waiting for a non-blocking open.
   */
  breakFor(t: IoContext, key: string, write: boolean, nonblock: boolean): void {
    this.timeOut(key);
    const conflicting = (): Lease[] => (this.byKey.get(key) ?? []).filter((l) => write || l.type === F_WRLCK);
    const found = conflicting();
    const waiting = this.breakers.get(key);
    if (found.length === 0) {
      if (waiting?.delete(t) && waiting.size === 0) this.breakers.delete(key);
      return;
    }
    const deadline = nowMs() + leaseBreakMs();
    for (const l of found) {
      if (write) {
        if (l.pending === 'unlock') continue;
        l.pending = 'unlock';
      } else {
        if (l.pending !== 'none') continue;
        l.pending = 'downgrade';
      }
      l.deadline = deadline;
      // lease_break_callback: kill_fasync(POLL_MSG) on the lease's own fasync entry
      if (l.file.owner !== null) l.sender.sigio(l.file.owner, l.fd, POLL_MSG);
    }
    if (nonblock) fail(E.EAGAIN); // EWOULDBLOCK
    const first = conflicting()[0];
    if (write) {
      if (waiting !== undefined) waiting.add(t);
      else this.breakers.set(key, new Set([t]));
    }
    t.block([this.queue], { deadline: first.deadline });
  }

  /** The description's last reference went: its lease goes (locks_remove_lease). */
  released(key: string, f: FileDescription): void {
    const l = this.byKey.get(key)?.find((x) => x.file === f);
    if (l !== undefined) this.remove(key, l);
  }
}
