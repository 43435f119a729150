// What elfrun needs to know about a guest architecture. One module per arch
// (x86_64.ts, arm64.ts) implements it; everything else is arch-neutral.
import type { Layout } from '../mm/layout.js';

export type ArchName = 'x86_64' | 'arm64';

/** What a CPU exception raises. */
export interface Trap {
  signal: number;
  code: number;
  /** si_addr is the instruction's address (else 0, as for SI_KERNEL) */
  addrIsPc: boolean;
  /** a memory access faulted here: si_addr, and the fault address the signal frame reports */
  access?: number;
  /** arm64: the syndrome the signal frame's ESR record reports (0: none); absent: the last one stays */
  esr?: number;
}

export interface Arch {
  name: ArchName;
  /** uname -m */
  machine: string;
  /** ELF e_machine */
  elfMachine: number;
  ucArch: number;
  ucMode: number;
  /** CPU model for uc_ctl(UC_CTL_CPU_MODEL), or -1 for Unicorn's default */
  cpuModel: number;
  layout: Layout;
  /** AT_PLATFORM string */
  platform: string;
  hwcap(): number;
  hwcap2: number;
  /** AT_MINSIGSTKSZ, or 0 to omit */
  minSigStkSz: number;

  pcReg: number;
  spReg: number;
  /** registers read on every syscall, in order: nr, a0..a5, then extra (pc, flags) */
  syscallRegs: number[];
  /** registers written on syscall return; values from syscallReturn() */
  returnRegs: number[];
  /**
   * Fill `out` (one 64-bit value per returnRegs entry, as lo/hi uint32 pairs)
   * from the result and the registers read at entry (same layout in `regs`).
   */
  syscallReturn(result: number, regs: Uint32Array, out: Uint32Array): void;
  /** address of the syscall instruction, from the registers read at syscall entry */
  syscallInsnAddr(regs: Uint32Array): number;
  /** register values at the ELF entry point (besides pc and sp) */
  entryRegs: Array<[number, number]>;
  /** the TLS pointer register (arch_prctl on x86_64; TPIDR_EL0 on arm64) */
  tlsReg: number;
  /** Unicorn hook wiring: 'insn' for x86 syscall instruction, 'intr' for arm64 svc */
  syscallHook: { kind: 'insn'; insn: number } | { kind: 'intr'; intno: number };
  /**
   * The signal a CPU exception (an arm64 intno, an x86 vector) raises, its si_code, and
   * whether si_addr is the faulting instruction (else 0), as Linux's trap
   * handlers send them. `reg` reads a register of the CPU as the exception
   * left it (x86's floating-point exceptions take si_code from the FPU's
   * status and control registers).
   */
  trapSignal(intno: number, reg: (id: number) => number): Trap;
}
