// The GDB remote protocol's encodings for the stub (gdb.ts): the register
// layout per arch and the target description that tells gdb of it ('g'
// packet order and sizes, names and types, as gdbserver describes a Linux
// process), register values as little-endian hex, the binary escapes, qXfer
// reads.
import { A64 } from '../cpu/arm64.js';
import type { Cpu } from '../cpu/engine.js';
import { X86 } from '../cpu/x86_64.js';
import type { Process } from './process.js';

/** One register of the 'g' packet, in the target description's order: Unicorn's id (or a constant) and its size in bytes. */
export interface RegSpec {
  id: number | null;
  size: number;
  /** read as this constant (x86's segment selectors as a 64-bit Linux process has them) */
  value?: bigint;
  /** its name, type and group in the target description, and the feature it belongs to */
  name: string;
  type?: string;
  group?: string;
  feature: string;
}

const reg = (feature: string, name: string, id: number | null, size: number, more: Partial<RegSpec> = {}): RegSpec => ({ feature, name, id, size, ...more });
const X86_CORE = 'org.gnu.gdb.i386.core';
const X86_SSE = 'org.gnu.gdb.i386.sse';
const X86_LINUX = 'org.gnu.gdb.i386.linux';
const X86_SEG = 'org.gnu.gdb.i386.segments';
const GPR = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const GPR_ID = [X86.RAX, X86.RBX, X86.RCX, X86.RDX, X86.RSI, X86.RDI, X86.RBP, X86.RSP, X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15];

/**
 * x86_64 as gdbserver describes a Linux process (amd64-linux without AVX):
 * core (general registers, eflags, segments, x87), SSE with mxcsr,
 * orig_rax, fs_base and gs_base; 'g', 'p' and 'P' number them in this order.
 */
export const X86_REGS: RegSpec[] = [
  ...GPR.map((n, i) => reg(X86_CORE, n, GPR_ID[i], 8, { type: n === 'rbp' || n === 'rsp' ? 'data_ptr' : 'int64' })),
  reg(X86_CORE, 'rip', X86.RIP, 8, { type: 'code_ptr' }),
  reg(X86_CORE, 'eflags', X86.EFLAGS, 4, { type: 'i386_eflags' }),
  reg(X86_CORE, 'cs', null, 4, { value: 0x33n, type: 'int32' }),
  reg(X86_CORE, 'ss', null, 4, { value: 0x2bn, type: 'int32' }),
  ...['ds', 'es', 'fs', 'gs'].map((n) => reg(X86_CORE, n, null, 4, { value: 0n, type: 'int32' })),
  ...Array.from({ length: 8 }, (_, i) => reg(X86_CORE, `st${i}`, 114 + i, 10, { type: 'i387_ext' })),
  reg(X86_CORE, 'fctrl', X86.FPCW, 4, { type: 'int', group: 'float' }),
  reg(X86_CORE, 'fstat', X86.FPSW, 4, { type: 'int', group: 'float' }),
  reg(X86_CORE, 'ftag', 247, 4, { type: 'int', group: 'float' }),
  ...['fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((n) => reg(X86_CORE, n, null, 4, { value: 0n, type: 'int', group: 'float' })),
  ...Array.from({ length: 16 }, (_, i) => reg(X86_SSE, `xmm${i}`, 122 + i, 16, { type: 'vec128' })),
  reg(X86_SSE, 'mxcsr', X86.MXCSR, 4, { type: 'i386_mxcsr', group: 'vector' }),
  // not in a system call at any stop the stub reports: -1, as Linux shows it then
  reg(X86_LINUX, 'orig_rax', null, 8, { value: -1n, type: 'int' }),
  reg(X86_SEG, 'fs_base', X86.FS_BASE, 8, { type: 'int' }),
  reg(X86_SEG, 'gs_base', X86.GS_BASE, 8, { type: 'int' }),
];

const A64_CORE = 'org.gnu.gdb.aarch64.core';
const A64_FPU = 'org.gnu.gdb.aarch64.fpu';
const A64_TLS = 'org.gnu.gdb.aarch64.tls';

/** aarch64 as gdbserver describes a Linux process: core, fpsimd, tpidr. */
export const A64_REGS: RegSpec[] = [
  ...Array.from({ length: 31 }, (_, i) => reg(A64_CORE, `x${i}`, A64.X(i), 8)),
  reg(A64_CORE, 'sp', A64.SP, 8, { type: 'data_ptr' }),
  reg(A64_CORE, 'pc', A64.PC, 8, { type: 'code_ptr' }),
  reg(A64_CORE, 'cpsr', A64.NZCV, 4, { type: 'cpsr_flags' }), // the flags at EL0
  ...Array.from({ length: 32 }, (_, i) => reg(A64_FPU, `v${i}`, 104 + i, 16, { type: 'aarch64v' })), // Unicorn's q0-q31
  reg(A64_FPU, 'fpsr', A64.FPSR, 4),
  reg(A64_FPU, 'fpcr', A64.FPCR, 4),
  reg(A64_TLS, 'tpidr', A64.TPIDR_EL0, 8, { type: 'data_ptr' }),
];

/** The types a feature's registers name (gdb's own for these features). */
const FEATURE_TYPES: Record<string, string> = {
  [X86_CORE]: flags('i386_eflags', 4, [['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11], ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21]]),
  [X86_SSE]:
    vectors([['v8bf16', 'bfloat16', 8], ['v8h', 'ieee_half', 8], ['v4f', 'ieee_single', 4], ['v2d', 'ieee_double', 2], ['v16i8', 'int8', 16], ['v8i16', 'int16', 8], ['v4i32', 'int32', 4], ['v2i64', 'int64', 2]]) +
    union('vec128', [['v8_bfloat16', 'v8bf16'], ['v8_half', 'v8h'], ['v4_float', 'v4f'], ['v2_double', 'v2d'], ['v16_int8', 'v16i8'], ['v8_int16', 'v8i16'], ['v4_int32', 'v4i32'], ['v2_int64', 'v2i64'], ['uint128', 'uint128']]) +
    flags('i386_mxcsr', 4, [['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7], ['DM', 8], ['ZM', 9], ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15]]),
  [A64_CORE]: flags('cpsr_flags', 4, [['SP', 0], ['EL', 2, 3], ['nRW', 4], ['F', 6], ['I', 7], ['A', 8], ['D', 9], ['BTYPE', 10, 11], ['SSBS', 12], ['IL', 20], ['SS', 21], ['PAN', 22], ['UAO', 23], ['DIT', 24], ['TCO', 25], ['V', 28], ['C', 29], ['Z', 30], ['N', 31]]),
  [A64_FPU]:
    vectors([['v2d', 'ieee_double', 2], ['v2u', 'uint64', 2], ['v2i', 'int64', 2], ['v4f', 'ieee_single', 4], ['v4u', 'uint32', 4], ['v4i', 'int32', 4], ['v8f', 'ieee_half', 8], ['v8u', 'uint16', 8], ['v8i', 'int16', 8], ['v8bf16', 'bfloat16', 8], ['v16u', 'uint8', 16], ['v16i', 'int8', 16], ['v1u', 'uint128', 1], ['v1i', 'int128', 1]]) +
    union('vnd', [['f', 'v2d'], ['u', 'v2u'], ['s', 'v2i']]) +
    union('vns', [['f', 'v4f'], ['u', 'v4u'], ['s', 'v4i']]) +
    union('vnh', [['bf', 'v8bf16'], ['f', 'v8f'], ['u', 'v8u'], ['s', 'v8i']]) +
    union('vnb', [['u', 'v16u'], ['s', 'v16i']]) +
    union('vnq', [['u', 'v1u'], ['s', 'v1i']]) +
    union('aarch64v', [['d', 'vnd'], ['s', 'vns'], ['h', 'vnh'], ['b', 'vnb'], ['q', 'vnq']]),
};

function flags(id: string, size: number, fields: Array<[string, number, number?]>): string {
  return `<flags id="${id}" size="${size}">${fields.map(([n, s, e]) => `<field name="${n}" start="${s}" end="${e ?? s}"/>`).join('')}</flags>`;
}
function vectors(vs: Array<[string, string, number]>): string {
  return vs.map(([id, type, count]) => `<vector id="${id}" type="${type}" count="${count}"/>`).join('');
}
function union(id: string, fields: Array<[string, string]>): string {
  return `<union id="${id}">${fields.map(([n, t]) => `<field name="${n}" type="${t}"/>`).join('')}</union>`;
}

/**
 * The target description gdb reads with qXfer:features:read: target.xml
 * (architecture, OS ABI and an include per feature) and one file per
 * feature, its registers numbered by their place in the arch's table.
 */
export function targetDescription(arch: 'x86_64' | 'arm64'): Map<string, string> {
  let files = descriptions.get(arch);
  if (files === undefined) descriptions.set(arch, (files = describe(arch)));
  return files;
}
const descriptions = new Map<string, Map<string, string>>();

function describe(arch: 'x86_64' | 'arm64'): Map<string, string> {
  const regs = arch === 'x86_64' ? X86_REGS : A64_REGS;
  const head = '<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">';
  const files = new Map<string, string>();
  const features = [...new Set(regs.map((r) => r.feature))];
  const fileOf = (f: string): string => `${f.replace(/^org\.gnu\.gdb\./, '').replace(/\./g, '-')}.xml`;
  for (const f of features) {
    const body = regs
      .map((r, n) => [r, n] as const)
      .filter(([r]) => r.feature === f)
      .map(([r, n]) => `<reg name="${r.name}" bitsize="${8 * r.size}" type="${r.type ?? 'int'}" regnum="${n}"${r.group !== undefined ? ` group="${r.group}"` : ''}/>`)
      .join('');
    files.set(fileOf(f), `<?xml version="1.0"?><!DOCTYPE feature SYSTEM "gdb-target.dtd"><feature name="${f}">${FEATURE_TYPES[f] ?? ''}${body}</feature>`);
  }
  const archName = arch === 'x86_64' ? 'i386:x86-64' : 'aarch64';
  const includes = features.map((f) => `<xi:include href="${fileOf(f)}"/>`).join('');
  files.set('target.xml', `${head}<target version="1.0"><architecture>${archName}</architecture><osabi>GNU/Linux</osabi>${includes}</target>`);
  return files;
}

export function readReg(cpu: Cpu, s: RegSpec): bigint | Buffer {
  if (s.id === null) return s.value ?? 0n;
  if (s.size > 8) return cpu.regBytes(s.id, s.size);
  return cpu.regBig(s.id);
}

export function writeReg(cpu: Cpu, s: RegSpec, b: Buffer): void {
  if (s.id === null) return;
  if (s.size > 8) cpu.setRegBytes(s.id, b.subarray(0, s.size));
  else {
    const v = Buffer.alloc(8);
    b.copy(v, 0, 0, Math.min(8, b.length));
    cpu.setReg(s.id, v.readBigUInt64LE(0));
  }
}

/** A value as gdb's packets carry it: little-endian bytes in hex. */
export function le(v: bigint | Buffer, size: number): string {
  if (Buffer.isBuffer(v)) return v.subarray(0, size).toString('hex').padEnd(2 * size, '0');
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b.subarray(0, size).toString('hex').padEnd(2 * size, '0');
}

export function hex8(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

/** Undo the protocol's escapes (} then the byte ^ 0x20). */
export function unescape(s: string): string {
  if (!s.includes('}')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) out += s[i] === '}' ? String.fromCharCode(s.charCodeAt(++i) ^ 0x20) : s[i];
  return out;
}

/** A qXfer read of `offset,length` of data: m (more) or l (last), binary escaped. */
export function xfer(data: Buffer, range: string): string {
  const [off, len] = range.split(',').map((x) => parseInt(x, 16));
  const part = data.subarray(off, off + len);
  return (off + len < data.length ? 'm' : 'l') + binary(part);
}

/** Bytes as a packet's binary data: '#', '$', '}' and '*' escaped ('}' then the byte ^ 0x20). */
export function binary(data: Uint8Array): string {
  let out = '';
  for (const c of data) out += c === 0x23 || c === 0x24 || c === 0x7d || c === 0x2a ? `}${String.fromCharCode(c ^ 0x20)}` : String.fromCharCode(c);
  return out;
}

export function auxvBytes(p: Process): Buffer {
  const pairs = p.start?.auxv ?? [];
  const b = Buffer.alloc(16 * (pairs.length + 1));
  pairs.forEach(([k, v], i) => {
    b.writeBigUInt64LE(BigInt(k), 16 * i);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), 16 * i + 8);
  });
  return b;
}

/**
 * Linux's signal numbers as the remote protocol numbers them (gdb's own
 * numbering, which T, S, X and C carry): the first 15 but SIGBUS, SIGUSR1,
 * SIGUSR2 agree; realtime signals 33-63 are 45-75, 32 is 77, 64 is 78.
 */
const TO_GDB: Record<number, number> = {
  7: 10, 10: 30, 12: 31, 16: 143, 17: 20, 18: 19, 19: 17, 20: 18, 23: 16, 29: 23, 30: 32, 31: 12,
};
export function gdbSignal(sig: number): number {
  if (sig === 32) return 77;
  if (sig === 64) return 78;
  if (sig > 32) return sig - 33 + 45;
  return TO_GDB[sig] ?? sig;
}
export function linuxSignal(g: number): number {
  for (let s = 1; s <= 64; s++) if (gdbSignal(s) === g) return s;
  return 0;
}

const AT_PHDR = 3;
const AT_PHNUM = 5;
const PT_DYNAMIC = 2;
const PT_PHDR = 6;
const DT_DEBUG = 21;

/**
 * qXfer:libraries-svr4:read, as gdbserver answers it: the dynamic linker's
 * list of loaded objects, read from guest memory (the program's PT_DYNAMIC,
 * found through AT_PHDR, its DT_DEBUG entry, the r_debug it points to and
 * r_map's link_map chain). The program's own entry is main-lm; an empty
 * list while the linker has not filled DT_DEBUG yet, or for a static
 * program.
 */
export function librariesSvr4(p: Process, mem: { read(addr: number, len: number): Buffer }): string {
  const aux = new Map(p.start?.auxv ?? []);
  const phdr = aux.get(AT_PHDR) ?? 0;
  const phnum = aux.get(AT_PHNUM) ?? 0;
  const u64 = (a: number): number => Number(mem.read(a, 8).readBigUInt64LE(0));
  const hex = (n: number): string => `0x${n.toString(16)}`;
  let out = '';
  let mainLm = 0;
  try {
    let bias = 0;
    let dynamic = 0;
    for (let i = 0; i < phnum; i++) {
      const h = mem.read(phdr + 56 * i, 56);
      const vaddr = Number(h.readBigUInt64LE(16));
      if (h.readUInt32LE(0) === PT_PHDR) bias = phdr - vaddr;
      if (h.readUInt32LE(0) === PT_DYNAMIC) dynamic = vaddr;
    }
    let rDebug = 0;
    for (let a = dynamic + bias; dynamic !== 0; a += 16) {
      const tag = u64(a);
      if (tag === 0) break;
      if (tag === DT_DEBUG) rDebug = u64(a + 8);
    }
    const seen = new Set<number>();
    for (let lm = rDebug !== 0 ? u64(rDebug + 8) : 0; lm !== 0 && !seen.has(lm) && seen.size < 4096; lm = u64(lm + 24)) {
      seen.add(lm);
      const nameAt = u64(lm + 8);
      let name = '';
      // the name up to its NUL, a page at most at a time (the next page may not be mapped)
      for (let a = nameAt; a !== 0 && name.length < 4096; ) {
        const b = mem.read(a, 4096 - (a % 4096));
        const nul = b.indexOf(0);
        name += b.subarray(0, nul < 0 ? b.length : nul).toString('latin1');
        if (nul >= 0) break;
        a += b.length;
      }
      if (mainLm === 0) mainLm = lm;
      else if (name !== '') {
        const esc = name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
        out += `<library name="${esc}" lm="${hex(lm)}" l_addr="${hex(u64(lm))}" l_ld="${hex(u64(lm + 16))}" lmid="0x0"/>`;
      }
    }
  } catch {
    // memory the list points to is not there (yet): what was read so far
  }
  return `<library-list-svr4 version="1.0"${mainLm !== 0 ? ` main-lm="${hex(mainLm)}"` : ''}>${out}</library-list-svr4>`;
}

/** A thread as gdb names one: [pid, tid], each 0 (any) or -1 (all) or a number. */
export type Sel = [number, number];

/** "pPID.TID", "pPID" (all its threads), "TID", "-1" or "0". */
export function parseSel(s: string): Sel {
  const num = (x: string): number => (x === '-1' ? -1 : parseInt(x, 16));
  if (!s.startsWith('p')) return [0, num(s)];
  const [pid, tid] = s.slice(1).split('.');
  return [num(pid), tid === undefined ? -1 : num(tid)];
}

/** A thread id in a reply: pPID.TID with the multiprocess extensions, else TID. */
export function threadId(multi: boolean, pid: number, tid: number): string {
  return multi ? `p${pid.toString(16)}.${tid.toString(16)}` : tid.toString(16);
}

/**
 * qXfer:threads:read's document, as gdbserver writes it: each thread's id and
 * name (its comm: elfrun keeps one per process, so every thread has it).
 */
export function threadsXml(threads: Array<[string, string]>): string {
  const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<?xml version="1.0"?>\n<threads>\n${threads.map(([id, name]) => `<thread id="${id}" core="0" name="${esc(name)}"/>\n`).join('')}</threads>\n`;
}
