// strace-compatible tracing. An observer of the dispatcher: with no tracer set
// the dispatcher pays one null check per syscall and builds no strings.
//
// Each call is decoded from its table entry's signature (signature.ts, declared
// with the handler) by the decoders of trace-decode.ts, which follow strace's
// own formats so that a trace can be read, and diffed, like `strace -f` of the
// native run. This file writes the lines (text or JSON) and the timeline.
import { writeSync } from 'node:fs';
import type { Task } from '../proc/task.js';
import type { Args } from '../cpu/args.js';
import type { SyscallEntry } from './dispatch.js';
import type { Shape } from './signature.js';
import { shapeOf } from './signature.js';
import { errnoName } from '../abi/errno.js';
import { sigName } from './trace-names.js';
import { fdTarget } from '../procfs/fds.js';
import type { Timeline } from './timeline.js';
import type { KernelObserver } from '../proc/services.js';
import { nowMs } from '../host/clock.js';
import type { DecodeCtx } from './trace-prim.js';
import { sigset } from './trace-prim.js';
import { siginfoBody } from './trace-structs.js';
import { decodeInputs, decodeOutputs, firstOutput, intRet, retText } from './trace-decode.js';

/** A call between its entry and its exit. */
export interface Pending {
  name: string;
  /** the arguments' kinds for this call (a signature chosen by the arguments is fixed at entry) */
  shape: Shape;
  /** nowMs() at entry, and when the call first parked (timeline) */
  t0?: number;
  parkedAt?: number;
  /** the line prefix when the call began ([pid N] under -f) */
  prefix?: string;
  inputs: string[];
  /** index of the first output argument (strace prints up to it before "<unfinished ...>") */
  firstOut: number;
  /** the inputs are shown as they are at exit too (restart_syscall's one) */
  fixed?: boolean;
  /** a hook (--inject) changed the call's course: strace's "(INJECTED)" */
  injected?: boolean;
}

export interface TraceOptions {
  /** write lines here (an fd) */
  fd: number;
  follow: boolean;
  /** only these syscall names (undefined: all) */
  only?: Set<string>;
  /** strace -s */
  strsize: number;
  /** tracing to a file (-o): under -f every line starts with the pid, as strace does */
  toFile?: boolean;
  /** strace -y: show the path (or pipe/socket) behind each fd */
  decodeFds?: boolean;
  /** one JSON object per line instead of strace's text */
  json?: boolean;
  /** no text or JSON lines at all (a timeline only) */
  quiet?: boolean;
  /** also record a Chrome/Perfetto timeline of the run */
  timeline?: Timeline;
}

/** A syscall the table has no signature for (an absent one): six raw arguments. */
const RAW: Shape = { args: ['hex', 'hex', 'hex', 'hex', 'hex', 'hex'], ret: 'int' };

export class Tracer implements KernelObserver {
  /** the task whose line is open ("... <unfinished ...>" pending) */
  private open: Task | null = null;
  private openText = '';
  /** per-task text of a call that parked, for its "<... resumed>" line */
  private parked = new Map<Task, string>();
  /** the call each task is in, kept across a park */
  readonly pending = new Map<Task, Pending>();

  constructor(readonly o: TraceOptions) {}

  get follow(): boolean {
    return this.o.follow;
  }

  wants(name: string): boolean {
    return this.o.only === undefined || this.o.only.has(name);
  }

  /** strace prefixes lines with the pid while more than one traced task lives. */
  live = (): number => 1;

  private prefix(t: Task | number): string {
    const tid = typeof t === 'number' ? t : t.tid;
    if (!this.o.follow) return '';
    if (this.o.toFile) return `${String(tid).padEnd(5)} `;
    return this.live() > 1 ? `[pid ${String(tid).padStart(5)}] ` : '';
  }

  private emit(line: string): void {
    this.flushOpen();
    writeSync(this.o.fd, line + '\n');
  }

  // ---- syscalls ------------------------------------------------------------------

  /**
   * Entry: the input arguments are decoded now (memory may change before
   * exit). null: the call is not shown (restart_syscall, when only other
   * names are traced).
   */
  enter(t: Task, e: SyscallEntry, a: Args): Pending | null {
    const was = this.resuming.get(t);
    if (was !== undefined) this.resuming.delete(t);
    if (was !== undefined && !this.wants('restart_syscall')) return null;
    const p = was === undefined ? this.enter0(t, e, a) : this.resume(t, was);
    if (this.o.timeline) p.t0 = nowMs();
    return p;
  }

  private enter0(t: Task, e: SyscallEntry, a: Args): Pending {
    // the program's own restart_syscall: strace names the task's last interrupted call
    if (e.name === 'restart_syscall') return this.resume(t, this.lastInterrupted.get(t) ?? 'system call');
    const shape = e.sig === null ? RAW : shapeOf(e.sig, a, t.arch.name);
    return { name: e.name, shape, prefix: this.prefix(t), inputs: decodeInputs(this.ctx(t), shape, a), firstOut: firstOutput(shape) };
  }

  /** calls a signal interrupted that restart_syscall resumes: the name of each */
  private resuming = new Map<Task, string>();
  /** each task's last call a signal interrupted, resumed or not */
  private lastInterrupted = new WeakMap<Task, string>();

  /** What strace shows when the kernel resumes an interrupted call through restart_syscall. */
  private resume(t: Task, name: string): Pending {
    return { name: 'restart_syscall', shape: RAW, prefix: this.prefix(t), inputs: [`<... resuming interrupted ${name} ...>`], firstOut: 1, fixed: true };
  }

  interrupted(t: Task, a: Args, ret: number, resumes: boolean): void {
    const p = this.pending.get(t);
    if (p === undefined) return;
    this.exit(t, a, p, ret);
    this.pending.delete(t);
    this.lastInterrupted.set(t, p.name);
    if (resumes) this.resuming.set(t, p.name);
  }

  /** Exit: outputs decoded, the line printed (or its "<... resumed>" half). */
  exit(t: Task, a: Args, p: Pending, ret: number): void {
    const c = this.ctx(t);
    const args = p.fixed ? p.inputs : decodeOutputs(c, p.shape, a, ret, p.inputs);
    const r = retText(c, p.shape.ret, ret, a) + (p.injected ? ' (INJECTED)' : '');
    this.record(t, p, args, r, ret);
    if (this.o.json || this.o.quiet) {
      this.parked.delete(t);
      return;
    }
    if (this.open === t) this.open = null;
    if (this.parked.delete(t)) {
      this.emit(`${this.prefix(t)}<... ${p.name} resumed>${args.slice(p.firstOut).join(', ')})`.padEnd(39) + ` = ${r}`);
    } else {
      this.emit(`${this.prefix(t)}${p.name}(${args.join(', ')})`.padEnd(39) + ` = ${r}`);
    }
  }

  /** The structured side of a finished call: a JSON line, timeline events. */
  private record(t: Task, p: Pending, args: string[], r: string, ret: number | null): void {
    const tl = this.o.timeline;
    if (tl) {
      tl.syscall(t, p.name, args.join(', '), r, p.t0 ?? nowMs(), p.parkedAt ?? null);
      if (ret !== null && ret > 0 && (p.name === 'clone' || p.name === 'fork' || p.name === 'vfork' || p.name === 'clone3')) tl.instant(t, `${p.name} → ${ret}`, 'process', { child: ret });
      if (ret === 0 && (p.name === 'execve' || p.name === 'execveat')) tl.instant(t, `exec ${t.proc.exePath}`, 'process');
    }
    if (this.o.json && !this.o.quiet) {
      const o: Record<string, unknown> = { pid: t.tid, syscall: p.name, args };
      if (p.injected) o.injected = true;
      if (ret === null) o.ret = null;
      else if (ret < 0 && ret > -4096) Object.assign(o, { ret: -1, errno: errnoName(-ret) });
      else o.ret = ret;
      this.jsonLine(o);
    }
  }

  private jsonLine(o: Record<string, unknown>): void {
    writeSync(this.o.fd, JSON.stringify(o) + '\n');
  }

  /** A call that does not return a value (exit_group, a successful execve's "= 0" is printed by exit). */
  noReturn(t: Task, p: Pending): void {
    if (this.o.json || this.o.quiet) {
      this.record(t, p, p.inputs, '?', null);
      this.parked.delete(t);
      const after = this.after.get(t);
      if (after !== undefined) {
        this.after.delete(t);
        this.emit(after);
      }
      return;
    }
    this.record(t, p, p.inputs, '?', null);
    if (this.open === t) this.open = null;
    this.parked.delete(t);
    let ret = '?';
    if (p.name === 'rt_sigreturn') {
      // strace shows the mask the frame restores and the register value it returns
      try {
        const x86 = t.arch.name === 'x86_64';
        const sp = t.cpu.reg(x86 ? 44 : 4);
        const mask = sp + (x86 ? 296 : 128 + 40);
        const r = t.mm.i64(x86 ? sp + 40 + 13 * 8 : sp + 128 + 176 + 8);
        const c = this.ctx(t);
        p.inputs = [`{mask=${sigset(c, mask)}}`];
        ret = intRet(r);
      } catch {
        /* an unreadable frame: the guest dies by SIGSEGV, strace shows ? too */
      }
    }
    this.emit(`${p.prefix ?? this.prefix(t)}${p.name}(${p.inputs.join(', ')})`.padEnd(39) + ` = ${ret}`);
    const after = this.after.get(t);
    if (after !== undefined) {
      this.after.delete(t);
      this.emit(after);
    }
  }

  /** The call parked: its line stays open until another line must be written. */
  park(t: Task, p: Pending): void {
    p.parkedAt ??= nowMs();
    if (this.o.json || this.o.quiet) return;
    if (this.open === t || this.parked.has(t)) return; // parked again on a retry
    this.flushOpen();
    this.open = t;
    const shown = p.inputs.slice(0, p.firstOut);
    this.openText = `${this.prefix(t)}${p.name}(${shown.join(', ')}${shown.length && p.firstOut < p.inputs.length ? ', ' : ''}`;
  }

  private flushOpen(): void {
    if (this.open !== null) {
      writeSync(this.o.fd, `${this.openText} <unfinished ...>\n`);
      this.parked.set(this.open, this.openText);
      this.open = null;
    }
  }

  /** An fd as strace shows it: with -y, its path in <...> while it is open. */
  private fd(t: Task, fd: number): string {
    if (!this.o.decodeFds || !t.fds.has(fd)) return String(fd);
    return `${fd}<${fdTarget(t.fds.file(fd))}>`;
  }

  /** What the decoders see of a task. */
  private ctx(t: Task): DecodeCtx {
    return {
      mem: t.mm,
      arch: t.arch.name,
      strsize: this.o.strsize,
      fd: (fd) => this.fd(t, fd),
      cwd: () => (this.o.decodeFds ? t.cwd.path : null),
    };
  }

  // ---- process events --------------------------------------------------------------

  signal(t: Task, sig: number, info: Buffer): void {
    const name = sigName(sig);
    const body = siginfoBody(sig, info);
    this.o.timeline?.instant(t, name, 'signal', { siginfo: `{${body}}` });
    if (this.o.quiet) return;
    if (this.o.json) return this.jsonLine({ pid: t.tid, signal: name, siginfo: `{${body}}` });
    this.emit(`${this.prefix(t)}--- ${name} {${body}} ---`);
  }

  /** strace's "--- stopped by SIGTSTP ---" */
  stopped(t: Task, sig: number): void {
    this.o.timeline?.instant(t, `stopped by ${sigName(sig)}`, 'process');
    if (this.o.quiet) return;
    if (this.o.json) return this.jsonLine({ pid: t.tid, stopped: sigName(sig) });
    this.emit(`${this.prefix(t)}--- stopped by ${sigName(sig)} ---`);
  }

  exited(t: Task, state: { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number; core?: boolean }): void {
    this.o.timeline?.instant(t, state.kind === 'exited' ? `exited with ${state.code}` : `killed by ${sigName(state.signal)}`, 'process');
    if (this.o.quiet) return;
    if (this.o.json) {
      const o = state.kind === 'exited' ? { pid: t.proc.pid, exited: state.code } : { pid: t.proc.pid, killed: sigName(state.signal), core: state.core ?? false };
      if (this.pending.has(t)) this.after.set(t, JSON.stringify(o));
      else this.jsonLine(o);
      return;
    }
    const line =
      state.kind === 'exited'
        ? `${this.prefix(t.proc.pid)}+++ exited with ${state.code} +++`
        : `${this.prefix(t.proc.pid)}+++ killed by ${sigName(state.signal)}${state.core ? ' (core dumped)' : ''} +++`;
    // inside its own exit_group: after the "exit_group(0) = ?" line
    if (this.pending.has(t)) this.after.set(t, line);
    else this.emit(line);
  }

  private after = new Map<Task, string>();
}
