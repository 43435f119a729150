// Terminals' job control, as Linux's tty_jobctrl.c: the controlling terminal
// of a session (taken by its leader with TIOCSCTTY or an open, lost with
// setsid, TIOCNOTTY or the leader's exit), the foreground process group
// (tcgetpgrp/tcsetpgrp), and the checks that stop a background group that
// reads its terminal (SIGTTIN) or writes it with TOSTOP or changes it
// (SIGTTOU). The host terminal elfrun runs on is the first process's
// controlling terminal; its foreground group and session are the guest's
// own, since the guest's process groups are elfrun's.
import { E } from '../abi/errno.js';
import { fail, SysError } from '../abi/errors.js';
import { SIG, SIG_IGN, bit } from '../abi/signal.js';
import { TIOCGPGRP, TIOCGSID, TIOCNOTTY, TIOCSCTTY, TIOCSPGRP } from '../abi/ioctl.js';
import type { IoContext, TerminalControl } from '../fs/context.js';
import { TtyCtrl } from '../fs/tty.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';

export class Terminal implements TerminalControl {
  /** the host's terminals the guest has used, by device number */
  private readonly hostTtys = new Map<number, TtyCtrl>();

  constructor(private readonly k: Kernel) {}

  hostTty(rdev: number): TtyCtrl {
    let c = this.hostTtys.get(rdev);
    if (c === undefined) {
      c = new TtyCtrl(false);
      c.rdev = rdev;
      this.hostTtys.set(rdev, c);
    }
    return c;
  }

  /** The first process: a session leader if elfrun is one; elfrun's controlling terminal is its own, with its group in the foreground. */
  attachInit(p: Process): void {
    p.leader = p.sid === p.pid;
    if (this.k.ttyNr === 0) return;
    const tty = this.hostTty(this.k.ttyNr);
    tty.session = p.sid;
    tty.pgrp = p.pgid;
    p.ctty = tty;
  }

  /**
   * The host terminal's foreground group, where ^C and ^Z typed on it go;
   * the first process's group when that one has emptied or elfrun has no
   * terminal (a signal sent to elfrun itself).
   */
  foreground(): number {
    const fg = this.k.ttyNr === 0 ? null : (this.hostTtys.get(this.k.ttyNr)?.pgrp ?? null);
    if (fg !== null) for (const p of this.k.processes.values()) if (p.pgid === fg) return fg;
    return this.k.init?.pgid ?? 0;
  }

  controlling(t: IoContext): TtyCtrl | null {
    return this.k.processOf(t).ctty;
  }

  check(t: IoContext, tty: TtyCtrl, sig: number): void {
    const p = this.k.processOf(t);
    if (p.ctty !== tty || tty.pgrp === null || p.pgid === tty.pgrp) return;
    const task = this.k.taskOf(t);
    if ((task.sigmask & bit(sig)) !== 0n || p.sighand.actions[sig].handler === SIG_IGN) {
      if (sig === SIG.SIGTTIN) fail(E.EIO);
      return;
    }
    if (this.k.jobs.orphanedPgrp(p.pgid)) fail(E.EIO);
    // the group is sent the signal; the call ends when it is delivered
    // (ERESTARTSYS: it starts over once the group is continued, or after a handler with SA_RESTART)
    this.k.jobs.signalGroup(p.pgid, sig);
    t.block([], { restart: 'sys' });
  }

  jobIoctl(t: IoContext, tty: TtyCtrl, req: number, arg: number, readable: boolean, master = false): number | null {
    const p = this.k.processOf(t);
    switch (req) {
      case TIOCGPGRP:
        if (!master && p.ctty !== tty) fail(E.ENOTTY);
        t.mm.setI32(arg, tty.pgrp ?? 0);
        return 0;
      case TIOCGSID:
        if ((!master && p.ctty !== tty) || tty.session === null) fail(E.ENOTTY);
        t.mm.setI32(arg, tty.session);
        return 0;
      case TIOCSPGRP:
        this.setPgrp(t, p, tty, arg);
        return 0;
      case TIOCSCTTY:
        this.setCtty(p, tty, arg, readable);
        return 0;
      case TIOCNOTTY:
        if (master || p.ctty !== tty) fail(E.ENOTTY);
        this.disassociate(p, false);
        p.ctty = null;
        return 0;
      default:
        return null;
    }
  }

  /** Linux's tiocspgrp: SIGTTOU for a background caller, then ENOTTY, ESRCH or EPERM. */
  private setPgrp(t: IoContext, p: Process, tty: TtyCtrl, arg: number): void {
    try {
      this.check(t, tty, SIG.SIGTTOU);
    } catch (e) {
      if (e instanceof SysError && e.errno === E.EIO) fail(E.ENOTTY);
      throw e;
    }
    const pgid = t.mm.i32(arg);
    if (pgid < 0) fail(E.EINVAL);
    if (p.ctty !== tty || tty.session !== p.sid) fail(E.ENOTTY);
    if (!this.idInUse(pgid)) fail(E.ESRCH);
    if (this.sessionOfPgrp(pgid) !== p.sid) fail(E.EPERM);
    tty.pgrp = pgid;
  }

  /** Is this id some unreaped process's pid, group or session, or a live thread's id (Linux's find_vpid)? */
  private idInUse(id: number): boolean {
    if (this.k.processes.has(id) || this.k.tasks.has(id)) return true;
    for (const q of this.k.processes.values()) if (q.pgid === id || q.sid === id) return true;
    return false;
  }

  /** Linux's session_of_pgrp: the session of the group's members (zombies too), else of the process with that id. */
  private sessionOfPgrp(id: number): number | null {
    for (const q of this.k.processes.values()) if (q.pgid === id) return q.sid;
    return (this.k.processes.get(id) ?? this.k.tasks.get(id)?.proc)?.sid ?? null;
  }

  /** Linux's tiocsctty: a session leader without a controlling terminal takes one no other session has (root may steal it, arg 1). */
  private setCtty(p: Process, tty: TtyCtrl, arg: number, readable: boolean): void {
    if (p.leader && tty.session === p.sid) return;
    if (!p.leader || p.ctty !== null) fail(E.EPERM);
    const root = p.cred.euid === 0;
    if (tty.session !== null) {
      if (arg !== 1 || !root) fail(E.EPERM);
      for (const q of this.k.processes.values()) if (q.sid === tty.session) q.ctty = null;
    }
    if (!readable && !root) fail(E.EPERM);
    this.take(p, tty);
  }

  opened(t: IoContext, tty: TtyCtrl, readable: boolean): void {
    const p = this.k.processOf(t);
    if (p.leader && p.ctty === null && tty.session === null && readable) this.take(p, tty);
  }

  private take(p: Process, tty: TtyCtrl): void {
    tty.session = p.sid;
    tty.pgrp = p.pgid;
    p.ctty = tty;
    p.ttyOldPgrp = null;
  }

  /**
   * Linux's disassociate_ctty: a session leader gives up its controlling
   * terminal (TIOCNOTTY, or its exit): the foreground group gets SIGHUP (and
   * SIGCONT unless it exits), and every process of the session loses it.
   */
  disassociate(p: Process, onExit: boolean): void {
    const tty = p.ctty;
    if (!p.leader) return;
    if (tty === null) {
      // its terminal hung up while it led the session: the group that was in the foreground then
      const old = p.ttyOldPgrp;
      p.ttyOldPgrp = null;
      if (onExit && old !== null) {
        this.k.jobs.signalGroup(old, SIG.SIGHUP);
        this.k.jobs.signalGroup(old, SIG.SIGCONT);
      }
      return;
    }
    p.ttyOldPgrp = null;
    if (tty.pgrp !== null) {
      this.k.jobs.signalGroup(tty.pgrp, SIG.SIGHUP);
      if (!onExit) this.k.jobs.signalGroup(tty.pgrp, SIG.SIGCONT);
    }
    tty.session = null;
    tty.pgrp = null;
    for (const q of this.k.processes.values()) if (q.sid === p.sid) q.ctty = null;
  }

  signalForeground(tty: TtyCtrl, sig: number): void {
    if (tty.pgrp !== null) this.k.jobs.signalGroup(tty.pgrp, sig);
  }

  hangup(tty: TtyCtrl): void {
    // Linux's tty_signal_session_leader: the session's members lose the
    // terminal, its leader gets SIGHUP and SIGCONT, and keeps the foreground
    // group, which gets SIGHUP when the leader exits
    const sid = tty.session;
    if (sid !== null) {
      for (const q of [...this.k.processes.values()]) {
        if (q.sid !== sid) continue;
        if (q.ctty === tty) q.ctty = null;
        if (!q.leader) continue;
        this.k.jobs.signalProcess(q, SIG.SIGHUP);
        this.k.jobs.signalProcess(q, SIG.SIGCONT);
        q.ttyOldPgrp = tty.pgrp;
      }
    }
    tty.session = null;
    tty.pgrp = null;
  }
}
