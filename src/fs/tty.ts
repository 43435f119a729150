// Terminal ioctls on a host fd (an inherited terminal, /dev/tty): the termios
// and window size requests pass through to the host terminal (the structs
// are the same on both arches); the foreground process group and session
// are the guest's own, answered by the kernel through IoContext.terminal.
import type { IoContext } from './context.js';
import { PROT_WRITE } from '../abi/mman.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { FIONREAD, TCGETS, TCSETS, TCSETSF, TCSETSW, TERMIOS_SIZE, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCSPGRP, TIOCSWINSZ, WINSIZE_SIZE } from '../abi/ioctl.js';
import { host } from '../host/libc.js';
import { chk, hostScratch } from './transfer.js';

/** ENOTTY when the fd is not a terminal (or the request is not a terminal's). */
export function hostTtyIoctl(t: IoContext, fd: number, req: number, arg: number): number {
  const s = hostScratch();
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
      const size = req === TIOCSWINSZ ? WINSIZE_SIZE : TERMIOS_SIZE;
      s.bytes.set(t.mm.read(arg, size), 0);
      return chk(host.ioctl(fd, req, s.addr));
    }
    case FIONREAD: {
      t.mm.check(arg, 4, PROT_WRITE);
      chk(host.ioctl(fd, req, s.addr));
      t.mm.write(arg, s.bytes.subarray(0, 4));
      return 0;
    }
    // The terminal's foreground process group and session are the guest's own:
    // its process groups are not the host's (^C goes to the group set here).
    case TIOCGPGRP:
    case TIOCGSID: {
      if (!host.isatty(fd)) fail(E.ENOTTY);
      t.mm.setI32(arg, req === TIOCGPGRP ? t.terminal.foreground() : t.terminal.session(t));
      return 0;
    }
    case TIOCSPGRP: {
      if (!host.isatty(fd)) fail(E.ENOTTY);
      const pgid = t.mm.i32(arg);
      if (pgid < 0) fail(E.EINVAL);
      t.terminal.setForeground(t, pgid);
      return 0;
    }
    default:
      return fail(E.ENOTTY);
  }
}
