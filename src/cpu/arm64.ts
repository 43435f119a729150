import type { Arch } from './arch.js';
import { UC_ARCH_ARM64, UC_MODE_ARM } from './unicorn.js';
import { BUS_ADRALN, ILL_ILLOPC, SEGV_ACCERR, SEGV_MAPERR, SIG, TRAP_BRKPT } from '../abi/signal.js';

const X = (n: number): number => (n <= 28 ? 199 + n : n === 29 ? 1 : 2);

export const A64 = {
  X,
  SP: 4,
  PC: 260,
  NZCV: 3,
  TPIDR_EL0: 262,
  /** as the exception left them (the patch fills them in for the interrupt hook) */
  ESR_EL1: 277,
  FAR_EL1: 281,
  FPCR: 291,
  FPSR: 292,
  CPU_A72: 2,
} as const;

/**
 * What Unicorn's Cortex-A72 model answers (read from the engine with mrs):
 * MIDR_EL1 (implementer 0x41, part 0xd08, r0p3) and the generic timer's
 * CNTFRQ_EL0 (62.5 MHz).
 */
export const A72_MIDR = 0x410fd083;
export const A72_CNTFRQ = 62500000;

// HWCAP bits (arch/arm64/include/uapi/asm/hwcap.h) that Unicorn's Cortex-A72 model executes.
const HWCAP_FP = 1 << 0;
const HWCAP_ASIMD = 1 << 1;
const HWCAP_AES = 1 << 3;
const HWCAP_PMULL = 1 << 4;
const HWCAP_SHA1 = 1 << 5;
const HWCAP_SHA2 = 1 << 6;
const HWCAP_CRC32 = 1 << 7;

export const arm64: Arch = {
  name: 'arm64',
  machine: 'aarch64',
  elfMachine: 183,
  ucArch: UC_ARCH_ARM64,
  ucMode: UC_MODE_ARM,
  cpuModel: A64.CPU_A72,
  // 48-bit VA: TASK_SIZE = 2^48; STACK_TOP = TASK_SIZE; mmap_base = TASK_SIZE - 128 MiB;
  // ELF_ET_DYN_BASE = 2/3 TASK_SIZE, page aligned.
  layout: {
    taskSize: 0x1000000000000,
    stackTop: 0x1000000000000,
    mmapBase: 0xfffff8000000,
    etDynBase: 0xaaaaaaaab000,
  },
  platform: 'aarch64',
  hwcap: () => HWCAP_FP | HWCAP_ASIMD | HWCAP_AES | HWCAP_PMULL | HWCAP_SHA1 | HWCAP_SHA2 | HWCAP_CRC32,
  hwcap2: 0,
  // Linux's signal_minsigstksz without SVE/SME: sizeof(struct rt_sigframe) (4688)
  // + a frame record (16) + 16 bytes of alignment padding.
  minSigStkSz: 4720,
  pcReg: A64.PC,
  spReg: A64.SP,
  syscallRegs: [X(8), X(0), X(1), X(2), X(3), X(4), X(5), A64.PC],
  returnRegs: [X(0)],
  syscallReturn(result, _regs, out) {
    out[0] = result >>> 0;
    out[1] = Math.floor(result / 0x100000000) >>> 0;
  },
  // the hook sees pc already past the 4-byte svc
  syscallInsnAddr: (regs) => regs[14] + regs[15] * 0x100000000 - 4,
  entryRegs: [...Array.from({ length: 31 }, (_, i): [number, number] => [X(i), 0]), [A64.NZCV, 0]],
  tlsReg: A64.TPIDR_EL0,
  syscallHook: { kind: 'intr', intno: 2 },
  // arch/arm64/kernel/traps.c and debug-monitors.c
  trapSignal(intno, reg) {
    switch (intno) {
      case 1: // EXCP_UDEF: do_undefinstr (arm64_notify_die: fault_code 0, no ESR record)
        return { signal: SIG.SIGILL, code: ILL_ILLOPC, addrIsPc: true, esr: 0 };
      case 7: // EXCP_BKPT (brk): brk_handler
        return { signal: SIG.SIGTRAP, code: TRAP_BRKPT, addrIsPc: true };
      case 3: // EXCP_PREFETCH_ABORT
      case 4: {
        // EXCP_DATA_ABORT: an alignment fault (an exclusive or atomic access
        // to a misaligned address) is SIGBUS BUS_ADRALN at the address, as
        // Linux's do_alignment_fault sends it; ESR's fault status tells
        const esr = reg(A64.ESR_EL1);
        if (esr === 0) return { signal: SIG.SIGSEGV, code: SEGV_MAPERR, addrIsPc: true }; // an engine without the patch
        const far = reg(A64.FAR_EL1);
        const fsc = esr & 0x3f;
        if (fsc === 0x21) return { signal: SIG.SIGBUS, code: BUS_ADRALN, addrIsPc: false, access: far, esr };
        return { signal: SIG.SIGSEGV, code: fsc >= 0x0c && fsc <= 0x0f ? SEGV_ACCERR : SEGV_MAPERR, addrIsPc: false, access: far, esr };
      }
      default:
        return { signal: SIG.SIGILL, code: ILL_ILLOPC, addrIsPc: true, esr: 0 };
    }
  },
};

/**
 * The ESR_EL1 a data or instruction abort from EL0 leaves (set_thread_esr),
 * for the faults the engine reports as invalid memory accesses: EC 0x24
 * (data abort from a lower EL) or 0x20 (instruction abort), IL, WnR for a
 * write, and a level-3 fault status: translation fault where no page is
 * present (nothing mapped, or PROT_NONE, whose entries are not valid),
 * permission fault where a page is but refuses the access.
 */
export function abortEsr(fetch: boolean, write: boolean, present: boolean): number {
  const ec = fetch ? 0x20 : 0x24;
  return ((ec << 26) | (1 << 25) | (write && !fetch ? 1 << 6 : 0) | (present ? 0x0f : 0x07)) >>> 0;
}
