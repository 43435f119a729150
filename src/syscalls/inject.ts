// Fault injection as strace's `-e inject=` and `-e fault=` give it
// (strace(1), "Tampering"): SET:error=ERRNO | :retval=VALUE, :signal=SIG,
// :delay_enter=DELAY, :delay_exit=DELAY, :when=EXPR, built on syscall hooks.
//
// SET is a comma list of syscall names, `all`, or a `!` before the list for
// all but these. error= and retval= skip the call (it does not run; the
// guest gets the value); signal= sends the signal (si_code SI_KERNEL) when
// the call ends; delay_enter= holds the call before it runs and delay_exit=
// after (a bare number is microseconds, or with a unit s, ms, us, ns). EXPR
// is FIRST, FIRST+ (from FIRST on), FIRST+STEP, or FIRST..LAST with any of
// those, counted per thread and per syscall, from 1, as strace counts its
// tracees' calls. fault= is inject= whose default is error=ENOSYS.
import { E } from '../abi/errno.js';
import { SIG } from '../abi/signal.js';
import type { SyscallHook } from './hooks.js';
import { syscallTable } from './table.js';

export class InjectSyntaxError extends Error {}

export interface Injection {
  /** the syscall names it applies to, or null for every syscall; `except` inverts */
  names: Set<string> | null;
  except: boolean;
  /** a result for the guest instead of running the call (a negative errno or a value) */
  result: number | null;
  signal: number;
  delayEnterMs: number;
  delayExitMs: number;
  first: number;
  last: number;
  step: number;
}

/** Parse one `inject=` (or `fault=`) value, with or without its `inject=` prefix. */
export function parseInjection(spec: string): Injection {
  let body = spec;
  let fault = false;
  const m = /^(inject|fault)=(.*)$/.exec(spec);
  if (m) {
    fault = m[1] === 'fault';
    body = m[2];
  }
  const [setText, ...opts] = body.split(':');
  if (!setText) throw new InjectSyntaxError(`${spec}: no syscall set`);
  const inj: Injection = { names: null, except: false, result: null, signal: 0, delayEnterMs: 0, delayExitMs: 0, first: 1, last: Infinity, step: 1 };
  let set = setText;
  if (set.startsWith('!')) {
    inj.except = true;
    set = set.slice(1);
  }
  if (set !== 'all') {
    inj.names = new Set();
    for (const n of set.split(',')) {
      if (!known(n)) throw new InjectSyntaxError(`${spec}: invalid system call '${n}'`);
      inj.names.add(n);
    }
  }
  for (const o of opts) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    const val = eq < 0 ? '' : o.slice(eq + 1);
    switch (key) {
      case 'error': {
        const n = /^\d+$/.test(val) ? Number(val) : (E as Record<string, number>)[val];
        if (n === undefined || n <= 0 || n >= 4096) throw new InjectSyntaxError(`${spec}: invalid error '${val}'`);
        inj.result = -n;
        break;
      }
      case 'retval': {
        if (!/^-?\d+$/.test(val)) throw new InjectSyntaxError(`${spec}: invalid retval '${val}'`);
        inj.result = Number(val);
        break;
      }
      case 'signal': {
        const name = val.startsWith('SIG') ? val : `SIG${val}`;
        const n = /^\d+$/.test(val) ? Number(val) : (SIG as Record<string, number>)[name];
        if (n === undefined || n < 1 || n > 64) throw new InjectSyntaxError(`${spec}: invalid signal '${val}'`);
        inj.signal = n;
        break;
      }
      case 'delay_enter':
        inj.delayEnterMs = delay(spec, val);
        break;
      case 'delay_exit':
        inj.delayExitMs = delay(spec, val);
        break;
      case 'when':
        when(spec, val, inj);
        break;
      default:
        throw new InjectSyntaxError(`${spec}: unsupported tampering '${key}' (error, retval, signal, delay_enter, delay_exit, when)`);
    }
  }
  if (fault && inj.result === null) inj.result = -E.ENOSYS;
  if (inj.result === null && inj.signal === 0 && inj.delayEnterMs === 0 && inj.delayExitMs === 0)
    throw new InjectSyntaxError(`${spec}: one of error=, retval=, signal=, delay_enter= or delay_exit= is needed`);
  return inj;
}

function known(name: string): boolean {
  return (['x86_64', 'arm64'] as const).some((a) => syscallTable(a).entries.some((e) => e.name === name));
}

/** a delay: microseconds, or a number with a unit (s, ms, us, ns), in ms */
function delay(spec: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|ms|us|ns)?$/.exec(v);
  if (!m) throw new InjectSyntaxError(`${spec}: invalid delay '${v}'`);
  const scale = { s: 1000, ms: 1, us: 1e-3, ns: 1e-6 }[m[2] ?? 'us'] ?? 1e-3;
  return Number(m[1]) * scale;
}

/** when=FIRST[..LAST][+[STEP]] */
function when(spec: string, v: string, inj: Injection): void {
  const m = /^(\d+)(?:\.\.(\d+))?(\+(\d+)?)?$/.exec(v);
  if (!m || Number(m[1]) < 1) throw new InjectSyntaxError(`${spec}: invalid when '${v}'`);
  inj.first = Number(m[1]);
  if (m[3] === undefined) {
    inj.last = m[2] !== undefined ? Number(m[2]) : inj.first;
    inj.step = 1;
  } else {
    inj.last = m[2] !== undefined ? Number(m[2]) : Infinity;
    inj.step = m[4] !== undefined ? Number(m[4]) : 1;
    if (inj.step < 1) throw new InjectSyntaxError(`${spec}: invalid when '${v}'`);
  }
  if (inj.last < inj.first) throw new InjectSyntaxError(`${spec}: invalid when '${v}'`);
}

/** The hook that carries out a list of injections. */
export function injectionHook(list: Injection[]): SyscallHook {
  // per thread and syscall: how many calls each injection has seen
  const counts = new Map<number, Map<string, number[]>>();
  return {
    enter(ctx) {
      let byName = counts.get(ctx.tid);
      if (byName === undefined) counts.set(ctx.tid, (byName = new Map()));
      let c = byName.get(ctx.name);
      if (c === undefined) byName.set(ctx.name, (c = list.map(() => 0)));
      // a later injection for a syscall replaces an earlier one, as strace keeps one per syscall
      for (let i = list.length - 1; i >= 0; i--) {
        const inj = list[i];
        const inSet = inj.names === null || inj.names.has(ctx.name);
        if (inSet === inj.except) continue;
        const n = ++c[i];
        if (n < inj.first || n > inj.last || (n - inj.first) % inj.step !== 0) break;
        if (inj.delayEnterMs > 0) ctx.delay(inj.delayEnterMs);
        if (inj.delayExitMs > 0) ctx.delayReturn(inj.delayExitMs);
        if (inj.result !== null) ctx.skip(inj.result);
        if (inj.signal > 0) ctx.signal(inj.signal);
        break;
      }
    },
  };
}
