// A timeline of a run in the Chrome trace-event format (what ui.perfetto.dev
// and chrome://tracing open): a track per guest process and thread, a slice
// per syscall, a nested slice while a syscall waits, and instant events for
// fork, exec, signals and exits. Written when the run ends.
import { writeFileSync } from 'node:fs';
import type { Task } from '../proc/task.js';
import { nowMs } from '../host/clock.js';

/** One trace event (the fields this file uses). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 't' | 'p';
  args?: Record<string, string | number>;
}

export class Timeline {
  readonly events: TraceEvent[] = [];
  private readonly t0 = nowMs();
  private named = new Map<number, string>();

  constructor(readonly file: string) {}

  /** microseconds since the run began */
  now(): number {
    return Math.round((nowMs() - this.t0) * 1000);
  }
  us(ms: number): number {
    return Math.round((ms - this.t0) * 1000);
  }

  /** Name the process and thread tracks (again after an exec). */
  private name(t: Task): void {
    const pname = `${t.proc.comm} (${t.pid})`;
    if (this.named.get(t.pid) !== pname) {
      this.named.set(t.pid, pname);
      this.events.push({ name: 'process_name', ph: 'M', pid: t.pid, tid: t.pid, args: { name: pname } });
    }
    if (t.tid !== t.pid && !this.named.has(-t.tid)) {
      this.named.set(-t.tid, 'thread');
      this.events.push({ name: 'thread_name', ph: 'M', pid: t.pid, tid: t.tid, args: { name: `thread ${t.tid}` } });
    }
  }

  syscall(t: Task, name: string, args: string, ret: string, start: number, parkedAt: number | null): void {
    this.name(t);
    const end = this.now();
    const ts = this.us(start);
    this.events.push({ name, cat: 'syscall', ph: 'X', pid: t.pid, tid: t.tid, ts, dur: Math.max(0, end - ts), args: { args, ret } });
    if (parkedAt !== null) {
      const w = this.us(parkedAt);
      this.events.push({ name: `blocked in ${name}`, cat: 'wait', ph: 'X', pid: t.pid, tid: t.tid, ts: w, dur: Math.max(0, end - w) });
    }
  }

  instant(t: Task, name: string, cat: string, args?: Record<string, string | number>): void {
    this.name(t);
    this.events.push({ name, cat, ph: 'i', s: 't', pid: t.pid, tid: t.tid, ts: this.now(), ...(args ? { args } : {}) });
  }

  write(): void {
    writeFileSync(this.file, JSON.stringify({ traceEvents: this.events, displayTimeUnit: 'ms', otherData: { producer: 'elfrun' } }) + '\n');
  }
}
