// Hooks on syscalls from outside the guest: the library API's
// machine.syscalls.on(name | nr, { enter, exit }) and implement(name, fn),
// and the command line's --inject (syscalls/inject.ts), which is made of them.
//
// An enter hook sees the call's task and arguments before the handler runs:
// it may change an argument, skip the call with a result of its own, delay it,
// or have a signal sent at its end; an exit hook sees the result and may
// change it. A call that parks and is retried (a blocking read woken later)
// is one call: its enter hooks ran once and its exit hooks run when it ends.
// A call restarted after a signal handler is a new call, as under ptrace.
// Calls that do not return (exit, exit_group, a successful execve,
// rt_sigreturn) have no exit. While no hook is set the dispatcher pays one check.
import { NORETURN, type Args } from '../cpu/args.js';
import { A64 } from '../cpu/arm64.js';
import { X86 } from '../cpu/x86_64.js';
import { Blocked } from '../ctx/waitq.js';
import { nowMs } from '../host/clock.js';
import { SI_KERNEL } from '../abi/signal.js';
import { PROT_WRITE } from '../abi/mman.js';
import type { Task } from '../proc/task.js';
import { syscallTable } from './table.js';

export interface SyscallHook {
  enter?(ctx: SyscallContext): void;
  exit?(ctx: SyscallContext): void;
}

/** A syscall supplied by the library's user: its result (a negative errno for an error). */
export type SyscallImpl = (ctx: SyscallContext) => number | bigint;

/** The registers a hook may name, per arch: Unicorn's ids. */
const REGS: Record<'x86_64' | 'arm64', Record<string, number>> = {
  x86_64: {
    rax: X86.RAX, rbx: X86.RBX, rcx: X86.RCX, rdx: X86.RDX, rsi: X86.RSI, rdi: X86.RDI, rbp: X86.RBP, rsp: X86.RSP,
    r8: X86.R8, r9: X86.R9, r10: X86.R10, r11: X86.R11, r12: X86.R12, r13: X86.R13, r14: X86.R14, r15: X86.R15,
    rip: X86.RIP, eflags: X86.EFLAGS, fs_base: X86.FS_BASE, gs_base: X86.GS_BASE, pc: X86.RIP, sp: X86.RSP,
  },
  arm64: {
    ...Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`x${i}`, A64.X(i)])),
    fp: A64.X(29), lr: A64.X(30), sp: A64.SP, pc: A64.PC, nzcv: A64.NZCV, tpidr_el0: A64.TPIDR_EL0,
  },
};

class HookError extends Error {}

/** what setString leaves untouched below the stack pointer: the x86_64 red zone (128 bytes), and more */
const SCRATCH_GAP = 1024;

/** One call as hooks see it. */
export class SyscallContext {
  /** the result: set by skip() at entry, or by the call at exit */
  private res: bigint | null = null;
  /** skip() was called: the handler does not run */
  skipped = false;
  /** ms to hold the call before it runs (delay()), and its return after (delayReturn()) */
  delayMs = 0;
  delayExitMs = 0;
  /** a signal to send the thread when the call ends (signal()) */
  sendSignal = 0;
  /** a hook changed the call's course (skip, a changed result): the trace says INJECTED */
  injected = false;
  private phase: 'enter' | 'exit' = 'enter';
  /** bytes of the stack below SCRATCH_GAP that setString used */
  private scratch = 0;

  constructor(
    private readonly t: Task,
    private readonly a: Args,
    /** the syscall's number on this arch, and its name (syscall_N for a number Linux does not know) */
    readonly nr: number,
    readonly name: string,
  ) {}

  get pid(): number {
    return this.t.pid;
  }
  get tid(): number {
    return this.t.tid;
  }
  get arch(): 'x86_64' | 'arm64' {
    return this.t.arch.name;
  }
  /** argument i (0-5) as the raw 64-bit register */
  arg(i: number): bigint {
    this.argIndex(i);
    return this.a.big(i);
  }
  /** change argument i for the handler (the guest's registers keep the value it passed) */
  setArg(i: number, v: number | bigint): void {
    this.argIndex(i);
    if (this.phase !== 'enter') throw new HookError('setArg: only in an enter hook');
    const u = BigInt.asUintN(64, BigInt(v));
    this.a.regs[2 * i + 2] = Number(u & 0xffffffffn);
    this.a.regs[2 * i + 3] = Number(u >> 32n);
  }
  /**
   * enter only: make argument i point to a copy of `s` (NUL-terminated),
   * written to the thread's stack below the part it may be using (its red
   * zone included); the guest's own string is left as it was.
   */
  setString(i: number, s: string): void {
    if (this.phase !== 'enter') throw new HookError('setString: only in an enter hook');
    const b = Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
    const sp = Number(this.t.cpu.regBig(this.t.arch.spReg));
    let addr = sp - SCRATCH_GAP - this.scratch - b.length;
    addr -= addr % 16;
    this.scratch = sp - addr;
    if (this.t.mm.accessiblePrefix(addr, b.length, PROT_WRITE) < b.length) throw new HookError(`setString: no writable stack at 0x${addr.toString(16)}`);
    this.write(addr, b);
    this.setArg(i, addr);
  }
  /** the NUL-terminated string argument i points to (UTF-8; at most max bytes) */
  string(i: number, max = 4096): string {
    return this.guest(() => this.t.mm.cstring(this.a.ptr(i), max).toString('utf8'));
  }
  /** len bytes of guest memory at the address in argument i */
  buffer(i: number, len: number): Buffer {
    return this.read(this.a.ptr(i), len);
  }
  /** guest memory (readable pages only) */
  read(addr: number, len: number): Buffer {
    return this.guest(() => this.t.mm.read(addr, len));
  }
  /** write guest memory (writable pages only) */
  write(addr: number, data: Uint8Array): void {
    this.guest(() => this.t.mm.write(addr, data));
  }
  /** a register of the calling thread by its name (rax..r15, rip, eflags, fs_base; x0..x30, sp, pc, nzcv...) */
  reg(name: string): bigint {
    return this.t.cpu.regBig(this.regId(name));
  }
  setReg(name: string, v: number | bigint): void {
    this.t.cpu.setReg(this.regId(name), BigInt.asUintN(64, BigInt(v)));
  }
  /** enter only: do not run the call; the guest gets `result` (a negative errno for an error) */
  skip(result: number | bigint): void {
    if (this.phase !== 'enter') throw new HookError('skip: only in an enter hook');
    this.skipped = true;
    this.injected = true;
    this.res = BigInt(result);
  }
  /** enter only: hold the call this many ms before it runs (the thread waits, others run) */
  delay(ms: number): void {
    if (this.phase !== 'enter') throw new HookError('delay: only in an enter hook');
    this.delayMs = Math.max(this.delayMs, ms);
  }
  /** hold the call's return this many ms after it ran (the thread waits, others run) */
  delayReturn(ms: number): void {
    this.delayExitMs = Math.max(this.delayExitMs, ms);
  }
  /** send the calling thread a signal (si_code SI_KERNEL) when the call ends */
  signal(sig: number): void {
    this.sendSignal = sig;
  }
  /** the call's result (exit hooks; after skip() in enter hooks) as a signed number */
  get result(): number {
    return this.res === null ? NaN : Number(BigInt.asIntN(64, this.res));
  }
  set result(v: number) {
    if (this.phase !== 'exit') throw new HookError('result: set only in an exit hook (skip() at entry)');
    if (this.res !== BigInt(v)) this.injected = true;
    this.res = BigInt(v);
  }
  /** @internal */
  exited(r: number): void {
    this.phase = 'exit';
    this.res = BigInt(r);
  }
  /** @internal the result for the guest's register */
  final(): number {
    return Number(BigInt.asIntN(64, this.res ?? 0n));
  }

  private argIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i > 5) throw new HookError(`argument ${i}: a syscall has arguments 0 to 5`);
  }
  private regId(name: string): number {
    const id = REGS[this.t.arch.name][name.toLowerCase()];
    if (id === undefined) throw new HookError(`no register ${name} on ${this.t.arch.name}`);
    return id;
  }
  private guest<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw new HookError(`guest memory: ${(e as Error).message}`);
    }
  }
}

/** What a call in progress keeps across its retries. */
interface InFlight {
  ctx: SyscallContext;
  /** hooks that saw the call enter (their exits run at its end) */
  hooks: SyscallHook[];
  /** while held by a delay (before the call, or after it when done): until when */
  until: number;
  /** the call ran; it is held before it returns */
  done: boolean;
}

/** The hooks of one Machine's syscall layer. */
export class SyscallHooks {
  private readonly byName = new Map<string, SyscallHook[]>();
  private readonly byNr = new Map<number, SyscallHook[]>();
  private readonly all: SyscallHook[] = [];
  private readonly impls = new Map<string, SyscallImpl>();
  private readonly inFlight = new Map<Task, InFlight>();

  constructor(
    /** told of a call whose course a hook changed (the tracer marks it INJECTED) */
    private readonly injected: (t: Task) => void,
  ) {}

  /** Hook a syscall by name (any arch), by number (this number on whatever arch), or '*' for every call. Returns a function that removes the hook. */
  on(which: string | number, hook: SyscallHook): () => void {
    let list: SyscallHook[];
    if (which === '*') list = this.all;
    else if (typeof which === 'number') list = getOrMake(this.byNr, which);
    else {
      knownName(which);
      list = getOrMake(this.byName, which);
    }
    list.push(hook);
    return () => {
      const i = list.indexOf(hook);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Supply a syscall (one elfrun lacks, or replace one): `fn` runs instead of elfrun's handler. */
  implement(name: string, fn: SyscallImpl): void {
    knownName(name);
    this.impls.set(name, fn);
  }

  /** Run one call through the hooks; `call` is the dispatcher's own path. */
  run(t: Task, a: Args, call: (t: Task, a: Args) => number): number {
    let f = t.restarting ? this.inFlight.get(t) : undefined;
    const nr = a.nr;
    if (f === undefined) {
      const name = (nr >= 0 ? syscallTable(t.arch.name).byNr[nr]?.name : undefined) ?? `syscall_${nr}`;
      const hooks = [...(this.byName.get(name) ?? []), ...(this.byNr.get(nr) ?? []), ...this.all];
      if (hooks.length === 0 && !this.impls.has(name)) return call(t, a);
      const ctx = new SyscallContext(t, a, nr, name);
      for (const h of hooks) if (h.enter) userCode(name, 'enter', () => h.enter!(ctx));
      f = { ctx, hooks, until: ctx.delayMs > 0 && !ctx.skipped ? nowMs() + ctx.delayMs : 0, done: false };
      this.inFlight.set(t, f);
    }
    const ctx = f.ctx;
    if (f.done) {
      // held after it ran (delayReturn): its result, once the time is up
      if (nowMs() < f.until) return this.hold(t, a, f.until);
      this.inFlight.delete(t);
      return ctx.final();
    }
    let r: number;
    try {
      if (f.until > 0) {
        if (nowMs() < f.until) return this.hold(t, a, f.until);
        f.until = 0;
        // the call itself starts now: its handler must not take this for a retry
        const was = t.restarting;
        t.restarting = false;
        try {
          r = this.perform(t, a, ctx, call);
        } finally {
          t.restarting = was;
        }
      } else r = this.perform(t, a, ctx, call);
    } catch (e) {
      this.inFlight.delete(t);
      throw e;
    }
    if (r === NORETURN) {
      if (t.state !== 'blocked') this.inFlight.delete(t);
      return r;
    }
    ctx.exited(r);
    for (const h of f.hooks) if (h.exit) userCode(ctx.name, 'exit', () => h.exit!(ctx));
    if (ctx.sendSignal > 0) {
      const info = t.kernel.userInfo(ctx.sendSignal, 0);
      info.writeInt32LE(SI_KERNEL, 8);
      t.kernel.signals.sendToTask(t, ctx.sendSignal, info);
    }
    if (ctx.injected) this.injected(t);
    if (ctx.delayExitMs > 0) {
      f.done = true;
      f.until = nowMs() + ctx.delayExitMs;
      return this.hold(t, a, f.until);
    }
    this.inFlight.delete(t);
    return ctx.final();
  }

  private perform(t: Task, a: Args, ctx: SyscallContext, call: (t: Task, a: Args) => number): number {
    if (ctx.skipped) return ctx.final();
    const impl = this.impls.get(ctx.name);
    if (impl === undefined) return call(t, a);
    const v = userCode(ctx.name, 'implementation', () => impl(ctx));
    return Number(BigInt.asIntN(64, BigInt(v)));
  }

  /** Park the thread until `until`, not interruptible by signals (as a tracee held at syscall entry). */
  private hold(t: Task, a: Args, until: number): number {
    try {
      t.block([], { deadline: until, interruptible: false, restart: 'noint' });
    } catch (b) {
      if (!(b instanceof Blocked)) throw b;
      t.kernel.park(t, b, a.regs);
    }
    return NORETURN;
  }
}

function getOrMake<K>(m: Map<K, SyscallHook[]>, k: K): SyscallHook[] {
  let l = m.get(k);
  if (l === undefined) m.set(k, (l = []));
  return l;
}

/** A syscall name either arch knows: a typo is an error, not a hook that never runs. */
function knownName(name: string): void {
  for (const arch of ['x86_64', 'arm64'] as const) if (syscallTable(arch).entries.some((e) => e.name === name)) return;
  throw new Error(`no syscall named ${name} on x86_64 or arm64`);
}

/** A hook's own failure stops the run with a message that names it (never read as the guest's errno). */
function userCode<T>(name: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new HookError(`${name} ${what} hook: ${(e as Error).message}`, { cause: e });
  }
}
