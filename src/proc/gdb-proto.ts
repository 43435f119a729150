// The GDB remote protocol's encodings for the stub (gdb.ts): gdb's default
// register layout per arch ('g' packet order and sizes, as `maint print
// remote-registers` lists it for a program without a target description),
// register values as little-endian hex, the binary escapes, qXfer reads.
import { A64 } from '../cpu/arm64.js';
import type { Cpu } from '../cpu/engine.js';
import { X86 } from '../cpu/x86_64.js';
import type { Process } from './process.js';

/** One register of the 'g' packet: Unicorn's id (or a constant) and its size in bytes. */
export interface RegSpec {
  id: number | null;
  size: number;
  /** read as this constant (x86's segment selectors as a 64-bit Linux process has them) */
  value?: bigint;
}

export const X86_REGS: RegSpec[] = [
  ...[X86.RAX, X86.RBX, X86.RCX, X86.RDX, X86.RSI, X86.RDI, X86.RBP, X86.RSP, X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15, X86.RIP].map((id) => ({ id, size: 8 })),
  { id: X86.EFLAGS, size: 4 },
  { id: null, size: 4, value: 0x33n }, // cs
  { id: null, size: 4, value: 0x2bn }, // ss
  ...[0, 0, 0, 0].map(() => ({ id: null, size: 4, value: 0n })), // ds es fs gs
  ...Array.from({ length: 8 }, (_, i) => ({ id: 114 + i, size: 10 })), // st0-st7
  { id: X86.FPCW, size: 4 },
  { id: X86.FPSW, size: 4 },
  { id: 247, size: 4 }, // ftag
  ...[0, 0, 0, 0, 0].map(() => ({ id: null, size: 4, value: 0n })), // fiseg fioff foseg fooff fop
  ...Array.from({ length: 16 }, (_, i) => ({ id: 122 + i, size: 16 })), // xmm0-xmm15
  { id: X86.MXCSR, size: 4 },
];
export const A64_REGS: RegSpec[] = [
  ...Array.from({ length: 31 }, (_, i) => ({ id: A64.X(i), size: 8 })),
  { id: A64.SP, size: 8 },
  { id: A64.PC, size: 8 },
  { id: A64.NZCV, size: 4 }, // cpsr: the flags at EL0
  ...Array.from({ length: 32 }, (_, i) => ({ id: 104 + i, size: 16 })), // v0-v31 (Unicorn's q0-q31)
  { id: A64.FPSR, size: 4 },
  { id: A64.FPCR, size: 4 },
];

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
  let out = off + len < data.length ? 'm' : 'l';
  for (const c of part) out += c === 0x23 || c === 0x24 || c === 0x7d || c === 0x2a ? `}${String.fromCharCode(c ^ 0x20)}` : String.fromCharCode(c);
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
