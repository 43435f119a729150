// The line discipline of elfrun's pseudo-terminals, as Linux's n_tty: what
// the master writes is the slave's input (ICRNL and friends, ISIG's ^C ^\ ^Z
// to the foreground group, IXON's ^S ^Q, canonical lines with n_tty's
// editing: erase, word erase, kill, reprint, literal next, end of file;
// echo with ECHOCTL, ECHOE, ECHOPRT, ECHOK and ECHOKE), and what the slave
// writes is output processed (OPOST: ONLCR, OCRNL, ONOCR, ONLRET) for the
// master to read. Output and echo keep n_tty's column, from which an erased
// tab's width is worked out; with IUTF8 a character is its bytes. VDISCARD
// (^O) is data, as n_tty has no discard. The termios is the pair's
// (TCGETS on either side), in the kernel's struct termios layout.
import { SIG } from '../abi/signal.js';
import {
  B38400, CREAD, CS8, ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, ICANON, ICRNL, IEXTEN, IGNCR, INLCR, ISIG, ISTRIP, IUCLC, IXANY, IXON,
  NOFLSH, OCRNL, ONLCR, ONLRET, ONOCR, OPOST, ECHOPRT, VREPRINT, IUTF8, TERMIOS_CC, TERMIOS_SIZE, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT, VMIN, VQUIT, VSTART, VSTOP,
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
  /** the output's column (n_tty's ldata->column), and where the line being typed started (canon_column) */
  private column = 0;
  private canonColumn = 0;
  /** ECHOPRT: between the '\\' and the '/' of erased characters */
  private erasing = false;
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
    // n_tty_set_termios: a change of ICANON ends an ECHOPRT erase and a pending ^V
    if (wasCanon !== this.canonical) {
      this.erasing = false;
      this.literal = false;
    }
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
    // n_tty's reset_buffer_flags: no ECHOPRT erase or ^V pending either
    this.erasing = false;
    this.literal = false;
  }

  // ---- echoes, as n_tty's echo buffer and process_echoes write them -----------

  /** echo_char_raw: the byte as output (OPOST processing, the column) */
  private echoRaw(c: number): void {
    this.out([c]);
  }

  /** echo_char: a control character other than a tab as ^X with ECHOCTL (two columns, no output processing), else as it is */
  private echoChar(c: number): void {
    if (this.lflag & ECHOCTL && isCntrl(c) && c !== 9) {
      this.output.push(0x5e, c ^ 0x40);
      this.column += 2;
    } else this.echoRaw(c);
  }

  /** finish_erasing: ECHOPRT's erased characters end with '/' */
  private finishErasing(): void {
    if (!this.erasing) return;
    this.echoRaw(0x2f);
    this.erasing = false;
  }

  /** echo_set_canon_col: the first character of a line records the column it starts at (a tab's erase counts from it) */
  private setCanonCol(): void {
    if (this.line.length === 0) this.canonColumn = this.column;
  }

  /** ECHO_OP_ERASE_TAB: back over a tab, by the columns the characters before it in its tab stop took */
  private eraseTab(chars: number, afterTab: boolean): void {
    let n = chars & 7;
    if (!afterTab) n += this.canonColumn;
    for (let bs = 8 - (n & 7); bs > 0; bs--) {
      this.output.push(8);
      if (this.column > 0) this.column--;
    }
  }

  /**
   * n_tty's eraser: VERASE takes one character, VWERASE a word (BSD's
   * ALTWERASE: alphanumerics and _ after anything else), VKILL the line;
   * each erased character echoed as ECHOPRT, ECHOE and ECHOCTL say.
   */
  private eraser(c: number, kind: 'erase' | 'werase' | 'kill'): void {
    const lflag = this.lflag;
    if (this.line.length === 0) return;
    if (kind === 'kill') {
      if (!(lflag & ECHO)) {
        this.line = [];
        return;
      }
      if ((lflag & (ECHOK | ECHOKE | ECHOE)) !== (ECHOK | ECHOKE | ECHOE)) {
        this.line = [];
        this.finishErasing();
        this.echoChar(c);
        // a newline after the kill character with ECHOK (and not ECHOKE)
        if (lflag & ECHOK) this.echoRaw(10);
        return;
      }
    }
    let seenAlnum = false;
    const utf8 = (this.iflag & IUTF8) !== 0;
    const cont = (b: number): boolean => utf8 && (b & 0xc0) === 0x80;
    while (this.line.length > 0) {
      // one character: with IUTF8, its continuation bytes and the byte that leads them (never part of one)
      let at = this.line.length - 1;
      while (cont(this.line[at]) && at > 0) at--;
      const d = this.line[at];
      if (cont(d)) break;
      if (kind === 'werase') {
        if (isAlnum(d) || d === 0x5f) seenAlnum = true;
        else if (seenAlnum) break;
      }
      const bytes = this.line.splice(at);
      if (lflag & ECHO) {
        if (lflag & ECHOPRT) {
          if (!this.erasing) {
            this.echoRaw(0x5c);
            this.erasing = true;
          }
          this.echoChar(d);
          // the rest of a multibyte character, which takes no column of its own
          for (const b of bytes.slice(1)) {
            this.echoRaw(b);
            if (this.column > 0) this.column--;
          }
        } else if (kind === 'erase' && !(lflag & ECHOE)) {
          this.echoChar(this.cc(VERASE));
        } else if (d === 9) {
          // the columns of what precedes the tab back to the line's start or an earlier tab
          let chars = 0;
          let afterTab = false;
          for (let i = this.line.length - 1; i >= 0; i--) {
            const e = this.line[i];
            if (e === 9) {
              afterTab = true;
              break;
            } else if (isCntrl(e)) {
              if (lflag & ECHOCTL) chars += 2;
            } else if (!cont(e)) chars++;
          }
          this.eraseTab(chars, afterTab);
        } else {
          if (isCntrl(d) && lflag & ECHOCTL) this.out([8, 32, 8]);
          if (!isCntrl(d) || lflag & ECHOCTL) this.out([8, 32, 8]);
        }
      }
      if (kind === 'erase') break;
    }
    if (this.line.length === 0 && lflag & ECHO) this.finishErasing();
  }

  /** The master writes: each byte is the slave's input. */
  receive(bytes: Uint8Array): void {
    this.lastInput = nowMs();
    for (const c of bytes) this.receiveByte(c);
  }

  /** TIOCSTI: one byte pushed into the input, as if typed */
  inject(c: number): void {
    this.receive(Uint8Array.of(c));
  }

  private receiveByte(c: number): void {
    const iflag = this.iflag;
    const lflag = this.lflag;
    if (iflag & ISTRIP) c &= 0x7f;
    if (iflag & IUCLC && lflag & IEXTEN && c >= 65 && c <= 90) c += 32;
    if (this.literal) {
      // n_tty_receive_char_lnext: the byte as an ordinary one, whatever it is
      this.literal = false;
      this.ordinary(c);
      return;
    }
    if (iflag & IXON) {
      if (c === this.cc(VSTART) && c !== 0) {
        this.setStopped(false);
        return;
      }
      if (c === this.cc(VSTOP) && c !== 0) {
        this.setStopped(true);
        return;
      }
    }
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
        if (lflag & ECHO) this.echoChar(c);
        return;
      }
    }
    if (this.stopped && iflag & IXON && iflag & IXANY) this.setStopped(false);
    // a newline goes through n_tty's special path (echoed as a newline, not ^J) in canonical mode, or made from a CR
    let special = (lflag & ICANON) !== 0 && c === 10;
    if (c === 13) {
      if (iflag & IGNCR) return;
      if (iflag & ICRNL) {
        c = 10;
        special = true;
      }
    } else if (c === 10 && iflag & INLCR) c = 13;
    if (lflag & ICANON && this.canonChar(c)) return;
    if (lflag & ECHO) {
      this.finishErasing();
      if (c === 10 && special) this.echoRaw(10);
      else {
        this.setCanonCol();
        this.echoChar(c);
      }
    }
    this.queue(c);
  }

  /** n_tty_receive_char: an ordinary byte, echoed and queued */
  private ordinary(c: number): void {
    if (this.stopped && this.iflag & IXON && this.iflag & IXANY) this.setStopped(false);
    if (this.lflag & ECHO) {
      this.finishErasing();
      this.setCanonCol();
      this.echoChar(c);
    }
    this.queue(c);
  }

  private queue(c: number): void {
    if (this.canonical) this.line.push(c);
    else this.input.push(c);
  }

  /** n_tty_receive_char_canon: the editing and line-ending characters; false for any other */
  private canonChar(c: number): boolean {
    const lflag = this.lflag;
    const is = (i: number): boolean => c === this.cc(i) && c !== 0;
    const iexten = (lflag & IEXTEN) !== 0;
    if (is(VERASE) || is(VKILL) || (iexten && is(VWERASE))) {
      this.eraser(c, is(VERASE) ? 'erase' : is(VWERASE) ? 'werase' : 'kill');
      return true;
    }
    if (iexten && is(VLNEXT)) {
      this.literal = true;
      if (lflag & ECHO) {
        this.finishErasing();
        // "^" then a backspace: the literal character's echo overwrites it
        if (lflag & ECHOCTL) this.out([0x5e, 8]);
      }
      return true;
    }
    if (iexten && lflag & ECHO && is(VREPRINT)) {
      // the line so far, again on a line of its own
      this.finishErasing();
      this.echoChar(c);
      this.echoRaw(10);
      for (const d of this.line) this.echoChar(d);
      return true;
    }
    if (c === 10) {
      if (lflag & (ECHO | ECHONL)) this.echoRaw(10);
      this.line.push(c);
      this.endLine(false);
      return true;
    }
    if (is(VEOF)) {
      // the line so far is readable; alone, it reads as end of file
      this.endLine(true);
      return true;
    }
    if (is(VEOL) || (iexten && is(VEOL2))) {
      if (lflag & ECHO) {
        this.setCanonCol();
        this.echoChar(c);
      }
      this.line.push(c);
      this.endLine(false);
      return true;
    }
    return false;
  }

  private endLine(eof: boolean): void {
    this.lines.push({ bytes: this.line, eof });
    this.line = [];
  }

  /** The slave writes (and echoes): output processing as n_tty's do_output_char, with its column; then the master may read it. */
  out(bytes: ArrayLike<number>): void {
    const oflag = this.oflag;
    if (!(oflag & OPOST)) {
      for (let i = 0; i < bytes.length; i++) this.output.push(bytes[i]);
      return;
    }
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      switch (c) {
        case 10:
          if (oflag & ONLRET) this.column = 0;
          if (oflag & ONLCR) {
            this.canonColumn = this.column = 0;
            this.output.push(13, 10);
            continue;
          }
          this.canonColumn = this.column;
          break;
        case 13:
          if (oflag & ONOCR && this.column === 0) continue;
          if (oflag & OCRNL) {
            if (oflag & ONLRET) this.canonColumn = this.column = 0;
            this.output.push(10);
            continue;
          }
          this.canonColumn = this.column = 0;
          break;
        case 9:
          this.column += 8 - (this.column & 7);
          break;
        case 8:
          if (this.column > 0) this.column--;
          break;
        default:
          // a UTF-8 continuation byte takes no column of its own
          if (!isCntrl(c) && !(this.iflag & IUTF8 && (c & 0xc0) === 0x80)) this.column++;
      }
      this.output.push(c);
    }
  }
}

/** the kernel's iscntrl (lib/ctype.c: C0 and DEL; its table leaves 128-159 unclassified) */
const isCntrl = (c: number): boolean => c < 32 || c === 127;
/** the kernel's isalnum: ASCII letters and digits, and Latin-1's letters */
const isAlnum = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 192 && c !== 215 && c !== 247);
