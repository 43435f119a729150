// The gdb stub's single step (gdb.ts) over an x86 rep-prefixed string
// instruction (movs, stos, lods, cmps, scas with rep, repe or repne): the
// CPU's trap flag stops after each iteration, the pc still at the
// instruction while iterations are left, as gdbserver's stepi shows. The
// engine runs a whole rep instruction at once, and a one-instruction run
// of one goes on into the next instruction too. So a step with more than
// one iteration left runs with a count of 1 (one iteration, the instruction
// ends), and int3 over the next instruction's first byte (for the run's
// stop there, then put back); the count and pc are then put where the CPU
// leaves them: the count less one, and the pc back at the instruction
// unless that was the last iteration (the count ran out, or repe's or
// repne's comparison ended it). An iteration that did not run (a fault in
// it) leaves the registers as they were. A watchpoint's step over one (the
// instruction that met a watched page) is such a step too, so a watch hits
// after each iteration that writes the watched bytes, as a debug register's
// does. An address-size prefix (ecx as the count) is stepped whole.
import { X86 } from '../cpu/x86_64.js';
import type { Fault } from '../cpu/fault.js';
import type { Task } from './task.js';
import { pokeText } from './gdb-bps.js';

const STRING_OPS = new Set([0xa4, 0xa5, 0xaa, 0xab, 0xac, 0xad, 0xa6, 0xa7, 0xae, 0xaf]);
const COMPARES = new Set([0xa6, 0xa7, 0xae, 0xaf]);
const LEGACY = new Set([0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67]);
const ZF = 1n << 6n;

interface RepStep {
  task: Task;
  pc: number;
  /** the next instruction's address, and the byte int3 took there (null: a breakpoint of gdb's is there) */
  next: number;
  saved: Buffer | null;
  /** the count before the step (null: the instruction runs whole) */
  count: bigint | null;
  /** repe (f3) or repne (f2) of a comparison: the flag value that goes on; null: the count alone */
  goOnZf: boolean | null;
}

export class RepSteps {
  private pending: RepStep | null = null;

  /** t is about to step one instruction: one iteration of a rep string instruction (`isBreakpoint`: gdb's, at an address). */
  before(t: Task, isBreakpoint: (addr: number) => boolean): void {
    if (t.arch.name !== 'x86_64') return;
    const cpu = t.cpu;
    const pc = cpu.pc;
    let rep = 0;
    let addr32 = false;
    let i = 0;
    let b = this.byte(t, pc);
    while (b !== null && LEGACY.has(b) && i < 14) {
      if (b === 0xf2 || b === 0xf3) rep = b;
      if (b === 0x67) addr32 = true;
      b = this.byte(t, pc + ++i);
    }
    if (b !== null && b >= 0x40 && b <= 0x4f) b = this.byte(t, pc + ++i);
    if (rep === 0 || addr32 || b === null || !STRING_OPS.has(b)) return;
    const count = cpu.regBig(X86.RCX);
    const next = pc + i + 1;
    let saved: Buffer | null = null;
    if (!isBreakpoint(next)) {
      try {
        saved = Buffer.from(t.mm.read(next, 1));
        pokeText(t.mm, next, Uint8Array.of(0xcc));
      } catch {
        saved = null;
      }
    }
    this.pending = { task: t, pc, next, saved, count: count > 1n ? count : null, goOnZf: COMPARES.has(b) ? rep === 0xf3 : null };
    if (count > 1n) cpu.setReg(X86.RCX, 1n);
  }

  /** t's step ended, with `fault`: its count and pc as the CPU leaves them; the fault that remains (the int3's is not one). */
  after(t: Task, fault: Fault | null): Fault | null {
    const p = this.pending;
    if (p === null || p.task !== t) return fault;
    this.pending = null;
    if (t.state === 'dead') return fault;
    const cpu = t.cpu;
    if (p.saved !== null) {
      pokeText(t.mm, p.next, p.saved);
      if (fault !== null && fault.signal === 5 && cpu.pc === p.next + 1) {
        cpu.setPc(p.next);
        fault = null;
      }
    }
    if (p.count === null) return fault;
    if (cpu.regBig(X86.RCX) !== 0n) {
      // the iteration did not run (it faulted)
      cpu.setReg(X86.RCX, p.count);
      return fault;
    }
    cpu.setReg(X86.RCX, p.count - 1n);
    const zf = (cpu.regBig(X86.EFLAGS) & ZF) !== 0n;
    if (p.goOnZf === null || zf === p.goOnZf) cpu.setPc(p.pc);
    return fault;
  }

  private byte(t: Task, a: number): number | null {
    try {
      return t.mm.read(a, 1)[0];
    } catch {
      return null;
    }
  }
}
