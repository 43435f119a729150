// Map a static ELF image into an address space and build the initial stack
// exactly as Linux's fs/binfmt_elf.c does (create_elf_tables).
import type { Arch } from '../cpu/arch.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import type { AddressSpace } from '../mm/address-space.js';
import { Chunk } from '../mm/chunk.js';
import { PAGE, pageDown, pageUp } from '../mm/layout.js';
import { Vma, anon } from '../mm/vma.js';
import { hostRandom } from '../host/libc.js';
import { SysError } from '../abi/errors.js';
import { ET_DYN, ExecFormatError, PF_R, PF_W, PF_X, PT_GNU_STACK, PT_LOAD, PT_PHDR, type ElfImage } from './elf.js';

export const AT = {
  NULL: 0,
  PHDR: 3,
  PHENT: 4,
  PHNUM: 5,
  PAGESZ: 6,
  BASE: 7,
  FLAGS: 8,
  ENTRY: 9,
  UID: 11,
  EUID: 12,
  GID: 13,
  EGID: 14,
  PLATFORM: 15,
  HWCAP: 16,
  CLKTCK: 17,
  SECURE: 23,
  RANDOM: 25,
  HWCAP2: 26,
  EXECFN: 31,
  SYSINFO_EHDR: 33,
  MINSIGSTKSZ: 51,
} as const;

/** RLIMIT_STACK's default: the stack VMA is mapped at its full size. */
export const STACK_SIZE = 8 << 20;
/** Linux refuses mappings below vm.mmap_min_addr (64 KiB by default). */
const MMAP_MIN_ADDR = 0x10000;
/** Largest image we map in one piece (a JS view of host memory is capped near 4 GiB). */
const MAX_IMAGE = 0xfff00000;

export interface StartInfo {
  entry: number;
  sp: number;
  brk: number;
  auxv: Array<[number, number]>;
  /** where argv/envp strings live, for /proc/PID/cmdline and environ */
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
}

export interface ExecArgs {
  argv: Buffer[];
  envp: Buffer[];
  /** the path given to execve (AT_EXECFN) */
  execfn: Buffer;
  /** name shown in /proc/self/maps for the image */
  mapName: string;
  dev: number;
  ino: number;
  uid: number;
  gid: number;
  /** identity of the file's contents (dev, inode, size, mtime), to share its read-only pages; null: never shared */
  fileKey?: string | null;
}

const protOf = (flags: number): number =>
  (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) | (flags & PF_X ? PROT_EXEC : 0);

/**
 * An executable's bytes as mapImage reads them: each segment straight into
 * the memory it is mapped at (a file read on demand), or from a Buffer.
 */
export interface ImageSource {
  /** Fill dst with the file's bytes from `offset` on (zeros past its end). */
  read(dst: Uint8Array, offset: number): void;
  /** a host fd of the file, if it has one: read-only segments then map its pages instead of copies */
  readonly hostFd?: number;
}

const bufferSource = (file: Uint8Array): ImageSource => ({
  read(dst, offset) {
    const part = file.subarray(offset, offset + dst.length);
    dst.set(part);
    if (part.length < dst.length) dst.fill(0, part.length);
  },
});

/** The address span [lo, hi) of an image's PT_LOAD segments, before relocation. */
export function imageSpan(elf: ElfImage): { lo: number; hi: number } {
  const loads = elf.phdrs.filter((p) => p.type === PT_LOAD);
  return { lo: pageDown(loads[0].vaddr), hi: pageUp(Math.max(...loads.map((p) => p.vaddr + p.memsz))) };
}

/**
 * Map PT_LOAD segments. Returns the load bias. An ET_DYN program goes to
 * ELF_ET_DYN_BASE; an interpreter (`interpAt`: its load address) goes where
 * the caller found room. Only the program sets the brk.
 */
export function mapImage(space: AddressSpace, elf: ElfImage, image: ImageSource | Uint8Array, a: ExecArgs, interpAt?: number): number {
  const file = image instanceof Uint8Array ? bufferSource(image) : image;
  const loads = elf.phdrs.filter((p) => p.type === PT_LOAD);
  const { lo, hi } = imageSpan(elf);
  const bias = interpAt !== undefined ? interpAt - lo : elf.type === ET_DYN ? space.layout.etDynBase - lo : 0;
  const start = lo + bias;
  const span = hi - lo;
  if (span > MAX_IMAGE) throw new ExecFormatError(`ELF image too large (${span} bytes of address space)`);
  if (start < MMAP_MIN_ADDR) throw new ExecFormatError('ELF segment below the minimum mapping address (vm.mmap_min_addr)');
  if (start + span > space.layout.stackTop - STACK_SIZE) throw new ExecFormatError('ELF segment outside the user address space');
  // binfmt_elf.c: BAD_ADDR(e_entry) fails the exec with EINVAL.
  if (elf.entry + bias >= space.layout.taskSize) throw new ExecFormatError('entry point outside the user address space');
  if (elf.type !== ET_DYN && !(elf.entry >= start && elf.entry < start + span)) {
    // Linux maps it anyway and the program dies with SIGSEGV at its first instruction; we do the same.
  }

  // One VMA per segment (file-backed pages, then anonymous bss pages); a page
  // shared by two segments goes with the earlier one, holding both segments' bytes.
  const chunk = Chunk.alloc(space.memory, span);
  let prevEnd = start;
  const vmas: Vma[] = [];
  /** the segment whose file bytes each file-backed VMA holds */
  const segOf = new Map<Vma, (typeof loads)[number]>();
  for (const p of loads) {
    const segStart = Math.max(pageDown(p.vaddr + bias), prevEnd);
    const fileEnd = Math.max(segStart, pageUp(p.vaddr + bias + p.filesz));
    const memEnd = pageUp(p.vaddr + bias + p.memsz);
    if (segStart > prevEnd) chunk.free(prevEnd - start, segStart - prevEnd); // gap
    const prot = protOf(p.flags);
    const fileInfo = { name: a.mapName, shared: false, offset: pageDown(p.offset) + (segStart - pageDown(p.vaddr + bias)), dev: a.dev, ino: a.ino };
    if (fileEnd > segStart) {
      const v = new Vma(segStart, Math.min(fileEnd, memEnd), prot, chunk, segStart - start, fileInfo);
      vmas.push(v);
      segOf.set(v, p);
    }
    if (memEnd > fileEnd) vmas.push(new Vma(fileEnd, memEnd, prot, chunk, fileEnd - start, anon()));
    prevEnd = Math.max(prevEnd, memEnd);
  }
  /** Copy the file bytes that belong in [off, off+len) of the image. */
  const fill = (dst: Uint8Array, off: number, len: number): void => {
    for (const p of loads) {
      const s0 = Math.max(off, p.vaddr - lo);
      const e0 = Math.min(off + len, p.vaddr - lo + p.filesz);
      if (e0 > s0) file.read(dst.subarray(s0 - off, e0 - off), p.offset + (s0 - (p.vaddr - lo)));
    }
  };
  // Read-only segments come from the file cache when the same file was mapped
  // before: every process running it then maps the same host memory, so the
  // engine keeps its translated code across fork and exec.
  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i];
    if (!a.fileKey || v.prot & PROT_WRITE || v.info.name === '') {
      fill(chunk.range(v.off, v.size), v.off, v.size);
      continue;
    }
    const key = `${a.fileKey}:${v.info.offset}:${v.size}:${v.prot}:${(v.start - bias) % PAGE}`;
    const images = space.memory.images;
    let cached = images.get(key);
    if (cached === undefined) {
      const fd = file.hostFd ?? -1;
      if (fd >= 0 && pagesAreFile(loads, segOf.get(v)!, v.start - bias, v.end - bias)) {
        // the file's own pages, as Linux maps them: no copy, shared with the
        // page cache (a file system that cannot map them shared: a copy)
        try {
          cached = Chunk.mapShared(space.memory, fd, v.info.offset, v.size, false);
        } catch (e) {
          if (!(e instanceof SysError)) throw e;
        }
      }
      if (cached === undefined) {
        cached = Chunk.alloc(space.memory, v.size);
        fill(cached.range(0, v.size), v.off, v.size);
      }
      cached.users = new Set();
      cached.onFree = () => images.delete(key);
      images.set(key, cached);
    }
    cached.users!.add(space);
    chunk.free(v.off, v.size);
    vmas[i] = new Vma(v.start, v.end, v.prot, cached, 0, v.info);
  }
  for (const v of vmas) space.insert(v);
  if (interpAt === undefined) space.setBrkStart(prevEnd);
  return bias;
}

/**
 * Do the pages [lo, hi) of the image (unrelocated addresses) hold the file's
 * bytes at p's offsets, as mapping them from the file would show them? Yes
 * unless a segment there has another address-to-offset distance, or zeroes
 * (bss) there. Bytes of no segment show the file's, as on Linux, which maps
 * whole pages.
 */
function pagesAreFile(loads: ElfImage['phdrs'], p: ElfImage['phdrs'][number], lo: number, hi: number): boolean {
  if ((p.vaddr - p.offset) % PAGE !== 0) return false;
  for (const q of loads) {
    const end = q.vaddr + q.memsz;
    if (end <= lo || q.vaddr >= hi) continue;
    if (q.vaddr - q.offset !== p.vaddr - p.offset) return false;
    if (q.memsz > q.filesz && q.vaddr + q.filesz < hi) return false;
  }
  return true;
}

/** Build the initial stack; returns the initial sp and the auxv. */
export function setupStack(space: AddressSpace, arch: Arch, elf: ElfImage, bias: number, a: ExecArgs, interp?: { elf: ElfImage; bias: number }): StartInfo {
  const top = space.layout.stackTop;
  const gnuStack = elf.phdrs.find((p) => p.type === PT_GNU_STACK);
  const stackProt = PROT_READ | PROT_WRITE | (gnuStack && gnuStack.flags & PF_X ? PROT_EXEC : 0);
  // The stack starts small (Linux: 128 KiB plus the arguments) and grows down
  // on faults up to RLIMIT_STACK, inside one reservation of STACK_SIZE.
  const argBytes = [...a.argv, ...a.envp, a.execfn].reduce((n, b) => n + b.length + 1 + 8, 0);
  const initial = Math.min(STACK_SIZE, pageUp(argBytes + 4096) + 0x20000);
  const stackChunk = Chunk.alloc(space.memory, STACK_SIZE);
  stackChunk.dataFrom = STACK_SIZE - initial;
  space.stack = space.insert(new Vma(top - initial, top, stackProt, stackChunk, STACK_SIZE - initial, anon('[stack]')));

  const nul = Buffer.alloc(1);
  // bprm->p starts one pointer below the top; strings are copied downwards:
  // execfn first, then envp and argv (last string highest).
  let p = top - 8;
  const put = (b: Buffer): number => {
    p -= b.length + 1;
    space.poke(p, Buffer.concat([b, nul]));
    return p;
  };
  const execfn = put(a.execfn);
  const envEnd = p;
  const envPtrs = a.envp.map(() => 0);
  for (let i = a.envp.length - 1; i >= 0; i--) envPtrs[i] = put(a.envp[i]);
  const argEnd = p;
  const argPtrs = a.argv.map(() => 0);
  for (let i = a.argv.length - 1; i >= 0; i--) argPtrs[i] = put(a.argv[i]);
  const argStart = p;

  p -= p % 16; // arch_align_stack without randomization
  const platform = put(Buffer.from(arch.platform));
  p -= 16;
  const random = p;
  const rnd = new Uint8Array(16);
  hostRandom(rnd);
  space.poke(random, rnd);

  const loads = elf.phdrs.filter((ph) => ph.type === PT_LOAD);
  const phdrSeg = elf.phdrs.find((ph) => ph.type === PT_PHDR);
  const covering = loads.find((ph) => elf.phoff >= ph.offset && elf.phoff + elf.phnum * 56 <= ph.offset + ph.filesz);
  const phdrAddr = phdrSeg ? phdrSeg.vaddr + bias : covering ? covering.vaddr + (elf.phoff - covering.offset) + bias : 0;

  const auxv: Array<[number, number]> = [];
  if (arch.minSigStkSz) auxv.push([AT.MINSIGSTKSZ, arch.minSigStkSz]);
  auxv.push(
    [AT.HWCAP, arch.hwcap()],
    [AT.PAGESZ, PAGE],
    [AT.CLKTCK, 100],
    [AT.PHDR, phdrAddr],
    [AT.PHENT, 56],
    [AT.PHNUM, elf.phnum],
    [AT.BASE, interp ? pageDown(interp.elf.phdrs.find((ph) => ph.type === PT_LOAD)!.vaddr) + interp.bias : 0],
    [AT.FLAGS, 0],
    [AT.ENTRY, elf.entry + bias],
    [AT.UID, a.uid],
    [AT.EUID, a.uid],
    [AT.GID, a.gid],
    [AT.EGID, a.gid],
    [AT.SECURE, 0],
    [AT.RANDOM, random],
    [AT.HWCAP2, arch.hwcap2],
    [AT.EXECFN, execfn],
    [AT.PLATFORM, platform],
    [AT.NULL, 0],
  );

  const words: number[] = [a.argv.length, ...argPtrs, 0, ...envPtrs, 0];
  for (const [k, v] of auxv) words.push(k, v);
  p -= words.length * 8;
  p -= p % 16; // STACK_ROUND
  const table = Buffer.alloc(words.length * 8);
  words.forEach((w, i) => table.writeBigUInt64LE(BigInt(w), i * 8));
  space.poke(p, table);
  return {
    // with an interpreter, it runs first and jumps to AT_ENTRY itself
    entry: interp ? interp.elf.entry + interp.bias : elf.entry + bias,
    sp: p,
    brk: space.brkCur,
    auxv,
    argStart,
    argEnd,
    envStart: argEnd,
    envEnd,
  };
}
