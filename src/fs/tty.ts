// Terminals: the job-control state every terminal has (TtyCtrl: the session
// it is the controlling terminal of, its foreground process group), and the
// ioctls on a host fd that is a terminal (an inherited terminal, /dev/tty):
// termios and window size pass through to the host terminal (the structs
// are the same on both arches); the foreground group and session are the
// guest's own, answered by the kernel through IoContext.terminal, which also
// applies Linux's job-control checks to background readers and writers.
import type { IoContext } from './context.js';
import { PROT_WRITE } from '../abi/mman.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { SIG } from '../abi/signal.js';
import { S_IFCHR, S_IFMT } from '../abi/stat.js';
import { FIONREAD, TCGETS, TCSETS, TCSETSF, TCSETSW, TERMIOS_SIZE, TIOCGWINSZ, TIOCSWINSZ, TOSTOP, WINSIZE_SIZE } from '../abi/ioctl.js';
import { host, Scratch } from '../host/libc.js';
import { chk, hostScratch } from './transfer.js';

/**
 * The job-control state of one terminal (Linux's tty->ctrl): the session it
 * is the controlling terminal of and its foreground process group, both null
 * while no session has it. Ids are numbers, as tcgetpgrp reports them: a
 * group that has emptied stays the foreground one until it is changed.
 */
export class TtyCtrl {
  session: number | null = null;
  pgrp: number | null = null;
  /** its st_rdev (/proc/<pid>/stat's tty_nr), 0 when unknown */
  rdev = 0;
  constructor(
    /** a pseudo-terminal (a session leader's exit sends only SIGHUP, and does not hang it up) */
    readonly pty: boolean,
  ) {}
}

let scratch: Scratch | null = null;
/** Its own scratch for a stat or termios: a kwrite's data is in the shared one. */
function ttyScratch(): Scratch {
  scratch ??= new Scratch(256);
  return scratch;
}

/** The job-control state of the host terminal behind host fd `fd`, or null when it is no terminal. */
export function hostTtyOf(t: IoContext, fd: number): TtyCtrl | null {
  const s = ttyScratch();
  if (host.fstat(fd, s.addr) !== 0 || (s.dv.getUint32(24, true) & S_IFMT) !== S_IFCHR || !host.isatty(fd)) return null;
  return t.terminal.hostTty(Number(s.dv.getBigUint64(40, true)));
}

/** A read of the terminal: a background group's reader gets SIGTTIN (or EIO), as Linux's n_tty_read. */
export function ttyReadCheck(t: IoContext, tty: TtyCtrl): void {
  t.terminal.check(t, tty, SIG.SIGTTIN);
}


/** A write to the host terminal: with TOSTOP set, a background group's writer gets SIGTTOU, as Linux's n_tty_write. */
export function hostTtyWriteCheck(t: IoContext, tty: TtyCtrl, fd: number): void {
  // only a caller the check may stop pays for reading the terminal's mode
  if (tty.pgrp === null || t.terminal.controlling(t) !== tty) return;
  const s = ttyScratch();
  if (host.ioctl(fd, TCGETS, s.addr) === 0 && s.dv.getUint32(12, true) & TOSTOP) t.terminal.check(t, tty, SIG.SIGTTOU);
}

/** ENOTTY when the fd is not a terminal (or the request is not a terminal's). */
export function hostTtyIoctl(t: IoContext, fd: number, tty: TtyCtrl | null, readable: boolean, req: number, arg: number): number {
  const s = hostScratch();
  if (req === FIONREAD) {
    // any host fd's (a pipe, a file), not only a terminal's
    t.mm.check(arg, 4, PROT_WRITE);
    chk(host.ioctl(fd, req, s.addr));
    t.mm.write(arg, s.bytes.subarray(0, 4));
    return 0;
  }
  if (tty === null) return fail(E.ENOTTY);
  switch (req) {
    case TCGETS:
    case TIOCGWINSZ: {
      const size = req === TCGETS ? TERMIOS_SIZE : WINSIZE_SIZE;
      t.mm.check(arg, size, PROT_WRITE);
      chk(host.ioctl(fd, req, s.addr));
      t.mm.write(arg, s.bytes.subarray(0, size));
      return 0;
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
    case TIOCSWINSZ: {
      // a change of the terminal's mode by a background group: SIGTTOU (tty_check_change); not of its size
      if (req !== TIOCSWINSZ) t.terminal.check(t, tty, SIG.SIGTTOU);
      const size = req === TIOCSWINSZ ? WINSIZE_SIZE : TERMIOS_SIZE;
      s.bytes.set(t.mm.read(arg, size), 0);
      return chk(host.ioctl(fd, req, s.addr));
    }
    default: {
      // the foreground group and session are the guest's own: its process
      // groups are not the host's (^C goes to the group set here)
      const r = t.terminal.jobIoctl(t, tty, req, arg, readable);
      return r ?? fail(E.ENOTTY);
    }
  }
}
