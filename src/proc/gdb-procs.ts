// The processes the gdb stub (gdb.ts) debugs: the first, and each forked
// one gdb keeps when it asked for fork events (multiprocess+: gdb's
// inferiors), each with its breakpoints; thread ids as gdb names them
// (pPID.TID, or TID without the multiprocess extensions); and the processes
// gdb resumed. All-stop holds the whole guest while gdb has it stopped;
// when gdb resumes some processes only (vCont;c:pPID.-1, or Hc pPID.0 then
// c: gdb's schedule-multiple off), the threads of the other debugged ones
// are parked: taken out of the scheduler ('stopped') until gdb resumes them.
import { E } from '../abi/errno.js';
import { SIG } from '../abi/signal.js';
import type { Cpu } from '../cpu/engine.js';
import type { Fault } from '../cpu/fault.js';
import { faultSiginfo } from './signals.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';
import type { Task } from './task.js';
import type { Breakpoints } from './gdb-bps.js';
import { linuxSignal, parseSel, readReg, threadId, writeReg, type RegSpec, type Sel } from './gdb-proto.js';

/** What a resume does: the thread to step (null: none), the signal the stopped thread gets, the processes that run (null: all). */
export interface Plan {
  step: Task | null;
  sig: number;
  only: Set<Process> | null;
}

export class Inferiors extends Map<Process, Breakpoints> {
  /** gdb speaks the multiprocess extensions */
  multi = false;
  private only: Set<Process> | null = null;
  private readonly parked = new Set<Task>();

  byPid(pid: number): Process | undefined {
    return [...this.keys()].find((p) => p.pid === pid);
  }

  tid(t: Task): string {
    return threadId(this.multi, t.proc.pid, t.tid);
  }

  /** A thread of p that has not ended (else any). */
  live(p: Process): Task | undefined {
    return [...p.threads].find((x) => x.state !== 'dead') ?? p.threads.values().next().value;
  }

  /** Every live thread of every debugged process. */
  threads(): Task[] {
    return [...this.keys()].flatMap((p) => [...p.threads]).filter((t) => t.state !== 'dead');
  }

  /** The thread a selection names: that thread, or one of that process, or `current`, or the first process's. */
  thread(k: Kernel, [pid, tid]: Sel, current: Task | null): Task {
    const t = tid > 0 ? k.tasks.get(tid) : undefined;
    if (t !== undefined && this.has(t.proc)) return t;
    const p = pid > 0 ? this.byPid(pid) : undefined;
    const c = current !== null && this.has(current.proc) ? current : null;
    return (p !== undefined ? this.live(p) : undefined) ?? c ?? this.live(this.keys().next().value ?? k.init!)!;
  }

  /** vCont;ACTION[:THREAD]...: each thread takes the first action that names it; processes no action names stay stopped. */
  vCont(k: Kernel, p: string, current: Task | null): Plan {
    const acts = p.split(';').slice(1).map((a) => {
      const [act, id] = a.split(':');
      return { act, sel: id === undefined ? null : parseSel(id) };
    });
    const applies = (sel: Sel | null, t: Task): boolean => sel === null || ((sel[0] <= 0 || sel[0] === t.proc.pid) && (sel[1] <= 0 || sel[1] === t.tid));
    const mine = current === null ? undefined : acts.find((a) => applies(a.sel, current));
    const sig = mine !== undefined && (mine.act[0] === 'C' || mine.act[0] === 'S') ? linuxSignal(parseInt(mine.act.slice(1), 16)) : 0;
    const s = acts.find((a) => a.act[0] === 's' || a.act[0] === 'S');
    const step = s === undefined ? null : s.sel !== null && s.sel[1] > 0 ? this.thread(k, s.sel, current) : current;
    const named = new Set<Process>();
    let all = false;
    for (const a of acts) {
      if (a.sel === null || a.sel[0] < 0 || (a.sel[0] === 0 && a.sel[1] <= 0)) all = true;
      else named.add(this.thread(k, a.sel, current).proc);
    }
    return { step, sig, only: all || this.size < 2 ? null : named };
  }

  /** Resume `only` (null: all): the parked threads go back to the scheduler, which asks park() again. */
  resume(k: Kernel, only: Set<Process> | null): void {
    this.only = only;
    for (const t of this.parked) this.unpark(k, t);
    this.parked.clear();
  }

  /** Did gdb's last resume let p run? */
  resumed(p: Process): boolean {
    return this.only === null || this.only.has(p);
  }

  /** Before t (debugged) runs: true when gdb did not resume its process (it is parked). */
  park(t: Task): boolean {
    if (this.only === null || this.only.has(t.proc) || ![...this.only].some((x) => this.has(x))) return false;
    t.state = 'stopped';
    this.parked.add(t);
    return true;
  }

  /** k (gdb's k, vKill): SIGKILL to every thread of p. */
  kill(k: Kernel, p: Process): void {
    for (const t of p.threads) k.signals.sendToTask(t, SIG.SIGKILL, k.userInfo(SIG.SIGKILL, 0));
  }

  /** p is no longer debugged: its parked threads run. */
  release(k: Kernel, p: Process): void {
    for (const t of p.threads) if (this.parked.delete(t)) this.unpark(k, t);
  }

  private unpark(k: Kernel, t: Task): void {
    // stopped by a signal too: SIGCONT resumes it
    if (t.state !== 'stopped' || t.proc.stopped) return;
    t.state = 'runnable';
    k.sched.push(t);
  }
}

/** What a stopped thread told gdb, and what gdb said to do about its signal. */
export interface Stop {
  sig: number;
  /** a fault that raised it, to deliver if gdb passes the signal on */
  fault: Fault | null;
  /** a stop inside a syscall (fork, vfork and exec events, syscall stops): the registers that read otherwise there, by name */
  sys?: Record<string, bigint>;
}

/** The siginfo gdb's $_siginfo shows for a stop: the fault's, or the pending signal's queued one. */
export function stopSiginfo(k: Kernel, t: Task, s: Stop): Buffer {
  if (s.fault !== null) return faultSiginfo(s.sig, s.fault.code ?? 0, s.fault.addr);
  const q = t.siginfo.get(s.sig)?.[0] ?? t.proc.siginfo.get(s.sig)?.[0];
  return q ?? k.userInfo(s.sig, 0);
}

/** The lowest signal t would take now (0: none). */
export function nextSignal(t: Task): number {
  const set = (t.pending | t.proc.pending) & ~t.sigmask;
  if (set === 0n) return 0;
  for (let s = 1; s <= 64; s++) if (set & (1n << BigInt(s - 1))) return s;
  return 0;
}

/** A G packet's hex (after the G) as values for the registers it covers, in order. */
export function gPacket(specs: RegSpec[], hex: string): Array<[RegSpec, Buffer]> {
  const vals: Array<[RegSpec, Buffer]> = [];
  let at = 0;
  for (const s of specs) {
    if (at + 2 * s.size > hex.length) break;
    vals.push([s, Buffer.from(hex.slice(at, at + 2 * s.size), 'hex')]);
    at += 2 * s.size;
  }
  return vals;
}

/**
 * At a fork, vfork or exec stop t is inside its syscall, as Linux stops it
 * for ptrace's event: x86_64's orig_rax is the syscall's number and rax
 * -ENOSYS, the result not stored yet. A write to either reads back, and is
 * then lost: the kernel stores the result after. Elsewhere orig_rax reads -1.
 */
export function syscallRegs(t: Task): Stop['sys'] {
  return t.arch.name === 'x86_64' ? { orig_rax: BigInt(t.args.nr), rax: BigInt(-E.ENOSYS) } : undefined;
}

const sysReg = (stop: Stop | undefined, s: RegSpec): string | null => (stop?.sys?.[s.name] !== undefined ? s.name : null);

/** A register as gdb sees it at `stop` (the thread's stop, if any). */
export function readStopReg(stop: Stop | undefined, cpu: Cpu, s: RegSpec): bigint | Buffer {
  const r = sysReg(stop, s);
  return r === null ? readReg(cpu, s) : stop!.sys![r];
}

export function writeStopReg(stop: Stop | undefined, cpu: Cpu, s: RegSpec, b: Buffer): void {
  const r = sysReg(stop, s);
  if (r === null) writeReg(cpu, s, b);
  else stop!.sys![r] = b.readBigInt64LE(0);
}
