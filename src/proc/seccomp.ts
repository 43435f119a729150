// seccomp: strict mode and classic-BPF filters. A task's state is an
// immutable value (mode and the newest filter, which links to the older
// ones), shared by fork, clone and TSYNC and kept across execve. The
// validator is Linux's bpf_check_classic + check_load_and_stores +
// seccomp_check_filter; the interpreter runs a program over struct
// seccomp_data {nr, arch, instruction_pointer, args[6]}, and the filters of
// a chain combine as seccomp_run_filters does: the action of lowest
// precedence value (as a signed 32-bit number) wins, and of equal actions
// the newest filter's.
import { E } from '../abi/errno.js';

export const SECCOMP_MODE_STRICT = 1;
export const SECCOMP_MODE_FILTER = 2;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0xffff;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

/** sizeof(struct seccomp_data) */
export const SECCOMP_DATA_SIZE = 64;
/** BPF_MAXINSNS */
export const BPF_MAXINSNS = 4096;
/** MAX_INSNS_PER_PATH: the instructions of a chain (each filter counts 4 more) */
export const MAX_INSNS_PER_PATH = (1 << 18) / 8;

export class SeccompFilter {
  /** filters in the chain up to this one (/proc/<pid>/status's Seccomp_filters) */
  readonly count: number;
  /** instructions of the chain as seccomp_attach_filter counts them */
  readonly pathInsns: number;
  constructor(
    /** the program: 4 words per instruction (code, jt, jf, k) */
    readonly prog: Uint32Array,
    readonly prev: SeccompFilter | null,
    readonly log: boolean,
  ) {
    this.count = (prev?.count ?? 0) + 1;
    this.pathInsns = (prev === null ? 0 : prev.pathInsns + 4) + prog.length / 4;
  }
  /** is `this` (or null) an ancestor of `f` (Linux's is_ancestor) */
  static ancestor(parent: SeccompFilter | null, f: SeccompFilter | null): boolean {
    if (parent === null) return true;
    for (let w = f; w !== null; w = w.prev) if (w === parent) return true;
    return false;
  }
}

export interface SeccompState {
  readonly mode: typeof SECCOMP_MODE_STRICT | typeof SECCOMP_MODE_FILTER;
  readonly filter: SeccompFilter | null;
}

// classic BPF opcode parts
const BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03, BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_RET = 0x06, BPF_MISC = 0x07;
const BPF_W = 0x00, BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_MEM = 0x60, BPF_LEN = 0x80;
const BPF_K = 0x00, BPF_X = 0x08, BPF_A = 0x10;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const TAX = 0x00, TXA = 0x80;
const MEMWORDS = 16;

const ALU_OPS = [ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, XOR];
const JCOND = [JEQ, JGT, JGE, JSET];
/** the opcodes seccomp_check_filter lets through */
const ALLOWED = new Set<number>([
  BPF_LD | BPF_W | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LDX | BPF_W | BPF_LEN,
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  ...ALU_OPS.flatMap((op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X]),
  BPF_ALU | NEG,
  BPF_LD | BPF_IMM,
  BPF_LDX | BPF_IMM,
  BPF_MISC | TAX,
  BPF_MISC | TXA,
  BPF_LD | BPF_MEM,
  BPF_LDX | BPF_MEM,
  BPF_ST,
  BPF_STX,
  BPF_JMP | JA,
  ...JCOND.flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

/** a conditional jump (of the opcodes ALLOWED lets through) */
const isJcond = (code: number): boolean => (code & 0x07) === BPF_JMP && (code & 0xf0) !== JA;

/**
 * Check a program (struct sock_filter[] as read from the guest): the errno
 * Linux's checks give (EINVAL), or 0 and the program as 4 words per
 * instruction.
 */
export function checkFilter(raw: Buffer): { errno: number; prog: Uint32Array | null } {
  const n = raw.length / 8;
  const prog = new Uint32Array(n * 4);
  for (let i = 0; i < n; i++) {
    prog[4 * i] = raw.readUInt16LE(8 * i);
    prog[4 * i + 1] = raw[8 * i + 2];
    prog[4 * i + 2] = raw[8 * i + 3];
    prog[4 * i + 3] = raw.readUInt32LE(8 * i + 4);
  }
  const bad = { errno: E.EINVAL, prog: null };
  for (let pc = 0; pc < n; pc++) {
    const code = prog[4 * pc], jt = prog[4 * pc + 1], jf = prog[4 * pc + 2], k = prog[4 * pc + 3];
    if (!ALLOWED.has(code)) return bad;
    if ((code === (BPF_ALU | DIV | BPF_K)) && k === 0) return bad;
    if ((code === (BPF_ALU | LSH | BPF_K) || code === (BPF_ALU | RSH | BPF_K)) && k >= 32) return bad;
    if ((code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM) || code === BPF_ST || code === BPF_STX) && k >= MEMWORDS) return bad;
    if (code === (BPF_JMP | JA) && k >= n - pc - 1) return bad;
    if (isJcond(code) && (pc + jt + 1 >= n || pc + jf + 1 >= n)) return bad;
    // loads only of aligned words inside struct seccomp_data
    if (code === (BPF_LD | BPF_W | BPF_ABS) && (k >= SECCOMP_DATA_SIZE || k & 3)) return bad;
  }
  const last = prog[4 * (n - 1)];
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) return bad;
  // every scratch word loaded must have been stored on every path to the load
  const masks = new Uint16Array(n).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < n; pc++) {
    valid &= masks[pc];
    const code = prog[4 * pc], k = prog[4 * pc + 3];
    if (code === BPF_ST || code === BPF_STX) valid |= 1 << k;
    else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if (!(valid & (1 << k))) return bad;
    } else if (code === (BPF_JMP | JA)) {
      masks[pc + 1 + k] &= valid;
      valid = 0xffff;
    } else if (isJcond(code)) {
      masks[pc + 1 + prog[4 * pc + 1]] &= valid;
      masks[pc + 1 + prog[4 * pc + 2]] &= valid;
      valid = 0xffff;
    }
  }
  return { errno: 0, prog };
}

/** Run one program over a struct seccomp_data (16 little-endian words): its 32-bit result. */
export function runFilter(prog: Uint32Array, data: Uint32Array): number {
  let A = 0, X = 0;
  const M = new Uint32Array(MEMWORDS);
  for (let pc = 0; ; pc++) {
    const code = prog[4 * pc], k = prog[4 * pc + 3];
    switch (code & 0x07) {
      case BPF_LD:
        A = (code & 0xe0) === BPF_ABS ? data[k >>> 2] : (code & 0xe0) === BPF_LEN ? SECCOMP_DATA_SIZE : (code & 0xe0) === BPF_MEM ? M[k] : k;
        break;
      case BPF_LDX:
        X = (code & 0xe0) === BPF_LEN ? SECCOMP_DATA_SIZE : (code & 0xe0) === BPF_MEM ? M[k] : k;
        break;
      case BPF_ST:
        M[k] = A;
        break;
      case BPF_STX:
        M[k] = X;
        break;
      case BPF_ALU: {
        const op = code & 0xf0;
        const v = code & BPF_X ? X : k;
        switch (op) {
          case ADD: A = (A + v) >>> 0; break;
          case SUB: A = (A - v) >>> 0; break;
          case MUL: A = Math.imul(A, v) >>> 0; break;
          case DIV:
            if (v === 0) return 0; // classic BPF ends with 0 on a division by zero
            A = Math.floor(A / v) >>> 0;
            break;
          case OR: A = (A | v) >>> 0; break;
          case AND: A = (A & v) >>> 0; break;
          case XOR: A = (A ^ v) >>> 0; break;
          case LSH: A = (A << (v & 31)) >>> 0; break;
          case RSH: A = A >>> (v & 31); break;
          case NEG: A = -A >>> 0; break;
        }
        break;
      }
      case BPF_JMP: {
        const op = code & 0xf0;
        if (op === JA) {
          pc += k;
          break;
        }
        const v = code & BPF_X ? X : k;
        const taken = op === JEQ ? A === v : op === JGT ? A > v : op === JGE ? A >= v : (A & v) !== 0;
        pc += taken ? prog[4 * pc + 1] : prog[4 * pc + 2];
        break;
      }
      case BPF_RET:
        return (code & 0x18) === BPF_A ? A : k;
      case BPF_MISC:
        if ((code & 0xf8) === TXA) A = X;
        else X = A;
        break;
    }
  }
}

/** The chain's verdict (seccomp_run_filters): the action of highest precedence, the newest filter's of equals. */
export function runFilters(f: SeccompFilter, data: Uint32Array): number {
  let ret = SECCOMP_RET_ALLOW;
  for (let w: SeccompFilter | null = f; w !== null; w = w.prev) {
    const cur = runFilter(w.prog, data);
    if ((cur & SECCOMP_RET_ACTION_FULL) >> 0 < (ret & SECCOMP_RET_ACTION_FULL) >> 0) ret = cur;
  }
  return ret >>> 0;
}
