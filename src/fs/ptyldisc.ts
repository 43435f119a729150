// The line discipline of elfrun's pseudo-terminals, as Linux's n_tty: what
// the master writes is the slave's input (ICRNL and friends, ISIG's ^C ^\ ^Z
// to the foreground group, IXON's ^S ^Q, canonical lines with erase, kill
// and end of file, echo), and what the slave writes is output processed
// (OPOST: ONLCR, OCRNL) for the master to read. The termios is the pair's
// (TCGETS on either side), in the kernel's struct termios layout.
import { SIG } from '../abi/signal.js';
import {
  B38400, CREAD, CS8, ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, ICANON, ICRNL, IEXTEN, IGNCR, INLCR, ISIG, ISTRIP, IUCLC, IXANY, IXON,
  NOFLSH, OCRNL, ONLCR, ONOCR, OPOST, TERMIOS_CC, TERMIOS_SIZE, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT, VMIN, VQUIT, VSTART, VSTOP,
  VSUSP, VTIME, VWERASE, TIOCPKT_FLUSHREAD, TIOCPKT_FLUSHWRITE, TIOCPKT_START, TIOCPKT_STOP,
} from '../abi/ioctl.js';
import { nowMs } from '../host/clock.js';

/** what the slave's unread input may hold before a master write waits for the slave to read */
export const INPUT_MAX = 65536;

/** the termios of a new pty (Linux's tty_std_termios with the pts driver's c_cflag B38400|CS8|CREAD) */
export function defaultTermios(): Buffer {
  const b = Buffer.alloc(TERMIOS_SIZE);
  b.writeUInt32LE(ICRNL | IXON, 0);
  b.writeUInt32LE(OPOST | ONLCR, 4);
  b.writeUInt32LE(B38400 | CS8 | CREAD, 8);
  b.writeUInt32LE(ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN, 12);
  // INTR QUIT ERASE KILL EOF TIME MIN SWTC START STOP SUSP EOL REPRINT DISCARD WERASE LNEXT EOL2
  Buffer.from([3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0]).copy(b, TERMIOS_CC);
  return b;
}

/** The discipline of one pair: the slave's input (lines, or raw bytes) and its processed output. */
export class LineDiscipline {
  termios = defaultTermios();
  /** raw mode: the bytes the slave may read */
  input: number[] = [];
  /** canonical mode: complete lines the slave may read (one ended by VEOF has `eof`: its VEOF byte is no data) */
  lines: Array<{ bytes: number[]; eof: boolean }> = [];
  /** canonical mode: the line being typed */
  line: number[] = [];
  /** what the master reads */
  output: number[] = [];
  /** output stopped by ^S (IXON) */
  stopped = false;
  /** ^V: the next character is literal */
  private literal = false;
  /** when input last arrived (nowMs): VTIME's inter-byte timer runs from it */
  lastInput = 0;

  constructor(
    /** a signal to the slave's foreground group */
    private readonly signal: (sig: number) => void,
    /** what a packet-mode master is told (TIOCPKT_FLUSHREAD, _STOP, ...) */
    private readonly notify: (status: number) => void,
  ) {}

  /** ^S / ^Q (IXON) and tcflow: the slave's output stops or starts */
  setStopped(on: boolean): void {
    if (this.stopped === on) return;
    this.stopped = on;
    this.notify(on ? TIOCPKT_STOP : TIOCPKT_START);
  }

  get iflag(): number {
    return this.termios.readUInt32LE(0);
  }
  get oflag(): number {
    return this.termios.readUInt32LE(4);
  }
  get lflag(): number {
    return this.termios.readUInt32LE(12);
  }
  cc(i: number): number {
    return this.termios[TERMIOS_CC + i];
  }
  get canonical(): boolean {
    return (this.lflag & ICANON) !== 0;
  }
  get vmin(): number {
    return this.cc(VMIN);
  }
  get vtime(): number {
    return this.cc(VTIME);
  }

  /** tcsetattr: leaving canonical mode makes the lines and the typed line raw input; entering it makes raw input a line */
  setTermios(b: Uint8Array): void {
    const wasCanon = this.canonical;
    this.termios.set(b.subarray(0, TERMIOS_SIZE), 0);
    if (wasCanon && !this.canonical) {
      for (const l of this.lines) this.input.push(...l.bytes);
      this.input.push(...this.line);
      this.lines = [];
      this.line = [];
    } else if (!wasCanon && this.canonical && this.input.length > 0) {
      this.lines.push({ bytes: this.input, eof: false });
      this.input = [];
    }
  }

  /** Is there something for a slave read (canonical: a complete line, or an end of file)? */
  get hasInput(): boolean {
    return this.canonical ? this.lines.length > 0 : this.input.length > 0;
  }

  /** bytes a read may take now (FIONREAD) */
  get available(): number {
    if (!this.canonical) return this.input.length;
    let n = 0;
    for (const l of this.lines) n += l.bytes.length;
    return n;
  }

  /** how many more bytes the slave's input takes; a master write waits at 0 */
  get room(): number {
    return Math.max(0, INPUT_MAX - this.available - this.line.length);
  }
  get full(): boolean {
    return this.room === 0;
  }

  /** Take up to n bytes of input for a slave read (canonical: of the first line only; an end of file gives none). */
  take(n: number): number[] {
    if (!this.canonical) return this.input.splice(0, n);
    const l = this.lines[0];
    if (l === undefined) return [];
    const out = l.bytes.splice(0, n);
    if (l.bytes.length === 0) this.lines.shift();
    return out;
  }

  /** Flush the slave's pending input (a signal from ISIG without NOFLSH, TCFLSH). */
  flushInput(): void {
    this.input = [];
    this.lines = [];
    this.line = [];
  }

  private echoChar(c: number): void {
    const l = this.lflag;
    if (!(l & ECHO)) return;
    if (l & ECHOCTL && (c < 32 || c === 127) && c !== 9 && c !== 10) this.out([0x5e, c ^ 0x40]);
    else this.out([c]);
  }

  private erase(n: number): void {
    if (!(this.lflag & ECHO)) return;
    for (let i = 0; i < n; i++) this.out(this.lflag & ECHOE ? [8, 32, 8] : [this.cc(VERASE)]);
  }

  /** The master writes: each byte is the slave's input. */
  receive(bytes: Uint8Array): void {
    this.lastInput = nowMs();
    const iflag = this.iflag;
    const lflag = this.lflag;
    for (let c of bytes) {
      if (iflag & ISTRIP) c &= 0x7f;
      if (iflag & IUCLC && lflag & IEXTEN && c >= 65 && c <= 90) c += 32;
      if (this.literal) {
        this.literal = false;
        this.put(c);
        continue;
      }
      if (iflag & IXON) {
        if (c === this.cc(VSTART) && c !== 0) {
          this.setStopped(false);
          continue;
        }
        if (c === this.cc(VSTOP) && c !== 0) {
          this.setStopped(true);
          continue;
        }
      }
      if (c === 13) {
        if (iflag & IGNCR) continue;
        if (iflag & ICRNL) c = 10;
      } else if (c === 10 && iflag & INLCR) c = 13;
      if (lflag & ISIG) {
        const sig = c === this.cc(VINTR) ? SIG.SIGINT : c === this.cc(VQUIT) ? SIG.SIGQUIT : c === this.cc(VSUSP) ? SIG.SIGTSTP : 0;
        if (sig !== 0 && c !== 0) {
          // n_tty's isig: the signal, then (without NOFLSH) both queues flushed; output restarts, the character is echoed
          this.signal(sig);
          if (!(lflag & NOFLSH)) {
            this.flushInput();
            this.output = [];
            this.notify(TIOCPKT_FLUSHREAD | TIOCPKT_FLUSHWRITE);
          }
          if (iflag & IXON) this.setStopped(false);
          this.echoChar(c);
          continue;
        }
      }
      if (this.stopped && iflag & IXON && iflag & IXANY) this.setStopped(false);
      if (lflag & ICANON) {
        if (c === this.cc(VERASE) && c !== 0) {
          if (this.line.length > 0) {
            const d = this.line.pop()!;
            this.erase(lflag & ECHOCTL && (d < 32 || d === 127) ? 2 : 1);
          }
          continue;
        }
        if (c === this.cc(VKILL) && c !== 0) {
          // n_tty's eraser: the line erased character by character with ECHOK, ECHOKE and ECHOE, else the kill character echoed
          if ((lflag & (ECHOK | ECHOKE | ECHOE)) === (ECHOK | ECHOKE | ECHOE)) this.erase(this.line.length);
          else {
            this.echoChar(c);
            if (lflag & ECHOK) this.out([10]);
          }
          this.line = [];
          continue;
        }
        if (lflag & IEXTEN && c === this.cc(VWERASE) && c !== 0) {
          let n = 0;
          while (this.line.length > 0 && this.line[this.line.length - 1] === 32) {
            this.line.pop();
            n++;
          }
          while (this.line.length > 0 && this.line[this.line.length - 1] !== 32) {
            this.line.pop();
            n++;
          }
          this.erase(n);
          continue;
        }
        if (lflag & IEXTEN && c === this.cc(VLNEXT) && c !== 0) {
          this.literal = true;
          continue;
        }
        if (c === this.cc(VEOF) && c !== 0) {
          // the line so far is readable; alone, it reads as end of file
          this.lines.push({ bytes: this.line, eof: true });
          this.line = [];
          continue;
        }
        if (c === 10 || (c === this.cc(VEOL) && c !== 0) || (c === this.cc(VEOL2) && c !== 0)) {
          if (c === 10) {
            if (lflag & (ECHO | ECHONL)) this.out([c]);
          } else this.echoChar(c);
          this.line.push(c);
          this.lines.push({ bytes: this.line, eof: false });
          this.line = [];
          continue;
        }
      }
      this.put(c);
    }
  }

  private put(c: number): void {
    this.echoChar(c);
    if (this.canonical) this.line.push(c);
    else this.input.push(c);
  }

  /** The slave writes: output processing, then the master may read it. */
  out(bytes: ArrayLike<number>): void {
    const oflag = this.oflag;
    if (!(oflag & OPOST)) {
      for (let i = 0; i < bytes.length; i++) this.output.push(bytes[i]);
      return;
    }
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === 10 && oflag & ONLCR) this.output.push(13, 10);
      else if (c === 13 && oflag & OCRNL) this.output.push(10);
      else if (c === 13 && oflag & ONOCR) continue;
      else this.output.push(c);
    }
  }
}
