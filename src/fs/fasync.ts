// Signal-driven I/O (O_ASYNC): an open-file description's owner (fcntl
// F_SETOWN, F_SETOWN_EX, F_SETSIG: Linux's struct fown_struct) and, while
// O_ASYNC is on, a hook on the wait queues the file wakes when its readiness
// may change (the points where Linux's ->fasync files call kill_fasync).
// A wake asks the file what it is ready for and has the owner signalled
// with Linux's reason (POLL_IN, POLL_OUT, POLL_HUP); the sending itself
// (the owner's tasks, sigio_perm, the queued siginfo) is the kernel's, behind
// SigioSender. A host fd's readiness comes from a host epoll of its own that
// holds the fd edge-triggered, so every new wake of the host's file is one
// report, as Linux's kill_fasync is one per event, not one per poll.
import type { Waiter, WaitQueue } from '../ctx/waitq.js';
import type { IoContext } from './context.js';
import type { FileDescription } from './file.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDHUP, POLLRDNORM, POLLWRNORM, EPOLLET } from '../abi/poll.js';
import { O_CLOEXEC } from '../abi/fcntl.js';
import { hostSock } from '../host/sock.js';
import { host, Scratch } from '../host/libc.js';

/** si_code of SIGIO/SIGPOLL (asm-generic/siginfo.h) */
export const POLL_IN = 1;
export const POLL_OUT = 2;
export const POLL_MSG = 3;
export const POLL_ERR = 4;
export const POLL_PRI = 5;
export const POLL_HUP = 6;

/** Linux's band_table: si_band for each reason (POLL_IN first) */
export const SIGIO_BAND = [0x41, 0x304, 0x441, 0x8, 0x82, 0x18] as const;

/** whom the owner names: a thread (F_OWNER_TID, PIDTYPE_PID), a process (F_OWNER_PID) or a process group (F_OWNER_PGRP) */
export type OwnerType = 'tid' | 'pid' | 'pgrp';

/** struct fown_struct: whom signals of an open-file description go to, who set that, and which signal */
export class FOwner {
  /** 0: nobody */
  pid = 0;
  /** Linux's pid_type starts as PIDTYPE_PID: F_GETOWN_EX of a file never owned says F_OWNER_TID */
  type: OwnerType = 'tid';
  /** the real and effective uid of whoever set the owner (sigio_perm checks them against the receiver) */
  uid = 0;
  euid = 0;
  /** F_SETSIG's signal; 0: plain SIGIO */
  signum = 0;
}

/** The kernel's side: send_sigio (the owner's tasks that pass sigio_perm get the signal). */
export interface SigioSender {
  sigio(owner: FOwner, fd: number, reason: number): void;
}

/**
 * How a kind of file reports readiness to its O_ASYNC owner, as each
 * ->fasync file of Linux calls kill_fasync:
 * - pipe: every write tells the readers (POLL_IN), every read the writers
 *   (POLL_OUT), a close of one side the other (pipe_write, pipe_read, pipe_release);
 * - socket: data or a connection to accept (POLL_IN, sock_def_readable),
 *   room again after none (POLL_OUT), the peer gone (POLL_HUP);
 * - tty: input to read (a whole line in canonical mode) (POLL_IN, n_tty), room again (POLL_OUT);
 * - inotify: each event queued (POLL_IN).
 */
export type FasyncStyle = 'pipe' | 'socket' | 'tty' | 'inotify';

const IN = 1;
const OUT = 2;
const ASKED = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLPRI;
const EPOLLIN = 0x001;
const EPOLLOUT = 0x004;
const EPOLL_CTL_ADD = 1;

/** One wait queue a Fasync is hooked on, and which of the file's directions it stands for. */
class Hook implements Waiter {
  constructor(
    private readonly fa: Fasync,
    readonly queue: WaitQueue,
    public role: number,
  ) {}
  wake(): void {
    this.fa.woke(this);
  }
}

/** O_ASYNC on one open-file description: its hooks on the file's queues (Linux's fasync_struct). */
export class Fasync {
  private hooks: Hook[] = [];
  /** a host fd's own edge-triggered host epoll (-1 for files of elfrun's own) */
  private hostEp = -1;
  private ev: Scratch | null = null;
  /** what the file polled last (edges of POLLOUT and POLLHUP) */
  private level: number;
  private stopped = false;
  private polling = false;

  constructor(
    readonly file: FileDescription,
    readonly style: FasyncStyle,
    /** the fd O_ASYNC was set through (si_fd) */
    public fd: number,
    /** the caller that set it, whose services (host polling) the hooks use later */
    private readonly ctx: IoContext,
    private readonly sender: SigioSender,
  ) {
    const hfd = file.hostEdgeFd();
    if (hfd !== null) this.watchHost(hfd);
    this.level = file.poll(ctx, ASKED);
    this.arm();
  }

  /** A host epoll holding the host fd edge-triggered, its first report (the state now) taken. */
  private watchHost(hfd: number): void {
    const ep = hostSock.epollCreate1(O_CLOEXEC);
    if (ep < 0) return;
    const ev = new Scratch(16);
    ev.dv.setUint32(0, (EPOLLIN | EPOLLOUT | POLLRDHUP | EPOLLET) >>> 0, true);
    if (hostSock.epollCtl(ep, EPOLL_CTL_ADD, hfd, ev.addr) < 0) {
      host.close(ep);
      ev.free();
      return;
    }
    this.hostEp = ep;
    this.ev = ev;
    this.hostEvents();
  }

  /** The host's file woke since last asked: the events of its edges (0 for none). */
  private hostEvents(): number {
    if (this.hostEp < 0 || this.ev === null) return 0;
    let m = 0;
    while (hostSock.epollWait(this.hostEp, this.ev.addr, 1, 0) > 0) m |= this.ev.dv.getUint32(0, true);
    return m;
  }

  /** Hook the queues the file wakes (a host fd's queue, spent by each report, is hooked again after it). */
  private arm(): void {
    if (this.stopped) return;
    const want = new Map<WaitQueue, number>();
    if (this.hostEp >= 0) want.set(this.ctx.hostPollQueue(this.hostEp, POLLIN), IN | OUT);
    else {
      // a socket's input is its first queue (its other queues wake for room and state too), and any host fd's
      const inq = this.file.pollQueues(this.ctx, POLLIN | POLLRDNORM).filter((q, i) => this.style !== 'socket' || i === 0 || q.late);
      for (const q of inq) want.set(q, (want.get(q) ?? 0) | IN);
      for (const q of this.file.pollQueues(this.ctx, POLLOUT | POLLWRNORM)) want.set(q, (want.get(q) ?? 0) | OUT);
    }
    for (const h of this.hooks) if (!want.has(h.queue)) h.queue.remove(h);
    const kept = new Map(this.hooks.map((h) => [h.queue, h]));
    this.hooks = [...want].map(([q, role]) => {
      const h = kept.get(q) ?? new Hook(this, q, role);
      h.role = role;
      q.add(h);
      return h;
    });
  }

  /** One of the file's queues woke: signal the owner for what changed. */
  woke(h: Hook): void {
    // a wake from inside the file's own poll (an inotify fd taking its host events) is the same change
    if (this.stopped || this.polling) return;
    const f = this.file;
    let role = h.role;
    if (this.hostEp >= 0) {
      const ev = this.hostEvents();
      role = (ev & (EPOLLIN | POLLHUP | POLLERR | POLLRDHUP) ? IN : 0) | (ev & EPOLLOUT ? OUT : 0);
    }
    const prev = this.level;
    this.polling = true;
    let m: number;
    try {
      m = f.poll(this.ctx, ASKED);
    } finally {
      this.polling = false;
    }
    this.level = m;
    const reasons: number[] = [];
    switch (this.style) {
      case 'pipe':
        if (role & IN && f.readable) reasons.push(POLL_IN);
        if (role & OUT && f.writable) reasons.push(POLL_OUT);
        break;
      case 'socket':
        if (m & POLLHUP && !(prev & POLLHUP) && this.hostEp < 0) reasons.push(POLL_HUP);
        else if (role & IN && m & (POLLIN | POLLHUP)) reasons.push(POLL_IN);
        if (role & OUT && m & POLLOUT && !(prev & POLLOUT)) reasons.push(POLL_OUT);
        break;
      case 'tty':
        if (role & IN && m & POLLIN && !(prev & POLLIN)) reasons.push(POLL_IN);
        if (role & OUT && m & POLLOUT && !(prev & POLLOUT)) reasons.push(POLL_OUT);
        break;
      case 'inotify':
        if (m & POLLIN) reasons.push(POLL_IN);
        break;
    }
    // a host queue reports once: hook again (also the queues the file has changed to, and one that woke during the poll)
    if (this.hostEp >= 0 || this.hooks.some((x) => x.queue.late)) this.arm();
    const owner = f.owner;
    if (owner === null || owner.pid === 0) return;
    for (const r of reasons) this.sender.sigio(owner, this.fd, r);
  }

  /** O_ASYNC off, or the description's last reference gone (Linux's fasync(-1)). */
  stop(): void {
    this.stopped = true;
    for (const h of this.hooks) h.queue.remove(h);
    this.hooks = [];
    if (this.hostEp >= 0) host.close(this.hostEp);
    this.hostEp = -1;
    this.ev?.free();
    this.ev = null;
  }
}

/**
 * O_ASYNC turned on or off through fd (F_SETFL, FIOASYNC): false for a file
 * without Linux's ->fasync, whose O_ASYNC is not kept (F_SETFL) or refused
 * with ENOTTY (FIOASYNC).
 */
export function setAsync(ctx: IoContext, f: FileDescription, fd: number, on: boolean, sender: SigioSender): boolean {
  const style = f.fasyncStyle;
  if (style === null) return false;
  if (on) {
    if (f.fasync !== null) f.fasync.fd = fd;
    else f.fasync = new Fasync(f, style, fd, ctx, sender);
  } else {
    f.fasync?.stop();
    f.fasync = null;
  }
  return true;
}
