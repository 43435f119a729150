// Event and notification fds: eventfd, timerfd, signalfd.
import type { Task } from '../../proc/task.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { O_RDWR } from '../../abi/fcntl.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE } from '../../abi/eventfd.js';
import { EventFd } from '../../fs/eventfd.js';
import { partial, supported, type Def } from './util.js';
import { TimerFd } from '../../fs/timerfd.js';
import { TFD_CLOEXEC, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET } from '../../abi/timerfd.js';
import { CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM } from '../../abi/time.js';
import { nowMs } from '../../host/clock.js';
import { SignalFd } from '../../fs/signalfd.js';
import { SFD_CLOEXEC, SFD_NONBLOCK } from '../../abi/signalfd.js';
import { UNBLOCKABLE } from '../../proc/signals.js';

function eventfd(t: Task, initval: number, flags: number): number {
  if (flags & ~(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK)) fail(E.EINVAL);
  const f = new EventFd(initval, O_RDWR | (flags & EFD_NONBLOCK), flags & EFD_SEMAPHORE, t.vfs.anonIno('eventfd'));
  return t.fds.add(f, (flags & EFD_CLOEXEC) !== 0);
}

const TIMERFD_CLOCKS = new Set([CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM]);
const CAP_WAKE_ALARM = 1n << 35n;

function timerfdCreate(t: Task, clockid: number, flags: number): number {
  if (!TIMERFD_CLOCKS.has(clockid) || flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) fail(E.EINVAL);
  if ((clockid === CLOCK_REALTIME_ALARM || clockid === CLOCK_BOOTTIME_ALARM) && !(t.cred.caps.eff & CAP_WAKE_ALARM)) fail(E.EPERM);
  const f = new TimerFd(clockid, O_RDWR | (flags & TFD_NONBLOCK), t.vfs.anonIno('timerfd'));
  return t.fds.add(f, (flags & TFD_CLOEXEC) !== 0);
}

function timerfdOf(t: Task, fd: number): TimerFd {
  const f = t.fds.file(fd);
  if (!(f instanceof TimerFd)) fail(E.EINVAL);
  return f;
}

/** A struct timespec in ms (EINVAL for a negative or out-of-range field). */
function tsMs(b: Buffer, off: number): number {
  const sec = Number(b.readBigInt64LE(off));
  const nsec = Number(b.readBigInt64LE(off + 8));
  if (sec < 0 || nsec < 0 || nsec >= 1e9) fail(E.EINVAL);
  return sec * 1e3 + nsec / 1e6;
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

function timerfdSettime(t: Task, fd: number, flags: number, newAddr: number, oldAddr: number): number {
  const f = timerfdOf(t, fd);
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) fail(E.EINVAL);
  const b = t.mm.read(newAddr, 32);
  const interval = tsMs(b, 0);
  let value = tsMs(b, 16);
  if (value > 0 && flags & TFD_TIMER_ABSTIME) {
    // an absolute time on the timer's clock, as a time from now (CLOCK_REALTIME: Date.now; the others: nowMs, boot's clock)
    const now = f.clockid === CLOCK_REALTIME || f.clockid === CLOCK_REALTIME_ALARM ? Date.now() : nowMs();
    value = Math.max(value - now, 0.000001);
  }
  const old = f.set(value, value > 0 ? interval : 0, flags);
  if (oldAddr !== 0) t.mm.write(oldAddr, itimerspec(old.left, old.interval));
  return 0;
}

function timerfdGettime(t: Task, fd: number, curAddr: number): number {
  const { left, interval } = timerfdOf(t, fd).get();
  t.mm.write(curAddr, itimerspec(left, interval));
  return 0;
}

const TIMERFD_NOTE =
  'CLOCK_BOOTTIME and CLOCK_MONOTONIC count alike (elfrun has no suspend); TFD_TIMER_CANCEL_ON_SET is accepted, ' +
  'but a change of the host\'s realtime clock is not seen (ECANCELED is never returned), nor does an absolute CLOCK_REALTIME timer follow one';

/**
 * signalfd4: a new signalfd (fd -1) reading the signals of the mask, or a
 * new mask for an existing one (EINVAL for another kind of file).
 */
function signalfd(t: Task, fd: number, maskAddr: number, size: number, flags: number): number {
  if (size !== 8) fail(E.EINVAL);
  const mask = t.mm.big64(maskAddr) & ~UNBLOCKABLE;
  if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)) fail(E.EINVAL);
  if (fd !== -1) {
    const f = t.fds.file(fd);
    if (!(f instanceof SignalFd)) fail(E.EINVAL);
    f.mask = mask;
    // pollers see the new mask
    t.proc.sighand.signalfd.wake();
    return fd;
  }
  const f = new SignalFd(mask, O_RDWR | (flags & SFD_NONBLOCK), t.vfs.anonIno('signalfd'));
  return t.fds.add(f, (flags & SFD_CLOEXEC) !== 0);
}

export const eventDefs: Record<string, Def> = {
  signalfd4: supported({ args: ['fd', 'sigsetsz', 'size', 'sfdflags'], ret: 'fd' }, (t, a) => signalfd(t, a.i32(0), a.ptr(1), a.u64(2), a.i32(3))),
  // x86_64 only: signalfd4 without flags
  signalfd: supported({ args: ['fd', 'sigset', 'size'], ret: 'fd' }, (t, a) => signalfd(t, a.i32(0), a.ptr(1), a.u64(2), 0)),
  eventfd2: supported({ args: ['uint', 'efdflags'], ret: 'fd' }, (t, a) => eventfd(t, a.u32(0), a.i32(1))),
  // x86_64 only: eventfd2 without flags
  eventfd: supported({ args: ['uint'], ret: 'fd' }, (t, a) => eventfd(t, a.u32(0), 0)),
  timerfd_create: partial({ args: ['clock', 'tfdflags'], ret: 'fd' }, (t, a) => timerfdCreate(t, a.i32(0), a.i32(1)), TIMERFD_NOTE),
  timerfd_settime: partial(['fd', 'tfdsetflags', 'itimerspec', 'itimerspecout'], (t, a) => timerfdSettime(t, a.i32(0), a.i32(1), a.ptr(2), a.ptr(3)), TIMERFD_NOTE),
  timerfd_gettime: partial(['fd', 'itimerspecout'], (t, a) => timerfdGettime(t, a.i32(0), a.ptr(1)), TIMERFD_NOTE),
};
