// Pseudo-terminals of the guest, elfrun's own (in-process): /dev/ptmx opens
// a master and makes /dev/pts/N for its slave (locked until TIOCSPTLCK 0),
// TIOCGPTN names it. The pair shares a line discipline (ptyldisc.ts), a
// window size (TIOCSWINSZ: SIGWINCH to the foreground group) and the
// job-control state of the slave, which a session leader may take as its
// controlling terminal. Closing the master hangs the slave up (its reads end
// at end of file, its writes fail with EIO); a master read fails with EIO
// once no slave is open and nothing is left to read.
import type { IoContext, TerminalControl } from './context.js';
import { WaitQueue } from '../ctx/waitq.js';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_NOCTTY, O_NONBLOCK } from '../abi/fcntl.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from '../abi/poll.js';
import { SIG } from '../abi/signal.js';
import {
  FIONREAD, IXON, TCFLSH, TCGETS, TCIFLUSH, TCIOFF, TCIOFLUSH, TCION, TCOFLUSH, TCOOFF, TCOON, TCSBRK, TCSETS, TCSETSF, TCSETSW, TCXONC,
  TERMIOS_CC, TERMIOS_SIZE, TIOCGPKT, TIOCGPTLCK, TIOCGPTN, TIOCGWINSZ, TIOCOUTQ, TIOCPKT, TIOCPKT_DATA, TIOCPKT_DOSTOP, TIOCPKT_FLUSHREAD,
  TIOCPKT_FLUSHWRITE, TIOCPKT_NOSTOP, TIOCPKT_START, TIOCPKT_STOP, TIOCSIG, TIOCSTI, TIOCSPGRP, TIOCSPTLCK, TIOCSWINSZ, TOSTOP, VSTART, VSTOP, WINSIZE_SIZE,
} from '../abi/ioctl.js';
import { nowMs } from '../host/clock.js';
import { readFileSync } from 'node:fs';

const CAP_SYS_ADMIN = 1n << 21n;

/** the host's dev.tty.legacy_tiocsti (Linux 6.2 and later; an older kernel, or none to read, allows it as before) */
function legacyTiocsti(): boolean {
  try {
    return readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'latin1').trim() !== '0';
  } catch {
    return true;
  }
}
import { FileDescription } from './file.js';
import type { FasyncStyle } from './fasync.js';
import { LineDiscipline } from './ptyldisc.js';
import { TtyCtrl } from './tty.js';
import type { TmpNode } from './tmpfs.js';

/** what the slave's output may hold before its writer waits for the master to read */
const OUTPUT_MAX = 65536;

/** a stop cancels a start not yet read, and so on (Linux's pty_stop, pty_start, pty_set_termios) */
const PKT_CANCELS = new Map([
  [TIOCPKT_STOP, TIOCPKT_START],
  [TIOCPKT_START, TIOCPKT_STOP],
  [TIOCPKT_NOSTOP, TIOCPKT_DOSTOP],
  [TIOCPKT_DOSTOP, TIOCPKT_NOSTOP],
]);

/** c_iflag's IXON with ^S/^Q as VSTOP/VSTART: the flow control a packet-mode master may do itself (TIOCPKT_DOSTOP) */
function doStop(t: Buffer): boolean {
  return (t.readUInt32LE(0) & IXON) !== 0 && t[TERMIOS_CC + VSTOP] === 0x13 && t[TERMIOS_CC + VSTART] === 0x11;
}

export class Pty {
  readonly ldisc: LineDiscipline;
  readonly ctrl = new TtyCtrl(true);
  readonly winsize = Buffer.alloc(WINSIZE_SIZE);
  locked = true;
  /** the master has closed: the slave is hung up */
  hungUp = false;
  /** open slave descriptions; once one was opened, a master read with none left fails with EIO */
  slaves = 0;
  slaveOpened = false;
  /** TIOCPKT: the master reads a status byte before its data, and the status changes alone */
  packet = false;
  pktstatus = 0;
  /** woken when the slave may read, or the master may (or may write) */
  readonly slaveQueue = new WaitQueue('pty slave');
  readonly masterQueue = new WaitQueue('pty master');
  /** the /dev/pts node, removed when the master closes */
  node: TmpNode | null = null;

  constructor(
    readonly index: number,
    /** st_rdev of the slave (136, index) */
    rdev: number,
    /** the kernel's side: signals from the terminal to its foreground group, its hangup */
    readonly term: TerminalControl,
  ) {
    this.ctrl.rdev = rdev;
    this.ldisc = new LineDiscipline(
      (sig) => this.term.signalForeground(this.ctrl, sig),
      (status) => this.notify(status),
    );
  }

  wake(): void {
    this.slaveQueue.wake();
    this.masterQueue.wake();
  }

  /** a status change a packet-mode master reads (Linux keeps a flush or a stop/start, whichever came last) */
  notify(status: number): void {
    if (!this.packet) return;
    this.pktstatus = (this.pktstatus & ~(PKT_CANCELS.get(status) ?? 0)) | status;
    this.masterQueue.wake();
  }

  /**
   * TIOCSTI (Linux's tiocsti): the byte at arg goes into this side's input as
   * if typed: the slave's line discipline, or what the master reads. Only on
   * the caller's controlling terminal (a master never is one) or with
   * CAP_SYS_ADMIN; EIO without CAP_SYS_ADMIN when the host kernel (whose
   * version the guest sees) has dev.tty.legacy_tiocsti off.
   */
  sti(t: IoContext, arg: number, master: boolean): number {
    const admin = (t.cred.caps.eff & CAP_SYS_ADMIN) !== 0n;
    if (!legacyTiocsti() && !admin) fail(E.EIO);
    if ((master || t.terminal.controlling(t) !== this.ctrl) && !admin) fail(E.EPERM);
    const c = t.mm.u8(arg);
    if (master) {
      this.ldisc.output.push(c);
      this.masterQueue.wake();
    } else {
      this.ldisc.inject(c);
      this.wake();
    }
    return 0;
  }

  /** the requests both sides answer, for the slave's terminal; null for another request */
  modeIoctl(t: IoContext, req: number, arg: number, master: boolean): number | null {
    const ld = this.ldisc;
    switch (req) {
      case TIOCSTI:
        return this.sti(t, arg, master);
      case TCGETS:
        t.mm.write(arg, ld.termios);
        return 0;
      case TCSETS:
      case TCSETSW:
      case TCSETSF: {
        if (!master) t.terminal.check(t, this.ctrl, SIG.SIGTTOU);
        const b = t.mm.read(arg, TERMIOS_SIZE);
        if (req === TCSETSF) ld.flushInput();
        const stop = doStop(ld.termios);
        ld.setTermios(b);
        if (doStop(ld.termios) !== stop) this.notify(stop ? TIOCPKT_NOSTOP : TIOCPKT_DOSTOP);
        this.wake();
        return 0;
      }
      case TIOCGWINSZ:
        t.mm.write(arg, this.winsize);
        return 0;
      case TIOCSWINSZ: {
        // Linux's tty_do_resize: a change of size signals the foreground group
        const b = t.mm.read(arg, WINSIZE_SIZE);
        if (!b.equals(this.winsize)) {
          b.copy(this.winsize);
          this.term.signalForeground(this.ctrl, SIG.SIGWINCH);
        }
        return 0;
      }
      case FIONREAD:
        t.mm.setI32(arg, master ? ld.output.length : ld.available);
        return 0;
      case TIOCOUTQ:
        // a pty keeps no output of its own: what is written is the other side's input at once
        t.mm.setI32(arg, 0);
        return 0;
      case TCSBRK:
        // tcdrain, tcsendbreak: nothing waits to be sent, and a pty has no line to break
        if (!master) t.terminal.check(t, this.ctrl, SIG.SIGTTOU);
        return 0;
      case TCXONC: {
        if (!master) t.terminal.check(t, this.ctrl, SIG.SIGTTOU);
        if (arg === TCOOFF || arg === TCOON) {
          if (!master) ld.setStopped(arg === TCOOFF);
        } else if (arg === TCIOFF || arg === TCION) {
          // the STOP or START character sent to the other side
          const c = ld.cc(arg === TCIOFF ? VSTOP : VSTART);
          if (c !== 0) master ? ld.receive(Uint8Array.of(c)) : ld.output.push(c);
        } else fail(E.EINVAL);
        this.wake();
        return 0;
      }
      case TCFLSH: {
        if (!master) t.terminal.check(t, this.ctrl, SIG.SIGTTOU);
        if (arg !== TCIFLUSH && arg !== TCOFLUSH && arg !== TCIOFLUSH) fail(E.EINVAL);
        // the slave's input is the master's output: each side flushes what it would read, or would have written
        const input = arg !== TCOFLUSH;
        const output = arg !== TCIFLUSH;
        if (master ? output : input) {
          ld.flushInput();
          this.notify(TIOCPKT_FLUSHREAD);
        }
        if (master ? input : output) {
          ld.output = [];
          this.notify(TIOCPKT_FLUSHWRITE);
        }
        this.wake();
        return 0;
      }
      default:
        return null;
    }
  }
}

/** st_rdev as Linux encodes it (new_encode_dev): minors above 255 go above the major */
export function encodeDev(major: number, minor: number): number {
  return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}
export const PTS_MAJOR = 136;

/** The guest's ptys, by index: what /dev/ptmx allocates and /dev/pts/N opens. */
export class Ptys {
  readonly all = new Map<number, Pty>();

  /** a new pty, at the lowest index free here and not `taken` */
  alloc(term: TerminalControl, taken: (i: number) => boolean): Pty {
    let i = 0;
    while (this.all.has(i) || taken(i)) i++;
    const p = new Pty(i, encodeDev(PTS_MAJOR, i), term);
    this.all.set(i, p);
    return p;
  }

  /** the pty whose slave is this terminal, if it is one */
  of(tty: TtyCtrl): Pty | null {
    if (!tty.pty) return null;
    for (const p of this.all.values()) if (p.ctrl === tty) return p;
    return null;
  }
}

export class PtyMaster extends FileDescription {
  constructor(
    readonly pty: Pty,
    flags: number,
    private readonly node: TmpNode,
    private readonly onClose: (p: Pty) => void,
  ) {
    super(flags);
  }

  /** the slave has closed (after it was opened once): Linux's TTY_OTHER_CLOSED */
  private get otherClosed(): boolean {
    return this.pty.slaveOpened && this.pty.slaves === 0;
  }

  override read(t: IoContext, addr: number, len: number): number {
    const p = this.pty;
    const ld = p.ldisc;
    if (len === 0) return 0;
    t.mm.check(addr, len, PROT_WRITE);
    if (p.packet && p.pktstatus !== 0) {
      // packet mode: a status change is read alone
      t.mm.write(addr, Uint8Array.of(p.pktstatus));
      p.pktstatus = 0;
      return 1;
    }
    if (ld.output.length === 0) {
      if (this.otherClosed) fail(E.EIO);
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      t.block([p.masterQueue]);
    }
    const head = p.packet ? [TIOCPKT_DATA] : [];
    const bytes = head.concat(ld.output.splice(0, len - head.length));
    t.mm.write(addr, Uint8Array.from(bytes));
    p.slaveQueue.wake();
    return bytes.length;
  }

  override write(t: IoContext, addr: number, len: number): number {
    const p = this.pty;
    const ld = p.ldisc;
    if (len === 0) return 0;
    t.mm.check(addr, len, PROT_READ);
    if (ld.full) {
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      t.block([p.masterQueue]);
    }
    // what the slave's input has room for; the rest waits
    const n = Math.min(len, Math.max(1, ld.room));
    ld.receive(t.mm.read(addr, n));
    p.wake();
    return n;
  }

  override poll(_t: IoContext, _events: number): number {
    const p = this.pty;
    // n_tty_poll on the master: readable output, a packet status (POLLPRI), the slave closed (POLLHUP)
    let r = p.ldisc.full ? 0 : POLLOUT | POLLWRNORM;
    if (p.ldisc.output.length > 0) r |= POLLIN | POLLRDNORM;
    if (p.packet && p.pktstatus !== 0) r |= POLLPRI | POLLIN | POLLRDNORM;
    if (this.otherClosed) r |= POLLHUP;
    return r;
  }
  override pollQueues(): WaitQueue[] {
    return [this.pty.masterQueue];
  }
  override get fasyncStyle(): FasyncStyle {
    return 'tty';
  }

  override ioctl(t: IoContext, req: number, arg: number): number {
    const p = this.pty;
    switch (req) {
      case TIOCGPTN:
        t.mm.setI32(arg, p.index);
        return 0;
      case TIOCSPTLCK:
        p.locked = t.mm.i32(arg) !== 0;
        return 0;
      case TIOCGPTLCK:
        t.mm.setI32(arg, p.locked ? 1 : 0);
        return 0;
      case TIOCPKT: {
        const on = t.mm.i32(arg) !== 0;
        if (on && !p.packet) p.pktstatus = 0;
        p.packet = on;
        return 0;
      }
      case TIOCGPKT:
        t.mm.setI32(arg, p.packet ? 1 : 0);
        return 0;
      case TIOCSIG:
        // Linux's pty_signal: only the keyboard's signals, to the slave's foreground group
        if (arg !== SIG.SIGINT && arg !== SIG.SIGQUIT && arg !== SIG.SIGTSTP) fail(E.EINVAL);
        p.term.signalForeground(p.ctrl, arg);
        return 0;
    }
    const r = p.modeIoctl(t, req, arg, true);
    if (r !== null) return r;
    // the job-control requests on the master answer for the slave, whoever asks (Linux's tty != real_tty)
    return t.terminal.jobIoctl(t, p.ctrl, req, arg, this.readable, true) ?? fail(E.ENOTTY);
  }

  /** TIOCGPTPEER: the slave opened through the master (`flags` as open's), without a path walk */
  openPeer(t: IoContext, flags: number): PtySlave {
    const p = this.pty;
    if (p.node === null) fail(E.EIO);
    return openSlave(t, p, flags, p.node);
  }

  override statBytes(_t: IoContext): Uint8Array {
    return this.node.stat();
  }

  override release(): void {
    const p = this.pty;
    p.hungUp = true;
    p.term.hangup(p.ctrl);
    this.onClose(p);
    p.wake();
  }
}

export class PtySlave extends FileDescription {
  constructor(
    readonly pty: Pty,
    flags: number,
    private readonly node: TmpNode,
  ) {
    super(flags);
    pty.slaves++;
    pty.slaveOpened = true;
  }

  override read(t: IoContext, addr: number, len: number): number {
    const p = this.pty;
    const ld = p.ldisc;
    // a hung-up terminal reads end of file (hung_up_tty_read)
    if (p.hungUp) return 0;
    t.terminal.check(t, p.ctrl, SIG.SIGTTIN);
    if (len === 0) return 0;
    t.mm.check(addr, len, PROT_WRITE);
    if (!ld.canonical && ld.vmin === 0 && ld.vtime === 0) return this.take(t, addr, len);
    // the read's start, kept across its retries: VTIME's timers run from it
    if (!t.restarting || t.restartState === null) t.restartState = nowMs();
    const wait = this.waitFor(t.restartState, len);
    if (wait !== 0) {
      if (this.flags & O_NONBLOCK) {
        // a non-blocking raw read takes what there is (n_tty_read copies, then finds no more)
        if (!ld.canonical && ld.input.length > 0) return this.take(t, addr, len);
        fail(E.EAGAIN);
      }
      t.block([p.slaveQueue], wait === Infinity ? {} : { deadline: wait });
    }
    return this.take(t, addr, len);
  }

  private take(t: IoContext, addr: number, len: number): number {
    const p = this.pty;
    const bytes = p.ldisc.take(len);
    if (bytes.length > 0) t.mm.write(addr, Uint8Array.from(bytes));
    p.masterQueue.wake();
    return bytes.length;
  }

  /**
   * Linux's n_tty_read conditions: 0 when the read may return now, else
   * when its wait ends (Infinity: when input comes). Canonical: a line (or
   * end of file). Raw with VMIN 0: any byte, or VTIME tenths of a second
   * from the read's start; with VMIN: VMIN bytes (at most the read's
   * length), or VTIME after the last byte came once one has.
   */
  private waitFor(start: number, len: number): number {
    const ld = this.pty.ldisc;
    if (ld.canonical) return ld.hasInput ? 0 : Infinity;
    const have = ld.input.length;
    const time = ld.vtime * 100;
    if (ld.vmin === 0) {
      if (have > 0 || nowMs() >= start + time) return 0;
      return start + time;
    }
    if (have >= Math.min(ld.vmin, len)) return 0;
    if (have === 0 || time === 0) return Infinity;
    const due = Math.max(start, ld.lastInput) + time;
    return nowMs() >= due ? 0 : due;
  }

  override write(t: IoContext, addr: number, len: number): number {
    const p = this.pty;
    if (p.hungUp) fail(E.EIO);
    if (p.ldisc.lflag & TOSTOP) t.terminal.check(t, p.ctrl, SIG.SIGTTOU);
    if (len === 0) return 0;
    t.mm.check(addr, len, PROT_READ);
    if (p.ldisc.stopped || p.ldisc.output.length >= OUTPUT_MAX) {
      if (this.flags & O_NONBLOCK) fail(E.EAGAIN);
      t.block([p.slaveQueue]);
    }
    const n = Math.min(len, OUTPUT_MAX);
    p.ldisc.out(t.mm.read(addr, n));
    p.masterQueue.wake();
    return n;
  }

  override poll(_t: IoContext, _events: number): number {
    const p = this.pty;
    if (p.hungUp) return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLERR | POLLHUP;
    let r = 0;
    if (p.ldisc.hasInput) r |= POLLIN | POLLRDNORM;
    if (!p.ldisc.stopped && p.ldisc.output.length < OUTPUT_MAX) r |= POLLOUT | POLLWRNORM;
    return r;
  }
  override pollQueues(): WaitQueue[] {
    return [this.pty.slaveQueue];
  }
  override get fasyncStyle(): FasyncStyle {
    return 'tty';
  }

  override ioctl(t: IoContext, req: number, arg: number): number {
    const p = this.pty;
    // a hung-up terminal (Linux's hung_up_tty_ioctl)
    if (p.hungUp) fail(req === TIOCSPGRP ? E.ENOTTY : E.EIO);
    const r = p.modeIoctl(t, req, arg, false);
    if (r !== null) return r;
    return t.terminal.jobIoctl(t, p.ctrl, req, arg, this.readable) ?? fail(E.ENOTTY);
  }

  override statBytes(_t: IoContext): Uint8Array {
    return this.node.stat();
  }

  override release(): void {
    const p = this.pty;
    p.slaves--;
    p.masterQueue.wake();
  }
}

/** open(2) of /dev/pts/N (or /dev/tty, or TIOCGPTPEER): EIO while locked or hung up; a session leader without a terminal takes it (unless O_NOCTTY). */
export function openSlave(t: IoContext, p: Pty, flags: number, node: TmpNode): PtySlave {
  if (p.locked || p.hungUp) fail(E.EIO);
  const f = new PtySlave(p, flags, node);
  if (!(flags & O_NOCTTY)) t.terminal.opened(t, p.ctrl, f.readable);
  return f;
}
