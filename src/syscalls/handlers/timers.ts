// POSIX timers: timer_create, timer_settime, timer_gettime,
// timer_getoverrun, timer_delete (the timers themselves: proc/posixtimer.ts),
// and the clocks they run on, as kernel/time/posix-timers.c checks them.
import { existsSync } from 'node:fs';
import type { Task } from '../../proc/task.js';
import type { Process } from '../../proc/process.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { NSIG, SIG } from '../../abi/signal.js';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME,
} from '../../abi/time.js';
import { host, Scratch } from '../../host/libc.js';
import { nowMs } from '../../host/clock.js';
import { SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID, clockNow, type PosixTimer, type TimerClock } from '../../proc/posixtimer.js';
import { chk, partial, supported, type Def } from './util.js';

/** the wall clocks that have timers (MONOTONIC_RAW and the COARSE clocks have none: EOPNOTSUPP) */
const WALL_TIMER_CLOCKS = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM]);
const CAP_WAKE_ALARM = 1n << 35n;

/** A CPU-time clock id (negative): per-thread, and the pid it names (0: the caller's). */
export const cpuClockThread = (id: number): boolean => (id & 4) !== 0;
export const cpuClockPid = (id: number): number => ~(id >> 3);
/** a negative id whose low bits are 3 names a dynamic (fd) clock, e.g. /dev/ptp* */
export const isFdClock = (id: number): boolean => id < 0 && (id & 7) === 3;

/**
 * The CPU-time clock an id names, as Linux's pid_for_clock finds it:
 * PROCESS_CPUTIME_ID, THREAD_CPUTIME_ID, or an encoded pid or tid (a thread
 * of the caller's process only); EINVAL for one that names nothing.
 * `gettime`: a process clock may name the process by the caller's tid.
 */
export function cpuClock(t: Task, id: number, gettime: boolean): TimerClock {
  if (id === CLOCK_PROCESS_CPUTIME_ID) return { kind: 'cpu', proc: t.proc, thread: null };
  if (id === CLOCK_THREAD_CPUTIME_ID) return { kind: 'cpu', proc: t.proc, thread: t };
  if (id >= 0 || (id & 3) === 3) return fail(E.EINVAL);
  const pid = cpuClockPid(id);
  const k = t.kernel;
  if (cpuClockThread(id)) {
    if (pid === 0) return { kind: 'cpu', proc: t.proc, thread: t };
    const th = k.tasks.get(pid);
    if (th === undefined || th.proc !== t.proc || th.state === 'dead') return fail(E.EINVAL);
    return { kind: 'cpu', proc: t.proc, thread: th };
  }
  if (pid === 0) return { kind: 'cpu', proc: t.proc, thread: null };
  if (gettime && pid === t.tid) return { kind: 'cpu', proc: t.proc, thread: null };
  const p: Process | undefined = k.processes.get(pid);
  if (p === undefined || p.exit !== null) return fail(E.EINVAL);
  return { kind: 'cpu', proc: p, thread: null };
}

/** Does the host have the RTC the alarm clocks need (Linux's alarmtimer_get_rtcdev)? */
let rtc: boolean | null = null;
const haveRtc = (): boolean => (rtc ??= existsSync('/sys/class/rtc/rtc0'));

let scratch: Scratch | null = null;
/** The host's time on a wall clock, in ms. */
function wallNow(id: number): number {
  scratch ??= new Scratch(4096);
  chk(host.clockGettime(id === CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : id === CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME : id, scratch.addr));
  return Number(scratch.dv.getBigInt64(0, true)) * 1e3 + Number(scratch.dv.getBigInt64(8, true)) / 1e6;
}

function timerCreate(t: Task, clockid: number, evAddr: number, idAddr: number): number {
  const ev = evAddr === 0 ? null : t.mm.read(evAddr, 64);
  // the clock: none (EINVAL), or one without timers (EOPNOTSUPP), before an id is taken
  const wall = WALL_TIMER_CLOCKS.has(clockid);
  if (!wall) {
    if (isFdClock(clockid)) fail(E.ENOTSUP);
    if (clockid >= 0 && clockid <= CLOCK_TAI && clockid !== 10 && clockid !== CLOCK_PROCESS_CPUTIME_ID && clockid !== CLOCK_THREAD_CPUTIME_ID) fail(E.ENOTSUP);
    if (clockid >= 0 && clockid !== CLOCK_PROCESS_CPUTIME_ID && clockid !== CLOCK_THREAD_CPUTIME_ID) fail(E.EINVAL);
  }
  const p = t.proc;
  // from here on the id is spent, whatever happens next (Linux's posix_timer_add comes first)
  const id = p.nextTimerId;
  p.nextTimerId = id === 0x7fffffff ? 0 : id + 1;
  let notify = SIGEV_SIGNAL;
  let signo: number = SIG.SIGALRM;
  let value = BigInt(id);
  let thread: Task | null = null;
  if (ev !== null) {
    value = ev.readBigUInt64LE(0);
    signo = ev.readInt32LE(8);
    notify = ev.readInt32LE(12);
    if (notify === SIGEV_THREAD_ID) {
      const th = t.kernel.tasks.get(ev.readInt32LE(16));
      if (th === undefined || th.proc !== p || th.state === 'dead') fail(E.EINVAL);
      thread = th;
    }
    if (notify !== SIGEV_NONE && notify !== SIGEV_SIGNAL && notify !== SIGEV_THREAD && notify !== SIGEV_THREAD_ID) fail(E.EINVAL);
    if (notify !== SIGEV_NONE && (signo <= 0 || signo > NSIG)) fail(E.EINVAL);
  }
  const idBuf = Buffer.alloc(4);
  idBuf.writeInt32LE(id);
  t.mm.write(idAddr, idBuf);
  let clock: TimerClock = { kind: 'wall' };
  if (clockid === CLOCK_REALTIME_ALARM || clockid === CLOCK_BOOTTIME_ALARM) {
    if (!haveRtc()) fail(E.ENOTSUP);
    if (!(t.cred.caps.eff & CAP_WAKE_ALARM)) fail(E.EPERM);
  } else if (!wall) clock = cpuClock(t, clockid, false);
  const tm: PosixTimer = {
    id, owner: p, clockid, clock, notify, signo, value, thread,
    due: Infinity, interval: 0, overrun: -1, overrunLast: 0, queued: null, host: null,
  };
  t.kernel.itimers.posix.add(tm);
  return 0;
}

function timerOf(t: Task, id: number): PosixTimer {
  return t.proc.posixTimers.get(id) ?? fail(E.EINVAL);
}

/** A struct timespec in ms (EINVAL for a negative or out-of-range field). */
function tsMs(b: Buffer, off: number): number {
  const sec = b.readBigInt64LE(off);
  const nsec = b.readBigInt64LE(off + 8);
  if (sec < 0n || nsec < 0n || nsec >= 1000000000n) fail(E.EINVAL);
  return Number(sec) * 1e3 + Number(nsec) / 1e6;
}

/** struct itimerspec {it_interval, it_value} from (left, interval) in ms. */
function itimerspec(left: number, interval: number): Buffer {
  const b = Buffer.alloc(32);
  const put = (ms: number, off: number): void => {
    const ns = BigInt(Math.round(ms * 1e6));
    b.writeBigInt64LE(ns / 1000000000n, off);
    b.writeBigInt64LE(ns % 1000000000n, off + 8);
  };
  put(interval, 0);
  put(left, 16);
  return b;
}

function timerSettime(t: Task, id: number, flags: number, newAddr: number, oldAddr: number): number {
  if (newAddr === 0) fail(E.EINVAL);
  const b = t.mm.read(newAddr, 32);
  const interval = tsMs(b, 0);
  let value = tsMs(b, 16);
  const tm = timerOf(t, id);
  const posix = t.kernel.itimers.posix;
  const old = oldAddr !== 0 ? posix.get(tm) : null;
  const abs = (flags & TIMER_ABSTIME) !== 0 && value > 0;
  // an absolute time on a wall clock, on nowMs()'s (CLOCK_MONOTONIC's) scale
  if (abs && tm.clock.kind === 'wall' && tm.clockid !== CLOCK_MONOTONIC) value = Math.max(nowMs() + (value - wallNow(tm.clockid)), 1e-6);
  posix.set(tm, value, value > 0 ? interval : 0, abs);
  // the timer is set even when the old value cannot be written (EFAULT after it)
  if (old !== null) t.mm.write(oldAddr, itimerspec(old.left, old.interval));
  return 0;
}

function timerGettime(t: Task, id: number, curAddr: number): number {
  const { left, interval } = t.kernel.itimers.posix.get(timerOf(t, id));
  t.mm.write(curAddr, itimerspec(left, interval));
  return 0;
}

const TIMER_NOTE =
  'every clock with timers (CPU-time clocks count the guest\'s time in the emulator, checked when a thread\'s run is charged: at most a time slice late); ' +
  'an absolute CLOCK_REALTIME or CLOCK_TAI timer does not follow a change of the host\'s clock; a signal still pending when its timer is deleted or set again is delivered (Linux 6.13+ drops it)';

export const timerDefs: Record<string, Def> = {
  timer_create: partial(['clock', 'sigevent', 'idout'], (t, a) => timerCreate(t, a.i32(0), a.ptr(1), a.ptr(2)), TIMER_NOTE),
  timer_settime: partial(['int', 'timerflags', 'itimerspec', 'itimerspecout'], (t, a) => timerSettime(t, a.i32(0), a.i32(1), a.ptr(2), a.ptr(3)), TIMER_NOTE),
  timer_gettime: supported(['int', 'itimerspecout'], (t, a) => timerGettime(t, a.i32(0), a.ptr(1))),
  timer_getoverrun: supported(['int'], (t, a) => t.kernel.itimers.posix.getOverrun(timerOf(t, a.i32(0)))),
  timer_delete: supported(['int'], (t, a) => {
    t.kernel.itimers.posix.delete(timerOf(t, a.i32(0)));
    return 0;
  }),
};

/**
 * The clock of a clock_nanosleep, as Linux's checks it: EINVAL for no clock,
 * EOPNOTSUPP for one that cannot sleep (THREAD_CPUTIME_ID, MONOTONIC_RAW,
 * the COARSE clocks, the alarm clocks without an RTC, fd clocks); null for a
 * wall clock; a CPU-time clock (a process's, or another thread's) otherwise.
 */
export function nanosleepClock(t: Task, id: number): TimerClock | null {
  if (id === CLOCK_REALTIME || id === CLOCK_MONOTONIC || id === CLOCK_BOOTTIME || id === CLOCK_TAI) return null;
  if (id === CLOCK_REALTIME_ALARM || id === CLOCK_BOOTTIME_ALARM) {
    if (!haveRtc()) fail(E.ENOTSUP);
    if (!(t.cred.caps.eff & CAP_WAKE_ALARM)) fail(E.EPERM);
    return null;
  }
  if (id === CLOCK_PROCESS_CPUTIME_ID) return cpuClock(t, id, false);
  if (id >= 0) return id <= CLOCK_TAI && id !== 10 ? fail(E.ENOTSUP) : fail(E.EINVAL);
  if (isFdClock(id)) fail(E.ENOTSUP);
  if (cpuClockThread(id) && (cpuClockPid(id) === 0 || cpuClockPid(id) === t.tid)) fail(E.EINVAL);
  return cpuClock(t, id, false);
}

/**
 * clock_nanosleep on a CPU-time clock: until the process (or thread) has run
 * that long, looked at each time it is charged for a run. As a wall-clock
 * sleep: an absolute one ends with EINTR after a handler, a relative one
 * writes the time left to rem and resumes through restart_syscall.
 */
export function cpuNanosleep(t: Task, clock: TimerClock, abs: boolean, reqAddr: number, remAddr: number): number {
  if (!t.restarting) {
    const ms = tsMs(t.mm.read(reqAddr, 16), 0);
    t.restartState = abs ? ms : clockNow(clock) + ms;
  }
  const due = t.restartState!;
  if (clockNow(clock) >= due) return 0;
  if (clock.kind !== 'cpu') return fail(E.EINVAL);
  const q = t.kernel.itimers.posix.cpuSleepQueue(clock.proc);
  if (abs) t.block([q], { restart: 'nohand' });
  t.block([q], {
    restart: 'block',
    onInterrupt: () => {
      if (remAddr === 0) return -E.EINTR;
      try {
        t.mm.write(remAddr, itimerspec(Math.max(0, due - clockNow(clock)), 0).subarray(16));
      } catch {
        return -E.EFAULT;
      }
      return -E.EINTR;
    },
  });
}
