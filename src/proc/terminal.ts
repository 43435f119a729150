// The job-control side of the guest's controlling terminal (elfrun's own
// terminal): its foreground process group and session are the guest's, not
// the host's, since the guest's process groups are elfrun's. The tty ioctls
// that need them (TIOCGPGRP, TIOCSPGRP, TIOCGSID) reach this object.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import type { IoContext, TerminalControl } from '../fs/context.js';
import type { Process } from './process.js';

/** What the terminal needs of the kernel: its processes, and the session the terminal belongs to. */
export interface TerminalOwner {
  readonly processes: ReadonlyMap<number, Process>;
  readonly init: Process | null;
  processOf(t: IoContext): Process;
}

export class Terminal implements TerminalControl {
  /** set by tcsetpgrp; the init's group until a guest sets one */
  private fg: number | null = null;

  constructor(private readonly k: TerminalOwner) {}

  foreground(): number {
    if (this.fg !== null && [...this.k.processes.values()].some((p) => p.exit === null && p.pgid === this.fg)) return this.fg;
    return this.k.init?.pgid ?? 0;
  }

  session(t: IoContext): number {
    return this.k.init?.sid ?? this.k.processOf(t).sid;
  }

  setForeground(t: IoContext, pgid: number): void {
    const sid = this.k.processOf(t).sid;
    if (sid !== (this.k.init?.sid ?? sid)) fail(E.ENOTTY); // not our controlling terminal
    // Linux's tiocspgrp: ESRCH for no such group, EPERM for a group of another session
    const members = [...this.k.processes.values()].filter((p) => p.exit === null && p.pgid === pgid);
    if (members.length === 0) fail(E.ESRCH);
    if (!members.some((p) => p.sid === sid)) fail(E.EPERM);
    this.fg = pgid;
  }
}
