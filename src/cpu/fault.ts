// What the engine reports when emulation stops for a fault, and to whom: the
// task that runs in it. The page-fault details (x86's error code, the words
// for each kind of access) come from Unicorn's memory-fault type.
import type { Cpu } from './engine.js';
import type { AddressSpace } from '../mm/address-space.js';
import { BUS_ADRERR, SIG } from '../abi/signal.js';
import {
  UC_MEM_FETCH_PROT,
  UC_MEM_FETCH_UNMAPPED,
  UC_MEM_READ_PROT,
  UC_MEM_READ_UNMAPPED,
  UC_MEM_WRITE_PROT,
  UC_MEM_WRITE_UNMAPPED,
} from './unicorn.js';

/** Why emulation stopped, when it was not a syscall asking to stop. */
export interface Fault {
  signal: number;
  /** fault address for memory faults, else the pc */
  addr: number;
  pc: number;
  what: string;
  /** si_code, when not the signal's usual one (SIGBUS: BUS_ADRERR) */
  code?: number;
  /** x86's exception vector (14: a page fault) and its error code, as the signal frame reports them */
  trapno?: number;
  err?: number;
  /** a memory access faulted at addr (cr2 and arm64's fault_address hold it) */
  access?: boolean;
  /** arm64: the syndrome (ESR_EL1) the fault leaves for the signal frame's esr_context (0: none); absent: the last one stays */
  esr?: number;
}

/** The receiver of an engine's events: a task. */
export interface CpuClient {
  /** A syscall instruction: regs holds syscallRegs as lo/hi uint32 pairs; write results with cpu.setReturn. */
  onSyscall(cpu: Cpu, regs: Uint32Array): void;
  /** A fault or trap: the client records it; the engine stops. */
  onFault(cpu: Cpu, fault: Fault): void;
  /** An access just below the stack: grow it (true: the access is retried). */
  growStack?(addr: number): boolean;
  /** An access (PROT_READ, PROT_WRITE or PROT_EXEC) to memory charged as it is touched, not yet touched: charge it (true: the access is retried). */
  touchLazy?(addr: number, prot: number): boolean;
}

/**
 * x86's page-fault error code, as Linux reports it in the signal frame: a
 * user-mode access (4), a write (2), an instruction fetch (16), to a
 * present page (1).
 */
export function pageFaultCode(type: number, present: boolean): number {
  const write = type === UC_MEM_WRITE_UNMAPPED || type === UC_MEM_WRITE_PROT;
  const fetch = type === UC_MEM_FETCH_UNMAPPED || type === UC_MEM_FETCH_PROT;
  return 4 | (write ? 2 : 0) | (fetch ? 16 : 0) | (present ? 1 : 0);
}

/** What a memory fault of Unicorn's `type` was, in words (for messages). */
export function memFaultWhat(type: number): string {
  switch (type) {
    case UC_MEM_READ_UNMAPPED:
      return 'read of unmapped memory';
    case UC_MEM_WRITE_UNMAPPED:
      return 'write to unmapped memory';
    case UC_MEM_FETCH_UNMAPPED:
      return 'fetch from unmapped memory';
    case UC_MEM_WRITE_PROT:
      return 'write to protected memory';
    case UC_MEM_READ_PROT:
      return 'read of protected memory';
    case UC_MEM_FETCH_PROT:
      return 'fetch from non-executable memory';
    default:
      return `memory fault ${type}`;
  }
}

/**
 * A host SIGBUS stopped the run (a host process truncated a file the guest
 * maps shared): the guest's SIGBUS, BUS_ADRERR at the address it touched, as
 * Linux raises it, told to `raise`. The access itself completed (it read
 * zeros, or its write went nowhere) and the pc is after it: the host signal
 * came in the middle of the engine's block. Nothing is raised when no address
 * was the guest's memory.
 */
export function hostBusFault(space: AddressSpace, pc: number, hostAddrs: readonly number[], raise: (f: Fault) => void): void {
  const addr = space.hostBus(hostAddrs);
  if (addr >= 0) raise({ signal: SIG.SIGBUS, code: BUS_ADRERR, addr, pc, what: 'access past the end of a mapped file a host process truncated', trapno: 14, err: 4, access: true });
}
