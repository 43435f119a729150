// A guest task (for now: a single-threaded process) and its kernel state.
import type { Arch } from '../cpu/arch.js';
import { Cpu, type CpuClient, type Fault } from '../cpu/engine.js';
import { AddressSpace } from '../mm/address-space.js';
import { FdTable } from '../fs/fdtable.js';
import type { StartInfo } from '../loader/load.js';
import { Args } from '../syscalls/args.js';
import { dispatch, Unsupported, type SyscallTable } from '../syscalls/dispatch.js';
import { NSIG } from './signals.js';

export interface SigAction {
  handler: number; // SIG_DFL = 0, SIG_IGN = 1, else a guest address
  flags: number;
  restorer: number;
  mask: bigint;
}

export type ExitState = { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number; fault?: Fault };

export interface TaskOptions {
  onMissing: 'panic' | 'enosys';
  debug: boolean;
}

export class Task implements CpuClient {
  readonly cpu: Cpu;
  readonly mm: AddressSpace;
  readonly fds = new FdTable();
  readonly args = new Args();
  pid: number;
  ppid: number;
  cwd: string;
  umask = 0o022;
  exit: ExitState | null = null;
  /** an error thrown by elfrun itself while servicing the guest (a bug, or a panic) */
  error: Error | null = null;
  clearChildTid = 0;
  robustList = 0;
  robustListLen = 0;
  sigactions: SigAction[] = Array.from({ length: NSIG + 1 }, () => ({ handler: 0, flags: 0, restorer: 0, mask: 0n }));
  sigmask = 0n;
  altstack = { sp: 0, flags: 2 /* SS_DISABLE */, size: 0 };
  start: StartInfo | null = null;
  exePath = '';
  rlimits: Array<[bigint, bigint]> = [];
  comm = '';
  pdeathsig = 0;
  dumpable = 1;
  noNewPrivs = false;

  constructor(
    readonly arch: Arch,
    readonly table: SyscallTable,
    readonly opts: TaskOptions,
    pid: number,
    ppid: number,
    cwd: string,
  ) {
    this.cpu = new Cpu(arch);
    this.cpu.client = this;
    this.mm = new AddressSpace(this.cpu, arch.layout);
    this.pid = pid;
    this.ppid = ppid;
    this.cwd = cwd;
  }

  get tid(): number {
    return this.pid;
  }

  onSyscall(cpu: Cpu, regs: Uint32Array): void {
    this.args.regs = regs;
    const r = dispatch(this, this.args);
    if (this.exit !== null || this.error !== null) {
      cpu.stop();
      return;
    }
    cpu.setReturn(r);
  }

  onFault(_cpu: Cpu, fault: Fault): void {
    if (this.exit === null) this.exit = { kind: 'signaled', signal: fault.signal, fault };
  }

  /**
   * A signal the kernel raises synchronously in this task (SIGPIPE on a write
   * to a broken pipe). Default actions and ignoring are exact; running a guest
   * handler needs signal delivery (processes issue) and is reported as such.
   */
  raise(sig: number, errnoIfUnsupported: number): void {
    const act = this.sigactions[sig];
    const blocked = (this.sigmask >> BigInt(sig - 1)) & 1n;
    if (act.handler === 1 /* SIG_IGN */) return;
    if (act.handler === 0 /* SIG_DFL */ && !blocked) {
      if (sig === SIG.SIGCHLD || sig === SIG.SIGURG || sig === SIG.SIGWINCH || sig === SIG.SIGCONT) return;
      this.exit = { kind: 'signaled', signal: sig };
      return;
    }
    throw new Unsupported(`delivery of signal ${sig} to a guest handler or a blocked signal`, errnoIfUnsupported);
  }

  /** Run until the task exits (single task: no scheduler yet). */
  run(): ExitState {
    while (this.exit === null && this.error === null) {
      const err = this.cpu.run();
      if (this.cpu.internalError) {
        this.error = this.cpu.internalError;
        break;
      }
      if (err !== 0 && this.exit === null) {
        // A fault Unicorn reported without a hook (e.g. invalid instruction).
        const pc = this.cpu.pc;
        this.exit = { kind: 'signaled', signal: ucErrorSignal(err), fault: { signal: ucErrorSignal(err), addr: pc, pc, what: this.cpu.lib.strerror(err) } };
      }
    }
    if (this.error) throw this.error;
    return this.exit!;
  }

  destroy(): void {
    this.fds.closeAll();
    this.mm.destroy();
    this.cpu.close();
  }
}

import { UC_ERR_INSN_INVALID, UC_ERR_EXCEPTION, UC_ERR_READ_UNALIGNED, UC_ERR_WRITE_UNALIGNED, UC_ERR_FETCH_UNALIGNED } from '../cpu/unicorn.js';
import { SIG } from './signals.js';

function ucErrorSignal(err: number): number {
  switch (err) {
    case UC_ERR_INSN_INVALID:
    case UC_ERR_EXCEPTION:
      return SIG.SIGILL;
    case UC_ERR_READ_UNALIGNED:
    case UC_ERR_WRITE_UNALIGNED:
    case UC_ERR_FETCH_UNALIGNED:
      return SIG.SIGBUS;
    default:
      return SIG.SIGSEGV;
  }
}
