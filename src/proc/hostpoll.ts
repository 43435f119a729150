// Host fds that may block (sockets, stdin, host pipes, terminals): a task
// that must wait on one parks on a queue here, woken when the fd is ready.
//
// With the trampoline's watcher thread, each waited fd is armed in a host
// epoll set (one-shot) and the thread reports ready fds through a pipe that
// Node's event loop reads: a wake costs one event-loop turn. Without it (or
// for an fd epoll refuses), a host timer polls the fds while the scheduler
// is idle, backing off from 1 to 20 ms while none is ready.
import { Socket as NodeSocket } from 'node:net';
import { E } from '../abi/errno.js';
import { O_CLOEXEC } from '../abi/fcntl.js';
import { loadTrampoline } from '../cpu/unicorn.js';
import { WaitQueue } from '../ctx/waitq.js';
import { host, Scratch } from '../host/libc.js';
import { hostSock } from '../host/sock.js';

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_MOD = 3;
const EPOLLONESHOT = 1 << 30;

/** The watcher thread's side: an epoll set it waits on, and the pipe it reports through. */
class Watcher {
  private readonly ev = new Scratch(4096);
  private pending = Buffer.alloc(0);
  private constructor(
    private readonly ep: number,
    /** closing it ends the thread */
    private readonly control: number,
    private readonly reader: NodeSocket,
  ) {}

  /** A watcher thread, or null when the trampoline has none or it cannot start. */
  static start(onReady: (fd: number) => void): Watcher | null {
    const start = loadTrampoline()?.watchStart;
    if (!start) return null;
    const ep = hostSock.epollCreate1(O_CLOEXEC);
    if (ep < 0) return null;
    const out = hostSock.pipe2(O_CLOEXEC);
    const ctl = hostSock.pipe2(O_CLOEXEC);
    if (typeof out === 'number' || typeof ctl === 'number') {
      host.close(ep);
      for (const p of [out, ctl]) if (typeof p !== 'number') p.forEach((fd) => host.close(fd));
      return null;
    }
    const w = new Watcher(ep, ctl[1], new NodeSocket({ fd: out[0], readable: true, writable: false }));
    // the control pipe's read end reports as fd -1: its hang-up is the thread's signal to end
    if (w.arm(ctl[0], 0x10 /* EPOLLHUP */, -1, EPOLL_CTL_ADD) !== 0 || start(ep, out[1]) !== 0) {
      w.reader.destroy();
      for (const fd of [ep, out[1], ctl[0], ctl[1]]) host.close(fd);
      return null;
    }
    host.close(ctl[0]); // the epoll set keeps its description
    // Node's loop wakes for the reports but is not kept alive by them (the scheduler does that)
    w.reader.unref();
    w.reader.on('data', (chunk: Buffer) => {
      const buf = w.pending.length > 0 ? Buffer.concat([w.pending, chunk]) : chunk;
      const whole = buf.length - (buf.length % 8);
      for (let off = 0; off < whole; off += 8) onReady(buf.readInt32LE(off));
      w.pending = Buffer.from(buf.subarray(whole));
    });
    w.reader.on('error', () => {});
    return w;
  }

  /** epoll_ctl with data = `data` (the fd; -1 for the control pipe) */
  private arm(fd: number, events: number, data: number, op: number): number {
    const dv = this.ev.dv;
    dv.setUint32(0, events >>> 0, true);
    dv.setInt32(4, data, true);
    dv.setInt32(8, data < 0 ? -1 : 0, true);
    return hostSock.epollCtl(this.ep, op, fd, this.ev.addr);
  }

  /** Report fd once when ready for `events`; false if epoll refuses it (a regular file). */
  watch(fd: number, events: number): boolean {
    const ev = events | EPOLLONESHOT;
    const r = this.arm(fd, ev, fd, EPOLL_CTL_MOD);
    if (r === -E.ENOENT) return this.arm(fd, ev, fd, EPOLL_CTL_ADD) === 0;
    return r === 0;
  }

  stop(): void {
    host.close(this.control);
    this.reader.destroy();
    this.ev.free();
  }
}

export class HostPoller {
  private polls = new Map<number, { queue: WaitQueue; events: number }>();
  /** fds the watcher reports (the others are polled) */
  private watched = new Set<number>();
  /**
   * fds waited on since the scheduler last went idle: armed in the watcher
   * only then (most waits on loopback end in pollBriefly, and an fd armed
   * and reported for nothing cost an epoll_ctl and a wake of Node's loop)
   */
  private unarmed = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay = 1;
  private watcher: Watcher | null | undefined;

  /** Is any host fd waited on? */
  get active(): boolean {
    return this.polls.size > 0;
  }

  /** A queue woken when the host fd is ready (POLLIN=1, POLLOUT=4, POLLPRI=2). */
  queue(fd: number, events: number): WaitQueue {
    let e = this.polls.get(fd);
    if (!e) {
      e = { queue: new WaitQueue(`host fd ${fd}`, true), events: 0 };
      this.polls.set(fd, e);
    }
    // armed again after every wait (see arm): a one-shot report may have been
    // spent by a waiter that left, and the fd number may now be another host file's
    e.events = e.queue.waiters.size > 0 ? e.events | events : events;
    this.unarmed.add(fd);
    return e.queue;
  }

  /** Arm the fds waited on since the last time in the watcher (or leave them to the polling timer). */
  private arm(): void {
    if (this.unarmed.size === 0) return;
    if (this.watcher === undefined) this.watcher = Watcher.start((ready) => this.ready(ready));
    for (const fd of this.unarmed) {
      const e = this.polls.get(fd);
      if (e === undefined || e.queue.waiters.size === 0) continue;
      if (this.watcher?.watch(fd, e.events)) this.watched.add(fd);
      else this.watched.delete(fd);
    }
    this.unarmed.clear();
  }

  /** The watcher says fd is ready: its waiters retry. */
  private ready(fd: number): void {
    this.watched.delete(fd);
    this.unarmed.delete(fd);
    const e = this.polls.get(fd);
    if (e === undefined) return;
    this.polls.delete(fd);
    e.queue.wake();
  }

  /**
   * Every task waits: if one waits on a host fd, wait for the fds here for up
   * to `ms` (a reply on loopback comes in microseconds), and wake those
   * ready, which spares a turn of Node's event loop per wait. True if any woke.
   */
  pollBriefly(ms: number): boolean {
    let n = 0;
    for (const e of this.polls.values()) if (e.queue.waiters.size > 0) n++;
    if (n === 0 || n > 64) return false;
    const pfds = new Int16Array(n * 4);
    const fds: number[] = [];
    let i = 0;
    for (const [fd, e] of this.polls) {
      if (e.queue.waiters.size === 0) continue;
      pfds[i * 4] = fd & 0xffff;
      pfds[i * 4 + 1] = fd >>> 16;
      pfds[i * 4 + 2] = e.events;
      fds.push(fd);
      i++;
    }
    if (host.pollMany(pfds, ms) <= 0) return false;
    fds.forEach((fd, k) => {
      if (pfds[k * 4 + 3] !== 0) this.ready(fd);
    });
    return true;
  }

  /**
   * The scheduler has nothing to run, or gives Node's loop a turn: the fds
   * waited on are armed in the watcher, and those it cannot report polled.
   */
  start(): void {
    this.arm();
    for (const fd of this.polls.keys()) {
      if (!this.watched.has(fd)) {
        this.schedule(0);
        return;
      }
    }
  }

  /** Stop polling and watching (the run ends). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.stop();
    this.watcher = null;
  }

  private schedule(delay: number): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      let woke = false;
      let polled = 0;
      for (const [fd, e] of this.polls) {
        if (this.watched.has(fd)) continue;
        if (e.queue.waiters.size === 0) {
          this.polls.delete(fd);
          continue;
        }
        polled++;
        if (host.pollReady(fd, e.events)) {
          this.polls.delete(fd);
          e.queue.wake();
          woke = true;
        }
      }
      if (woke) this.delay = 1;
      else this.delay = Math.min(this.delay * 2, 20);
      if (polled > 0 && !woke) this.schedule(this.delay);
      else if (woke) this.start();
    }, delay);
  }
}

