// A gdb stub: the GDB remote serial protocol over TCP (`elfrun run --gdb
// HOST:PORT`, framing in gdb-wire.ts), for the first process, its threads and
// the forked processes gdb follows. All-stop: while gdb has the guest
// stopped, no guest task runs.
//
// What it speaks: qSupported (swbreak, hwbreak, QPassSignals, qXfer:
// features/auxv/exec-file/siginfo/threads, qXfer:libraries-svr4: the dynamic
// linker's list, read from guest memory through DT_DEBUG as gdbserver does;
// and, when gdb offers them, multiprocess, fork-events, vfork-events,
// exec-events), ?, a target description (target.xml and one file per
// feature, as gdbserver describes a Linux process: x86_64 core, SSE with
// mxcsr, orig_rax, fs_base and gs_base; aarch64 core, fpsimd and tpidr),
// g/G and p/P numbered as it says, m/M/X (reads show the memory without the
// stub's breakpoints), Z0/Z1 breakpoints (the trap instruction, int3 or brk
// #0, for both: gdb-bps.ts, one set per process), Z2/Z3/Z4 watchpoints of
// any length (gdb-watch.ts: page protection, stops after the access with
// watch:/rwatch:/awatch:; each process its own), c/C/s/S (a step over a rep
// string instruction is one iteration: gdb-rep.ts), vCont (c, C,
// s, S), H, T, qfThreadInfo/qsThreadInfo, qC, qAttached, ^C, D, D;PID, k,
// vKill;PID, and vFile (gdb-files.ts: the guest's view of files, so
// target: sysroots work under --root and --sandbox). Thread ids are
// pPID.TID once gdb asked for multiprocess (gdb-procs.ts). Signals are in
// gdb's numbering. A stop reply names the signal and thread, `swbreak` or
// `hwbreak` at a breakpoint (the pc already back at it), and fork:, vfork:,
// vforkdone: and exec: for those events: with fork events the child is
// debugged too (its memory has the breakpoints) until gdb detaches it with
// D;PID; without them a forked child is not followed, and the breakpoints
// it inherited are taken out of its memory when it reaches one. Every
// signal a debugged process is about to take stops it first, but those gdb
// passes (QPassSignals); gdb's C passes it on, c discards it. The fork,
// vfork and exec stops are inside the syscall, as Linux's ptrace events
// (orig_rax its number, rax -ENOSYS: gdb-procs.ts); so are syscall
// catchpoints' stops (QCatchSyscalls, gdb-sys.ts). Elsewhere orig_rax reads
// -1; writes to it there, to the segment selectors and to the x87 pointer
// registers are ignored. Thread names (qXfer:threads) are each thread's comm.
import { SIG } from '../abi/signal.js';
import type { Cpu } from '../cpu/engine.js';
import type { Fault } from '../cpu/fault.js';
import { dropSignals } from './signals.js';
import type { Kernel } from './kernel.js';
import type { ExitState, Process } from './process.js';
import type { Task } from './task.js';
import { GdbFiles } from './gdb-files.js';
import { Breakpoints, pokeText } from './gdb-bps.js';
import { Wire } from './gdb-wire.js';
import { Inferiors } from './gdb-procs.js';
import { SyscallStops, type SyscallStop } from './gdb-sys.js';
import { RepSteps } from './gdb-rep.js';
import { A64_REGS, X86_REGS, auxvBytes, gdbSignal, hex8, le, librariesSvr4, linuxSignal, parseSel, targetDescription, threadsXml, xfer, type RegSpec, type Sel } from './gdb-proto.js';
import { gPacket, nextSignal, readStopReg, stopSiginfo, syscallRegs, writeStopReg, type Stop } from './gdb-procs.js';

export class GdbStub {
  private k: Kernel | null = null;
  /** all-stop: the guest runs only while this is false */
  halted = true;
  private resumes: Array<() => void> = [];
  /** the debugged processes (the first, and forked ones gdb keeps), each with its breakpoints */
  private readonly procs = new Inferiors();
  /** what gdb said it handles in qSupported: pPID.TID thread ids, and fork, vfork and exec stops */
  private readonly wants = new Set<string>();
  /** vfork parents whose vforkdone gdb is waiting for */
  private readonly vforks = new Map<Task, Process>();
  /** the signals gdb lets through without a stop (QPassSignals), in gdb's numbering */
  private pass = new Set<number>();
  /** a watched page's instruction is being run alone: whether gdb had asked for a step then */
  private stepAfterWatch = false;
  /** the thread for g/G/p/P/m/M (Hg) and for s/c (Hc): [pid, tid]; 0 or -1: any */
  private gSel: Sel = [0, 0];
  private cSel: Sel = [0, 0];
  /** the thread to step one instruction at the next resume */
  stepTask: Task | null = null;
  /** the thread whose stop gdb was last told of */
  private current: Task | null = null;
  /** threads stopped with a signal gdb has not answered yet, and those it told us to pass on */
  private readonly reported = new Map<Task, Stop>();
  private readonly passing = new Map<Task, Stop>();
  private interrupt = false;
  private detached = false;
  private threadList: string[] = [];
  private files: GdbFiles | null = null;
  private readonly sysStops = new SyscallStops(); // syscall catchpoints: stops at entries and exits
  private readonly reps = new RepSteps(); // a step over a rep string instruction: one iteration
  private readonly sysStop: SyscallStop = (t, why, sys) => this.stop(t, { sig: SIG.SIGTRAP, fault: null, sys }, why);

  private constructor(private readonly wire: Wire) {
    wire.serve({ packet: (p) => this.handle(p), interrupt: () => this.onInterrupt(), closed: () => this.detach() });
  }

  /** Listen on host:port and wait for gdb's connection (one line on stderr says where). */
  static async listen(host: string, port: number): Promise<GdbStub> {
    return new GdbStub(await Wire.listen(host, port));
  }

  attach(k: Kernel): void {
    this.k = k;
    this.procs.set(k.init!, new Breakpoints(k.init!, (p) => this.active(p)));
    this.current = k.init!.threads.values().next().value ?? null;
    this.files = new GdbFiles(k, (pid) => (pid === 0 ? this.proc : (k.processes.get(pid) ?? null)));
  }

  /** The process gdb looks at: the selected thread's (Hg), else the last stopped one's. */
  private get proc(): Process {
    return this.procs.thread(this.k!, this.gSel, this.current).proc;
  }

  private bpsOf(p: Process): Breakpoints {
    return this.procs.get(p) ?? this.procs.values().next().value!;
  }

  private tid(t: Task): string {
    return this.procs.tid(t);
  }

  // ---- what the scheduler and the kernel ask ------------------------------------

  /** While gdb holds the guest: a promise that settles when it resumes it. */
  gate(): Promise<void> | null {
    if (this.detached) return null;
    if (!this.halted) {
      // a followed process other than the first ended: W with its pid (the first's end is exited())
      for (const p of this.procs.keys())
        if (p.exit !== null && p !== this.k!.init) {
          this.forget(p);
          this.halted = true;
          this.wire.send(p.exit.kind === 'exited' ? `W${hex8(p.exit.code)};process:${p.pid.toString(16)}` : `X${hex8(gdbSignal(p.exit.signal))};process:${p.pid.toString(16)}`);
          if (this.procs.size === 0) {
            // the last debugged process: the rest runs on without gdb, as gdbserver leaves
            this.detach();
            this.wire.end();
            return null;
          }
          break;
        }
    }
    for (const [t, child] of this.vforks)
      if (!this.halted && child.vforkParent === null && this.procs.resumed(t.proc)) {
        // the vfork child exec'd or ended: the parent's wait is over
        this.vforks.delete(t);
        this.stop(t, { sig: SIG.SIGTRAP, fault: null }, 'vforkdone:;');
      }
    if (this.interrupt && !this.halted) {
      // ^C while every thread waits: stop the one gdb last saw
      this.interrupt = false;
      const t = this.procs.live(this.current?.proc ?? this.k!.init!);
      if (t !== undefined) this.stop(t, { sig: SIG.SIGINT, fault: null });
    }
    if (!this.halted) return null;
    return new Promise((r) => this.resumes.push(r));
  }

  /** Before t runs: true when it must not (it stopped for gdb, and the guest is held). */
  beforeRun(t: Task): boolean {
    if (this.detached || !this.procs.has(t.proc)) return false;
    if (this.procs.park(t)) return false; // not resumed by gdb: out of the run queue until it is
    const w = this.procs.get(t.proc)!.watches;
    // the instruction runs first (one iteration of a rep one): signals come after it
    if (w.stepping === t) return this.repStep(t);
    if (this.sysStops.check(t, true, this.sysStop)) return true;
    if (w.size > 0) w.protect(t.proc.mm);
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
    if (sig !== 0 && sig !== SIG.SIGKILL && !this.pass.has(gdbSignal(sig))) {
      this.stop(t, { sig, fault: null });
      return true;
    }
    return sig === 0 && this.stepTask === t ? this.repStep(t) : false;
  }

  /** t steps one instruction, or one iteration of a rep string instruction: it runs (false). */
  private repStep(t: Task): false {
    this.reps.before(t, (a) => this.bpsOf(t.proc).bps.has(a));
    return false;
  }

  /** After t ran (fault: what stopped it, if anything): true when it stopped for gdb. */
  afterRun(t: Task, fault: Fault | null): boolean {
    if (this.detached) return false;
    let stepped = this.stepTask === t;
    this.stepTask = null;
    // a rep instruction's step stops at an int3 of its own: handled (true), not the program's trap
    const trapped = fault;
    if (stepped) fault = this.reps.after(t, fault);
    const w = this.procs.get(t.proc)?.watches;
    if (w !== undefined && w.stepping === t) {
      // the instruction that met a watched page ran: a hit stops after it, as a debug trap does
      stepped = this.stepAfterWatch;
      const hit = w.stepped(t);
      if (hit !== null && t.state !== 'dead' && fault === null) {
        this.stop(t, { sig: SIG.SIGTRAP, fault: null }, `${hit.kind}:${hit.addr.toString(16)};`);
        return true;
      }
    }
    if (fault === null && !this.halted && this.sysStops.check(t, false, this.sysStop)) return true;
    const trap = fault !== null && fault.signal === SIG.SIGTRAP;
    const own = this.procs.get(t.proc);
    if (own === undefined) {
      // a child not followed ran into a breakpoint it inherited: take it out of its memory and go on
      if (!trap || [...this.procs.keys()].some((p) => p.mm === t.proc.mm)) return false;
      for (const b of this.procs.values()) {
        const bp = b.at(t);
        if (bp === null) continue;
        this.k!.sched.switchTo(t);
        pokeText(t.mm, bp, b.bps.get(bp)!);
        t.cpu.setPc(bp);
        return true;
      }
      return false;
    }
    const bp = trap ? own.at(t) : null;
    if (bp !== null) {
      t.cpu.setPc(bp);
      this.stop(t, { sig: SIG.SIGTRAP, fault: null }, own.hw.has(bp) ? 'hwbreak:;' : 'swbreak:;');
      return true;
    }
    if (fault !== null && own.watches.faulted(t, fault)) {
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
    return fault !== trapped;
  }

  /**
   * t (a debugged thread) made `child` with fork or vfork, in its syscall: with
   * gdb's fork events, the child is debugged too (its memory has the breakpoints)
   * and t stops with fork: or vfork:, the syscall done; otherwise nothing.
   */
  forked(t: Task, child: Task, vfork: boolean): void {
    const b = this.procs.get(t.proc);
    if (this.detached || b === undefined || !this.wants.has(vfork ? 'vfork-events' : 'fork-events')) return;
    this.procs.set(child.proc, b.fork(child.proc));
    if (vfork) this.vforks.set(t, child.proc);
    this.stop(t, { sig: SIG.SIGTRAP, fault: null, sys: syscallRegs(t) }, `${vfork ? 'vfork' : 'fork'}:${this.tid(child)};`);
  }

  /** t's syscall hook, before the call: true when it does not run now (a syscall catchpoint's entry stop). */
  syscallEntry(t: Task, cpu: Cpu, regs: Uint32Array): boolean {
    return !this.detached && this.procs.has(t.proc) && this.sysStops.enter(t, cpu, regs, this.stepTask === t);
  }

  /** t's call returned: with syscall catchpoints, it stops at the exit. */
  syscallDone(t: Task, cpu: Cpu): void {
    if (!this.detached) this.sysStops.returned(t, cpu);
  }

  /** t's process runs a new program: its breakpoints went with the old memory; with exec events, t stops. */
  execed(t: Task): void {
    const b = this.procs.get(t.proc);
    if (this.detached || b === undefined) return;
    b.bps.clear();
    b.hw.clear();
    b.watches.reset();
    if (this.wants.has('exec-events')) this.stop(t, { sig: SIG.SIGTRAP, fault: null, sys: syscallRegs(t) }, `exec:${Buffer.from(t.proc.exePath, 'utf8').toString('hex')};`);
  }

  /** The process ended: W (exit code) or X (signal), and the connection closes. */
  exited(state: ExitState): void {
    if (this.detached) return;
    const who = this.procs.multi ? `;process:${this.k!.init!.pid.toString(16)}` : '';
    if (this.procs.has(this.k!.init!)) this.wire.send(state.kind === 'exited' ? `W${hex8(state.code)}${who}` : `X${hex8(gdbSignal(state.signal))}${who}`);
    this.detached = true;
    this.wire.end();
  }

  // ---- stops and resumes --------------------------------------------------------

  /** t stops for gdb; `why` names a breakpoint or watchpoint it hit (swbreak:;, watch:ADDR;...). */
  private stop(t: Task, s: Stop, why = ''): void {
    this.halted = true;
    this.current = t;
    this.gSel = this.cSel = [t.proc.pid, t.tid];
    this.reported.set(t, s);
    this.wire.send(`T${hex8(gdbSignal(s.sig))}${why}thread:${this.tid(t)};`);
  }

  /** c/C/s/S: Hc's thread steps (s/S), Hc's process alone runs if it names one. */
  private resumeHc(step: boolean, sig: number): void {
    const only = this.cSel[0] > 0 && this.procs.size > 1 ? new Set([this.procs.thread(this.k!, this.cSel, this.current).proc]) : null;
    this.resume(step ? this.procs.thread(this.k!, this.cSel, this.current) : null, sig, only);
  }

  /** Resume: `sig` is what the stopped thread gets (0: its signal is discarded); `only`: the processes that run (null: all). */
  private resume(step: Task | null, sig: number, only: Set<Process> | null): void {
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
    this.stepTask = step;
    this.halted = false;
    this.procs.resume(this.k!, only);
    for (const r of this.resumes.splice(0)) r();
    this.k!.sched.kick();
  }

  /** p is no longer debugged: its breakpoints and watchpoints out of its memory, its stops forgotten. */
  private forget(p: Process): void {
    const w = this.procs.get(p)?.watches;
    if (w !== undefined && w.size > 0) {
      if (p.threads.size > 0) {
        this.active(p);
        w.clear(p.mm);
      } else w.reset();
    }
    this.procs.get(p)?.clear();
    this.procs.delete(p);
    this.procs.release(this.k!, p);
    for (const t of p.threads) {
      this.reported.delete(t);
      this.passing.delete(t);
      this.vforks.delete(t);
      this.sysStops.forget(t);
      if (this.stepTask === t) this.stepTask = null;
    }
    const next = this.procs.keys().next().value;
    if (this.current?.proc === p) this.current = next === undefined ? null : (this.procs.live(next) ?? null);
  }

  private detach(): void {
    if (this.detached) return;
    this.files?.close();
    for (const p of [...this.procs.keys()]) this.forget(p);
    this.detached = true;
    this.halted = false;
    this.stepTask = null;
    if (this.k !== null) this.procs.resume(this.k, null);
    for (const r of this.resumes.splice(0)) r();
    this.k?.sched.kick();
  }

  // ---- the protocol -------------------------------------------------------------

  private onInterrupt(): void {
    if (this.halted) return;
    this.interrupt = true;
    this.k?.sched.kick();
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
        const t = this.current ?? this.procs.live(this.k!.init!)!;
        const s = this.reported.get(t) ?? { sig: SIG.SIGTRAP, fault: null };
        this.reported.set(t, s);
        return `T${hex8(gdbSignal(s.sig))}thread:${this.tid(t)};`;
      }
      case 'g':
        return this.regs(this.procs.thread(this.k!, this.gSel, this.current)).map(([spec, v]) => le(v, spec.size)).join('');
      case 'G': {
        const t = this.procs.thread(this.k!, this.gSel, this.current);
        const vals = gPacket(this.specs(t), p.slice(1));
        this.onCpu(t, (cpu) => {
          for (const [s, b] of vals) writeStopReg(this.reported.get(t), cpu, s, b);
        });
        return 'OK';
      }
      case 'p': {
        const n = parseInt(p.slice(1), 16);
        const t = this.procs.thread(this.k!, this.gSel, this.current);
        const spec = this.specs(t)[n];
        if (spec === undefined) return 'E01';
        return le(this.onCpu(t, (cpu) => readStopReg(this.reported.get(t), cpu, spec)), spec.size);
      }
      case 'P': {
        const [n, v] = p.slice(1).split('=');
        const t = this.procs.thread(this.k!, this.gSel, this.current);
        const spec = this.specs(t)[parseInt(n, 16)];
        if (spec === undefined) return 'E01';
        this.onCpu(t, (cpu) => writeStopReg(this.reported.get(t), cpu, spec, Buffer.from(v, 'hex')));
        return 'OK';
      }
      case 'm': {
        const [a, l] = p.slice(1).split(',').map((x) => parseInt(x, 16));
        return this.bpsOf(this.proc).read(a, l).toString('hex');
      }
      case 'M': {
        const [where, data] = p.slice(1).split(':');
        const [a] = where.split(',').map((x) => parseInt(x, 16));
        this.bpsOf(this.proc).write(a, Buffer.from(data, 'hex'));
        return 'OK';
      }
      case 'X': {
        const colon = p.indexOf(':');
        const [a] = p.slice(1, colon).split(',').map((x) => parseInt(x, 16));
        this.bpsOf(this.proc).write(a, Buffer.from(p.slice(colon + 1), 'latin1'));
        return 'OK';
      }
      case 'Z':
      case 'z': {
        const [type, a, l] = p.slice(1).split(/[,;]/);
        const addr = parseInt(a, 16);
        if (type === '2' || type === '3' || type === '4') {
          // each process's own (Hg's), as debug registers are per thread of it
          const wp = this.proc;
          const w = this.bpsOf(wp).watches;
          this.active(wp); // the engine's protection is that of the process whose memory it has
          if (p[0] === 'Z') w.insert(wp.mm, Number(type), addr, parseInt(l, 16));
          else w.remove(wp.mm, Number(type), addr, parseInt(l, 16));
          return 'OK';
        }
        if (type !== '0' && type !== '1') return '';
        // a hardware breakpoint is the same trap instruction; its stop says hwbreak
        if (p[0] === 'Z') this.bpsOf(this.proc).insert(addr, type === '1');
        else this.bpsOf(this.proc).remove(addr);
        return 'OK';
      }
      case 'c':
      case 's':
        this.setPcArg(p.slice(1));
        this.resumeHc(p[0] === 's', 0);
        return null;
      case 'C':
      case 'S': {
        const [sig, addr] = p.slice(1).split(';');
        this.setPcArg(addr ?? '');
        this.resumeHc(p[0] === 'S', linuxSignal(parseInt(sig, 16)));
        return null;
      }
      case 'H': {
        const sel = parseSel(p.slice(2));
        if (sel[0] > 0 && this.procs.byPid(sel[0]) === undefined) return 'E01';
        if (p[1] === 'g') this.gSel = sel;
        else this.cSel = sel;
        return 'OK';
      }
      case 'T': {
        const [pid, tid] = parseSel(p.slice(1));
        const t = k.tasks.get(tid);
        return t !== undefined && t.state !== 'dead' && this.procs.has(t.proc) && (pid <= 0 || t.proc.pid === pid) ? 'OK' : 'E01';
      }
      case 'D': {
        // D;PID: that process goes on alone; D: every one
        const pid = p[1] === ';' ? parseInt(p.slice(2), 16) : 0;
        const one = this.procs.byPid(pid);
        if (pid !== 0 && one === undefined) return 'E01';
        this.wire.send('OK');
        if (one !== undefined && this.procs.size > 1) this.forget(one);
        else this.detach();
        return null;
      }
      case 'k':
        for (const x of this.procs.keys()) this.procs.kill(k, x);
        this.detach();
        return null;
      case 'q':
        return this.query(p);
      case 'Q':
        if (p.startsWith('QPassSignals:')) {
          this.pass = new Set(p.slice(13).split(';').filter((x) => x !== '').map((x) => parseInt(x, 16)));
          return 'OK';
        }
        if (p.startsWith('QCatchSyscalls:')) return this.sysStops.packet(p.slice(15));
        if (p === 'QStartNoAckMode') {
          this.wire.send('OK');
          this.wire.noAck = true;
          return null;
        }
        return '';
      case 'v':
        if (p.startsWith('vFile:')) return this.files!.handle(p.slice(6));
        if (p === 'vCont?') return 'vCont;c;C;s;S';
        if (p.startsWith('vCont;')) {
          const plan = this.procs.vCont(this.k!, p, this.current);
          this.resume(plan.step, plan.sig, plan.only);
          return null;
        }
        if (p.startsWith('vKill;')) {
          const one = this.procs.byPid(parseInt(p.slice(6), 16));
          if (one === undefined) return 'E01';
          this.procs.kill(k, one);
          if (this.procs.size > 1) this.forget(one);
          else this.detach();
          return 'OK';
        }
        return '';
      default:
        return '';
    }
  }

  private query(p: string): string {
    if (p.startsWith('qSupported')) {
      // the extensions gdb offers that the stub has: multiprocess, fork, vfork and exec stops
      const offered = p.slice('qSupported:'.length).split(';').filter((f) => f.endsWith('+')).map((f) => f.slice(0, -1));
      const ours = ['multiprocess', 'fork-events', 'vfork-events', 'exec-events'].filter((f) => offered.includes(f));
      for (const f of ours) this.wants.add(f);
      this.procs.multi = this.wants.has('multiprocess');
      return `PacketSize=4000;QStartNoAckMode+;swbreak+;hwbreak+;qXfer:features:read+;qXfer:auxv:read+;qXfer:libraries-svr4:read+;qXfer:exec-file:read+;qXfer:siginfo:read+;qXfer:threads:read+;QPassSignals+;QCatchSyscalls+;${ours.map((f) => `${f}+`).join(';')}`;
    }
    if (p.startsWith('qXfer:siginfo:read::')) {
      const t = this.procs.thread(this.k!, this.gSel, this.current);
      const r = this.reported.get(t);
      if (r === undefined) return 'E01';
      return xfer(stopSiginfo(this.k!, t, r).subarray(0, 128), p.slice('qXfer:siginfo:read::'.length));
    }
    // every debugged process was started for gdb (none attached to), as gdbserver PROG says: gdb kills them when it quits
    if (p === 'qAttached') return '0';
    if (p.startsWith('qAttached:')) return this.procs.byPid(parseInt(p.slice(10), 16)) !== undefined ? '0' : 'E01';
    if (p === 'qC') return `QC${this.current === null ? this.k!.init!.pid.toString(16) : this.tid(this.current)}`;
    if (p === 'qfThreadInfo') {
      this.threadList = this.procs.threads().map((t) => this.tid(t));
      return this.moreThreads();
    }
    if (p === 'qsThreadInfo') return this.moreThreads();
    if (p.startsWith('qXfer:threads:read::')) {
      return xfer(Buffer.from(threadsXml(this.procs.threads().map((t) => [this.tid(t), t.comm])), 'latin1'), p.slice('qXfer:threads:read::'.length));
    }
    if (p.startsWith('qXfer:features:read:')) {
      const rest = p.slice('qXfer:features:read:'.length);
      const colon = rest.indexOf(':');
      const doc = targetDescription(this.proc.arch.name === 'x86_64' ? 'x86_64' : 'arm64').get(rest.slice(0, colon));
      return doc === undefined ? 'E00' : xfer(Buffer.from(doc, 'latin1'), rest.slice(colon + 1));
    }
    if (p.startsWith('qXfer:libraries-svr4:read::')) return xfer(Buffer.from(librariesSvr4(this.proc, this.bpsOf(this.proc)), 'latin1'), p.slice(27));
    if (p.startsWith('qXfer:auxv:read::')) return xfer(auxvBytes(this.proc), p.slice('qXfer:auxv:read::'.length));
    if (p.startsWith('qXfer:exec-file:read:')) return this.files!.execFile(p.slice('qXfer:exec-file:read:'.length));
    if (p === 'qSymbol::') return 'OK';
    return '';
  }

  private moreThreads(): string {
    if (this.threadList.length === 0) return 'l';
    const out = `m${this.threadList.join(',')}`;
    this.threadList = [];
    return out;
  }

  // ---- threads, registers and memory ------------------------------------------

  private specs(t: Task): RegSpec[] {
    return t.arch.name === 'x86_64' ? X86_REGS : A64_REGS;
  }

  private regs(t: Task): Array<[RegSpec, bigint | Buffer]> {
    return this.onCpu(t, (cpu) => this.specs(t).map((s): [RegSpec, bigint | Buffer] => [s, readStopReg(this.reported.get(t), cpu, s)]));
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
    const t = this.procs.thread(this.k!, this.cSel, this.current);
    const addr = parseInt(a, 16);
    this.onCpu(t, (cpu) => cpu.setPc(addr));
  }

  /** p's memory active in its engine (a write to code drops what the engine translated of it). */
  private active(p: Process): void {
    const t = this.current !== null && this.current.proc === p && this.current.state !== 'dead' ? this.current : this.procs.live(p);
    if (t !== undefined) this.k!.sched.switchTo(t);
  }
}
