// timerfd: a timer behind a file. Its expirations are counted lazily, from
// the clock, whenever they are asked for (a read, poll, gettime); a host
// timer only wakes the readers at the next one. A read takes the count.
import { WaitQueue } from '../ctx/waitq.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_NONBLOCK } from '../abi/fcntl.js';
import { POLLIN } from '../abi/poll.js';
import { nowMs } from '../host/clock.js';
import { HostTimer } from '../host/timer.js';
import { hostStatBytes } from './stat.js';
import { FileDescription } from './file.js';
import { type IoContext } from './context.js';

export class TimerFd extends FileDescription {
  override readonly anonName = '[timerfd]';
  /** the next expiration on nowMs()'s clock (Infinity: disarmed) and the interval (ms, 0: one-shot) */
  private due = Infinity;
  private interval = 0;
  /** expirations not yet read */
  private ticks = 0n;
  /** the expirations counted since the last read (or set) have woken the readers */
  private signalled = false;
  /** settime's flags, for fdinfo */
  private settimeFlags = 0;
  private wake: HostTimer | null = null;
  private readonly readers = new WaitQueue('timerfd');
  private readonly created = Date.now();

  constructor(
    readonly clockid: number,
    flags: number,
    private readonly ino: number,
  ) {
    super(flags);
  }

  /** Count the expirations that have passed. */
  private update(): void {
    const now = nowMs();
    if (now < this.due) return;
    if (this.interval > 0) {
      const n = Math.floor((now - this.due) / this.interval) + 1;
      this.ticks += BigInt(n);
      this.due += n * this.interval;
    } else {
      this.ticks += 1n;
      this.due = Infinity;
    }
  }

  /** Arm for `value` ms from now (0: disarm), then every `interval` ms; returns the old (left, interval). */
  set(valueMs: number, intervalMs: number, flags: number): { left: number; interval: number } {
    const old = this.get();
    this.wake?.clear();
    this.wake = null;
    this.ticks = 0n;
    this.signalled = false;
    // a reader already waiting gets a host timer for the new expiration
    const waiting = this.readers.waiters.size > 0;
    this.settimeFlags = flags;
    this.interval = intervalMs;
    this.due = valueMs > 0 ? nowMs() + valueMs : Infinity;
    if (waiting) this.schedule();
    return old;
  }

  /** (time left to the next expiration, interval) in ms; zeros when disarmed. */
  get(): { left: number; interval: number } {
    this.update();
    return { left: this.due === Infinity ? 0 : Math.max(this.due - nowMs(), 0.000001), interval: this.interval };
  }

  /**
   * A host timer that wakes the readers at the next expiration, while some
   * wait (a read, poll or epoll_wait parked on the file): an interval
   * timer nobody waits on costs no host timer.
   */
  private schedule(): void {
    if (this.due === Infinity || this.wake !== null) return;
    this.wake = new HostTimer(this.due - nowMs(), () => {
      this.wake = null;
      // Linux's timer stops at an expiration until a read re-arms it: only the first expiration since the last read wakes
      this.update();
      if (this.ticks > 0n && !this.signalled) {
        this.signalled = true;
        this.readers.wake();
      } else if (this.ticks === 0n && this.readers.waiters.size > 0) this.schedule();
    });
  }

  /** The fd is gone everywhere: its host timer goes too. */
  override release(): void {
    this.wake?.clear();
    this.wake = null;
    this.due = Infinity;
  }

  override read(t: IoContext, addr: number, len: number): number {
    if (len < 8) fail(E.EINVAL);
    this.update();
    if (this.ticks === 0n) {
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      this.schedule();
      t.block([this.readers]);
    }
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(this.ticks);
    t.mm.write(addr, b);
    this.ticks = 0n;
    this.signalled = false;
    return 8;
  }

  override poll(_t: IoContext, _events: number): number {
    this.update();
    return this.ticks > 0n ? POLLIN : 0;
  }

  override pollQueues(_t: IoContext, events: number): WaitQueue[] {
    if (!(events & POLLIN)) return [];
    this.schedule();
    return [this.readers];
  }

  override statBytes(t: IoContext): Uint8Array {
    const c = t.cred;
    return hostStatBytes({ dev: 0xd, ino: this.ino, mode: 0o600, nlink: 1, uid: c.euid, gid: c.egid, rdev: 0, size: 0, blksize: 4096, blocks: 0, atimeMs: this.created, mtimeMs: this.created, ctimeMs: this.created });
  }

  override fdinfo(): string {
    const { left, interval } = this.get();
    const ts = (ms: number): string => {
      const ns = BigInt(Math.round(ms * 1e6));
      return `(${ns / 1000000000n}, ${ns % 1000000000n})`;
    };
    return `clockid: ${this.clockid}\nticks: ${this.ticks}\nsettime flags: 0${this.settimeFlags.toString(8)}\nit_value: ${ts(left)}\nit_interval: ${ts(interval)}\n`;
  }
}
