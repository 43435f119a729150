// mapImage and setupStack on an AddressSpace with a do-nothing engine: the
// busybox image is laid out as Linux lays it out (compared with the host's own
// /proc/self/maps of a native run), bad images are refused with one line, and
// the initial stack holds argc/argv/envp/auxv as binfmt_elf.c builds them.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { PROT_READ } from '../../src/abi/mman.js';
import { AddressSpace } from '../../src/mm/address-space.js';
import type { MemBackend } from '../../src/mm/backend.js';
import { HostMemory } from '../../src/mm/host-memory.js';
import { PAGE } from '../../src/mm/layout.js';
import { ExecFormatError, parseElf } from '../../src/loader/elf.js';
import { AT, STACK_SIZE, mapImage, setupStack, type ExecArgs } from '../../src/loader/load.js';
import { x86_64 } from '../../src/cpu/x86_64.js';
import { arm64 } from '../../src/cpu/arm64.js';
import type { Arch } from '../../src/cpu/arch.js';
import { ROOT } from '../helpers/oracle.js';
import { EM_AARCH64, ET_DYN, PF_R, PF_W, PF_X, PT_LOAD, SUPPORTED, elf64, wholeFileLoad } from '../helpers/elfgen.js';

const nullEngine: MemBackend = { map() {}, unmap() {}, protect() {} };
const memory = new HostMemory();
const spaces: AddressSpace[] = [];
afterEach(() => {
  while (spaces.length) spaces.pop()!.destroy();
});

function space(arch: Arch): AddressSpace {
  const s = new AddressSpace(nullEngine, arch.layout, memory);
  spaces.push(s);
  return s;
}

const bbPath = (arch: string): string => realpathSync(`${ROOT}/fixtures/${arch}/busybox`);

function execArgs(path: string): ExecArgs {
  const st = statSync(path);
  return {
    argv: [Buffer.from('busybox'), Buffer.from('echo'), Buffer.from('hi')],
    envp: [Buffer.from('A=1'), Buffer.from('PATH=/bin')],
    execfn: Buffer.from(path),
    mapName: path,
    dev: st.dev,
    ino: st.ino,
    uid: 1000,
    gid: 100,
  };
}

function load(arch: Arch, file: Buffer, path = '/x') {
  const s = space(arch);
  const elf = parseElf(file, SUPPORTED);
  const a = { ...execArgs(bbPath('x86_64')), mapName: path };
  const bias = mapImage(s, elf, file, a);
  return { s, elf, bias, a };
}

function refusal(arch: Arch, file: Buffer): string {
  try {
    load(arch, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ExecFormatError);
    expect((e as Error).message).not.toMatch(/\n/);
    return (e as Error).message;
  }
  throw new Error('mapImage accepted the image');
}

describe('mapImage', () => {
  it.runIf(process.arch === 'x64')('lays out x86_64 busybox as Linux does (native /proc/self/maps)', () => {
    const path = bbPath('x86_64');
    const file = readFileSync(path);
    const s = space(x86_64);
    const elf = parseElf(file, SUPPORTED);
    expect(mapImage(s, elf, file, execArgs(path))).toBe(0);
    // what glibc's static start-up does natively before `cat` runs: mprotect(PT_GNU_RELRO)
    const relro = elf.phdrs.find((p) => p.type === 0x6474e552)!;
    s.protect(relro.vaddr - (relro.vaddr % PAGE), Math.floor((relro.vaddr + relro.memsz) / PAGE) * PAGE, PROT_READ);
    const native = spawnSync(path, ['cat', '/proc/self/maps'], { encoding: 'latin1' });
    expect(native.status).toBe(0);
    const lines = native.stdout.split('\n');
    const image = lines.slice(0, lines.findIndex((l) => !/ 00:00 0 $/.test(l) && !l.endsWith(path)));
    expect(image.length).toBe(6);
    expect(s.maps()).toEqual(image);
    expect(s.brkStart).toBe(0x5ec000);
    // file bytes in place, bss zeroed (also the tail of the last file page)
    const data = elf.phdrs.filter((p) => p.type === PT_LOAD)[3];
    expect(s.read(data.vaddr, 64).equals(file.subarray(data.offset, data.offset + 64))).toBe(true);
    expect(s.read(data.vaddr + data.filesz, data.memsz - data.filesz).every((b) => b === 0)).toBe(true);
    expect(s.read(0x401000, 16).equals(file.subarray(0x1000, 0x1010))).toBe(true);
  });

  it('lays out arm64 busybox: one VMA per segment part, bss after the file pages', () => {
    const { s } = load(arm64, readFileSync(bbPath('arm64')));
    expect(s.vmas.map((v) => [v.start.toString(16), v.end.toString(16), v.prot, v.info.name !== ''])).toEqual([
      ['400000', '5b3000', 5, true],
      ['5c9000', '5d3000', 3, true],
      ['5d3000', '5da000', 3, false],
    ]);
    expect(s.brkStart).toBe(0x5da000);
  });

  it('places ET_DYN at the arch base', () => {
    const { s, bias } = load(x86_64, elf64({ type: ET_DYN, base: 0 }));
    expect(bias).toBe(x86_64.layout.etDynBase);
    expect(s.vmas[0].start).toBe(x86_64.layout.etDynBase);
    const a = load(arm64, elf64({ type: ET_DYN, base: 0, machine: EM_AARCH64 }));
    expect(a.bias).toBe(arm64.layout.etDynBase);
  });

  it('refuses images it cannot place, with one line', () => {
    expect(refusal(x86_64, elf64({ base: 0x1000 }))).toBe('ELF segment below the minimum mapping address (vm.mmap_min_addr)');
    expect(refusal(x86_64, elf64({ base: 0x7ffffffff000 - PAGE }))).toBe('ELF segment outside the user address space');
    expect(refusal(x86_64, elf64({ base: 2 ** 52 }))).toBe('ELF segment outside the user address space');
    expect(refusal(x86_64, elf64({ phdrs: (l) => [wholeFileLoad(l, { memsz: 0x100000000 })] }))).toMatch(/^ELF image too large/);
    expect(
      refusal(x86_64, elf64({ phdrs: (l) => [wholeFileLoad(l), { type: PT_LOAD, flags: PF_R | PF_W, vaddr: 0x7fff00000000, offset: 0, filesz: 0, memsz: 1 }] })),
    ).toMatch(/^ELF image too large/);
    expect(refusal(x86_64, elf64({ entry: 0x7ffffffff000 }))).toBe('entry point outside the user address space');
    expect(refusal(arm64, elf64({ machine: EM_AARCH64, entry: 2 ** 52 }))).toBe('entry point outside the user address space');
  });

  it('an entry point outside the image is mapped anyway (the program faults, as on Linux)', () => {
    expect(() => load(x86_64, elf64({ entry: 0x10000000 }))).not.toThrow();
  });

  it('honours the segment flags', () => {
    const { s } = load(
      x86_64,
      elf64({ phdrs: (l) => [wholeFileLoad(l, { flags: PF_R | PF_W | PF_X })] }),
    );
    expect(s.vmas[0].prot).toBe(7);
  });
});

describe('setupStack', () => {
  function start(arch: Arch, file: Buffer) {
    const path = bbPath(arch.name);
    const s = space(arch);
    const elf = parseElf(file, SUPPORTED);
    const a = execArgs(path);
    const bias = mapImage(s, elf, file, a);
    return { s, elf, a, info: setupStack(s, arch, elf, bias, a) };
  }

  it.each([
    ['x86_64', x86_64],
    ['arm64', arm64],
  ] as const)('%s: argc, argv, envp, auxv, strings, alignment', (name, arch) => {
    const { s, elf, a, info } = start(arch, readFileSync(bbPath(name)));
    const top = arch.layout.stackTop;
    expect(s.find(top - 1)!.info.name).toBe('[stack]');
    // Linux's initial stack: a small VMA below the top that grows down on faults, up to RLIMIT_STACK
    const stack = s.find(info.sp)!;
    expect(stack.end).toBe(top);
    expect(stack.start).toBeGreaterThan(top - STACK_SIZE);
    expect(s.find(top - STACK_SIZE)).toBeNull();
    expect(s.growStack(top - STACK_SIZE / 2, STACK_SIZE)).toBe(true);
    expect(s.find(top - STACK_SIZE / 2)).toBe(s.find(top - 1));
    expect(s.growStack(top - STACK_SIZE - 4096, STACK_SIZE)).toBe(false);
    expect(info.sp % 16).toBe(0);
    expect(info.entry).toBe(elf.entry);
    let p = info.sp;
    expect(s.u64(p)).toBe(3);
    const argv = [1, 2, 3].map((i) => s.cstring(s.u64(p + 8 * i)).toString());
    expect(argv).toEqual(['busybox', 'echo', 'hi']);
    expect(s.u64(p + 32)).toBe(0);
    p += 40;
    expect([s.cstring(s.u64(p)).toString(), s.cstring(s.u64(p + 8)).toString()]).toEqual(['A=1', 'PATH=/bin']);
    expect(s.u64(p + 16)).toBe(0);
    p += 24;
    const aux = new Map<number, number>();
    for (;;) {
      const k = s.u64(p);
      const v = s.u64(p + 8);
      p += 16;
      if (k === AT.NULL) break;
      aux.set(k, v);
    }
    expect(aux.get(AT.PAGESZ)).toBe(4096);
    expect(aux.get(AT.PHNUM)).toBe(elf.phnum);
    expect(aux.get(AT.PHENT)).toBe(56);
    expect(aux.get(AT.ENTRY)).toBe(elf.entry);
    expect(aux.get(AT.UID)).toBe(1000);
    expect(aux.get(AT.EGID)).toBe(100);
    // AT_PHDR: where the program headers are in memory (in the first PT_LOAD)
    const phdr = aux.get(AT.PHDR)!;
    expect(s.read(phdr, 56).equals(readFileSync(bbPath(name)).subarray(64, 120))).toBe(true);
    expect(s.cstring(aux.get(AT.EXECFN)!).toString()).toBe(a.execfn.toString());
    expect(s.cstring(aux.get(AT.PLATFORM)!).toString()).toBe(arch.platform);
    expect(s.read(aux.get(AT.RANDOM)!, 16).length).toBe(16);
    expect(aux.has(AT.MINSIGSTKSZ)).toBe(arch.minSigStkSz !== 0);
    // the strings: argv then envp then execfn, just below the top
    expect(s.read(info.argStart, info.argEnd - info.argStart).toString('latin1')).toBe('busybox\0echo\0hi\0');
    expect(s.read(info.envStart, info.envEnd - info.envStart).toString('latin1')).toBe('A=1\0PATH=/bin\0');
    expect(s.cstring(info.envEnd).toString()).toBe(a.execfn.toString());
    expect(info.brk).toBe(s.brkStart);
  });
});
