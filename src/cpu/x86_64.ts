import type { Arch } from './arch.js';
import type { Cpu } from './engine.js';
import { PAGE } from '../mm/layout.js';
import { hostAlloc, hostFree, hostViewAt } from '../host/libc.js';
import { UC_ARCH_X86, UC_MODE_64 } from './unicorn.js';
import {
  BUS_ADRALN,
  FPE_FLTDIV,
  FPE_FLTINV,
  FPE_FLTOVF,
  FPE_FLTRES,
  FPE_FLTUND,
  FPE_INTDIV,
  ILL_ILLOPN,
  SI_KERNEL,
  SIG,
  TRAP_TRACE,
} from '../abi/signal.js';

export const X86 = {
  RAX: 35,
  RBP: 36,
  RBX: 37,
  RCX: 38,
  RDI: 39,
  RDX: 40,
  RIP: 41,
  RSI: 43,
  RSP: 44,
  R8: 106,
  R9: 107,
  R10: 108,
  R11: 109,
  R12: 110,
  R13: 111,
  R14: 112,
  R15: 113,
  EFLAGS: 25,
  FS_BASE: 250,
  GS_BASE: 251,
  /** x87 status word, x87 control word, MXCSR */
  FPSW: 31,
  FPCW: 246,
  MXCSR: 249,
  CR4: 54,
  /** a model-specific register: {uint32 rid; uint64 value} (uc_x86_msr) */
  MSR: 248,
  INS_SYSCALL: 699,
} as const;

/** CR4.TSD: rdtsc and rdtscp fault outside ring 0 (Linux's PR_TSC_SIGSEGV) */
export const CR4_TSD = 1 << 2;
/** MSR_MISC_FEATURES_ENABLES, whose bit 0 makes cpuid fault outside ring 0 (ARCH_SET_CPUID) */
export const MSR_MISC_FEATURES_ENABLES = 0x140;

/**
 * si_code of a floating-point exception from its unmasked flags (bits 0-5 of
 * the x87 status word or MXCSR: invalid, denormal, divide by zero, overflow,
 * underflow, precision), highest priority first, as Linux's
 * fpu__exception_code (arch/x86/kernel/fpu/core.c) gives it; 0 if none.
 */
export function fpeCode(unmasked: number): number {
  if (unmasked & 0x01) return FPE_FLTINV;
  if (unmasked & 0x04) return FPE_FLTDIV;
  if (unmasked & 0x08) return FPE_FLTOVF;
  if (unmasked & 0x12) return FPE_FLTUND;
  if (unmasked & 0x20) return FPE_FLTRES;
  return 0;
}

/**
 * The CPUID leaves that describe the emulated CPU (Unicorn's CPU model, the
 * same for every Machine): leaf 1's EDX is Linux's AT_HWCAP on x86, and all
 * of them make the guest's /proc/cpuinfo.
 */
export const CPUID_LEAVES: ReadonlyArray<readonly [number, number]> = [
  [0, 0], [1, 0], [7, 0], [0xd, 1], [0x80000000, 0], [0x80000001, 0], [0x80000002, 0], [0x80000003, 0], [0x80000004, 0], [0x80000008, 0],
];
/** x86 code that runs CPUID for each (leaf, subleaf) and stores [eax, ebx, ecx, edx] at rdi, 16 bytes a leaf */
export function cpuidProbe(leaves: ReadonlyArray<readonly [number, number]>): number[] {
  const code: number[] = [];
  const imm = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  for (const [leaf, subleaf] of leaves) {
    // mov eax, leaf; mov ecx, subleaf; cpuid; mov [rdi], eax; mov [rdi+4], ebx; mov [rdi+8], ecx; mov [rdi+12], edx; add rdi, 16
    code.push(0xb8, ...imm(leaf), 0xb9, ...imm(subleaf), 0x0f, 0xa2, 0x89, 0x07, 0x89, 0x5f, 0x04, 0x89, 0x4f, 0x08, 0x89, 0x57, 0x0c, 0x48, 0x83, 0xc7, 0x10);
  }
  return code;
}

/**
 * Run CPUID on the emulated x86 CPU for each (leaf, subleaf), in one run
 * (before the guest's memory is set up). Returns [eax, ebx, ecx, edx] for each.
 */
export function cpuidOf(cpu: Cpu, leaves: ReadonlyArray<readonly [number, number]>): number[][] {
  const code = cpuidProbe(leaves);
  // code and results on pages of their own: a store to the code's page would throw its translation away
  const page = hostAlloc(2 * PAGE);
  const at = 0x10000;
  const out = at + PAGE;
  if (code.length > PAGE || leaves.length * 16 > PAGE) throw new Error('cpuid probe: too many leaves');
  const mem = new Uint8Array(hostViewAt(page.addr, 2 * PAGE));
  mem.set(code);
  cpu.map(at, PAGE, 5, page.addr);
  cpu.map(out, PAGE, 3, page.addr + PAGE);
  try {
    cpu.setRegs([[39, out]]); // rdi
    const err = cpu.lib.emuStart(cpu.uc, at, BigInt(at + code.length), 0, 0);
    if (err !== 0) throw new Error(`cpuid probe: ${cpu.lib.strerror(err)}`);
    const dv = new DataView(mem.buffer, mem.byteOffset + PAGE, leaves.length * 16);
    return leaves.map((_, i) => [0, 4, 8, 12].map((o) => dv.getUint32(i * 16 + o, true)));
  } finally {
    cpu.unmap(at, PAGE);
    cpu.unmap(out, PAGE);
    hostFree(page.addr, 2 * PAGE);
  }
}

/** the emulated CPU's answers for CPUID_LEAVES, by "leaf.subleaf" */
const cpuidValues = new Map<string, number[]>();
/** Set by the engine from the emulated CPU. */
export function setX86Cpuid(values: number[][]): void {
  CPUID_LEAVES.forEach(([l, s], i) => cpuidValues.set(`${l}.${s}`, values[i]));
}
/** [eax, ebx, ecx, edx] of a leaf in CPUID_LEAVES (zeros before the first engine starts) */
export function x86Cpuid(leaf: number, subleaf = 0): number[] {
  return cpuidValues.get(`${leaf}.${subleaf}`) ?? [0, 0, 0, 0];
}

export const x86_64: Arch = {
  name: 'x86_64',
  machine: 'x86_64',
  elfMachine: 62,
  ucArch: UC_ARCH_X86,
  ucMode: UC_MODE_64,
  cpuModel: -1,
  // TASK_SIZE = 2^47 - 4096; mmap_base = TASK_SIZE - 128 MiB gap; ELF_ET_DYN_BASE = 2/3 TASK_SIZE (page aligned).
  layout: {
    taskSize: 0x7ffffffff000,
    stackTop: 0x7ffffffff000,
    mmapBase: 0x7ffff7fff000,
    etDynBase: 0x555555554000,
  },
  platform: 'x86_64',
  hwcap: () => x86Cpuid(1)[3],
  hwcap2: 0,
  minSigStkSz: 0,
  pcReg: X86.RIP,
  spReg: X86.RSP,
  syscallRegs: [X86.RAX, X86.RDI, X86.RSI, X86.RDX, X86.R10, X86.R8, X86.R9, X86.RIP, X86.EFLAGS],
  returnRegs: [X86.RAX, X86.RCX, X86.R11],
  syscallReturn(result, regs, out) {
    out[0] = result >>> 0;
    out[1] = Math.floor(result / 0x100000000) >>> 0;
    // rcx = address after the 2-byte syscall instruction, r11 = rflags
    const ripLo = regs[14] + 2;
    out[2] = ripLo >>> 0;
    out[3] = regs[15] + (ripLo > 0xffffffff ? 1 : 0);
    out[4] = regs[16];
    out[5] = regs[17];
  },
  // the hook sees rip at the 2-byte syscall instruction itself
  syscallInsnAddr: (regs) => regs[14] + regs[15] * 0x100000000,
  // Linux clears every GPR at entry; rdx = 0 means "no atexit function" to glibc's _start.
  entryRegs: [
    [X86.RAX, 0],
    [X86.RBX, 0],
    [X86.RCX, 0],
    [X86.RDX, 0],
    [X86.RSI, 0],
    [X86.RDI, 0],
    [X86.RBP, 0],
    [X86.R8, 0],
    [X86.R9, 0],
    [X86.R10, 0],
    [X86.R11, 0],
    [X86.R12, 0],
    [X86.R13, 0],
    [X86.R14, 0],
    [X86.R15, 0],
    [X86.EFLAGS, 0x202],
  ],
  tlsReg: X86.FS_BASE,
  syscallHook: { kind: 'insn', insn: X86.INS_SYSCALL },
  // arch/x86/kernel/traps.c
  trapSignal(intno, reg) {
    switch (intno) {
      case 0: // #DE divide error
        return { signal: SIG.SIGFPE, code: FPE_INTDIV, addrIsPc: true };
      case 1: // #DB single step
        return { signal: SIG.SIGTRAP, code: TRAP_TRACE, addrIsPc: true };
      case 3: // #BP int3: do_int3_user, force_sig
        return { signal: SIG.SIGTRAP, code: SI_KERNEL, addrIsPc: false };
      case 6: // #UD
        return { signal: SIG.SIGILL, code: ILL_ILLOPN, addrIsPc: true };
      // math_error sends nothing for a spurious one (no flag unmasked); the engine raises neither then
      case 16: // #MF x87 (math_error): the status word's flags the control word unmasks
        return { signal: SIG.SIGFPE, code: fpeCode(reg(X86.FPSW) & ~reg(X86.FPCW)), addrIsPc: true };
      case 19: { // #XM SIMD (math_error): MXCSR's flags its masks (bits 7-12) unmask
        const mxcsr = reg(X86.MXCSR);
        return { signal: SIG.SIGFPE, code: fpeCode(mxcsr & ~(mxcsr >> 7)), addrIsPc: true };
      }
      case 17: // #AC alignment
        return { signal: SIG.SIGBUS, code: BUS_ADRALN, addrIsPc: true };
      default: // #GP, #SS, #NP, #OF, #BR, software int N: force_sig(SIGSEGV)
        return { signal: SIG.SIGSEGV, code: SI_KERNEL, addrIsPc: false };
    }
  },
};
