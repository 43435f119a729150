// epoll: an interest list of (file, fd) pairs. Each item hooks the wait
// queues its file wakes when its readiness may change (Linux's
// ep_poll_callback): a wake puts the item on the epoll's ready list and wakes
// the epoll's waiters. Level-triggered items are reported while their file
// polls ready; an edge-triggered (EPOLLET) item only once per wake-up after
// it was last reported; EPOLLONESHOT disarms an item after one report until
// EPOLL_CTL_MOD; EPOLLEXCLUSIVE items wake one epoll of several.
import { WaitQueue, type Waiter } from '../ctx/waitq.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { hostStatBytes } from './stat.js';
import { EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLWAKEUP, POLLERR, POLLHUP, POLLIN, POLLRDNORM } from '../abi/poll.js';
import { FileDescription } from './file.js';
import { type IoContext } from './context.js';
import { nowMs } from '../host/clock.js';
import { PROT_WRITE } from '../abi/mman.js';
import { readFileSync } from 'node:fs';
import { hostSock } from '../host/sock.js';
import { host, Scratch } from '../host/libc.js';
import { O_CLOEXEC } from '../abi/fcntl.js';

const ALWAYS = POLLERR | POLLHUP; // reported whether asked for or not
/** the flags that are not events (Linux's EP_PRIVATE_BITS): a one-shot item keeps only these once reported */
const EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/** what an EPOLLEXCLUSIVE item may also ask for (EPOLLEXCLUSIVE_OK_BITS) */
const EXCLUSIVE_OK = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/** Linux's EPOLL_MAX_NESTS: the longest chain of epolls inside epolls */
const EPOLL_MAX_NESTS = 4;
const CAP_BLOCK_SUSPEND = 1n << 36n;

let sleeps: boolean | undefined;
/**
 * Does the host's kernel have system sleep (CONFIG_PM_SLEEP: /sys/power/state
 * names a state)? A kernel without it drops EPOLLWAKEUP for everyone; the
 * guest sees the host's kernel.
 */
function hostSleeps(): boolean {
  if (sleeps === undefined) {
    try {
      sleeps = readFileSync('/sys/power/state', 'utf8').trim() !== '';
    } catch {
      sleeps = false;
    }
  }
  return sleeps;
}

/** room for one host struct epoll_event */
let hostEvent: Scratch | null = null;
const hostEv = (): Scratch => (hostEvent ??= new Scratch(16));

/** One item of an interest list: a waiter on its file's queues. */
class Interest implements Waiter {
  /** the file queues this item is hooked on */
  private hooked: WaitQueue[] = [];
  /** what the file polled last time it was looked at */
  level = 0;
  /** hooked on a queue woken after the fact (a host fd's): its readiness is also polled */
  late = false;
  /**
   * An edge-triggered item of a host fd: a host epoll of its own holding the
   * host fd with EPOLLET, which has an event exactly when the host's file
   * woke since last asked (-1 for none)
   */
  hostEp = -1;
  constructor(
    private readonly ep: EpollFile,
    readonly fd: number,
    readonly file: FileDescription,
    public events: number,
    public data: bigint,
  ) {}

  get exclusive(): boolean {
    return (this.events & EPOLLEXCLUSIVE) !== 0;
  }
  /** a one-shot item that was reported (no events left) */
  get disabled(): boolean {
    return (this.events & ~EP_PRIVATE_BITS) === 0;
  }
  get edge(): boolean {
    return (this.events & EPOLLET) !== 0;
  }
  /** what the file is polled for */
  get want(): number {
    return (this.events & 0xffff) | ALWAYS;
  }

  /** The file signalled a change: onto the ready list (ep_poll_callback). True if an epoll_wait waiter was there to wake. */
  wake(): boolean {
    if (this.disabled) return false;
    // a host edge is taken from the host's epoll when the ready list is read: the wake only rouses the waiters
    return this.ep.itemWoke(this, this.hostEp < 0);
  }

  /** Did the host's file wake since last asked (an edge taken from the host's epoll)? */
  hostEdge(): boolean {
    if (this.hostEp < 0) return false;
    return hostSock.epollWait(this.hostEp, hostEv().addr, 1, 0) > 0;
  }

  /** The host epoll of an edge-triggered host item, with the host fd in it for the events asked (ADD, or MOD re-checking, as ep_modify does). */
  private hostWatch(hfd: number): void {
    const ev = hostEv();
    ev.dv.setUint32(0, ((this.events & (EPOLLIN | EPOLLOUT | 0x2002 /* EPOLLPRI|EPOLLRDHUP */)) | EPOLLET) >>> 0, true);
    ev.dv.setUint32(4, 0, true);
    ev.dv.setUint32(8, 0, true);
    if (this.hostEp < 0) {
      this.hostEp = hostSock.epollCreate1(O_CLOEXEC);
      if (this.hostEp < 0) return;
      if (hostSock.epollCtl(this.hostEp, EPOLL_CTL_ADD, hfd, ev.addr) < 0) this.closeHost();
    } else if (hostSock.epollCtl(this.hostEp, EPOLL_CTL_MOD, hfd, ev.addr) < 0) this.closeHost();
  }
  private closeHost(): void {
    if (this.hostEp >= 0) host.close(this.hostEp);
    this.hostEp = -1;
  }

  /** ADD or MOD: (re)arm, a host edge-triggered item in the host's epoll. */
  reset(t: IoContext): void {
    this.closeHost();
    const hfd = this.edge && !this.disabled ? this.file.hostEdgeFd() : null;
    if (hfd !== null) this.hostWatch(hfd);
    this.arm(t);
  }

  /** Hook the queues the file wakes now (a host fd's queue is re-armed on every wait). */
  arm(t: IoContext): void {
    let qs = this.disabled ? [] : this.file.pollQueues(t, this.events & 0xffff);
    // a host edge item waits for its host epoll, not for the file's levels
    if (this.hostEp >= 0 && !this.disabled) qs = [...qs.filter((q) => !q.late), t.hostPollQueue(this.hostEp, EPOLLIN)];
    for (const q of this.hooked) if (!qs.includes(q)) q.remove(this);
    for (const q of qs) q.add(this);
    this.hooked = qs;
    this.late = this.hostEp < 0 && qs.some((q) => q.late);
  }
  disarm(): void {
    for (const q of this.hooked) q.remove(this);
    this.hooked = [];
    this.closeHost();
  }
}

export class EpollFile extends FileDescription {
  override readonly anonName = '[eventpoll]';
  private readonly interests = new Map<FileDescription, Map<number, Interest>>();
  /** the edge-triggered items woken since they were last reported, in wake-up order */
  private readonly rdl = new Set<Interest>();
  /** tasks in epoll_wait on this epoll */
  private readonly wq = new WaitQueue('epoll_wait');
  /** waiters on the epoll fd itself (poll, select, an outer epoll) */
  private readonly pollq = new WaitQueue('epoll poll');
  /** the epolls this one is an item of */
  private readonly parents = new Set<EpollFile>();
  constructor(
    flags: number,
    /** its inode number (the Vfs's anonIno) */
    private readonly ino: number,
  ) {
    super(flags);
  }
  private readonly created = Date.now();
  /** the interest list as /proc/<pid>/fdinfo shows it: each (fd, file) with its events and data */
  interestList(): Array<{ fd: number; file: FileDescription; events: number; data: bigint }> {
    return [...this.interests.values()].flatMap((byFd) => [...byFd.values()]);
  }

  override read(): number {
    return fail(E.EINVAL);
  }
  override write(): number {
    return fail(E.EINVAL);
  }
  override statBytes(t: IoContext): Uint8Array {
    const c = t.cred;
    return hostStatBytes({ dev: 0xd, ino: this.ino, mode: 0o600, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: this.created, mtimeMs: this.created, ctimeMs: this.created });
  }

  /** An item's file woke: queue it and wake this epoll's waiters; true if a task in epoll_wait was there. */
  itemWoke(i: Interest, queue = true): boolean {
    if (queue) this.rdl.add(i);
    const had = this.wq.waiters.size > 0;
    this.wq.wake();
    this.pollq.wake();
    return had;
  }

  /** epoll_ctl on (fd, file); `t` for the caller's capabilities and the file's queues. */
  ctl(t: IoContext, op: number, fd: number, file: FileDescription, events: number, data: bigint): void {
    if (op === EPOLL_CTL_ADD || op === EPOLL_CTL_MOD) {
      // EPOLLWAKEUP needs CAP_BLOCK_SUSPEND (and system sleep); without it Linux drops the flag silently
      if (events & EPOLLWAKEUP && (!hostSleeps() || !(t.cred.caps.eff & CAP_BLOCK_SUSPEND))) events &= ~EPOLLWAKEUP;
    }
    if (file === this) fail(E.EINVAL);
    if ((op === EPOLL_CTL_ADD || op === EPOLL_CTL_MOD) && events & EPOLLEXCLUSIVE) {
      if (op === EPOLL_CTL_MOD) fail(E.EINVAL);
      if (file instanceof EpollFile || events & ~EXCLUSIVE_OK) fail(E.EINVAL);
    }
    if (op === EPOLL_CTL_ADD && file instanceof EpollFile && this.loops(file)) fail(E.ELOOP);
    let byFd = this.interests.get(file);
    const cur = byFd?.get(fd);
    switch (op) {
      case EPOLL_CTL_ADD: {
        if (cur) fail(E.EEXIST);
        if (byFd === undefined) this.interests.set(file, (byFd = new Map()));
        const i = new Interest(this, fd, file, events | EPOLLERR | EPOLLHUP, data);
        byFd.set(fd, i);
        if (file instanceof EpollFile) file.parents.add(this);
        this.armAndCheck(t, i);
        return;
      }
      case EPOLL_CTL_DEL:
        if (!cur) fail(E.ENOENT);
        this.drop(cur);
        return;
      case EPOLL_CTL_MOD:
        if (!cur) fail(E.ENOENT);
        if (cur.events & EPOLLEXCLUSIVE) fail(E.EINVAL);
        cur.events = events | EPOLLERR | EPOLLHUP;
        cur.data = data;
        this.armAndCheck(t, cur);
        return;
      default:
        fail(E.EINVAL);
    }
  }

  /** A new or modified item: hooked, and on the ready list if its file is ready now (ep_insert, ep_modify). */
  private armAndCheck(t: IoContext, i: Interest): void {
    this.rdl.delete(i);
    i.reset(t);
    i.level = i.file.poll(t, i.want) & i.want;
    if (i.level) i.wake();
  }

  private drop(i: Interest): void {
    i.disarm();
    this.rdl.delete(i);
    const byFd = this.interests.get(i.file);
    byFd?.delete(i.fd);
    if (byFd?.size === 0) {
      this.interests.delete(i.file);
      if (i.file instanceof EpollFile) i.file.parents.delete(this);
    }
  }

  /**
   * Would adding `to` to this epoll make a cycle, or a chain of epolls longer
   * than EPOLL_MAX_NESTS (ep_loop_check: how deep `to` goes, plus one, plus
   * how far up this epoll is nested)?
   */
  private loops(to: EpollFile): boolean {
    const down = (e: EpollFile, depth: number): number => {
      let r = 0;
      for (const f of e.interests.keys()) {
        if (!(f instanceof EpollFile)) continue;
        if (f === this || depth > EPOLL_MAX_NESTS) return EPOLL_MAX_NESTS + 1;
        r = Math.max(r, down(f, depth + 1) + 1);
        if (r > EPOLL_MAX_NESTS) break;
      }
      return r;
    };
    const up = (e: EpollFile, depth: number): number => {
      let r = 0;
      if (depth > EPOLL_MAX_NESTS) return r;
      for (const p of e.parents) r = Math.max(r, up(p, depth + 1) + 1);
      return r;
    };
    if (to === this) return true;
    const depth = down(to, 0);
    if (depth > EPOLL_MAX_NESTS) return true;
    return depth + 1 + up(this, 0) > EPOLL_MAX_NESTS;
  }

  /**
   * The events to report now, up to max (ep_send_events): the items on the
   * ready list, in the order their files woke, that poll ready; a
   * level-triggered item goes back to the list's tail, an edge-triggered
   * one waits for its file's next wake-up, a one-shot one is disarmed.
   * `consume` false (a poll of the epoll fd) only looks. Host-backed items,
   * whose wake-ups come after the change, are also polled: while ready
   * (level-triggered) or when they became ready since last looked at
   * (edge-triggered). Items of files closed everywhere are dropped, as
   * Linux drops them.
   */
  ready(t: IoContext, max: number, consume: boolean): Array<{ events: number; data: bigint }> {
    const out: Array<{ events: number; data: bigint }> = [];
    const seen = new Set<Interest>();
    // host files' edges since last asked join the ready list now
    for (const byFd of this.interests.values()) for (const i of byFd.values()) if (!i.disabled && i.hostEdge()) this.rdl.add(i);
    const look = (i: Interest): number => {
      const r = i.file.poll(t, i.want) & i.want;
      const rose = r !== 0 && i.level === 0;
      if (consume) i.level = r;
      return rose || !i.edge || this.rdl.has(i) ? r : 0;
    };
    const report = (i: Interest, r: number): void => {
      out.push({ events: r, data: i.data });
      if (!consume) return;
      if (i.events & EPOLLONESHOT) {
        i.events &= EP_PRIVATE_BITS;
        i.disarm();
      } else if (!i.edge) this.rdl.add(i);
    };
    for (const i of [...this.rdl]) {
      if (out.length >= max) break;
      seen.add(i);
      if (i.file.refs <= 0) {
        this.drop(i);
        continue;
      }
      const r = look(i);
      // taken off the list: gone if not ready (Linux's list drops it), re-queued by report if level-triggered
      if (consume || r === 0) this.rdl.delete(i);
      if (r !== 0) report(i, r);
    }
    for (const byFd of [...this.interests.values()]) {
      for (const i of [...byFd.values()]) {
        if (i.file.refs <= 0) {
          this.drop(i);
          continue;
        }
        if (out.length >= max || seen.has(i) || i.disabled || !i.late) continue;
        const r = look(i);
        if (r === 0) continue;
        if (consume) this.rdl.delete(i);
        report(i, r);
      }
    }
    for (const byFd of this.interests.values()) for (const i of byFd.values()) i.arm(t);
    return out;
  }

  /** Park the caller until an item wakes this epoll. */
  waitQueues(): WaitQueue[] {
    return [this.wq];
  }

  override poll(t: IoContext): number {
    return this.ready(t, 1, false).length > 0 ? POLLIN | POLLRDNORM : 0;
  }
  override pollQueues(t: IoContext): WaitQueue[] {
    for (const byFd of this.interests.values()) for (const i of byFd.values()) i.arm(t);
    return [this.pollq];
  }

  override release(): void {
    for (const byFd of [...this.interests.values()]) for (const i of [...byFd.values()]) this.drop(i);
    for (const p of this.parents) p.pollq.wake();
  }
}

/** struct epoll_event: packed (12 bytes) on x86_64, 16 bytes on arm64; where its 64-bit data sits. */
export function epollEventLayout(t: IoContext): { size: number; dataOff: number } {
  return t.arch.name === 'x86_64' ? { size: 12, dataOff: 4 } : { size: 16, dataOff: 8 };
}

/** epoll_wait: up to max ready events into guest memory. */
export function epollWait(t: IoContext, ep: EpollFile, addr: number, max: number, deadline: number): number {
  const { size: rec, dataOff } = epollEventLayout(t);
  const ready = ep.ready(t, max, true);
  if (ready.length === 0) {
    if (nowMs() < deadline) t.block(ep.waitQueues(), { deadline, restart: 'intr' });
    return 0;
  }
  // Linux checks the buffer only as it copies events out (nothing ready, no EFAULT)
  t.mm.check(addr, ready.length * rec, PROT_WRITE);
  const b = Buffer.alloc(ready.length * rec);
  ready.forEach((e, i) => {
    b.writeUInt32LE(e.events >>> 0, i * rec);
    b.writeBigUInt64LE(e.data, i * rec + dataOff);
  });
  t.mm.write(addr, b);
  return ready.length;
}
