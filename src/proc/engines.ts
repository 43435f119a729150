// The engine pool: one Unicorn engine per arch, shared by every process of
// that arch, and the address spaces waiting to be destroyed. A space whose
// last reference goes is destroyed only between task runs (bury), once no
// hook of its engine is on the stack; the memory the engine maps passes to
// the space most likely to run next (its heir).
import type { Arch, ArchName } from '../cpu/arch.js';
import { Cpu } from '../cpu/engine.js';
import { CPUID_LEAVES, cpuidOf, setX86Cpuid } from '../cpu/x86_64.js';
import type { Kernel } from './kernel.js';
import type { Mm } from './process.js';

export class Engines {
  private engines = new Map<ArchName, Cpu>();
  /**
   * address spaces to destroy once no hook of their engine is on the stack,
   * each with the space that may take the memory the engine maps (bury)
   */
  private graveyard: Array<{ mm: Mm; heir: Mm | null }> = [];

  constructor(private readonly k: Kernel) {}

  /** The engine that runs every process of this arch. */
  engine(arch: Arch): Cpu {
    let cpu = this.engines.get(arch.name);
    if (!cpu) {
      cpu = new Cpu(arch);
      if (arch.name === 'x86_64') setX86Cpuid(cpuidOf(cpu, CPUID_LEAVES));
      this.engines.set(arch.name, cpu);
    }
    return cpu;
  }

  /** Drop a reference to an address space; the last one destroys it once no hook is on the stack. */
  releaseMm(mm: Mm, heir: Mm | null = null): void {
    if (--mm.refs > 0) return;
    this.graveyard.push({ mm, heir: heir !== null && heir !== mm && heir.cpu === mm.cpu ? heir : null });
  }

  /** Destroy the address spaces released since the last run (no hook of their engine is on the stack). */
  bury(): void {
    if (this.graveyard.length === 0) return;
    for (const { mm, heir } of this.graveyard) {
      // the memory the engine maps goes to the space that runs next, most
      // likely: a forked child's, which was its parent's, back to the parent;
      // the old image's to the exec'd one (AddressSpace.giveTo)
      if (heir !== null && heir.refs > 0) this.k.futex.moved(mm.space.giveTo(heir.space, (s, e, h) => mm.cpu.holds(s, e, h)));
      // Leave the engine's mappings alone: the next activation keeps what the
      // next space shares with this one (its text, and the translations of it).
      mm.cpu.forget(mm.space);
      mm.space.destroy();
    }
    this.graveyard = [];
  }

  /** Close every engine (the run is over). */
  close(): void {
    for (const cpu of this.engines.values()) cpu.close();
    this.engines.clear();
  }
}
