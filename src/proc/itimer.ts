// The interval timers of each process and its CPU time limit.
// ITIMER_REAL (alarm, setitimer) is a host timer that sends SIGALRM,
// re-armed for its interval; armed, it counts among the host events the
// scheduler waits for. ITIMER_VIRTUAL counts the process's user time and
// ITIMER_PROF its user and system time (Task.account keeps them apart),
// charged by the scheduler after each turn of one of its threads
// (runs last at most a time slice: the watchdog preempts a busy one), and
// send SIGVTALRM and SIGPROF. RLIMIT_CPU is checked at the same place, as
// Linux's check_process_timers does: SIGXCPU at the soft limit (which then
// moves one second on, up to the hard limit), SIGKILL at the hard limit.
import { ITIMER_PROF, ITIMER_REAL, ITIMER_VIRTUAL } from '../abi/time.js';
import { RLIMIT_CPU, RLIM_INFINITY } from '../abi/resource.js';
import { SI_KERNEL, SIG } from '../abi/signal.js';
import { nowMs } from '../host/clock.js';
import { HostTimer } from '../host/timer.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';
import { PosixTimers } from './posixtimer.js';

/** An itimer as getitimer shows it: ms until it fires (0: disarmed) and its interval. */
export interface ItimerValue {
  left: number;
  interval: number;
}

/** ITIMER_VIRTUAL or ITIMER_PROF: CPU time (ms) left until it fires, and its interval. */
export interface CpuTimer {
  left: number;
  interval: number;
}

export class Itimers {
  /** the POSIX timers (timer_create), charged for CPU time with the itimers */
  readonly posix: PosixTimers;

  constructor(private readonly k: Kernel) {
    this.posix = new PosixTimers(k);
  }

  /** Arm (ms > 0) or disarm (0) one of p's itimers; returns the old value. */
  set(p: Process, which: number, ms: number, interval: number): ItimerValue {
    if (p.exiting !== null && which === ITIMER_REAL && ms === 0) {
      // the process's end releases its timers: the POSIX ones go with ITIMER_REAL
      this.posix.deleteAll(p);
      this.posix.forget(p);
    }
    const old = this.get(p, which);
    if (which === ITIMER_REAL) {
      if (p.itimer) {
        p.itimer.timer.clear();
        this.k.sched.timers--;
        p.itimer = null;
      }
      if (ms > 0) this.armReal(p, ms, interval);
    } else {
      const v = ms > 0 ? { left: ms, interval } : null;
      if (which === ITIMER_VIRTUAL) p.vtimer = v;
      else p.ptimer = v;
    }
    return old;
  }

  get(p: Process, which: number): ItimerValue {
    if (which === ITIMER_REAL) {
      const r = p.itimer;
      return { left: r ? Math.max(0, r.timer.due - nowMs()) : 0, interval: r?.interval ?? 0 };
    }
    const c = which === ITIMER_VIRTUAL ? p.vtimer : which === ITIMER_PROF ? p.ptimer : null;
    return { left: c ? Math.max(c.left, 0.001) : 0, interval: c?.interval ?? 0 };
  }

  private armReal(p: Process, ms: number, interval: number): void {
    const k = this.k;
    k.sched.timers++;
    const timer = new HostTimer(ms, () => {
      k.sched.timers--;
      p.itimer = null;
      if (p.exit !== null) return;
      if (interval > 0) this.armReal(p, interval, interval);
      this.send(p, SIG.SIGALRM); // as Linux's it_real_fn sends it
      k.sched.kick();
    });
    p.itimer = { interval, timer };
  }

  /** SI_KERNEL, as Linux's timers send their signals (SEND_SIG_PRIV). */
  private send(p: Process, sig: number): void {
    const info = this.k.userInfo(sig, 0);
    info.writeInt32LE(SI_KERNEL, 8);
    this.k.signals.sendToProcess(p, sig, info);
  }

  /**
   * One of p's threads ran for `user` ms in the guest's code and `sys` ms in
   * elfrun's service of it: ITIMER_VIRTUAL counts the user time, ITIMER_PROF
   * both (as Linux's check_cpu_itimer does with utime and utime+stime), the
   * POSIX CPU timers and RLIMIT_CPU both, and the CPU limit is checked.
   */
  charge(p: Process, user: number, sys: number): void {
    this.posix.charge(p);
    if (p.vtimer !== null) p.vtimer = this.countDown(p, p.vtimer, user, SIG.SIGVTALRM);
    if (p.ptimer !== null) p.ptimer = this.countDown(p, p.ptimer, user + sys, SIG.SIGPROF);
    const lim = p.rlimits[RLIMIT_CPU];
    if (lim === undefined || lim[0] === RLIM_INFINITY) return;
    const sec = BigInt(Math.floor(p.cpuMs / 1000));
    const [soft, hard] = lim;
    if (hard !== RLIM_INFINITY && sec >= hard) {
      this.k.signals.sendToProcess(p, SIG.SIGKILL, this.k.userInfo(SIG.SIGKILL, 0));
      return;
    }
    if (sec >= soft) {
      this.send(p, SIG.SIGXCPU);
      if (soft < hard) p.rlimits[RLIMIT_CPU] = [soft + 1n, hard];
    }
  }

  private countDown(p: Process, c: CpuTimer, ms: number, sig: number): CpuTimer | null {
    const left = c.left - ms;
    if (left > 0) return { left, interval: c.interval };
    this.send(p, sig);
    if (c.interval <= 0) return null;
    // the overrun is carried into the next period, as Linux's timers keep their phase
    return { left: Math.max(c.interval + left, 0.001), interval: c.interval };
  }
}
