// One debugged process's software breakpoints for the gdb stub (gdb.ts):
// the trap instruction (int3, or brk #0) written into its memory as ptrace's
// POKETEXT would, the bytes it replaced kept to put back, and the memory
// gdb reads shown without them (as gdbserver shows it). Z1 hardware
// breakpoints are the same trap; only their stop reply differs. A forked
// child gets a copy of its parent's, since its memory has the traps too
// (gdbserver's clone_all_breakpoints).
import { PROT_WRITE } from '../abi/mman.js';
import { PAGE } from '../mm/layout.js';
import type { Process } from './process.js';
import type { Task } from './task.js';
import { Watchpoints } from './gdb-watch.js';

export class Breakpoints {
  /** address -> the bytes the breakpoint instruction replaced */
  readonly bps = new Map<number, Buffer>();
  /** the breakpoints of those that gdb asked for as hardware ones (Z1) */
  readonly hw = new Set<number>();
  /** its watchpoints (a forked child starts with none: gdb inserts the ones it wants there) */
  readonly watches = new Watchpoints();

  constructor(
    readonly proc: Process,
    /** make the process's memory the one its engine has (a write to code drops what it translated of it) */
    private readonly activate: (p: Process) => void,
  ) {}

  /** The same breakpoints in `child`, whose memory is a copy of this process's. */
  fork(child: Process): Breakpoints {
    const b = new Breakpoints(child, this.activate);
    for (const [a, orig] of this.bps) b.bps.set(a, Buffer.from(orig));
    for (const a of this.hw) b.hw.add(a);
    return b;
  }

  private get mm(): Task['mm'] {
    return this.proc.threads.values().next().value!.mm;
  }

  /** The breakpoint instruction: int3, or brk #0 */
  private trap(): Buffer {
    return this.proc.arch.name === 'x86_64' ? Buffer.from([0xcc]) : Buffer.from([0x00, 0x00, 0x20, 0xd4]);
  }

  insert(addr: number, hw: boolean): void {
    if (hw) this.hw.add(addr);
    if (this.bps.has(addr)) return;
    const trap = this.trap();
    this.bps.set(addr, this.mm.read(addr, trap.length));
    this.poke(addr, trap);
  }

  remove(addr: number): void {
    this.hw.delete(addr);
    const orig = this.bps.get(addr);
    if (orig === undefined) return;
    this.bps.delete(addr);
    this.poke(addr, orig);
  }

  /** Take every breakpoint out of the memory (gdb detached, or the process is not debugged). */
  clear(): void {
    if (this.proc.threads.size > 0) for (const [addr, orig] of this.bps) this.poke(addr, orig);
    this.bps.clear();
    this.hw.clear();
  }

  /** Memory as the program has it: the breakpoints shown as the bytes they replaced. */
  read(addr: number, len: number): Buffer {
    const out = this.mm.read(addr, len);
    for (const [a, orig] of this.bps) {
      for (let i = 0; i < orig.length; i++) if (a + i >= addr && a + i < addr + len) out[a + i - addr] = orig[i];
    }
    return out;
  }

  write(addr: number, data: Buffer): void {
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

  /** The breakpoint t stopped at (x86: int3 leaves the pc after it), or null. */
  at(t: Task): number | null {
    const pc = t.cpu.pc;
    const a = t.arch.name === 'x86_64' ? pc - 1 : pc;
    return this.bps.has(a) ? a : null;
  }

  private poke(addr: number, data: Uint8Array): void {
    this.activate(this.proc);
    pokeText(this.mm, addr, data);
  }
}

/**
 * Write guest memory as ptrace's POKETEXT does, whatever its protection:
 * a page that is not writable (a program's text is the file's own pages, or
 * shares its memory with a forked process) becomes the process's private
 * copy first, keeping its protection.
 */
export function pokeText(mm: Task['mm'], addr: number, data: Uint8Array): void {
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
