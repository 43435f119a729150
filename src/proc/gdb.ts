// A gdb stub: the GDB remote serial protocol over TCP (`elfrun run --gdb
// HOST:PORT`), as qemu-user's -g gives it, for the first process and its
// threads. All-stop: while gdb has the guest stopped, no guest task runs.
//
// What it speaks: qSupported (swbreak, hwbreak, qXfer:features:read,
// qXfer:auxv:read, qXfer:libraries-svr4:read: the dynamic linker's list,
// read from guest memory through DT_DEBUG as gdbserver does,
// qXfer:exec-file:read, qXfer:siginfo:read), ?, a target description
// (target.xml and one file per feature, as gdbserver describes a Linux
// process: x86_64 core, SSE with mxcsr, orig_rax, fs_base and gs_base;
// aarch64 core, fpsimd and tpidr), g/G and p/P numbered as it says, m/M/X
// (reads show the memory without the stub's breakpoints), Z0/Z1
// breakpoints (the trap instruction, int3 or brk #0, for both), Z2/Z3/Z4
// watchpoints of any length (gdb-watch.ts: page protection, stops after the
// access with watch:/rwatch:/awatch:), c/C/s/S, H, T, qfThreadInfo/
// qsThreadInfo, qC, qAttached, ^C, D and k; signals in gdb's numbering. A
// stop reply names the signal and thread, and `swbreak` or `hwbreak` at a
// breakpoint (the pc already back at it). Every signal the process is about
// to take stops it first; gdb's C passes it on, c discards it. A forked
// child is not followed: the breakpoints it inherited are taken out of its
// memory when it reaches one. orig_rax reads as -1 (every stop is at an
// instruction, none inside a system call); writes to it, to the segment
// selectors and to the x87 pointer registers are ignored. Not done: the
// multiprocess extensions, fork and exec events, vFile (gdb reads the
// program and its libraries from the host's files, not the guest's view
// of them under --root or --sandbox).
import { createServer, type Socket } from 'node:net';
import { SIG } from '../abi/signal.js';
import { PROT_WRITE } from '../abi/mman.js';
import { PAGE } from '../mm/layout.js';
import type { Cpu } from '../cpu/engine.js';
import type { Fault } from '../cpu/fault.js';
import { dropSignals, faultSiginfo } from './signals.js';
import type { Kernel } from './kernel.js';
import type { ExitState, Process } from './process.js';
import type { Task } from './task.js';
import { Watchpoints } from './gdb-watch.js';
import { A64_REGS, X86_REGS, auxvBytes, gdbSignal, hex8, le, librariesSvr4, linuxSignal, readReg, targetDescription, unescape, writeReg, xfer, type RegSpec } from './gdb-proto.js';

/** What a stopped thread told gdb, and what gdb said to do about its signal. */
interface Stop {
  sig: number;
  /** a fault that raised it, to deliver if gdb passes the signal on */
  fault: Fault | null;
}

/** The siginfo gdb's $_siginfo shows for a stop: the fault's, or the pending signal's queued one. */
function stopSiginfo(k: Kernel, t: Task, s: Stop): Buffer {
  if (s.fault !== null) return faultSiginfo(s.sig, s.fault.code ?? 0, s.fault.addr);
  const q = t.siginfo.get(s.sig)?.[0] ?? t.proc.siginfo.get(s.sig)?.[0];
  return q ?? k.userInfo(s.sig, 0);
}

export class GdbStub {
  private k: Kernel | null = null;
  private inbuf = '';
  private noAck = false;
  /** all-stop: the guest runs only while this is false */
  halted = true;
  private resumes: Array<() => void> = [];
  /** software breakpoints: address -> the bytes the breakpoint instruction replaced */
  private readonly bps = new Map<number, Buffer>();
  /** the breakpoints of those that gdb asked for as hardware ones (Z1) */
  private readonly hwBps = new Set<number>();
  private readonly watches = new Watchpoints();
  /** a watched page's instruction is being run alone: whether gdb had asked for a step then */
  private stepAfterWatch = false;
  /** the thread for g/G/p/P/m/M (Hg) and for s/c (Hc); 0 or -1: any */
  private gTid = 0;
  private cTid = 0;
  /** the thread to step one instruction at the next resume */
  stepTask: Task | null = null;
  /** the thread whose stop gdb was last told of */
  private current: Task | null = null;
  /** threads stopped with a signal gdb has not answered yet, and those it told us to pass on */
  private readonly reported = new Map<Task, Stop>();
  private readonly passing = new Map<Task, Stop>();
  private interrupt = false;
  private detached = false;
  private threadList: number[] = [];

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.setNoDelay(true);
    sock.on('data', (d: string) => this.onData(d));
    sock.on('close', () => this.detach());
    sock.on('error', () => this.detach());
  }

  /** Listen on host:port and wait for gdb's connection (one line on stderr says where). */
  static listen(host: string, port: number): Promise<GdbStub> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address();
        const where = typeof a === 'object' && a !== null ? `${a.address}:${a.port}` : `${host}:${port}`;
        process.stderr.write(`elfrun: waiting for gdb on ${where}\n`);
      });
      server.once('connection', (sock) => {
        server.close();
        resolve(new GdbStub(sock));
      });
    });
  }

  attach(k: Kernel): void {
    this.k = k;
    this.current = k.init!.threads.values().next().value ?? null;
  }

  /** The debugged process. */
  private get proc(): Process {
    return this.k!.init!;
  }

  // ---- what the scheduler asks --------------------------------------------------

  /** While gdb holds the guest: a promise that settles when it resumes it. */
  gate(): Promise<void> | null {
    if (this.detached) return null;
    if (this.interrupt && !this.halted) {
      // ^C while every thread waits: stop the one gdb last saw
      this.interrupt = false;
      const t = this.current !== null && this.current.state !== 'dead' ? this.current : [...this.proc.threads].find((x) => x.state !== 'dead');
      if (t !== undefined) this.stop(t, { sig: SIG.SIGINT, fault: null });
    }
    if (!this.halted) return null;
    return new Promise((r) => this.resumes.push(r));
  }

  /** Before t runs: true when it must not (it stopped for gdb, and the guest is held). */
  beforeRun(t: Task): boolean {
    if (this.detached || t.proc !== this.proc) return false;
    if (this.watches.stepping === t) return false; // the instruction runs first: signals come after it
    if (this.watches.size > 0) this.watches.protect(t.proc.mm);
    if (this.interrupt) {
      this.interrupt = false;
      this.stop(t, { sig: SIG.SIGINT, fault: null });
      return true;
    }
    const pass = this.passing.get(t);
    if (pass !== undefined) {
      this.passing.delete(t);
      if (pass.fault !== null) this.k!.signals.force(t, pass.sig, pass.fault);
      return false; // a pending signal gdb passed on is delivered by the scheduler
    }
    const sig = nextSignal(t);
    if (sig !== 0 && sig !== SIG.SIGKILL) {
      this.stop(t, { sig, fault: null });
      return true;
    }
    return false;
  }

  /** After t ran (fault: what stopped it, if anything): true when it stopped for gdb. */
  afterRun(t: Task, fault: Fault | null): boolean {
    if (this.detached) return false;
    let stepped = this.stepTask === t;
    this.stepTask = null;
    if (t.proc === this.proc && this.watches.stepping === t) {
      // the instruction that met a watched page ran: a hit stops after it, as a debug trap does
      stepped = this.stepAfterWatch;
      const hit = this.watches.stepped(t);
      if (hit !== null && t.state !== 'dead' && fault === null) {
        this.stop(t, { sig: SIG.SIGTRAP, fault: null }, `${hit.kind}:${hit.addr.toString(16)};`);
        return true;
      }
    }
    const bp = fault !== null && fault.signal === SIG.SIGTRAP ? this.breakpointAt(t) : null;
    if (t.proc !== this.proc) {
      // a forked child ran into a breakpoint it inherited: take it out of its memory and go on
      if (bp === null || t.mm === this.mmOf()) return false;
      this.k!.sched.switchTo(t);
      pokeText(t.mm, bp, this.bps.get(bp)!);
      t.cpu.setPc(bp);
      return true;
    }
    if (bp !== null) {
      t.cpu.setPc(bp);
      this.stop(t, { sig: SIG.SIGTRAP, fault: null }, this.hwBps.has(bp) ? 'hwbreak:;' : 'swbreak:;');
      return true;
    }
    if (fault !== null && this.watches.faulted(t, fault)) {
      this.stepAfterWatch = stepped;
      this.stepTask = t;
      return true;
    }
    if (fault !== null) {
      this.stop(t, { sig: fault.signal, fault });
      return true;
    }
    if (stepped && t.state !== 'dead') {
      this.stop(t, { sig: SIG.SIGTRAP, fault: null });
      return true;
    }
    return false;
  }

  /** The process ended: W (exit code) or X (signal), and the connection closes. */
  exited(state: ExitState): void {
    if (this.detached) return;
    this.send(state.kind === 'exited' ? `W${hex8(state.code)}` : `X${hex8(gdbSignal(state.signal))}`);
    this.detached = true;
    this.sock.end();
  }

  // ---- stops and resumes --------------------------------------------------------

  /** t stops for gdb; `why` names a breakpoint or watchpoint it hit (swbreak:;, watch:ADDR;...). */
  private stop(t: Task, s: Stop, why = ''): void {
    this.halted = true;
    this.current = t;
    this.gTid = this.cTid = t.tid;
    this.reported.set(t, s);
    this.send(`T${hex8(gdbSignal(s.sig))}thread:${t.tid.toString(16)};${why}`);
  }

  /** c/C/s/S: `sig` is what the stopped thread gets (0: its signal is discarded). */
  private resume(step: boolean, sig: number): void {
    const t = this.current;
    if (t !== null) {
      const r = this.reported.get(t);
      this.reported.delete(t);
      if (r !== undefined && r.sig !== SIG.SIGTRAP && r.sig !== SIG.SIGINT) {
        if (sig === 0) {
          // discarded: a fault's instruction runs again; a pending signal goes
          if (r.fault === null) {
            dropSignals(t, 1n << BigInt(r.sig - 1));
            dropSignals(t.proc, 1n << BigInt(r.sig - 1));
          }
        } else this.passing.set(t, { sig, fault: r.fault });
      } else if (sig !== 0) {
        const info = this.k!.userInfo(sig, 0);
        this.k!.signals.sendToTask(t, sig, info);
        this.passing.set(t, { sig, fault: null });
      }
    }
    const stepTid = this.cTid > 0 ? this.cTid : (t?.tid ?? 0);
    this.stepTask = step ? (this.k!.tasks.get(stepTid) ?? t) : null;
    this.halted = false;
    for (const r of this.resumes.splice(0)) r();
    this.k!.sched.kick();
  }

  private detach(): void {
    if (this.detached) return;
    for (const [addr, orig] of this.bps) this.poke(addr, orig);
    this.bps.clear();
    this.hwBps.clear();
    if (this.k !== null && this.watches.size > 0 && this.proc.threads.size > 0) {
      this.active();
      this.watches.clear(this.proc.mm);
    }
    this.detached = true;
    this.halted = false;
    this.stepTask = null;
    for (const r of this.resumes.splice(0)) r();
    this.k?.sched.kick();
  }

  // ---- the protocol -------------------------------------------------------------

  private onData(d: string): void {
    this.inbuf += d;
    for (;;) {
      const c = this.inbuf[0];
      if (c === undefined) return;
      if (c === '+' || c === '-') {
        this.inbuf = this.inbuf.slice(1);
        continue;
      }
      if (c === '\x03') {
        this.inbuf = this.inbuf.slice(1);
        if (!this.halted) {
          this.interrupt = true;
          this.k?.sched.kick();
        }
        continue;
      }
      const start = this.inbuf.indexOf('$');
      if (start < 0) {
        this.inbuf = '';
        return;
      }
      const end = this.inbuf.indexOf('#', start);
      if (end < 0 || this.inbuf.length < end + 3) return;
      const body = unescape(this.inbuf.slice(start + 1, end));
      if (process.env.ELFRUN_GDB_LOG) process.stderr.write(`gdb> ${body.slice(0, 120)}\n`);
      this.inbuf = this.inbuf.slice(end + 3);
      if (!this.noAck) this.sock.write('+');
      const reply = this.handle(body);
      if (reply !== null) this.send(reply);
    }
  }

  private send(body: string): void {
    if (process.env.ELFRUN_GDB_LOG) process.stderr.write(`gdb< ${body.slice(0, 120)}\n`);
    let sum = 0;
    for (let i = 0; i < body.length; i++) sum = (sum + body.charCodeAt(i)) & 0xff;
    this.sock.write(`$${body}#${sum.toString(16).padStart(2, '0')}`, 'latin1');
  }

  /** One packet: its reply, or null when the reply is a later stop. */
  private handle(p: string): string | null {
    try {
      return this.dispatch(p);
    } catch {
      return 'E01';
    }
  }

  private dispatch(p: string): string | null {
    const k = this.k!;
    switch (p[0]) {
      case '?': {
        const t = this.current ?? this.proc.threads.values().next().value!;
        const s = this.reported.get(t) ?? { sig: SIG.SIGTRAP, fault: null };
        this.reported.set(t, s);
        return `T${hex8(gdbSignal(s.sig))}thread:${t.tid.toString(16)};`;
      }
      case 'g':
        return this.regs(this.thread(this.gTid)).map(([spec, v]) => le(v, spec.size)).join('');
      case 'G': {
        const t = this.thread(this.gTid);
        let at = 1;
        const specs = this.specs(t);
        const vals: Array<[RegSpec, Buffer]> = [];
        for (const s of specs) {
          if (at + 2 * s.size > p.length) break;
          vals.push([s, Buffer.from(p.slice(at, at + 2 * s.size), 'hex')]);
          at += 2 * s.size;
        }
        this.onCpu(t, (cpu) => {
          for (const [s, b] of vals) writeReg(cpu, s, b);
        });
        return 'OK';
      }
      case 'p': {
        const n = parseInt(p.slice(1), 16);
        const t = this.thread(this.gTid);
        const spec = this.specs(t)[n];
        if (spec === undefined) return 'E01';
        return le(this.onCpu(t, (cpu) => readReg(cpu, spec)), spec.size);
      }
      case 'P': {
        const [n, v] = p.slice(1).split('=');
        const t = this.thread(this.gTid);
        const spec = this.specs(t)[parseInt(n, 16)];
        if (spec === undefined) return 'E01';
        this.onCpu(t, (cpu) => writeReg(cpu, spec, Buffer.from(v, 'hex')));
        return 'OK';
      }
      case 'm': {
        const [a, l] = p.slice(1).split(',').map((x) => parseInt(x, 16));
        return this.read(a, l).toString('hex');
      }
      case 'M': {
        const [where, data] = p.slice(1).split(':');
        const [a] = where.split(',').map((x) => parseInt(x, 16));
        this.write(a, Buffer.from(data, 'hex'));
        return 'OK';
      }
      case 'X': {
        const colon = p.indexOf(':');
        const [a] = p.slice(1, colon).split(',').map((x) => parseInt(x, 16));
        this.write(a, Buffer.from(p.slice(colon + 1), 'latin1'));
        return 'OK';
      }
      case 'Z':
      case 'z': {
        const [type, a, l] = p.slice(1).split(/[,;]/);
        const addr = parseInt(a, 16);
        if (type === '2' || type === '3' || type === '4') {
          this.active(); // the engine's protection is that of the process whose memory it has
          if (p[0] === 'Z') this.watches.insert(this.proc.mm, Number(type), addr, parseInt(l, 16));
          else this.watches.remove(this.proc.mm, Number(type), addr, parseInt(l, 16));
          return 'OK';
        }
        if (type !== '0' && type !== '1') return '';
        // a hardware breakpoint is the same trap instruction; its stop says hwbreak
        if (p[0] === 'Z') {
          this.insert(addr);
          if (type === '1') this.hwBps.add(addr);
        } else {
          this.remove(addr);
          this.hwBps.delete(addr);
        }
        return 'OK';
      }
      case 'c':
      case 's':
        this.setPcArg(p.slice(1));
        this.resume(p[0] === 's', 0);
        return null;
      case 'C':
      case 'S': {
        const [sig, addr] = p.slice(1).split(';');
        this.setPcArg(addr ?? '');
        this.resume(p[0] === 'S', linuxSignal(parseInt(sig, 16)));
        return null;
      }
      case 'H': {
        const tid = parseInt(p.slice(2), 16);
        if (p[1] === 'g') this.gTid = tid;
        else this.cTid = tid;
        return 'OK';
      }
      case 'T':
        return this.proc.threads.has(k.tasks.get(parseInt(p.slice(1), 16))!) ? 'OK' : 'E01';
      case 'D':
        this.send('OK');
        this.detach();
        return null;
      case 'k':
        for (const t of this.proc.threads) k.signals.sendToTask(t, SIG.SIGKILL, k.userInfo(SIG.SIGKILL, 0));
        this.detach();
        return null;
      case 'q':
        return this.query(p);
      case 'Q':
        if (p === 'QStartNoAckMode') {
          this.send('OK');
          this.noAck = true;
          return null;
        }
        return '';
      case 'v':
        if (p === 'vMustReplyEmpty' || p.startsWith('vCont?')) return '';
        if (p.startsWith('vKill')) {
          for (const t of this.proc.threads) k.signals.sendToTask(t, SIG.SIGKILL, k.userInfo(SIG.SIGKILL, 0));
          this.detach();
          return 'OK';
        }
        return '';
      default:
        return '';
    }
  }

  private query(p: string): string {
    if (p.startsWith('qSupported')) return 'PacketSize=4000;QStartNoAckMode+;swbreak+;hwbreak+;qXfer:features:read+;qXfer:auxv:read+;qXfer:libraries-svr4:read+;qXfer:exec-file:read+;qXfer:siginfo:read+';
    if (p.startsWith('qXfer:siginfo:read::')) {
      const t = this.thread(this.gTid);
      const r = this.reported.get(t);
      if (r === undefined) return 'E01';
      return xfer(stopSiginfo(this.k!, t, r).subarray(0, 128), p.slice('qXfer:siginfo:read::'.length));
    }
    if (p === 'qAttached') return '1';
    if (p === 'qC') return `QC${(this.current?.tid ?? this.proc.pid).toString(16)}`;
    if (p === 'qfThreadInfo') {
      this.threadList = [...this.proc.threads].filter((t) => t.state !== 'dead').map((t) => t.tid);
      return this.moreThreads();
    }
    if (p === 'qsThreadInfo') return this.moreThreads();
    if (p.startsWith('qXfer:features:read:')) {
      const rest = p.slice('qXfer:features:read:'.length);
      const colon = rest.indexOf(':');
      const doc = targetDescription(this.proc.arch.name === 'x86_64' ? 'x86_64' : 'arm64').get(rest.slice(0, colon));
      return doc === undefined ? 'E00' : xfer(Buffer.from(doc, 'latin1'), rest.slice(colon + 1));
    }
    if (p.startsWith('qXfer:libraries-svr4:read::')) return xfer(Buffer.from(librariesSvr4(this.proc, this.mmOf()), 'latin1'), p.slice(27));
    if (p.startsWith('qXfer:auxv:read::')) return xfer(auxvBytes(this.proc), p.slice('qXfer:auxv:read::'.length));
    if (p.startsWith('qXfer:exec-file:read:')) {
      const rest = p.slice('qXfer:exec-file:read:'.length);
      return xfer(Buffer.from(this.proc.exePath, 'utf8'), rest.slice(rest.indexOf(':') + 1));
    }
    if (p === 'qSymbol::') return 'OK';
    return '';
  }

  private moreThreads(): string {
    if (this.threadList.length === 0) return 'l';
    const out = `m${this.threadList.map((t) => t.toString(16)).join(',')}`;
    this.threadList = [];
    return out;
  }

  // ---- threads, registers and memory ------------------------------------------

  private thread(tid: number): Task {
    const t = tid > 0 ? this.k!.tasks.get(tid) : undefined;
    return t !== undefined && t.proc === this.proc ? t : (this.current ?? this.proc.threads.values().next().value!);
  }

  private specs(t: Task): RegSpec[] {
    return t.arch.name === 'x86_64' ? X86_REGS : A64_REGS;
  }

  private regs(t: Task): Array<[RegSpec, bigint | Buffer]> {
    return this.onCpu(t, (cpu) => this.specs(t).map((s): [RegSpec, bigint | Buffer] => [s, readReg(cpu, s)]));
  }

  /** fn with t's registers in the engine (another thread's are swapped in and back). */
  private onCpu<T>(t: Task, fn: (cpu: Cpu) => T): T {
    // the guest is held: give t the engine as the scheduler does (its registers,
    // those a new thread or program still has to get included)
    this.k!.sched.switchTo(t);
    return fn(t.proc.mm.cpu);
  }

  private setPcArg(a: string): void {
    if (a === '') return;
    const t = this.thread(this.cTid);
    const addr = parseInt(a, 16);
    this.onCpu(t, (cpu) => cpu.setPc(addr));
  }

  /** Guest memory as the program has it: the stub's breakpoints shown as the bytes they replaced. */
  private read(addr: number, len: number): Buffer {
    const mm = this.mmOf();
    const out = mm.read(addr, len);
    for (const [a, orig] of this.bps) {
      for (let i = 0; i < orig.length; i++) if (a + i >= addr && a + i < addr + len) out[a + i - addr] = orig[i];
    }
    return out;
  }

  private write(addr: number, data: Buffer): void {
    // a write over a breakpoint changes what it will put back
    for (const [a, orig] of this.bps)
      for (let i = 0; i < orig.length; i++)
        if (a + i >= addr && a + i < addr + data.length) {
          orig[i] = data[a + i - addr];
          data = Buffer.from(data);
          data[a + i - addr] = this.trap()[i];
        }
    this.poke(addr, data);
  }

  private mmOf(): Task['mm'] {
    return this.proc.threads.values().next().value!.mm;
  }

  /** The process's memory active in its engine (a write to code drops what the engine translated of it). */
  private active(): void {
    const t = this.current !== null && this.current.proc === this.proc && this.current.state !== 'dead' ? this.current : [...this.proc.threads].find((x) => x.state !== 'dead');
    if (t !== undefined) this.k!.sched.switchTo(t);
  }

  private poke(addr: number, data: Uint8Array): void {
    this.active();
    pokeText(this.mmOf(), addr, data);
  }

  /** The breakpoint instruction: int3, or brk #0 */
  private trap(): Buffer {
    return this.proc.arch.name === 'x86_64' ? Buffer.from([0xcc]) : Buffer.from([0x00, 0x00, 0x20, 0xd4]);
  }

  private insert(addr: number): void {
    if (this.bps.has(addr)) return;
    const trap = this.trap();
    const orig = this.mmOf().read(addr, trap.length);
    this.bps.set(addr, orig);
    this.poke(addr, trap);
  }

  private remove(addr: number): void {
    const orig = this.bps.get(addr);
    if (orig === undefined) return;
    this.bps.delete(addr);
    this.poke(addr, orig);
  }

  /** The breakpoint t stopped at (x86: int3 leaves the pc after it), or null. */
  private breakpointAt(t: Task): number | null {
    const pc = t.cpu.pc;
    const at = t.arch.name === 'x86_64' ? pc - 1 : pc;
    return this.bps.has(at) ? at : null;
  }
}

/**
 * Write guest memory as ptrace's POKETEXT does, whatever its protection:
 * a page that is not writable (a program's text is the file's own pages, or
 * shares its memory with a forked process) becomes the process's private
 * copy first, keeping its protection.
 */
function pokeText(mm: Task['mm'], addr: number, data: Uint8Array): void {
  for (let a = addr - (addr % PAGE); a < addr + data.length; a += PAGE) {
    const v = mm.find(a);
    if (v === null) throw new Error(`no mapping at 0x${a.toString(16)}`);
    if (!(v.prot & PROT_WRITE)) {
      const prot = v.prot;
      mm.protect(a, a + PAGE, prot | PROT_WRITE);
      mm.protect(a, a + PAGE, prot);
    }
  }
  mm.poke(addr, data);
}

/** The lowest signal t would take now (0: none). */
function nextSignal(t: Task): number {
  const set = (t.pending | t.proc.pending) & ~t.sigmask;
  if (set === 0n) return 0;
  for (let s = 1; s <= 64; s++) if (set & (1n << BigInt(s - 1))) return s;
  return 0;
}

