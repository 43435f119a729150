// ITIMER_REAL of each process (alarm, setitimer): a host timer that sends
// SIGALRM, re-armed for its interval. Armed timers count among the host
// events the scheduler waits for.
import { SI_KERNEL, SIG } from '../abi/signal.js';
import { nowMs } from '../host/clock.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';

export class RealTimers {
  constructor(private readonly k: Kernel) {}

  /**
   * SIGALRM for p after `ms`, then every `interval` ms; 0 disarms. Returns
   * what was left of the old one (ms) and its interval.
   */
  set(p: Process, ms: number, interval: number): { left: number; interval: number } {
    const old = p.itimer;
    const left = old ? Math.max(0, old.due - nowMs()) : 0;
    if (old) {
      clearTimeout(old.timer);
      this.k.sched.timers--;
      p.itimer = null;
    }
    if (ms > 0) this.arm(p, ms, interval);
    return { left, interval: old?.interval ?? 0 };
  }

  private arm(p: Process, ms: number, interval: number): void {
    const k = this.k;
    k.sched.timers++;
    const timer = setTimeout(() => {
      k.sched.timers--;
      p.itimer = null;
      if (p.exit !== null) return;
      if (interval > 0) this.arm(p, interval, interval);
      const info = k.userInfo(SIG.SIGALRM, 0);
      info.writeInt32LE(SI_KERNEL, 8); // as Linux's it_real_fn sends it
      k.signals.sendToProcess(p, SIG.SIGALRM, info);
      k.sched.kick();
    }, ms);
    p.itimer = { due: nowMs() + ms, interval, timer };
  }
}
