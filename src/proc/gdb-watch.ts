// Watchpoints for the gdb stub (gdb.ts): Z2 (write), Z3 (read), Z4 (access)
// of any length, done with page protection in the engine, which costs
// nothing while no watchpoint exists. The engine's region (a mapping's
// memory) that holds a watched range loses the access watched for (write,
// or read and write); an access to it faults before it happens, at its
// instruction. The stub then gives the regions back their mapping's
// protection, runs that one instruction, takes
// the protection away again and tells gdb of a hit after the instruction,
// as a debug register's trap is: a write that touched a watched range (its
// address in it, or the range's bytes changed), a read whose address is in
// one. Accesses by the kernel (a read(2) into a watched buffer) are not
// seen, as on Linux, where a hardware watchpoint does not fire for them
// either.
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { PAGE } from '../mm/layout.js';
import type { Fault } from '../cpu/fault.js';
import type { Mm } from './process.js';
import type { Task } from './task.js';

export type WatchKind = 'watch' | 'rwatch' | 'awatch';

export interface Watch {
  kind: WatchKind;
  addr: number;
  len: number;
}

/** The instruction being run with its pages open, and what the watched ranges held before it. */
interface Pending {
  task: Task;
  faultAddr: number;
  write: boolean;
  before: Buffer[];
}

export class Watchpoints {
  private readonly list: Watch[] = [];
  private pending: Pending | null = null;

  get size(): number {
    return this.list.length;
  }

  get stepping(): Task | null {
    return this.pending?.task ?? null;
  }

  /** Z2/Z3/Z4: type 2, 3 or 4. */
  insert(mm: Mm, type: number, addr: number, len: number): void {
    const kind: WatchKind = type === 2 ? 'watch' : type === 3 ? 'rwatch' : 'awatch';
    if (len <= 0 || this.list.some((w) => w.kind === kind && w.addr === addr && w.len === len)) return;
    this.list.push({ kind, addr, len });
    this.protect(mm);
  }

  remove(mm: Mm, type: number, addr: number, len: number): void {
    const kind: WatchKind = type === 2 ? 'watch' : type === 3 ? 'rwatch' : 'awatch';
    const i = this.list.findIndex((w) => w.kind === kind && w.addr === addr && w.len === len);
    if (i < 0) return;
    const [w] = this.list.splice(i, 1);
    this.open(mm, this.regionsOf(mm, [w]));
    this.protect(mm);
  }

  /** Forget every watchpoint without touching memory (the process's memory is gone: exec, exit). */
  reset(): void {
    this.list.length = 0;
    this.pending = null;
  }

  clear(mm: Mm): void {
    const regions = this.regionsOf(mm, this.list);
    this.list.length = 0;
    this.open(mm, regions);
  }

  /**
   * Take the watched access away from the regions that hold watched ranges
   * (again: the engine may have had the process's memory set up anew since,
   * and mprotect(2) gives a region its mapping's protection).
   */
  protect(mm: Mm): void {
    if (this.list.length === 0 || this.pending !== null) return;
    const take = new Map<number, number>();
    for (const w of this.list) {
      const bits = w.kind === 'watch' ? PROT_WRITE : PROT_READ | PROT_WRITE;
      for (const r of this.regionsOf(mm, [w])) take.set(r.start, (take.get(r.start) ?? 0) | bits);
    }
    for (const [start, bits] of take) {
      const v = mm.space.find(start);
      if (v !== null) protectRegion(mm, start, v.prot & ~bits);
    }
  }

  /**
   * A fault of t: true when it is a watched region's (an access its mapping
   * allows): the regions are opened for t's next run, one instruction.
   */
  faulted(t: Task, f: Fault): boolean {
    if (this.list.length === 0 || f.signal !== 11 || !f.access) return false;
    const mm = t.proc.mm;
    const regions = this.regionsOf(mm, this.list);
    if (!regions.some((r) => f.addr >= r.start && f.addr < r.end)) return false;
    const v = mm.space.find(f.addr);
    const write = ((f.err ?? 0) & 2) !== 0;
    if (v === null || !(v.prot & (write ? PROT_WRITE : PROT_READ))) return false; // the mapping's own refusal: a real fault
    this.pending = { task: t, faultAddr: f.addr, write, before: this.list.map((w) => this.peek(mm, w)) };
    this.open(mm, regions);
    // a block translated before holds more than this instruction: the step must translate it alone
    mm.cpu.codeWrite(f.pc, 16);
    return true;
  }

  /** After the instruction ran: the watchpoint it hit (the address gdb is told), or null. */
  stepped(t: Task): { kind: WatchKind; addr: number } | null {
    const p = this.pending;
    if (p === null || p.task !== t) return null;
    this.pending = null;
    this.protect(t.proc.mm);
    let hit: { kind: WatchKind; addr: number } | null = null;
    this.list.forEach((w, i) => {
      if (hit !== null) return;
      const inside = p.faultAddr >= w.addr && p.faultAddr < w.addr + w.len;
      if (p.write && w.kind !== 'rwatch' && (inside || !this.peek(t.proc.mm, w).equals(p.before[i]))) hit = { kind: w.kind, addr: inside ? p.faultAddr : w.addr };
      else if (!p.write && w.kind !== 'watch' && inside) hit = { kind: w.kind, addr: p.faultAddr };
    });
    return hit;
  }

  private peek(mm: Mm, w: Watch): Buffer {
    try {
      return Buffer.from(mm.space.read(w.addr, w.len));
    } catch {
      return Buffer.alloc(0);
    }
  }

  /** The engine's regions that hold the ranges. */
  private regionsOf(mm: Mm, ws: Watch[]): Array<{ start: number; end: number }> {
    const out = new Map<number, { start: number; end: number }>();
    for (const w of ws)
      for (let a = w.addr; a < w.addr + w.len; ) {
        const r = regionAt(mm, a);
        if (r === null) a = a - (a % PAGE) + PAGE;
        else {
          out.set(r.start, r);
          a = r.end;
        }
      }
    return [...out.values()];
  }

  /** The regions as their mappings have them. */
  private open(mm: Mm, regions: Array<{ start: number; end: number }>): void {
    for (const r of regions) {
      const v = mm.space.find(r.start);
      if (v !== null) protectRegion(mm, r.start, v.prot);
    }
  }
}

/** The engine's region that holds addr, or null. */
function regionAt(mm: Mm, addr: number): { start: number; end: number } | null {
  for (const [s, r] of mm.cpu.regions) if (addr >= s && addr < r.end) return { start: s, end: r.end };
  return null;
}

/**
 * One whole region's protection, in the engine's account too (a part would
 * split the region; another space's activation then maps it anew).
 */
function protectRegion(mm: Mm, start: number, prot: number): void {
  const r = mm.cpu.regions.get(start);
  if (r === undefined || r.prot === prot) return;
  mm.cpu.protect(start, r.end - start, prot);
  mm.cpu.regions.set(start, { ...r, prot });
}
