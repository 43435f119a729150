// POSIX timers (timer_create and friends), per process, as Linux's
// kernel/time/posix-timers.c and posix-cpu-timers.c keep them. A timer runs
// on a wall clock (REALTIME, MONOTONIC, BOOTTIME, TAI, the alarm clocks:
// a host timer at its expiry, on nowMs()'s clock, which is CLOCK_MONOTONIC)
// or on a CPU-time clock (a process's or a thread's: checked each time the
// scheduler charges a run, as itimer.ts does for ITIMER_VIRTUAL). At expiry
// it queues its one siginfo (SI_TIMER, the timer id, its sigev_value); an
// interval timer is re-armed when that siginfo is taken (delivered, or read
// by sigwaitinfo or a signalfd), counting as overruns the periods that
// passed meanwhile, as Linux 6.x's posixtimer_deliver_signal does.
// SIGEV_NONE timers have no host timer: their state is computed from the
// clock when asked for.
import { SI_TIMER } from '../abi/signal.js';
import { nowMs } from '../host/clock.js';
import { HostTimer } from '../host/timer.js';
import { WaitQueue } from '../ctx/waitq.js';
import { onTake } from './signals.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';
import type { Task } from './task.js';

export const SIGEV_SIGNAL = 0;
export const SIGEV_NONE = 1;
export const SIGEV_THREAD = 2;
export const SIGEV_THREAD_ID = 4;

/** KTIME_MAX (2^63-1 ns) in ms: where Linux's times saturate */
export const KTIME_MAX_MS = 9223372036854.775;
const INT_MAX = 0x7fffffff;

/** A timer's clock: a wall clock on nowMs()'s scale, or the CPU time of a process or thread (ms). */
export type TimerClock = { kind: 'wall' } | { kind: 'cpu'; proc: Process; thread: Task | null };

export interface PosixTimer {
  readonly id: number;
  readonly owner: Process;
  readonly clockid: number;
  readonly clock: TimerClock;
  readonly notify: number;
  readonly signo: number;
  /** sigev_value, as the 8 bytes of union sigval */
  readonly value: bigint;
  /** SIGEV_THREAD_ID: the thread the signal goes to */
  readonly thread: Task | null;
  /** the next expiry on the timer's clock (ms), Infinity when disarmed */
  due: number;
  /** ms between expiries, 0 for a one-shot timer */
  interval: number;
  /** Linux's it_overrun: periods forwarded since the signal was queued, less one */
  overrun: number;
  /** the overrun count of the last signal taken (timer_getoverrun) */
  overrunLast: number;
  /** the siginfo queued and not yet taken */
  queued: Buffer | null;
  host: HostTimer | null;
}

/** The time on a timer's clock, in ms. */
export function clockNow(c: TimerClock): number {
  if (c.kind === 'wall') return nowMs();
  return c.thread !== null ? c.thread.cpuNow : c.proc.cpuMs;
}

export class PosixTimers {
  /** the timers on CPU-time clocks, checked whenever a process is charged for a run */
  private readonly cpuTimers = new Set<PosixTimer>();
  /** the queues of clock_nanosleep on a process's CPU clock, woken when it is charged */
  private readonly cpuSleepers = new Map<Process, WaitQueue>();

  constructor(private readonly k: Kernel) {}

  /** Add a timer to p's table (its id already taken from p.nextTimerId). */
  add(tm: PosixTimer): void {
    tm.owner.posixTimers.set(tm.id, tm);
    if (tm.clock.kind === 'cpu') this.cpuTimers.add(tm);
  }

  /**
   * Arm (valueMs > 0: the first expiry, ms from now, or on the clock when
   * `abs`) or disarm (0); every `intervalMs` after it.
   */
  set(tm: PosixTimer, valueMs: number, intervalMs: number, abs: boolean): void {
    this.disarm(tm);
    tm.overrunLast = 0;
    if (valueMs <= 0) return;
    tm.interval = intervalMs;
    tm.due = Math.min(abs ? valueMs : clockNow(tm.clock) + valueMs, KTIME_MAX_MS);
    this.arm(tm);
  }

  /** (time left to the next expiry, interval) in ms; zeros when disarmed (Linux's common_timer_get). */
  get(tm: PosixTimer): { left: number; interval: number } {
    if (tm.due === Infinity) return { left: 0, interval: 0 };
    const now = clockNow(tm.clock);
    // an interval timer waiting for its signal to be taken, or one nobody is told of, moves on
    if (tm.interval > 0 && (tm.queued !== null || tm.notify === SIGEV_NONE)) tm.overrun += this.forward(tm, now);
    const left = tm.due - now;
    if (left > 0) return { left, interval: tm.interval };
    // expired: a one-shot SIGEV_NONE timer shows 0; one whose signal is on its way, 1 ns
    return { left: tm.notify === SIGEV_NONE ? 0 : 1e-6, interval: tm.interval };
  }

  /** timer_getoverrun: the overruns of the last signal taken, at most INT_MAX. */
  getOverrun(tm: PosixTimer): number {
    if (tm.notify === SIGEV_NONE && tm.interval > 0 && tm.due !== Infinity) {
      tm.overrun += this.forward(tm, clockNow(tm.clock));
    }
    return Math.min(tm.overrunLast, INT_MAX);
  }

  delete(tm: PosixTimer): void {
    this.disarm(tm);
    tm.owner.posixTimers.delete(tm.id);
    this.cpuTimers.delete(tm);
  }

  /** Every timer of p goes (exec, exit). */
  deleteAll(p: Process): void {
    for (const tm of [...p.posixTimers.values()]) this.delete(tm);
  }

  /** One of p's threads ran: its CPU timers that are due fire, and its CPU-clock sleepers look again. */
  charge(p: Process): void {
    if (this.cpuTimers.size > 0) {
      for (const tm of this.cpuTimers) {
        if (tm.clock.kind !== 'cpu' || tm.clock.proc !== p || tm.queued !== null) continue;
        if (tm.due !== Infinity && clockNow(tm.clock) >= tm.due) this.expire(tm);
      }
    }
    const q = this.cpuSleepers.get(p);
    if (q !== undefined && q.waiters.size > 0) q.wake();
  }

  /** The queue a clock_nanosleep on p's CPU clock parks on. */
  cpuSleepQueue(p: Process): WaitQueue {
    let q = this.cpuSleepers.get(p);
    if (q === undefined) {
      q = new WaitQueue('cpu-clock');
      this.cpuSleepers.set(p, q);
    }
    return q;
  }

  /** A process is gone: its sleep queue goes too. */
  forget(p: Process): void {
    this.cpuSleepers.delete(p);
  }

  private disarm(tm: PosixTimer): void {
    if (tm.host !== null) {
      tm.host.clear();
      tm.host = null;
      this.k.sched.timers--;
    }
    // a siginfo still queued stays pending, and is delivered without re-arming anything
    tm.queued = null;
    tm.due = Infinity;
    tm.interval = 0;
    tm.overrun = -1;
  }

  /** Start a host timer for the next expiry of a wall-clock timer that signals. */
  private arm(tm: PosixTimer): void {
    if (tm.clock.kind !== 'wall' || tm.notify === SIGEV_NONE || tm.due === Infinity) return;
    const k = this.k;
    k.sched.timers++;
    tm.host = new HostTimer(tm.due - nowMs(), () => {
      tm.host = null;
      k.sched.timers--;
      if (tm.owner.exit !== null || tm.owner.exiting !== null) {
        this.deleteAll(tm.owner);
        return;
      }
      this.expire(tm);
      k.sched.kick();
    });
  }

  /** Move an interval timer's expiry past `now`; the number of periods it moved. */
  private forward(tm: PosixTimer, now: number): number {
    if (tm.due > now) return 0;
    const n = Math.floor((now - tm.due) / tm.interval) + 1;
    tm.due += n * tm.interval;
    return n;
  }

  /** The timer expires: its signal is queued, or (ignored) an interval timer goes on. */
  private expire(tm: PosixTimer): void {
    if (tm.notify === SIGEV_NONE) return;
    const info = Buffer.alloc(128);
    info.writeInt32LE(tm.signo, 0);
    info.writeInt32LE(SI_TIMER, 8);
    info.writeInt32LE(tm.id, 16);
    info.writeBigUInt64LE(tm.value, 24);
    if (tm.interval === 0) tm.due = Infinity;
    tm.overrun = -1;
    onTake.set(info, () => this.taken(tm, info));
    const target = tm.thread ?? tm.owner;
    if (tm.thread !== null) this.k.signals.sendToTask(tm.thread, tm.signo, info);
    else this.k.signals.sendToProcess(tm.owner, tm.signo, info);
    if (target.siginfo.get(tm.signo)?.includes(info)) {
      tm.queued = info;
      return;
    }
    // not queued (ignored, or merged with a pending one): an interval timer carries on
    if (tm.interval > 0) {
      this.forward(tm, clockNow(tm.clock));
      this.arm(tm);
    }
  }

  /** Its siginfo is taken: the overruns go in it, and an interval timer is armed for its next period. */
  private taken(tm: PosixTimer, info: Buffer): void {
    if (tm.queued !== info) return;
    tm.queued = null;
    if (tm.interval === 0 || tm.due === Infinity) return;
    tm.overrun += this.forward(tm, clockNow(tm.clock));
    tm.overrunLast = tm.overrun;
    tm.overrun = -1;
    info.writeInt32LE(Math.min(tm.overrunLast, INT_MAX), 20);
    this.arm(tm);
  }
}
