// Dispatch: (arch, nr) -> table entry -> handler; errors become -errno; an
// absent syscall panics (Moss's rule) unless the user asked for ENOSYS.
import { enterGuestIds, leaveGuestIds } from '../host/fscred.js';
import type { Task } from '../proc/task.js';
import { NORETURN, type Args } from '../cpu/args.js';
import { E } from '../abi/errno.js';
import { Panic, SysError, Unsupported } from '../abi/errors.js';
import { Blocked } from '../ctx/waitq.js';
import { isRestartCode } from '../abi/restart.js';
import type { Tracer } from './trace.js';
import type { SyscallLayer } from '../proc/services.js';
import { syscallTable } from './table.js';
import type { Signature } from './signature.js';
import { SyscallHooks, type SyscallHook, type SyscallImpl } from './hooks.js';
import { seccompGate } from './handlers/seccomp.js';
import { userDispatchGate } from './handlers/prctl.js';

export type Status = 'supported' | 'partial' | 'probe';

export type Handler = (t: Task, a: Args) => number;

export interface SyscallEntry {
  nr: number;
  name: string;
  status: Status | 'absent';
  note: string;
  handler: Handler | null;
  /** how the tracer shows the call (null: absent, shown as six raw arguments) */
  sig: Signature | null;
}

export interface SyscallTable {
  arch: string;
  byNr: Array<SyscallEntry | undefined>;
  entries: SyscallEntry[];
}

export interface MissingRecord {
  name: string;
  nr: number;
  count: number;
  firstPc: number;
  pids: Set<number>;
}

/**
 * The syscall layer of one Machine: the dispatcher over the per-arch
 * tables, the tracer, and the calls that were missing (under
 * --on-missing=enosys), for the report.
 */
export class Syscalls implements SyscallLayer {
  /** missing syscalls (and unsupported cases of partial ones) by name, under --on-missing=enosys */
  readonly missing = new Map<string, MissingRecord>();
  /** strace-style tracer, when asked for (null: tracing costs one check per syscall) */
  tracer: Tracer | null = null;
  /**
   * Runs before each handler: what a subsystem learnt for one call expires
   * (the Machine makes it end the VFS's lookups of the call before).
   */
  beforeCall: () => void = () => {};
  /** hooks from the library's user or --inject (null until the first: no cost without them) */
  hooks: SyscallHooks | null = null;

  dispatch(t: Task, a: Args): number {
    // syscall user dispatch comes first: a call it stops is never seen by a tracer or seccomp
    if (t.userDispatch !== null && !t.restarting) {
      const r = userDispatchGate(t, a);
      if (r !== null) return r;
    }
    const tr = this.tracer;
    if (tr !== null && t.kernel.tracing(t)) return traced(this, tr, t, a);
    if (t.seccomp !== null && !t.restarting) return this.call(t, a);
    return this.hooks === null ? untraced(this, t, a) : this.hooks.run(t, a, this.plain);
  }

  /** the dispatcher without hooks, for the hooks to call */
  private readonly plain = (t: Task, a: Args): number => untraced(this, t, a);

  /** The hooked or plain path, below the tracer (which then shows what hooks did). */
  call(t: Task, a: Args): number {
    // seccomp's filters run after the tracer saw the call's entry, as Linux's do (a retried call was filtered at its start)
    if (t.seccomp !== null && !t.restarting) {
      const r = seccompGate(t, a);
      if (r !== null) return r;
    }
    return this.hooks === null ? untraced(this, t, a) : this.hooks.run(t, a, this.plain);
  }

  /** Hook a syscall by name, by number, or '*' for all (see syscalls/hooks.ts); returns a function that removes the hook. */
  on(which: string | number, hook: SyscallHook): () => void {
    return this.hookSet().on(which, hook);
  }

  /** Supply a syscall from user code: it runs instead of elfrun's handler (or of the panic for one elfrun lacks). */
  implement(name: string, fn: SyscallImpl): void {
    this.hookSet().implement(name, fn);
  }

  private hookSet(): SyscallHooks {
    return (this.hooks ??= new SyscallHooks((t) => {
      const p = this.tracer?.pending.get(t);
      if (p) p.injected = true;
    }));
  }

  noteMissing(t: Task, name: string, nr: number): void {
    let m = this.missing.get(name);
    if (!m) {
      m = { name, nr, count: 0, firstPc: t.cpu.pc, pids: new Set() };
      this.missing.set(name, m);
    }
    m.count++;
    m.pids.add(t.pid);
  }
}

/** The same, observed by the tracer. */
function traced(s: Syscalls, tr: Tracer, t: Task, a: Args): number {
  const nr = a.nr;
  const e = nr >= 0 ? syscallTable(t.arch.name).byNr[nr] : undefined;
  if (e === undefined || !tr.wants(e.name)) return s.call(t, a);
  const p = t.restarting ? (tr.pending.get(t) ?? tr.enter(t, e, a)) : tr.enter(t, e, a);
  if (p === null) return s.call(t, a);
  tr.pending.set(t, p);
  const r = s.call(t, a);
  if (r === NORETURN) {
    if (t.state === 'blocked') {
      tr.park(t, p);
      return r;
    }
    if (t.stopReason === 'exec') tr.exit(t, a, p, 0);
    else tr.noReturn(t, p);
  } else tr.exit(t, a, p, r);
  tr.pending.delete(t);
  return r;
}

function untraced(s: Syscalls, t: Task, a: Args): number {
  const nr = a.nr;
  const e = nr >= 0 ? syscallTable(t.arch.name).byNr[nr] : undefined;
  if (e === undefined) return -E.ENOSYS; // a number Linux does not know either
  if (e.handler === null) {
    if (t.opts.onMissing === 'enosys') {
      s.noteMissing(t, e.name, nr);
      return -E.ENOSYS;
    }
    throw new Panic(
      `unimplemented syscall ${e.name} (${nr}) on ${t.arch.name}, pid ${t.pid}, pc 0x${t.cpu.pc.toString(16)}`,
    );
  }
  s.beforeCall();
  // host files are checked by the host against the guest's ids (host/fscred.ts)
  const asGuest = enterGuestIds(t.cred);
  try {
    const r = e.handler(t, a);
    t.restartState = null;
    // the kernel's restart codes end at signal delivery: a program never sees one
    if (r < -511 && isRestartCode(r)) throw new Panic(`${e.name} (${nr}) on ${t.arch.name} returned the kernel-internal code ${r}, pid ${t.pid}`);
    return r;
  } catch (err) {
    if (err instanceof SysError) {
      t.restartState = null;
      return -err.errno;
    }
    if (err instanceof Blocked) {
      t.kernel.park(t, err, a.regs);
      return NORETURN;
    }
    if (err instanceof Unsupported) {
      if (t.opts.onMissing === 'enosys') {
        s.noteMissing(t, `${e.name}: ${err.what}`, nr);
        return -err.errno;
      }
      throw new Panic(
        `unsupported ${err.what} in ${e.name} (${nr}) on ${t.arch.name}, pid ${t.pid}, pc 0x${t.cpu.pc.toString(16)}`,
      );
    }
    throw err;
  } finally {
    if (asGuest) leaveGuestIds();
  }
}
