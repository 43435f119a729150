// Job control: stop signals stop every thread of a process and SIGCONT
// continues it; the parent hears CLD_STOPPED / CLD_CONTINUED (unless
// SA_NOCLDSTOP) and wait4/waitid report them. A stop of the guest's init
// stops elfrun itself, so the shell that started elfrun sees a stopped job.
import { SA_NOCLDSTOP, SI_KERNEL, SIG } from '../abi/signal.js';
import { hostProc } from '../host/libc.js';
import { STOP_SIGNALS, childSiginfo, dropSignals, type ChildEvent } from './signals.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';

export class JobControl {
  constructor(private readonly k: Kernel) {}

  /**
   * A process group is orphaned when no member's parent is in another group
   * of the same session: terminal stop signals (TSTP, TTIN, TTOU) are then
   * discarded, since nobody could continue it, and a background read of the
   * terminal fails with EIO (Linux's is_current_pgrp_orphaned).
   */
  orphanedPgrp(pgid: number, _sid?: number): boolean {
    return this.willBeOrphaned(pgid, null);
  }

  /**
   * Linux's will_become_orphaned_pgrp: is the group orphaned once `ignored`
   * has gone? Zombies do not count, nor members whose parent is outside the
   * guest's sessions (pid 1 on Linux: an adopted process).
   */
  willBeOrphaned(pgid: number, ignored: Process | null): boolean {
    for (const p of this.k.processes.values()) {
      if (p.pgid !== pgid || p === ignored || p.exit !== null) continue;
      const parent = this.realParent(p);
      if (parent !== null && parent.pgid !== pgid && parent.sid === p.sid) return false;
    }
    return true;
  }

  /** The group and session of p's parent: a guest process, or for the first one elfrun's host parent; null for pid 1. */
  private realParent(p: Process): { pgid: number; sid: number } | null {
    if (p.adopted) return null;
    if (p.parent !== null) return p.parent;
    if (p !== this.k.init) return null;
    const pgid = hostProc.getpgid(this.k.hostPpid);
    const sid = hostProc.getsid(this.k.hostPpid);
    return pgid < 0 || sid < 0 ? null : { pgid, sid };
  }

  /** Has the group a stopped member (Linux's has_stopped_jobs)? */
  private hasStopped(pgid: number): boolean {
    for (const p of this.k.processes.values()) if (p.pgid === pgid && p.stopped && p.exit === null) return true;
    return false;
  }

  /**
   * Linux's kill_orphaned_pgrp, as p's parent `father` ends (p is handed to
   * init) or p itself ends (father null): a group this orphans, that has a
   * stopped member, gets SIGHUP and then SIGCONT, as nobody could continue it.
   */
  orphaning(p: Process, father: Process | null): void {
    const parent = father ?? this.realParent(p);
    if (parent === null || parent.pgid === p.pgid || parent.sid !== p.sid) return;
    if (!this.hasStopped(p.pgid) || !this.willBeOrphaned(p.pgid, father === null ? p : null)) return;
    this.signalGroup(p.pgid, SIG.SIGHUP);
    this.signalGroup(p.pgid, SIG.SIGCONT);
  }

  /** A signal from the kernel (si_code SI_KERNEL) to one process. */
  signalProcess(p: Process, sig: number): void {
    const info = this.k.userInfo(sig, 0);
    info.writeInt32LE(SI_KERNEL, 8);
    this.k.signals.sendToProcess(p, sig, info);
    this.k.sched.kick();
  }

  /** A signal from the kernel (si_code SI_KERNEL) to every member of a process group (Linux's kill_pgrp with priv). */
  signalGroup(pgid: number, sig: number): void {
    const info = this.k.userInfo(sig, 0);
    info.writeInt32LE(SI_KERNEL, 8);
    for (const p of [...this.k.processes.values()]) if (p.pgid === pgid) this.k.signals.sendToProcess(p, sig, info);
    this.k.sched.kick();
  }

  /** A stop signal's default action: every thread stops; the parent hears CLD_STOPPED. */
  stop(p: Process, sig: number): void {
    if (p.stopped || p.exit !== null) return;
    p.stopped = true;
    p.stopReport = sig;
    p.contReport = false;
    for (const t of p.threads) if (t.state === 'runnable') t.state = 'stopped';
    const leader = [...p.threads][0];
    if (leader && this.k.tracing(leader)) this.k.tracer!.stopped(leader, sig);
    this.notifyParent(p, { stopped: sig });
    // the guest's init stopped, and nothing else in the guest can run: elfrun
    // stops too, as a native program would (^Z, kill -STOP)
    if (this.allStopped()) this.stopSelf();
  }

  /** SIGCONT's effect, at the moment it is sent: the process runs again; the parent hears CLD_CONTINUED. */
  continue(p: Process): void {
    // a continue cancels pending stops (and a stop cancels a pending continue: see SignalDelivery)
    dropSignals(p, STOP_SIGNALS);
    for (const t of p.threads) dropSignals(t, STOP_SIGNALS);
    if (!p.stopped) return;
    p.stopped = false;
    p.stopReport = null;
    p.contReport = true;
    for (const t of p.threads) {
      if (t.state === 'stopped') {
        t.state = 'runnable';
        this.k.sched.push(t);
      }
    }
    this.notifyParent(p, 'continued');
    this.k.sched.kick();
  }

  private notifyParent(p: Process, event: ChildEvent): void {
    const parent = p.parent;
    if (parent === null) return;
    const a = parent.sighand.actions[SIG.SIGCHLD];
    // the times of a thread of the group (Linux's do_notify_parent_cldstop gives the stopping thread's own)
    const t = p.threads.values().next().value;
    const times = t === undefined ? null : { utimeMs: t.utimeNow, stimeMs: t.stimeNow };
    if (!(a.flags & SA_NOCLDSTOP)) this.k.signals.sendToProcess(parent, SIG.SIGCHLD, childSiginfo(p, SIG.SIGCHLD, event, times));
    parent.childEvents.wake();
  }

  /**
   * Is the guest's init stopped, and every other live process too? While one
   * is not, it may still continue the others (a child that sends its parent
   * SIGSTOP and then SIGCONT), and all of them live in elfrun's process.
   */
  private allStopped(): boolean {
    const init = this.k.init;
    if (!init?.stopped || init.exit !== null) return false;
    for (const q of this.k.processes.values()) if (q.exit === null && !q.stopped) return false;
    return true;
  }

  /** elfrun's own process stops (its parent shell sees it stopped); on SIGCONT the guest's init continues. */
  private stopSelf(): void {
    setImmediate(() => {
      if (this.allStopped()) process.kill(process.pid, 'SIGSTOP');
    });
  }
}
