// Small synthetic ELF64 files for loader and CLI tests, plus helpers that
// damage a real binary (truncate it, overwrite bytes) deterministically.
//
// elf64() lays a file out as: ELF header (64 bytes) | program headers (at
// e_phoff, 56 bytes each) | optional PT_INTERP string | code. Every header
// field has a knob; 64-bit fields take a number or a bigint (for values above
// 2^53). By default the file is a valid static x86_64 executable whose code is
// `exit(42)`, loaded by one R+X PT_LOAD that covers the whole file at 0x400000.
import { readFileSync } from 'node:fs';

export type U64 = number | bigint;

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;
export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_PHDR = 6;
export const PT_GNU_STACK = 0x6474e551;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

/** What elfrun runs (the same map src/index.ts gives parseElf). */
export const SUPPORTED: Record<number, string> = { [EM_X86_64]: 'x86_64', [EM_AARCH64]: 'aarch64' };

/** `exit(42)` for each machine. */
export const EXIT42: Record<number, Buffer> = {
  // mov edi, 42; mov eax, 60; syscall
  [EM_X86_64]: Buffer.from([0xbf, 0x2a, 0, 0, 0, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05]),
  // mov x0, #42; mov x8, #93; svc #0
  [EM_AARCH64]: Buffer.from([0x40, 0x05, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4]),
};

/** Offsets of the ELF header fields (ELF64). */
export const EH = {
  class: 4,
  data: 5,
  identVersion: 6,
  osabi: 7,
  type: 16,
  machine: 18,
  version: 20,
  entry: 24,
  phoff: 32,
  shoff: 40,
  flags: 48,
  ehsize: 52,
  phentsize: 54,
  phnum: 56,
  shentsize: 58,
  shnum: 60,
  shstrndx: 62,
} as const;

/** Offsets of the fields inside one ELF64 program header. */
export const PH = { type: 0, flags: 4, offset: 8, vaddr: 16, paddr: 24, filesz: 32, memsz: 40, align: 48 } as const;

export interface PhdrSpec {
  type?: number;
  flags?: number;
  offset?: U64;
  vaddr?: U64;
  /** defaults to vaddr */
  paddr?: U64;
  filesz?: U64;
  /** defaults to filesz */
  memsz?: U64;
  align?: U64;
}

/** Where elf64() put things, for building program headers that refer to them. */
export interface ElfLayout {
  base: number;
  phoff: number;
  interpOffset: number;
  interpSize: number;
  codeOffset: number;
  codeSize: number;
  fileSize: number;
}

export interface ElfSpec {
  // e_ident
  magic?: Buffer;
  class?: number;
  data?: number;
  identVersion?: number;
  osabi?: number;
  // header fields
  type?: number;
  machine?: number;
  version?: number;
  /** default: the first code byte, at base + codeOffset */
  entry?: U64;
  /** where the program headers go (default 64, right after the ELF header) */
  phoff?: U64;
  shoff?: U64;
  flags?: number;
  ehsize?: number;
  phentsize?: number;
  /** default: the number of program headers written */
  phnum?: number;
  shentsize?: number;
  shnum?: number;
  shstrndx?: number;
  /** load address of file offset 0 for the default PT_LOAD (0x400000) */
  base?: number;
  /** machine code (default: exit(42) for `machine`) */
  code?: Buffer;
  /** adds a PT_INTERP (after the other headers) pointing at this string + NUL */
  interp?: string;
  /**
   * The program headers. Default: one R+X PT_LOAD mapping the whole file at
   * `base`. A function receives the layout (to point at the code, say).
   */
  phdrs?: PhdrSpec[] | ((l: ElfLayout) => PhdrSpec[]);
  /** extra bytes appended at the end (after the code) */
  tail?: number;
}

const u64 = (v: U64): bigint => BigInt.asUintN(64, BigInt(v));

/** The default loadable segment: the whole file, readable and executable. */
export function wholeFileLoad(l: ElfLayout, over: PhdrSpec = {}): PhdrSpec {
  return { type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: l.base, filesz: l.fileSize, memsz: l.fileSize, align: 0x1000, ...over };
}

export function elf64(spec: ElfSpec = {}): Buffer {
  const machine = spec.machine ?? EM_X86_64;
  const base = spec.base ?? 0x400000;
  const code = spec.code ?? EXIT42[machine] ?? EXIT42[EM_X86_64];
  const phoff = spec.phoff ?? 64;
  // The number of headers depends on the spec function; call it once with a
  // provisional layout to count them (their contents are computed below).
  const probeLayout: ElfLayout = { base, phoff: 0, interpOffset: 0, interpSize: 0, codeOffset: 0, codeSize: 0, fileSize: 0 };
  const userCount =
    typeof spec.phdrs === 'function' ? spec.phdrs(probeLayout).length : spec.phdrs ? spec.phdrs.length : 1;
  const count = userCount + (spec.interp !== undefined ? 1 : 0);
  // Headers are placed at phoff only if it is a sensible in-file offset; a
  // huge phoff (a test of the parser) leaves the table right after the header.
  const tableAt = typeof phoff === 'number' && phoff < 1 << 20 ? phoff : 64;
  const interpOffset = tableAt + count * 56;
  const interpSize = spec.interp !== undefined ? Buffer.byteLength(spec.interp, 'latin1') + 1 : 0;
  const codeOffset = Math.ceil((interpOffset + interpSize) / 16) * 16;
  const fileSize = codeOffset + code.length + (spec.tail ?? 0);
  const layout: ElfLayout = { base, phoff: tableAt, interpOffset, interpSize, codeOffset, codeSize: code.length, fileSize };

  const phdrs: PhdrSpec[] =
    typeof spec.phdrs === 'function' ? spec.phdrs(layout) : spec.phdrs ? [...spec.phdrs] : [wholeFileLoad(layout)];
  if (spec.interp !== undefined)
    phdrs.push({ type: PT_INTERP, flags: PF_R, offset: interpOffset, vaddr: base + interpOffset, filesz: interpSize, memsz: interpSize, align: 1 });

  const b = Buffer.alloc(Math.max(fileSize, tableAt + phdrs.length * 56, 64));
  (spec.magic ?? Buffer.from([0x7f, 0x45, 0x4c, 0x46])).copy(b, 0);
  b[EH.class] = spec.class ?? 2;
  b[EH.data] = spec.data ?? 1;
  b[EH.identVersion] = spec.identVersion ?? 1;
  b[EH.osabi] = spec.osabi ?? 0;
  b.writeUInt16LE(spec.type ?? ET_EXEC, EH.type);
  b.writeUInt16LE(machine, EH.machine);
  b.writeUInt32LE(spec.version ?? 1, EH.version);
  b.writeBigUInt64LE(u64(spec.entry ?? base + codeOffset), EH.entry);
  b.writeBigUInt64LE(u64(phoff), EH.phoff);
  b.writeBigUInt64LE(u64(spec.shoff ?? 0), EH.shoff);
  b.writeUInt32LE(spec.flags ?? 0, EH.flags);
  b.writeUInt16LE(spec.ehsize ?? 64, EH.ehsize);
  b.writeUInt16LE(spec.phentsize ?? 56, EH.phentsize);
  b.writeUInt16LE(spec.phnum ?? phdrs.length, EH.phnum);
  b.writeUInt16LE(spec.shentsize ?? 64, EH.shentsize);
  b.writeUInt16LE(spec.shnum ?? 0, EH.shnum);
  b.writeUInt16LE(spec.shstrndx ?? 0, EH.shstrndx);
  phdrs.forEach((p, i) => {
    const o = tableAt + i * 56;
    b.writeUInt32LE(p.type ?? PT_LOAD, o + PH.type);
    b.writeUInt32LE(p.flags ?? PF_R, o + PH.flags);
    b.writeBigUInt64LE(u64(p.offset ?? 0), o + PH.offset);
    b.writeBigUInt64LE(u64(p.vaddr ?? base), o + PH.vaddr);
    b.writeBigUInt64LE(u64(p.paddr ?? p.vaddr ?? base), o + PH.paddr);
    b.writeBigUInt64LE(u64(p.filesz ?? 0), o + PH.filesz);
    b.writeBigUInt64LE(u64(p.memsz ?? p.filesz ?? 0), o + PH.memsz);
    b.writeBigUInt64LE(u64(p.align ?? 0x1000), o + PH.align);
  });
  if (spec.interp !== undefined) b.write(spec.interp, interpOffset, 'latin1');
  code.copy(b, codeOffset);
  return b;
}

// ---- damaging real files ------------------------------------------------------

export interface Edit {
  offset: number;
  bytes: Buffer | number[];
}

/** A copy of `file`, cut to `truncateAt` bytes (if given) after applying the writes. */
export function mutate(file: Buffer, o: { truncateAt?: number; writes?: Edit[] } = {}): Buffer {
  const b = Buffer.from(file);
  for (const w of o.writes ?? []) Buffer.from(w.bytes).copy(b, w.offset);
  return o.truncateAt === undefined ? b : b.subarray(0, o.truncateAt);
}

/** A real file (e.g. a busybox fixture), truncated and/or overwritten. */
export function mutateFile(path: string, o: { truncateAt?: number; writes?: Edit[] }): Buffer {
  return mutate(readFileSync(path), o);
}

export const truncated = (file: Buffer, n: number): Buffer => mutate(file, { truncateAt: n });

export const overwritten = (file: Buffer, offset: number, bytes: Buffer | number[]): Buffer => mutate(file, { writes: [{ offset, bytes }] });

/** Little-endian encodings, for writes. */
export const le16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};
export const le32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
export const le64 = (v: U64): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(u64(v));
  return b;
};

/** File offset of field `field` of program header `i`, from the file's own e_phoff. */
export function phField(file: Buffer, i: number, field: keyof typeof PH): number {
  return Number(file.readBigUInt64LE(EH.phoff)) + i * 56 + PH[field];
}

/** Size of the ELF header plus the program header table, from the file itself. */
export function headersEnd(file: Buffer): number {
  return Number(file.readBigUInt64LE(EH.phoff)) + file.readUInt16LE(EH.phnum) * 56;
}

/** End of the last byte of segment data any PT_LOAD takes from the file. */
export function segmentsEnd(file: Buffer): number {
  let end = 0;
  for (let i = 0; i < file.readUInt16LE(EH.phnum); i++) {
    if (file.readUInt32LE(phField(file, i, 'type')) !== PT_LOAD) continue;
    end = Math.max(end, Number(file.readBigUInt64LE(phField(file, i, 'offset')) + file.readBigUInt64LE(phField(file, i, 'filesz'))));
  }
  return end;
}

/** A small deterministic PRNG (mulberry32): same seed, same sequence. */
export function prng(seed: number): { next(): number; int(n: number): number; byte(): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), byte: () => Math.floor(next() * 256) };
}
