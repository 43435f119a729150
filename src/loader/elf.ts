// ELF64 headers, parsed and checked the way a careful kernel would before
// mapping anything. Our own ~150 lines rather than `elfy`: elfy reads 64-bit
// fields into doubles (silently inexact above 2^53), parses section headers the
// loader does not need (and that a stripped or hostile file may corrupt), and
// throws generic errors; the loader needs exact values and one clear message.

export const ET_EXEC = 2;
export const ET_DYN = 3;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_STACK = 0x6474e551;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ElfImage {
  type: number;
  machine: number;
  entry: number;
  phoff: number;
  phentsize: number;
  phnum: number;
  phdrs: ProgramHeader[];
  interp: string | null;
}

/** A file elfrun cannot execute: the message is one line for the user (exit 126). */
export class ExecFormatError extends Error {}

const MACHINES: Record<number, string> = {
  3: 'i386',
  8: 'MIPS',
  20: 'PowerPC',
  21: 'PowerPC64',
  22: 'S/390',
  40: 'ARM',
  43: 'SPARC V9',
  50: 'IA-64',
  62: 'x86-64',
  183: 'AArch64',
  243: 'RISC-V',
  258: 'LoongArch',
};

export function machineName(m: number): string {
  return MACHINES[m] ?? `machine ${m}`;
}

/** Largest value we accept for a 64-bit address or size field (2^53: exact in a double). */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function u64(b: Buffer, off: number): number {
  const v = b.readBigUInt64LE(off);
  return v > BigInt(MAX_SAFE) ? Infinity : Number(v);
}

/**
 * Parse and validate. `supported` maps e_machine to the arch name elfrun runs.
 * Throws ExecFormatError with a one-line reason. `file` may be the first
 * part of a file of `size` bytes: headers past its end are reported as a
 * truncated file, segment data is checked against `size`.
 */
export function parseElf(file: Buffer, supported: Record<number, string>, size = file.length): ElfImage {
  const bad = (why: string): never => {
    throw new ExecFormatError(why);
  };
  if (file.length < 4 || file.readUInt32BE(0) !== 0x7f454c46) bad('not an ELF file');
  if (file.length < 16) bad('truncated ELF file (no identification)');
  const cls = file[4];
  if (cls === 1) bad('32-bit ELF is not supported (elfrun runs 64-bit x86_64 and arm64 programs)');
  if (cls !== 2) bad(`corrupt ELF file (bad class ${cls})`);
  if (file[5] === 2) bad('big-endian ELF is not supported');
  if (file[5] !== 1) bad(`corrupt ELF file (bad data encoding ${file[5]})`);
  if (file[6] !== 1) bad(`corrupt ELF file (bad version ${file[6]})`);
  if (file.length < 64) bad('truncated ELF file (header cut short)');
  const type = file.readUInt16LE(16);
  const machine = file.readUInt16LE(18);
  if (type !== ET_EXEC && type !== ET_DYN)
    bad(type === 1 ? 'not an executable (relocatable object file)' : type === 4 ? 'not an executable (core dump)' : `not an executable (ELF type ${type})`);
  if (!(machine in supported))
    bad(`ELF for ${machineName(machine)} is not supported (elfrun runs ${Object.values(supported).join(' and ')})`);
  const entry = u64(file, 24);
  if (!Number.isFinite(entry)) bad('corrupt ELF file (entry point out of range)');
  const phoff = u64(file, 32);
  const phentsize = file.readUInt16LE(54);
  const phnum = file.readUInt16LE(56);
  if (phentsize !== 56) bad(`corrupt ELF file (program header size ${phentsize}, expected 56)`);
  if (phnum === 0) bad('corrupt ELF file (no program headers)');
  if (phnum > 65536 / 56) bad(`corrupt ELF file (${phnum} program headers)`);
  if (phoff + phnum * 56 > file.length) bad('truncated ELF file (program headers past end of file)');

  const phdrs: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    phdrs.push({
      type: file.readUInt32LE(o),
      flags: file.readUInt32LE(o + 4),
      offset: u64(file, o + 8),
      vaddr: u64(file, o + 16),
      filesz: u64(file, o + 32),
      memsz: u64(file, o + 40),
      align: u64(file, o + 48),
    });
  }

  let interp: string | null = null;
  const loads = phdrs.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) bad('corrupt ELF file (no loadable segment)');
  let prevEnd = -1;
  for (const p of phdrs) {
    if (p.type === PT_INTERP) {
      // Linux (binfmt_elf.c) wants a NUL at p_filesz - 1; a path with control
      // characters is no interpreter either (and would break the one-line message).
      if (p.offset + p.filesz > file.length || p.filesz < 2 || p.filesz > 4096 || file[p.offset + p.filesz - 1] !== 0)
        bad('corrupt ELF file (bad PT_INTERP)');
      interp = file.subarray(p.offset, p.offset + p.filesz - 1).toString('latin1');
      interp = interp.slice(0, (interp + '\0').indexOf('\0'));
      if (interp === '' || /[\x00-\x1f\x7f]/.test(interp)) bad('corrupt ELF file (bad PT_INTERP)');
    }
    if (p.type !== PT_LOAD) continue;
    if (!Number.isFinite(p.vaddr) || !Number.isFinite(p.memsz) || !Number.isFinite(p.offset) || !Number.isFinite(p.filesz))
      bad('corrupt ELF file (segment address or size out of range)');
    if (p.filesz > p.memsz) bad('corrupt ELF file (segment file size larger than memory size)');
    if (p.offset + p.filesz > size) bad('truncated ELF file (segment data past end of file)');
    if ((p.vaddr - p.offset) % 4096 !== 0) bad('corrupt ELF file (segment offset and address not congruent modulo the page size)');
    if (p.vaddr < prevEnd) bad('corrupt ELF file (loadable segments overlap or are out of order)');
    prevEnd = p.vaddr + p.memsz;
  }
  return { type, machine, entry, phoff, phentsize, phnum, phdrs, interp };
}
