// What /proc/<pid>/statm, smaps and smaps_rollup say of a process's memory,
// from its VMAs and the host memory behind them: a page is resident when the
// host says its page behind it was touched (mincore), shared when the chunk
// holding it is mapped by several address spaces (fork shares read-only
// chunks), anonymous when no file is behind the VMA.
import type { Process } from '../proc/process.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { touchedPages } from '../host/libc.js';
import { mapsLines } from '../mm/procfs.js';
import { isAnon, type Vma } from '../mm/vma.js';

const PAGE = 4096;

/** One VMA's pages: resident, and how many address spaces share them (1: private). */
export interface VmaPages {
  resident: number;
  sharers: number;
  anon: boolean;
}

/** The resident pages of a VMA (all of them when the host cannot tell, as with swap on). */
export function residentPages(v: Vma): VmaPages {
  const pages = Math.ceil(v.size / PAGE);
  const vec = touchedPages(v.hostAddr(v.start), v.size);
  let resident = pages;
  if (vec !== null) {
    resident = 0;
    for (let i = 0; i < pages; i++) resident += vec[i] & 1;
  }
  return { resident, sharers: Math.max(1, v.chunk.users?.size ?? 1), anon: isAnon(v.info) && !v.info.shared };
}

/** The resident pages of a process (stat's rss). */
export function rssOf(p: Process): number {
  return p.mm.space.vmas.reduce((n, v) => n + residentPages(v).resident, 0);
}

/** status's memory lines, in pages: resident (anonymous, file, shared anonymous) and the sizes by kind of mapping. */
export interface MemSummary {
  rss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  /** data_vm: private writable mappings but the stack */
  data: number;
  /** stack_vm */
  stk: number;
  /** the program's code */
  exe: number;
  /** exec_vm less the program's code */
  lib: number;
}

export function memSummary(p: Process): MemSummary {
  const m: MemSummary = { rss: 0, rssAnon: 0, rssFile: 0, rssShmem: 0, data: 0, stk: 0, exe: 0, lib: 0 };
  for (const v of p.mm.space.vmas) {
    const n = Math.ceil(v.size / PAGE);
    const r = residentPages(v);
    m.rss += r.resident;
    if (r.anon) m.rssAnon += r.resident;
    else if (v.info.shared && isAnon(v.info)) m.rssShmem += r.resident;
    else m.rssFile += r.resident;
    const stack = v.info.name === '[stack]';
    if (stack) m.stk += n;
    else if (v.prot & PROT_WRITE && !v.info.shared) m.data += n;
    if (v.prot & PROT_EXEC && !(v.prot & PROT_WRITE) && !stack) {
      if (v.info.name === p.exePath) m.exe += n;
      else m.lib += n;
    }
  }
  return m;
}

/** /proc/<pid>/statm: size resident shared text lib data dt, in pages (lib and dt are always 0 since 2.6). */
export function statmText(p: Process): string {
  let size = 0;
  let resident = 0;
  let shared = 0;
  let text = 0;
  let data = 0;
  for (const v of p.mm.space.vmas) {
    const n = Math.ceil(v.size / PAGE);
    const r = residentPages(v);
    size += n;
    resident += r.resident;
    if (!r.anon) shared += r.resident;
    // the program's own code (end_code - start_code)
    if (v.prot & PROT_EXEC && v.info.name === p.exePath) text += n;
    // data_vm + stack_vm: private writable mappings
    if (v.prot & PROT_WRITE && !v.info.shared) data += n;
  }
  return `${size} ${resident} ${shared} ${text} 0 ${data} 0\n`;
}

/** the kB lines of one VMA or of the rollup, in smaps's order */
interface Sums {
  rss: number;
  pss: number;
  pssDirty: number;
  pssAnon: number;
  pssFile: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  anonymous: number;
  /** the Pss of mlocked mappings */
  locked: number;
}

const zero = (): Sums => ({ rss: 0, pss: 0, pssDirty: 0, pssAnon: 0, pssFile: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, anonymous: 0, locked: 0 });

/** A VMA's sums in kB: anonymous private pages count as dirty, file pages as clean (the loader copied them unchanged). */
function sums(v: Vma): Sums {
  const r = residentPages(v);
  const kb = r.resident * 4;
  const s = zero();
  s.rss = kb;
  s.pss = Math.floor(kb / r.sharers);
  const dirty = r.anon || v.info.shared;
  if (dirty) s.pssDirty = s.pss;
  if (r.anon) {
    s.pssAnon = s.pss;
    s.anonymous = kb;
  } else s.pssFile = s.pss;
  if (r.sharers > 1) dirty ? (s.sharedDirty = kb) : (s.sharedClean = kb);
  else dirty ? (s.privateDirty = kb) : (s.privateClean = kb);
  if ((v.info.locked ?? 0) & 1) s.locked = s.pss;
  return s;
}

const line = (name: string, kb: number): string => `${(name + ':').padEnd(16)}${String(kb).padStart(8)} kB\n`;

/** The lines every smaps entry and the rollup share, from Rss to Locked. */
function body(s: Sums, rollup: boolean): string {
  return (
    line('Rss', s.rss) +
    line('Pss', s.pss) +
    line('Pss_Dirty', s.pssDirty) +
    (rollup ? line('Pss_Anon', s.pssAnon) + line('Pss_File', s.pssFile) + line('Pss_Shmem', 0) : '') +
    line('Shared_Clean', s.sharedClean) +
    line('Shared_Dirty', s.sharedDirty) +
    line('Private_Clean', s.privateClean) +
    line('Private_Dirty', s.privateDirty) +
    line('Referenced', s.rss) +
    line('Anonymous', s.anonymous) +
    line('KSM', 0) +
    line('LazyFree', 0) +
    line('AnonHugePages', 0) +
    line('ShmemPmdMapped', 0) +
    line('FilePmdMapped', 0) +
    line('Shared_Hugetlb', 0) +
    line('Private_Hugetlb', 0) +
    line('Swap', 0) +
    line('SwapPss', 0) +
    line('Locked', s.locked)
  );
}

/** smaps's VmFlags: access, may-access, sharing, stack, locked, accounted, sealed */
function vmFlags(v: Vma): string {
  const f: string[] = [];
  if (v.prot & PROT_READ) f.push('rd');
  if (v.prot & PROT_WRITE) f.push('wr');
  if (v.prot & PROT_EXEC) f.push('ex');
  if (v.info.shared) f.push('sh');
  f.push('mr', 'mw', 'me');
  if (v.info.shared) f.push('ms');
  if (v.info.name === '[stack]') f.push('gd');
  if ((v.info.locked ?? 0) & 1) f.push('lo');
  if (!v.info.shared && v.prot & PROT_WRITE) f.push('ac');
  if (v.info.sealed) f.push('sl');
  return f.map((x) => x + ' ').join('');
}

/** /proc/<pid>/smaps: each maps line with its sizes and flags. */
export function smapsText(p: Process): string {
  const vmas = p.mm.space.vmas;
  const heads = mapsLines(vmas);
  return vmas
    .map((v, i) => `${heads[i]}\n${line('Size', v.size / 1024)}${line('KernelPageSize', 4)}${line('MMUPageSize', 4)}${body(sums(v), false)}${'THPeligible:'.padEnd(16)}${'0'.padStart(8)}\nVmFlags: ${vmFlags(v)}\n`)
    .join('');
}

/** /proc/<pid>/smaps_rollup: the sums over every VMA, under one line spanning them. */
export function smapsRollupText(p: Process): string {
  const vmas = p.mm.space.vmas;
  if (vmas.length === 0) return '';
  const total = zero();
  for (const v of vmas) {
    const s = sums(v);
    for (const k of Object.keys(total) as Array<keyof Sums>) total[k] += s[k];
  }
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const head = `${hex(vmas[0].start)}-${hex(vmas[vmas.length - 1].end)} ---p 00000000 00:00 0 `.padEnd(72) + ' [rollup]';
  return `${head}\n${body(total, true)}`;
}

/** The VMA holding addr, if any (the VMAs are sorted). */
function vmaAt(p: Process, addr: number): Vma | undefined {
  return p.mm.space.vmas.find((v) => v.start <= addr && addr < v.end);
}

/**
 * /proc/<pid>/mem at `off` (an address): the bytes of the mappings from
 * there, whatever their protection (the kernel reads by force), up to the
 * first unmapped byte; EIO when `off` itself is unmapped.
 */
export function memAt(p: Process, off: number, len: number): Buffer {
  const out: Uint8Array[] = [];
  let addr = off;
  let left = len;
  while (left > 0) {
    const v = vmaAt(p, addr);
    if (v === undefined) break;
    const n = Math.min(left, v.end - addr);
    out.push(Buffer.from(v.chunk.range(v.off + (addr - v.start), n)));
    addr += n;
    left -= n;
  }
  if (out.length === 0 && len > 0) fail(E.EIO);
  return Buffer.concat(out);
}

/** pagemap's bits: present, file page or shared anonymous, mapped by this process alone */
const PM_PRESENT = 1n << 63n;
const PM_FILE = 1n << 61n;
const PM_MMAP_EXCLUSIVE = 1n << 56n;

/**
 * /proc/<pid>/pagemap at `off`: one 64-bit entry per page, as a reader
 * without CAP_SYS_ADMIN sees them (page frame numbers 0): present for a page
 * the host says is resident, file, exclusive. Soft-dirty (bit 55) is never
 * set: elfrun does not track writes, as a kernel without CONFIG_MEM_SOFT_DIRTY.
 * Offsets and lengths must be multiples of 8 (EINVAL).
 */
export function pagemapAt(p: Process, taskSize: number, off: number, len: number): Buffer {
  if (off % 8 !== 0 || len % 8 !== 0) fail(E.EINVAL);
  const first = off / 8;
  const pages = Math.max(0, Math.min(len / 8, taskSize / PAGE - first));
  const out = Buffer.alloc(pages * 8);
  for (const v of p.mm.space.vmas) {
    const lo = Math.max(first, v.start / PAGE);
    const hi = Math.min(first + pages, Math.ceil(v.end / PAGE));
    if (lo >= hi) continue;
    const vec = touchedPages(v.hostAddr(lo * PAGE), (hi - lo) * PAGE);
    const r = residentPages(v);
    const present = PM_PRESENT | (r.anon ? 0n : PM_FILE) | (r.sharers === 1 ? PM_MMAP_EXCLUSIVE : 0n);
    for (let i = lo; i < hi; i++) if (vec === null || vec[i - lo] & 1) out.writeBigUInt64LE(present, (i - first) * 8);
  }
  return out;
}
