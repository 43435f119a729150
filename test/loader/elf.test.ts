// parseElf: accepts the static busybox fixtures, and refuses every kind of bad
// file with an ExecFormatError whose message is one specific line.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { ExecFormatError, ET_DYN, ET_EXEC, PT_LOAD, PT_INTERP, parseElf, machineName } from '../../src/loader/elf.js';
import { ROOT } from '../helpers/oracle.js';
import {
  EH,
  EM_AARCH64,
  EM_RISCV,
  EM_X86_64,
  ET_CORE,
  ET_REL,
  PF_R,
  PF_W,
  PF_X,
  PT_NOTE,
  SUPPORTED,
  elf64,
  le16,
  le64,
  mutate,
  overwritten,
  phField,
  truncated,
  wholeFileLoad,
  type ElfLayout,
  type PhdrSpec,
} from '../helpers/elfgen.js';

const busybox = (arch: string): Buffer => readFileSync(`${ROOT}/fixtures/${arch}/busybox`);

/** The ExecFormatError parseElf throws (fails the test if it does not throw one). */
function refusal(file: Buffer): string {
  try {
    parseElf(file, SUPPORTED);
  } catch (e) {
    expect(e).toBeInstanceOf(ExecFormatError);
    const msg = (e as Error).message;
    expect(msg).not.toMatch(/[\n\r]/);
    expect(msg.length).toBeGreaterThan(5);
    expect(msg.length).toBeLessThan(200);
    return msg;
  }
  throw new Error('parseElf accepted the file');
}

const twoLoads = (over0: PhdrSpec, over1: PhdrSpec) => (l: ElfLayout): PhdrSpec[] => [
  wholeFileLoad(l, over0),
  { type: PT_LOAD, flags: PF_R | PF_W, offset: 0, vaddr: 0x600000, filesz: 0x10, memsz: 0x2000, ...over1 },
];

describe('parseElf accepts', () => {
  it.each([
    ['x86_64', EM_X86_64, 4, 0x40ebf0, 10],
    ['arm64', EM_AARCH64, 2, 0x400580, 6],
  ])('the %s busybox fixture', (arch, machine, loads, entry, phnum) => {
    const f = busybox(arch);
    const e = parseElf(f, SUPPORTED);
    expect(e.machine).toBe(machine);
    expect(e.type).toBe(ET_EXEC);
    expect(e.entry).toBe(entry);
    expect(e.phoff).toBe(64);
    expect(e.phentsize).toBe(56);
    expect(e.phnum).toBe(phnum);
    expect(e.phdrs).toHaveLength(phnum);
    expect(e.phdrs.filter((p) => p.type === PT_LOAD)).toHaveLength(loads);
    expect(e.interp).toBeNull();
    // PT_LOADs are in order and each one's file data lies in the file
    const l = e.phdrs.filter((p) => p.type === PT_LOAD);
    for (let i = 0; i < l.length; i++) {
      expect(l[i].offset + l[i].filesz).toBeLessThanOrEqual(f.length);
      if (i > 0) expect(l[i].vaddr).toBeGreaterThanOrEqual(l[i - 1].vaddr + l[i - 1].memsz);
    }
  });

  it('a minimal synthetic executable for each machine, and ET_DYN', () => {
    for (const machine of [EM_X86_64, EM_AARCH64]) {
      const f = elf64({ machine });
      const e = parseElf(f, SUPPORTED);
      expect(e.machine).toBe(machine);
      expect(e.entry).toBe(0x400000 + 128); // after header + one phdr, 16-aligned
      expect(e.phdrs).toEqual([{ type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x400000, filesz: f.length, memsz: f.length, align: 0x1000 }]);
    }
    expect(parseElf(elf64({ type: ET_DYN, base: 0 }), SUPPORTED).type).toBe(ET_DYN);
  });

  it('segments sharing a page, a bss bigger than the file part, and non-LOAD headers anywhere', () => {
    const f = elf64({
      phdrs: (l) => [
        { type: PT_NOTE, offset: 0, vaddr: 0, filesz: 4 },
        wholeFileLoad(l),
        // starts in the first segment's last page, right after it
        { type: PT_LOAD, flags: PF_R | PF_W, offset: l.fileSize, vaddr: 0x400000 + l.fileSize, filesz: 0, memsz: 0x100000 },
      ],
      tail: 0x200,
    });
    const e = parseElf(f, SUPPORTED);
    expect(e.phdrs.filter((p) => p.type === PT_LOAD)).toHaveLength(2);
  });

  it('fields exactly at 2^53 - 1 are read exactly', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const e = parseElf(elf64({ phdrs: (l) => [wholeFileLoad(l), { type: PT_NOTE, vaddr: max, memsz: max, align: max }] }), SUPPORTED);
    expect(e.phdrs[1]).toMatchObject({ vaddr: max, memsz: max, align: max });
  });
});

describe('parseElf refuses', () => {
  it('a text file and an empty file', () => {
    expect(refusal(Buffer.from('#!/bin/sh\necho hello\n'))).toBe('not an ELF file');
    expect(refusal(Buffer.alloc(0))).toBe('not an ELF file');
    expect(refusal(Buffer.from('\x7fEL'))).toBe('not an ELF file');
    expect(refusal(elf64({ magic: Buffer.from('\x7fELG') }))).toBe('not an ELF file');
  });

  it('a file cut inside e_ident or the header', () => {
    const f = elf64();
    expect(refusal(truncated(f, 4))).toMatch(/^truncated ELF file \(no identification\)$/);
    expect(refusal(truncated(f, 15))).toMatch(/^truncated ELF file/);
    expect(refusal(truncated(f, 16))).toMatch(/^truncated ELF file \(header cut short\)$/);
    expect(refusal(truncated(f, 63))).toMatch(/^truncated ELF file \(header cut short\)$/);
  });

  it('32-bit ELF', () => {
    expect(refusal(elf64({ class: 1 }))).toMatch(/^32-bit ELF is not supported/);
  });

  it('big-endian ELF', () => {
    expect(refusal(elf64({ data: 2 }))).toBe('big-endian ELF is not supported');
  });

  it('bad class, data encoding or ident version', () => {
    expect(refusal(elf64({ class: 0 }))).toBe('corrupt ELF file (bad class 0)');
    expect(refusal(elf64({ class: 3 }))).toBe('corrupt ELF file (bad class 3)');
    expect(refusal(elf64({ data: 0 }))).toBe('corrupt ELF file (bad data encoding 0)');
    expect(refusal(elf64({ identVersion: 0 }))).toBe('corrupt ELF file (bad version 0)');
  });

  it('another machine, naming it', () => {
    expect(refusal(elf64({ machine: EM_RISCV }))).toBe('ELF for RISC-V is not supported (elfrun runs x86_64 and aarch64)');
    expect(refusal(elf64({ machine: 3 }))).toMatch(/^ELF for i386 is not supported/);
    expect(refusal(elf64({ machine: 40 }))).toMatch(/^ELF for ARM is not supported/);
    expect(refusal(elf64({ machine: 21 }))).toMatch(/^ELF for PowerPC64 is not supported/);
    expect(refusal(elf64({ machine: 0xbeef }))).toMatch(/^ELF for machine 48879 is not supported/);
    expect(machineName(243)).toBe('RISC-V');
  });

  it('a machine elfrun supports but the caller did not enable', () => {
    expect(() => parseElf(elf64({ machine: EM_AARCH64 }), { [EM_X86_64]: 'x86_64' })).toThrow(
      'ELF for AArch64 is not supported (elfrun runs x86_64)',
    );
  });

  it('ET_REL, ET_CORE, ET_NONE and unknown types', () => {
    expect(refusal(elf64({ type: ET_REL }))).toBe('not an executable (relocatable object file)');
    expect(refusal(elf64({ type: ET_CORE }))).toBe('not an executable (core dump)');
    expect(refusal(elf64({ type: 0 }))).toBe('not an executable (ELF type 0)');
    expect(refusal(elf64({ type: 0xfe00 }))).toBe('not an executable (ELF type 65024)');
  });

  it('e_phentsize other than 56', () => {
    expect(refusal(elf64({ phentsize: 32 }))).toBe('corrupt ELF file (program header size 32, expected 56)');
    expect(refusal(elf64({ phentsize: 0 }))).toBe('corrupt ELF file (program header size 0, expected 56)');
    expect(refusal(elf64({ phentsize: 64 }))).toBe('corrupt ELF file (program header size 64, expected 56)');
  });

  it('no program headers, or absurdly many', () => {
    expect(refusal(elf64({ phnum: 0 }))).toBe('corrupt ELF file (no program headers)');
    expect(refusal(elf64({ phnum: 0xffff }))).toBe('corrupt ELF file (65535 program headers)');
    expect(refusal(elf64({ phnum: 1171 }))).toBe('corrupt ELF file (1171 program headers)');
    // 1170 is Linux's limit (64 KiB of headers): accepted as a count, then found past the end
    expect(refusal(elf64({ phnum: 1170 }))).toBe('truncated ELF file (program headers past end of file)');
  });

  it('program headers past the end of the file', () => {
    const f = elf64();
    expect(refusal(overwritten(f, EH.phoff, le64(f.length)))).toBe('truncated ELF file (program headers past end of file)');
    expect(refusal(overwritten(f, EH.phoff, le64(f.length - 55)))).toBe('truncated ELF file (program headers past end of file)');
    expect(refusal(elf64({ phoff: 0x100000000 }))).toBe('truncated ELF file (program headers past end of file)');
    expect(refusal(elf64({ phoff: 2n ** 64n - 1n }))).toBe('truncated ELF file (program headers past end of file)');
    expect(refusal(elf64({ phnum: 2 }))).toBe('truncated ELF file (program headers past end of file)');
    expect(refusal(truncated(elf64(), 64 + 55))).toBe('truncated ELF file (program headers past end of file)');
  });

  it('segment data past the end of the file', () => {
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { filesz: l.fileSize + 1, memsz: l.fileSize + 1 })] }))).toBe(
      'truncated ELF file (segment data past end of file)',
    );
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { offset: 0x1000, vaddr: 0x401000 })] }))).toBe(
      'truncated ELF file (segment data past end of file)',
    );
    const f = elf64({ tail: 0x100 });
    expect(refusal(truncated(f, f.length - 1))).toBe('truncated ELF file (segment data past end of file)');
  });

  it('a segment whose file size exceeds its memory size', () => {
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { memsz: l.fileSize - 1 })] }))).toBe(
      'corrupt ELF file (segment file size larger than memory size)',
    );
  });

  it('offset and address not congruent modulo 4096', () => {
    const msg = 'corrupt ELF file (segment offset and address not congruent modulo the page size)';
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { vaddr: 0x400010 })] }))).toBe(msg);
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { vaddr: 0x400800 })] }))).toBe(msg);
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { offset: 0x10, filesz: 0x10, memsz: 0x10 })] }))).toBe(msg);
  });

  it('overlapping or out-of-order PT_LOADs', () => {
    const msg = 'corrupt ELF file (loadable segments overlap or are out of order)';
    expect(refusal(elf64({ phdrs: twoLoads({}, { vaddr: 0x400000 }) }))).toBe(msg); // same start
    expect(refusal(elf64({ phdrs: twoLoads({ memsz: 0x300000 }, {}) }))).toBe(msg); // first runs into second
    expect(refusal(elf64({ phdrs: twoLoads({ vaddr: 0x700000 }, {}) }))).toBe(msg); // descending
    // touching (end == next start) is fine
    expect(() => parseElf(elf64({ phdrs: twoLoads({ memsz: 0x200000 }, {}) }), SUPPORTED)).not.toThrow();
  });

  it('no loadable segment at all', () => {
    expect(refusal(elf64({ phdrs: [{ type: PT_NOTE, filesz: 4 }] }))).toBe('corrupt ELF file (no loadable segment)');
  });

  it('64-bit fields above 2^53', () => {
    const big = 2n ** 53n + 1n;
    const range = 'corrupt ELF file (segment address or size out of range)';
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { vaddr: big })] }))).toBe(range);
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { vaddr: 2n ** 64n - 4096n })] }))).toBe(range);
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { memsz: big })] }))).toBe(range);
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { filesz: big, memsz: big })] }))).toBe(range);
    expect(refusal(elf64({ phdrs: (l) => [wholeFileLoad(l, { offset: big })] }))).toBe(range);
    expect(refusal(elf64({ entry: big }))).toBe('corrupt ELF file (entry point out of range)');
    expect(refusal(elf64({ entry: 2n ** 64n - 1n }))).toBe('corrupt ELF file (entry point out of range)');
  });

  it('a bad PT_INTERP', () => {
    const bad = 'corrupt ELF file (bad PT_INTERP)';
    const withInterp = (over: PhdrSpec) => elf64({ phdrs: (l) => [wholeFileLoad(l), { type: PT_INTERP, offset: 0x40, filesz: 8, ...over }] });
    expect(refusal(withInterp({ offset: 0x100000 }))).toBe(bad); // past EOF
    expect(refusal(withInterp({ filesz: 1 }))).toBe(bad); // too short
    expect(refusal(withInterp({ filesz: 8192 }))).toBe(bad); // too long
    expect(refusal(withInterp({ offset: 2n ** 64n - 1n }))).toBe(bad);
    // Linux: the string must end in NUL at p_filesz - 1 (ENOEXEC otherwise)
    expect(refusal(elf64({ interp: '/lib/ld.so', phdrs: (l) => [wholeFileLoad(l)] }).fill(0x41, 64 + 2 * 56, 64 + 2 * 56 + 11))).toBe(bad);
    // control characters: not a path, and would break the one-line message
    expect(refusal(elf64({ interp: '/lib/ld\n.so' }))).toBe(bad);
  });
});

describe('dynamically linked programs', () => {
  it('a synthetic PT_INTERP is reported in interp', () => {
    const e = parseElf(elf64({ interp: '/lib/ld-musl-x86_64.so.1' }), SUPPORTED);
    expect(e.interp).toBe('/lib/ld-musl-x86_64.so.1');
  });

  it.runIf(existsSync('/bin/ls') && process.arch === 'x64')('the host /bin/ls names its interpreter', () => {
    const e = parseElf(readFileSync('/bin/ls'), SUPPORTED);
    expect(e.machine).toBe(EM_X86_64);
    expect(e.interp).toMatch(/^\/lib(64)?\/ld-linux-x86-64\.so\.2$/);
  });
});

describe('damaged busybox', () => {
  const f = busybox('x86_64');

  it('cut in the header, the program headers and each segment', () => {
    expect(refusal(truncated(f, 0))).toBe('not an ELF file');
    expect(refusal(truncated(f, 10))).toMatch(/^truncated/);
    expect(refusal(truncated(f, 40))).toMatch(/^truncated/);
    expect(refusal(truncated(f, 64 + 56 * 5))).toBe('truncated ELF file (program headers past end of file)');
    for (const cut of [0x800, 0x1000, 0x100000, 0x185001, 0x1da708, 0x1e3000])
      expect(refusal(truncated(f, cut))).toBe('truncated ELF file (segment data past end of file)');
    // cut after the last segment's data (in the section headers): still loadable
    expect(parseElf(truncated(f, 0x1e3710), SUPPORTED).phnum).toBe(10);
  });

  it('overwritten header fields', () => {
    expect(refusal(overwritten(f, EH.machine, le16(EM_RISCV)))).toMatch(/^ELF for RISC-V/);
    expect(refusal(overwritten(f, EH.phnum, le16(0)))).toBe('corrupt ELF file (no program headers)');
    expect(refusal(overwritten(f, phField(f, 3, 'memsz'), le64(0x10)))).toBe('corrupt ELF file (segment file size larger than memory size)');
    expect(refusal(overwritten(f, phField(f, 2, 'vaddr'), le64(0x401000)))).toMatch(/overlap|congruent/);
    expect(refusal(mutate(f, { writes: [{ offset: phField(f, 1, 'vaddr'), bytes: le64(0x401001) }] }))).toMatch(/congruent/);
  });
});
