// The gdb stub's syscall catchpoints (gdb.ts): QCatchSyscalls, and the
// stops Linux's ptrace makes at a syscall's entry and exit
// (PTRACE_SYSCALL, as gdbserver resumes with while gdb catches syscalls),
// reported as T05syscall_entry:NR; and T05syscall_return:NR;.
//
// Entry: the task's syscall hook (Task.onSyscall) asks before the call; a
// caught one stops the engine without running it. gdb then sees what
// ptrace shows there: the pc after the syscall instruction, x86_64's
// orig_rax the number and rax -ENOSYS (rcx and r11 as the instruction left
// them), arm64's x8 the number and x7 0 (the kernel's entry marker). When
// gdb resumes, the pc goes back to the instruction and it runs again: the
// call is made then, with the registers gdb left (its arguments), the
// number being orig_rax's (x86_64: -1 skips the call, which returns what
// rax holds, as Linux's syscall_enter_from_user_mode does); arm64 keeps the
// number it had (a write to x8 does not change the call: Linux takes it
// from syscallno, which the general registers do not hold).
//
// Exit: a call that ran while gdb catches syscalls stops once it is done
// (orig_rax its number, rax or x0 its result, which gdb may change; arm64's
// x7 reads 1), before the program goes on: at once for a call that
// returned, when the task next runs for one that parked or ended otherwise
// (exec, rt_sigreturn). A call made while gdb steps an instruction makes no
// syscall stops (gdbserver steps with PTRACE_SINGLESTEP).
import { E } from '../abi/errno.js';
import type { Cpu } from '../cpu/engine.js';
import { X86 } from '../cpu/x86_64.js';
import type { Task } from './task.js';

/** A thread at a syscall's entry stop (gdb was told), or resumed from one (its instruction runs again). */
interface Entry {
  /** the syscall's number as gdb sees it at the stop */
  nr: number;
  /** the hook's registers (the instruction's address, the flags) */
  regs: Uint32Array;
  again: boolean;
  /** the registers gdb reads at the stop in place of the thread's own: orig_rax, rax (x86_64), x7 (arm64) */
  sys: Record<string, bigint>;
}

/** What the stub reports: the thread, the stop reply's reason, the registers that read otherwise there. */
export type SyscallStop = (t: Task, why: string, sys: Record<string, bigint>) => void;

export class SyscallStops {
  /** the syscalls gdb catches (null: none; empty: all) */
  private which: Set<number> | null = null;
  private readonly entries = new Map<Task, Entry>();
  /** calls running (or parked) while gdb catches syscalls: their numbers, for the exit stop */
  private readonly running = new Map<Task, number>();
  /** calls done whose exit stop has not been reported yet */
  private readonly done = new Map<Task, number>();

  /** QCatchSyscalls:0, QCatchSyscalls:1[;NR]...: its reply. */
  packet(args: string): string {
    const [on, ...nrs] = args.split(';');
    if (on === '0' && nrs.length === 0) this.which = null;
    else if (on === '1') this.which = new Set(nrs.map((n) => parseInt(n, 16)));
    else return 'E01';
    return 'OK';
  }

  private catches(nr: number): boolean {
    return this.which !== null && (this.which.size === 0 || this.which.has(nr));
  }

  /**
   * t's syscall hook, before the call (`stepping`: gdb steps t): true when
   * the call is not to run now (t stops at its entry, or gdb skipped it).
   */
  enter(t: Task, cpu: Cpu, regs: Uint32Array, stepping: boolean): boolean {
    const e = this.entries.get(t);
    if (e !== undefined && e.again && t.arch.syscallInsnAddr(regs) === t.arch.syscallInsnAddr(e.regs)) {
      // the instruction of an entry stop, run again: the call gdb left
      this.entries.delete(t);
      const nr = t.arch.name === 'x86_64' ? Number(BigInt.asIntN(64, e.sys.orig_rax)) : e.nr;
      if (nr === -1) {
        cpu.setReturn(Number(BigInt.asIntN(64, e.sys.rax)));
        if (!stepping) this.finish(t, cpu, -1);
        return true;
      }
      regs[0] = nr >>> 0;
      regs[1] = nr < 0 || nr > 0xffffffff ? 0xffffffff : 0;
      // stepped from the entry stop, the call ends with the step's stop, not at an exit stop
      if (!stepping) this.running.set(t, nr);
      return false;
    }
    if (this.which === null || stepping) return false;
    const nr = t.args.nr;
    if (!this.catches(nr)) {
      this.running.set(t, nr);
      return false;
    }
    const sys: Record<string, bigint> = t.arch.name === 'x86_64' ? { orig_rax: BigInt(nr), rax: BigInt(-E.ENOSYS) } : { x7: 0n };
    this.entries.set(t, { nr, regs: Uint32Array.from(regs.subarray(0, 20)), again: false, sys });
    t.stopReason ??= 'signal';
    cpu.stop();
    return true;
  }

  /** t's call returned (its result is in its registers): its exit stop is due, and the engine stops for it. */
  returned(t: Task, cpu: Cpu): void {
    const nr = this.running.get(t);
    if (nr === undefined) return;
    this.running.delete(t);
    this.finish(t, cpu, nr);
  }

  private finish(t: Task, cpu: Cpu, nr: number): void {
    if (!this.catches(nr)) return;
    this.done.set(t, nr);
    t.stopReason ??= 'signal';
    cpu.stop();
  }

  /**
   * t, out of the engine (or about to run: `resumed`), reports the syscall
   * stop it is at; or, resumed from an entry stop, is set to make its call.
   * True when it stopped.
   */
  check(t: Task, resumed: boolean, stop: SyscallStop): boolean {
    const e = this.entries.get(t);
    if (e !== undefined && !e.again) {
      if (!resumed) {
        if (t.arch.name === 'x86_64') {
          // what the syscall instruction itself leaves: the return address in rcx, the flags in r11
          t.cpu.setReg(X86.RCX, t.arch.syscallInsnAddr(e.regs) + 2);
          t.cpu.setReg(X86.R11, e.regs[16]);
        }
        stop(t, `syscall_entry:${hexNr(e.nr)};`, e.sys);
        return true;
      }
      e.again = true;
      t.cpu.setPc(t.arch.syscallInsnAddr(e.regs));
      return false;
    }
    if (t.state === 'dead') {
      this.forget(t);
      return false;
    }
    let nr = this.done.get(t);
    if (nr === undefined && this.running.has(t) && t.blockRegs === null && t.state === 'runnable') {
      // ended out of the hook: retried after parking, or a call that does not return (exec, rt_sigreturn)
      nr = this.running.get(t)!;
      this.running.delete(t);
      if (!this.catches(nr)) return false;
    }
    if (nr === undefined) return false;
    this.done.delete(t);
    stop(t, `syscall_return:${hexNr(nr)};`, t.arch.name === 'x86_64' ? { orig_rax: BigInt(nr) } : { x7: 1n });
    return true;
  }

  forget(t: Task): void {
    this.entries.delete(t);
    this.running.delete(t);
    this.done.delete(t);
  }
}

/** A syscall number in a stop reply, as gdbserver prints it (an int in hex: -1 is ffffffff). */
const hexNr = (nr: number): string => (nr >>> 0).toString(16);
