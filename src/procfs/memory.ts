// What /proc/<pid>/statm, smaps and smaps_rollup say of a process's memory,
// from its VMAs and the host memory behind them: a page is resident when the
// host says its page behind it was touched (mincore), shared when the chunk
// holding it is mapped by several address spaces (fork shares read-only
// chunks), anonymous when no file is behind the VMA.
import type { Process } from '../proc/process.js';
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
}

const zero = (): Sums => ({ rss: 0, pss: 0, pssDirty: 0, pssAnon: 0, pssFile: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, anonymous: 0 });

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
    line('Locked', 0)
  );
}

/** smaps's VmFlags: access, may-access, sharing, stack, accounted */
function vmFlags(v: Vma): string {
  const f: string[] = [];
  if (v.prot & PROT_READ) f.push('rd');
  if (v.prot & PROT_WRITE) f.push('wr');
  if (v.prot & PROT_EXEC) f.push('ex');
  if (v.info.shared) f.push('sh');
  f.push('mr', 'mw', 'me');
  if (v.info.shared) f.push('ms');
  if (v.info.name === '[stack]') f.push('gd');
  if (!v.info.shared && v.prot & PROT_WRITE) f.push('ac');
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
