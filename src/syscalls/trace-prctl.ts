// How strace (6.1) shows prctl: how many arguments each option prints, each
// argument by the option (names of signals, capabilities, securebits,
// PR_MCE_KILL_*, PR_SPEC_*, PR_SET_MM_*...; the int, signal or pointer a
// GET option writes, shown at exit; unused arguments in hex), and the
// decorations of some results ("1 (SUID_DUMP_USER)", "0x10
// (SECBIT_KEEP_CAPS)"). Options strace 6.1 does not know (PR_SET_MDWE and
// later) are "0x41 /* PR_??? */" with four hex arguments.
import type { Args } from '../cpu/args.js';
import type { KindDecoder } from './trace-decode.js';
import type { Shape } from './signature.js';
import { type DecodeCtx, addr, at, cstr, hexNum, i32, u64 } from './trace-prim.js';
import { CAPS, sigName } from './trace-names.js';
import * as PR from '../abi/prctl.js';
import { PROC_KINDS } from './trace-proc.js';

/** strace 6.1's prctl_options: 1..64 (no 17, 18, 48, 49), PR_SET_VMA, PR_SET_PTRACER */
const OPTION_NAMES = [
  'SET_PDEATHSIG', 'GET_PDEATHSIG', 'GET_DUMPABLE', 'SET_DUMPABLE', 'GET_UNALIGN', 'SET_UNALIGN', 'GET_KEEPCAPS', 'SET_KEEPCAPS', 'GET_FPEMU', 'SET_FPEMU',
  'GET_FPEXC', 'SET_FPEXC', 'GET_TIMING', 'SET_TIMING', 'SET_NAME', 'GET_NAME', '', '', 'GET_ENDIAN', 'SET_ENDIAN', 'GET_SECCOMP', 'SET_SECCOMP',
  'CAPBSET_READ', 'CAPBSET_DROP', 'GET_TSC', 'SET_TSC', 'GET_SECUREBITS', 'SET_SECUREBITS', 'SET_TIMERSLACK', 'GET_TIMERSLACK', 'TASK_PERF_EVENTS_DISABLE',
  'TASK_PERF_EVENTS_ENABLE', 'MCE_KILL', 'MCE_KILL_GET', 'SET_MM', 'SET_CHILD_SUBREAPER', 'GET_CHILD_SUBREAPER', 'SET_NO_NEW_PRIVS', 'GET_NO_NEW_PRIVS',
  'GET_TID_ADDRESS', 'SET_THP_DISABLE', 'GET_THP_DISABLE', 'MPX_ENABLE_MANAGEMENT', 'MPX_DISABLE_MANAGEMENT', 'SET_FP_MODE', 'GET_FP_MODE', 'CAP_AMBIENT',
  '', '', 'SVE_SET_VL', 'SVE_GET_VL', 'GET_SPECULATION_CTRL', 'SET_SPECULATION_CTRL', 'PAC_RESET_KEYS', 'SET_TAGGED_ADDR_CTRL', 'GET_TAGGED_ADDR_CTRL',
  'SET_IO_FLUSHER', 'GET_IO_FLUSHER', 'SET_SYSCALL_USER_DISPATCH', 'PAC_SET_ENABLED_KEYS', 'PAC_GET_ENABLED_KEYS', 'SCHED_CORE', 'SME_SET_VL', 'SME_GET_VL',
];
const OPTIONS: Record<number, string> = { [PR.PR_SET_VMA]: 'PR_SET_VMA', [PR.PR_SET_PTRACER]: 'PR_SET_PTRACER' };
OPTION_NAMES.forEach((n, i) => {
  if (n) OPTIONS[i + 1] = `PR_${n}`;
});

const DUMPABLE = ['SUID_DUMP_DISABLE', 'SUID_DUMP_USER', 'SUID_DUMP_ROOT'];
const MCE = ['PR_MCE_KILL_CLEAR', 'PR_MCE_KILL_SET'];
const MCE_POLICY = ['PR_MCE_KILL_LATE', 'PR_MCE_KILL_EARLY', 'PR_MCE_KILL_DEFAULT'];
const AMBIENT = ['', 'PR_CAP_AMBIENT_IS_SET', 'PR_CAP_AMBIENT_RAISE', 'PR_CAP_AMBIENT_LOWER', 'PR_CAP_AMBIENT_CLEAR_ALL'];
const SET_MM = ['', 'PR_SET_MM_START_CODE', 'PR_SET_MM_END_CODE', 'PR_SET_MM_START_DATA', 'PR_SET_MM_END_DATA', 'PR_SET_MM_START_STACK', 'PR_SET_MM_START_BRK', 'PR_SET_MM_BRK', 'PR_SET_MM_ARG_START', 'PR_SET_MM_ARG_END', 'PR_SET_MM_ENV_START', 'PR_SET_MM_ENV_END', 'PR_SET_MM_AUXV', 'PR_SET_MM_EXE_FILE', 'PR_SET_MM_MAP', 'PR_SET_MM_MAP_SIZE'];
const SPEC = ['PR_SPEC_STORE_BYPASS', 'PR_SPEC_INDIRECT_BRANCH', 'PR_SPEC_L1D_FLUSH'];
const SPEC_SET: Record<number, string> = { 2: 'PR_SPEC_ENABLE', 4: 'PR_SPEC_DISABLE', 8: 'PR_SPEC_FORCE_DISABLE', 16: 'PR_SPEC_DISABLE_NOEXEC' };
const SPEC_GET: ReadonlyArray<readonly [number, string]> = [[1, 'PR_SPEC_PRCTL'], [2, 'PR_SPEC_ENABLE'], [4, 'PR_SPEC_DISABLE'], [8, 'PR_SPEC_FORCE_DISABLE'], [16, 'PR_SPEC_DISABLE_NOEXEC']];
const SUD = ['PR_SYS_DISPATCH_OFF', 'PR_SYS_DISPATCH_ON'];
const TSC = ['', 'PR_TSC_ENABLE', 'PR_TSC_SIGSEGV'];
const UNALIGN: ReadonlyArray<readonly [number, string]> = [[1, 'PR_UNALIGN_NOPRINT'], [2, 'PR_UNALIGN_SIGBUS']];
const FP_MODE: ReadonlyArray<readonly [number, string]> = [[1, 'PR_FP_MODE_FR'], [2, 'PR_FP_MODE_FRE']];
const PAC_KEYS: ReadonlyArray<readonly [number, string]> = [[1, 'PR_PAC_APIAKEY'], [2, 'PR_PAC_APIBKEY'], [4, 'PR_PAC_APDAKEY'], [8, 'PR_PAC_APDBKEY'], [16, 'PR_PAC_APGAKEY']];
const SECBITS: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'SECBIT_NOROOT'], [0x2, 'SECBIT_NOROOT_LOCKED'], [0x4, 'SECBIT_NO_SETUID_FIXUP'], [0x8, 'SECBIT_NO_SETUID_FIXUP_LOCKED'],
  [0x10, 'SECBIT_KEEP_CAPS'], [0x20, 'SECBIT_KEEP_CAPS_LOCKED'], [0x40, 'SECBIT_NO_CAP_AMBIENT_RAISE'], [0x80, 'SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED'],
];
const MTE_TCF = ['PR_MTE_TCF_NONE', 'PR_MTE_TCF_SYNC', 'PR_MTE_TCF_ASYNC', 'PR_MTE_TCF_SYNC|PR_MTE_TCF_ASYNC'];

/** printxval: the name, else "0x5 /* PREFIX_??? *\/" */
const xval = (names: Readonly<Record<number, string>> | readonly string[], v: bigint, unknown: string): string => {
  const n = v < 64n ? (names as Record<number, string | undefined>)[Number(v)] : undefined;
  return n ? n : `${hexNum(v)} /* ${unknown} */`;
};
/** printflags: names joined by |, the rest as "0x... /* PREFIX_??? *\/" */
const flags = (table: ReadonlyArray<readonly [number, string]>, v: bigint, unknown: string): string => {
  if (v === 0n) return '0';
  let rest = v;
  const out: string[] = [];
  for (const [bit, name] of table)
    if ((rest & BigInt(bit)) === BigInt(bit)) {
      out.push(name);
      rest &= ~BigInt(bit);
    }
  if (rest !== 0n) out.push(out.length ? hexNum(rest) : `${hexNum(rest)} /* ${unknown} */`);
  return out.join('|');
};
const tagged = (v: bigint): string => `${v & 1n ? '' : '!'}PR_TAGGED_ADDR_ENABLE|${MTE_TCF[Number((v >> 1n) & 3n)]}${v & ~7n ? `|${hexNum(v & ~7n)}` : ''}`;

/** how many arguments (after the option) strace prints for an option */
function argCount(op: number, a: Args): number {
  switch (op) {
    case PR.PR_GET_KEEPCAPS:
    case PR.PR_GET_SECCOMP:
    case PR.PR_GET_TIMERSLACK:
    case PR.PR_GET_TIMING:
    case PR.PR_GET_DUMPABLE:
    case PR.PR_GET_SECUREBITS:
    case PR.PR_GET_FP_MODE:
    case PR.PR_SVE_GET_VL:
    case PR.PR_SME_GET_VL:
    case PR.PR_TASK_PERF_EVENTS_DISABLE:
    case PR.PR_TASK_PERF_EVENTS_ENABLE:
      return 0;
    case PR.PR_SET_SECCOMP:
      return a.u32(1) === 1 ? 1 : 2;
    case PR.PR_SET_SPECULATION_CTRL:
      return 2;
    default:
      if (OPTIONS[op] === undefined) return 4;
      if (op === PR.PR_GET_SPECULATION_CTRL) return 1;
      // the ones that print one argument
      return [PR.PR_GET_CHILD_SUBREAPER, PR.PR_GET_ENDIAN, PR.PR_GET_FPEMU, PR.PR_GET_FPEXC, PR.PR_GET_NAME, PR.PR_GET_PDEATHSIG, PR.PR_GET_TID_ADDRESS, PR.PR_GET_TSC, PR.PR_GET_UNALIGN, PR.PR_SVE_SET_VL, PR.PR_SME_SET_VL,
        PR.PR_SET_CHILD_SUBREAPER, PR.PR_SET_ENDIAN, PR.PR_SET_FPEMU, PR.PR_SET_FPEXC, PR.PR_SET_KEEPCAPS, PR.PR_SET_TIMING, PR.PR_SET_DUMPABLE, PR.PR_CAPBSET_DROP, PR.PR_CAPBSET_READ, PR.PR_SET_NAME, PR.PR_SET_PDEATHSIG,
        PR.PR_SET_PTRACER, PR.PR_SET_SECUREBITS, PR.PR_SET_TIMERSLACK, PR.PR_SET_TSC, PR.PR_SET_UNALIGN, PR.PR_SET_FP_MODE].includes(op) ? 1 : 4;
  }
}

/** prctl's shape: the option, then as many arguments as strace shows for it. */
export function prctlShape(a: Args): Shape {
  const n = argCount(a.i32(0), a);
  return { args: ['prctl', ...Array.from({ length: n }, () => 'prarg' as const)], ret: 'prctl' };
}

/** an int the call writes, shown at exit as [v] (its address after an error) */
const OUT_INT = new Set([PR.PR_GET_CHILD_SUBREAPER, PR.PR_GET_ENDIAN, PR.PR_GET_FPEMU, PR.PR_GET_FPEXC, PR.PR_GET_PDEATHSIG, PR.PR_GET_TSC, PR.PR_GET_UNALIGN, PR.PR_GET_TID_ADDRESS, PR.PR_GET_NAME]);

function argIn(c: DecodeCtx, a: Args, i: number): string {
  const op = a.i32(0);
  const v = a.big(i);
  const x = hexNum(v);
  if (OPTIONS[op] === undefined) return x;
  if (OUT_INT.has(op) && i === 1) return addr(a.ptr(1));
  switch (op) {
    case PR.PR_SET_NAME:
      return cstr(c, a.ptr(1), 15);
    case PR.PR_SET_DUMPABLE:
      return xval(DUMPABLE, v, 'SUID_DUMP_???');
    case PR.PR_CAPBSET_DROP:
    case PR.PR_CAPBSET_READ:
      return xval(CAPS, v, 'CAP_???');
    case PR.PR_CAP_AMBIENT:
      if (i === 1) return xval(AMBIENT, v, 'PR_CAP_AMBIENT_???');
      if (i === 2 && a.big(1) >= 1n && a.big(1) <= 3n) return xval(CAPS, v, 'CAP_???');
      return x;
    case PR.PR_MCE_KILL:
      if (i === 1) return xval(MCE, v, 'PR_MCE_KILL_???');
      if (i === 2 && a.big(1) === 1n) return xval(MCE_POLICY, v, 'PR_MCE_KILL_???');
      return x;
    case PR.PR_SET_VMA:
      if (i === 1) return xval(['PR_SET_VMA_ANON_NAME'], v, 'PR_SET_VMA_???');
      if (a.big(1) !== 0n) return x;
      return i === 2 ? addr(a.ptr(2)) : i === 3 ? String(v) : a.ptr(4) === 0 ? 'NULL' : cstr(c, a.ptr(4));
    case PR.PR_SET_MM:
      return i === 1 ? xval(SET_MM, v, 'PR_SET_MM_???') : x;
    case PR.PR_SET_PDEATHSIG:
      return v > 128n || v === 0n ? String(v) : sigName(Number(v));
    case PR.PR_SET_PTRACER:
      return Number(BigInt.asIntN(32, v)) === -1 ? 'PR_SET_PTRACER_ANY' : String(Number(BigInt.asIntN(32, v)));
    case PR.PR_SET_SECCOMP:
      if (i === 1) return xval(['', 'SECCOMP_MODE_STRICT', 'SECCOMP_MODE_FILTER'], v, 'SECCOMP_MODE_???');
      return a.big(1) === 2n ? PROC_KINDS.sockfprog.in(c, a, i) : x;
    case PR.PR_SET_SECUREBITS:
      return flags(SECBITS, v, 'SECBIT_???');
    case PR.PR_SET_TIMERSLACK:
      return String(BigInt.asIntN(64, v));
    case PR.PR_SET_TSC:
      return xval(TSC, v, 'PR_TSC_???');
    case PR.PR_SET_UNALIGN:
      return flags(UNALIGN, v, 'PR_UNALIGN_???');
    case PR.PR_SET_FP_MODE:
      return flags(FP_MODE, v, 'PR_FP_MODE_???');
    case PR.PR_SET_CHILD_SUBREAPER:
    case PR.PR_SET_ENDIAN:
    case PR.PR_SET_FPEMU:
    case PR.PR_SET_FPEXC:
    case PR.PR_SET_KEEPCAPS:
    case PR.PR_SET_TIMING:
      return String(v);
    case PR.PR_SET_NO_NEW_PRIVS:
    case PR.PR_SET_THP_DISABLE:
    case PR.PR_SET_IO_FLUSHER:
      return i === 1 ? String(v) : x;
    case PR.PR_GET_SPECULATION_CTRL:
      return xval(SPEC, v, 'PR_SPEC_???');
    case PR.PR_SET_SPECULATION_CTRL:
      if (i === 1) return xval(SPEC, v, 'PR_SPEC_???');
      return a.big(1) <= 2n ? xval(SPEC_SET, v, 'PR_SPEC_???') : x;
    case PR.PR_SET_TAGGED_ADDR_CTRL:
      return i === 1 ? tagged(v) : x;
    case PR.PR_PAC_RESET_KEYS:
      return i === 1 ? flags(PAC_KEYS, v, 'PR_PAC_???') : x;
    case PR.PR_PAC_SET_ENABLED_KEYS:
      return i <= 2 ? flags(PAC_KEYS.slice(0, 4), v, 'PR_PAC_???') : x;
    case PR.PR_SET_SYSCALL_USER_DISPATCH:
      return i === 1 ? xval(SUD, v, 'PR_SYS_DISPATCH_???') : i === 4 ? addr(a.ptr(4)) : x;
    case PR.PR_SCHED_CORE:
      if (i === 1) return xval(['PR_SCHED_CORE_GET', 'PR_SCHED_CORE_CREATE', 'PR_SCHED_CORE_SHARE_TO', 'PR_SCHED_CORE_SHARE_FROM'], v, 'PR_SCHED_CORE_???');
      if (i === 2) return String(Number(BigInt.asIntN(32, v)));
      if (i === 3) return `${a.u32(3)} /* ${['PIDTYPE_PID', 'PIDTYPE_TGID', 'PIDTYPE_PGID'][a.u32(3)] ?? 'PIDTYPE_???'} */`;
      return addr(a.ptr(4));
    default:
      return x;
  }
}

function argOut(c: DecodeCtx, a: Args, i: number, ret: number): string | null {
  const op = a.i32(0);
  if (OPTIONS[op] === undefined || i !== 1 || !OUT_INT.has(op)) return null;
  const p = a.ptr(1);
  if (ret < 0) return addr(p);
  switch (op) {
    case PR.PR_GET_NAME:
      return at(p, () => cstr(c, p, 16));
    case PR.PR_GET_PDEATHSIG:
      return at(p, () => `[${i32(c, p) === 0 ? '0' : sigName(i32(c, p))}]`);
    case PR.PR_GET_TID_ADDRESS:
      return at(p, () => `[${hexNum(u64(c, p))}]`);
    case PR.PR_GET_TSC:
      return at(p, () => `[${xval(TSC, BigInt(i32(c, p)), 'PR_TSC_???')}]`);
    case PR.PR_GET_UNALIGN:
      return at(p, () => `[${flags(UNALIGN, BigInt(i32(c, p) >>> 0), 'PR_UNALIGN_???')}]`);
    default:
      return at(p, () => `[${i32(c, p) >>> 0}]`);
  }
}

export const PRCTL_KINDS: Record<'prctl' | 'prarg', KindDecoder> = {
  prctl: { in: (_c, a) => OPTIONS[a.i32(0)] ?? `${hexNum(a.u32(0))} /* PR_??? */` },
  prarg: { in: argIn, out: argOut, onError: true },
};

/** prctl's result, decorated as strace decorates it for some options. */
export function prctlRet(_c: DecodeCtx, a: Args, r: number): string {
  const op = a.i32(0);
  const hex = (name: string): string => `${hexNum(r)} (${name})`;
  switch (op) {
    case PR.PR_GET_DUMPABLE:
      return DUMPABLE[r] ? `${r} (${DUMPABLE[r]})` : String(r);
    case PR.PR_MCE_KILL_GET:
      return MCE_POLICY[r] ? `${r} (${MCE_POLICY[r]})` : String(r);
    case PR.PR_GET_SECUREBITS:
      return r === 0 ? '0' : hex(flags(SECBITS, BigInt(r), 'SECBIT_???'));
    case PR.PR_GET_FP_MODE:
      return r === 0 ? '0' : hex(flags(FP_MODE, BigInt(r), 'PR_FP_MODE_???'));
    case PR.PR_GET_SPECULATION_CTRL:
      return a.big(1) <= 2n ? (r === 0 ? '0 (PR_SPEC_NOT_AFFECTED)' : hex(flags(SPEC_GET, BigInt(r), 'PR_SPEC_???'))) : String(r);
    case PR.PR_GET_TAGGED_ADDR_CTRL:
      return hex(tagged(BigInt(r)));
    case PR.PR_PAC_GET_ENABLED_KEYS:
      return r === 0 ? '0' : hex(flags(PAC_KEYS.slice(0, 4), BigInt(r), 'PR_PAC_???'));
    default:
      return String(r);
  }
}
