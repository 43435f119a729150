// Core dumps: a guest killed by a core-dumping signal (SIGQUIT, SIGILL,
// SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS) with
// RLIMIT_CORE above 0 leaves an ELF core file of itself, as Linux's
// fs/binfmt_elf.c elf_core_dump writes one: a PT_NOTE with, for the thread
// that got the signal first, NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV,
// NT_FILE and its FP registers, then NT_PRSTATUS and FP registers of each
// other thread; and a PT_LOAD per mapping, with the contents that the
// default coredump_filter (0x33) keeps: anonymous memory, private or
// shared, and the first page of a file mapping that holds an ELF header
// (its build id). The file is `core` in the process's working directory (a
// core_pattern of "core"), or the directory the Machine was given, and
// never replaces a file of another owner or one with more than one link, as
// Linux refuses; RLIMIT_CORE bounds its size.
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, writeSync } from 'node:fs';
import { residentRuns } from '../host/libc.js';
import { join } from 'node:path';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { RLIM_INFINITY, RLIMIT_CORE } from '../abi/resource.js';
import { A64 } from '../cpu/arm64.js';
import { X86 } from '../cpu/x86_64.js';
import { PAGE } from '../mm/layout.js';
import type { Vma } from '../mm/vma.js';
import { HostNode } from '../fs/hostfs.js';
import { S_IFDIR } from '../abi/stat.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';

const NT_PRSTATUS = 1;
const NT_PRFPREG = 2;
const NT_PRPSINFO = 3;
const NT_AUXV = 6;
const NT_SIGINFO = 0x53494749;
const NT_FILE = 0x46494c45;
const PT_LOAD = 1;
const PT_NOTE = 4;
const EHDR = 64;
const PHDR = 56;

/** x86_64's user_regs_struct, in order: Unicorn's register, or a constant a 64-bit Linux process has */
const X86_GREGS: Array<number | { value: bigint }> = [
  X86.R15, X86.R14, X86.R13, X86.R12, X86.RBP, X86.RBX, X86.R11, X86.R10, X86.R9, X86.R8,
  X86.RAX, X86.RCX, X86.RDX, X86.RSI, X86.RDI, { value: 0xffffffffffffffffn } /* orig_rax */, X86.RIP,
  { value: 0x33n } /* cs */, X86.EFLAGS, X86.RSP, { value: 0x2bn } /* ss */, X86.FS_BASE, X86.GS_BASE,
  { value: 0n }, { value: 0n }, { value: 0n }, { value: 0n } /* ds es fs gs */,
];
/** arm64's user_pt_regs: x0-x30, sp, pc, pstate */
const A64_GREGS: Array<number | { value: bigint }> = [...Array.from({ length: 31 }, (_, i) => A64.X(i)), A64.SP, A64.PC, A64.NZCV];

/** Would Linux dump a core for this process now: RLIMIT_CORE's soft limit (0: none). */
export function coreLimit(t: Task): number {
  const v = t.proc.rlimits[RLIMIT_CORE]?.[0] ?? 0n;
  return v >= RLIM_INFINITY ? Infinity : Number(v);
}

/**
 * Write the core file of t's process, t being the thread the signal
 * killed; `info` is that signal's siginfo (128 bytes). True if it was written
 * (the wait status then says "core dumped").
 */
export function dumpCore(k: Kernel, t: Task, sig: number, info: Buffer): boolean {
  const limit = coreLimit(t);
  // binfmt's min_coredump: less than a page gives no core at all
  if (limit < PAGE) return false;
  const p = t.proc;
  const dir = k.coreDir ?? hostCwd(t);
  if (dir === null) return false;
  const path = join(dir, 'core');
  // Linux's do_coredump: not through a symlink, not over another user's file or a hard link
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.nlink > 1 || st.uid !== process.geteuid!()) return false;
  } catch {
    /* no file yet */
  }
  const threads = [t, ...[...p.threads].filter((x) => x !== t && x.state !== 'dead')];
  const arch = t.arch.name;
  const notes: Buffer[] = [];
  for (const th of threads) {
    const regs = readRegs(th);
    notes.push(note('CORE', NT_PRSTATUS, prstatus(th, sig, regs.gregs))); // every thread's has the signal, as fill_prstatus writes it
    if (th === t) {
      notes.push(note('CORE', NT_PRPSINFO, prpsinfo(t)));
      notes.push(note('CORE', NT_SIGINFO, info.subarray(0, 128)));
      notes.push(note('CORE', NT_AUXV, auxv(t)));
      notes.push(note('CORE', NT_FILE, ntFile(t)));
    }
    notes.push(note('CORE', NT_PRFPREG, regs.fp));
  }
  const noteBytes = Buffer.concat(notes);
  const vmas = t.mm.vmas.filter((v) => v.end <= t.mm.layout.taskSize);
  const phnum = 1 + vmas.length;
  let off = EHDR + PHDR * phnum;
  const noteOff = off;
  off += noteBytes.length;
  let dataOff = Math.ceil(off / PAGE) * PAGE;
  const loads = vmas.map((v) => {
    const filesz = dumpSize(v);
    const h = { v, offset: dataOff, filesz };
    dataOff += filesz;
    return h;
  });
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
  } catch {
    return false;
  }
  try {
    if (fstatSync(fd).uid !== process.geteuid!()) return false;
    // dump_emit: RLIMIT_CORE counts the bytes written, piece by piece as
    // Linux writes them (padding and pages never touched are skipped, leaving
    // holes); the piece that would pass it ends the file there, and the core
    // still counts as dumped
    let written = 0;
    const put = (b: Uint8Array, at: number): boolean => {
      if (written + b.length > limit) return false;
      if (b.length > 0) writeSync(fd, b, 0, b.length, at);
      written += b.length;
      return true;
    };
    const head = Buffer.alloc(EHDR + PHDR * phnum);
    ehdr(head, arch === 'x86_64' ? 62 : 183, phnum);
    phdr(head, EHDR, { type: PT_NOTE, flags: 0, offset: noteOff, vaddr: 0, filesz: noteBytes.length, memsz: 0, align: 0 });
    loads.forEach((l, i) => {
      const v = l.v;
      const flags = (v.prot & PROT_READ ? 4 : 0) | (v.prot & PROT_WRITE ? 2 : 0) | (v.prot & PROT_EXEC ? 1 : 0);
      phdr(head, EHDR + PHDR * (i + 1), { type: PT_LOAD, flags, offset: l.offset, vaddr: v.start, filesz: l.filesz, memsz: v.size, align: PAGE });
    });
    const pieces: Array<[number, number]> = [[0, EHDR], ...Array.from({ length: phnum }, (_, i): [number, number] => [EHDR + PHDR * i, PHDR])];
    for (const [at, n] of pieces) if (!put(head.subarray(at, at + n), at)) return true;
    for (const [at, n] of notePieces(noteBytes)) if (!put(noteBytes.subarray(at, at + n), noteOff + at)) return true;
    for (const l of loads) {
      if (l.filesz === 0) continue;
      let ok = true;
      residentRuns(l.v.hostAddr(l.v.start), l.filesz, (off, n) => {
        for (let done = 0; ok && done < n; done += PAGE) ok = put(contents(l.v, l.v.start + off + done, Math.min(PAGE, n - done)), l.offset + off + done);
      });
      if (!ok) return true;
    }
    // a whole dump is as long as its layout, holes included (dump_truncate)
    if (fstatSync(fd).size < dataOff) ftruncateSync(fd, dataOff);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** The host directory of the process's working directory, when it is a host directory. */
function hostCwd(t: Task): string | null {
  const n = t.cwd.node;
  return n instanceof HostNode && n.type === S_IFDIR ? n.path : null;
}

/** What the default coredump_filter keeps of a mapping: all of anonymous memory; of a file mapping, a first page with an ELF header. */
function dumpSize(v: Vma): number {
  if (v.chunk.backing === null && !v.info.name.startsWith('/')) return v.prot === 0 ? 0 : v.size;
  if (v.chunk.backing === null && v.prot & PROT_WRITE) return v.size; // a private copy the process may have written
  if (v.info.offset === 0 && v.prot & PROT_READ) {
    const b = contents(v, v.start, 4);
    if (b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return PAGE;
  }
  return 0;
}

/** The bytes of [addr, addr+len) of a mapping, whatever its protection; what lies past a file's end reads as zeros. */
function contents(v: Vma, addr: number, len: number): Buffer {
  const out = Buffer.alloc(len);
  const o = v.off + (addr - v.start);
  const valid = Math.max(0, Math.min(len, v.chunk.valid - o));
  if (valid > 0) out.set(v.chunk.range(o, valid), 0);
  return out;
}

function readRegs(th: Task): { gregs: bigint[]; fp: Buffer } {
  const cpu = th.proc.mm.cpu;
  const owner = cpu.owner as Task | null;
  let swapped = false;
  if (owner !== th && th.ctx !== null) {
    if (owner !== null && owner.state !== 'dead') owner.ctx = cpu.saveContext(owner.ctx);
    cpu.restoreContext(th.ctx);
    swapped = true;
  }
  try {
    const x86 = th.arch.name === 'x86_64';
    const gregs = (x86 ? X86_GREGS : A64_GREGS).map((r) => (typeof r === 'number' ? cpu.regBig(r) : r.value));
    if (!x86) gregs[33] &= 0xf0000000n; // pstate at EL0: the flags
    return { gregs, fp: x86 ? x86Fp(th) : a64Fp(th) };
  } finally {
    if (swapped && owner !== null && owner.ctx !== null) cpu.restoreContext(owner.ctx);
  }
}

/** user_fpregs_struct (the fxsave layout, 512 bytes): control, status, MXCSR, x87 and XMM registers. */
function x86Fp(th: Task): Buffer {
  const cpu = th.proc.mm.cpu;
  const b = Buffer.alloc(512);
  b.writeUInt16LE(Number(cpu.regBig(X86.FPCW) & 0xffffn), 0);
  b.writeUInt16LE(Number(cpu.regBig(X86.FPSW) & 0xffffn), 2);
  b.writeUInt32LE(Number(cpu.regBig(X86.MXCSR) & 0xffffffffn), 24);
  b.writeUInt32LE(0xffff, 28); // mxcsr_mask
  for (let i = 0; i < 8; i++) b.set(cpu.regBytes(X86_ST0 + i, 10), 32 + 16 * i);
  for (let i = 0; i < 16; i++) b.set(cpu.regBytes(X86_XMM0 + i, 16), 160 + 16 * i);
  return b;
}
/** Unicorn's ST0 and XMM0 (the others follow) */
const X86_ST0 = 114;
const X86_XMM0 = 122;

/** user_fpsimd_state (528 bytes): v0-v31, fpsr, fpcr. */
function a64Fp(th: Task): Buffer {
  const cpu = th.proc.mm.cpu;
  const b = Buffer.alloc(528);
  for (let i = 0; i < 32; i++) b.set(cpu.regBytes(A64_Q0 + i, 16), 16 * i);
  b.writeUInt32LE(Number(cpu.regBig(A64.FPSR) & 0xffffffffn), 512);
  b.writeUInt32LE(Number(cpu.regBig(A64.FPCR) & 0xffffffffn), 516);
  return b;
}
/** Unicorn's Q0 (Q1-Q31 follow) */
const A64_Q0 = 104;

function prstatus(th: Task, sig: number, gregs: bigint[]): Buffer {
  const nreg = gregs.length;
  const size = Math.ceil((112 + 8 * nreg + 4) / 8) * 8;
  const b = Buffer.alloc(size);
  b.writeInt32LE(sig, 0); // pr_info.si_signo
  b.writeInt16LE(sig, 12); // pr_cursig
  b.writeBigUInt64LE(BigInt.asUintN(64, th.pending), 16);
  b.writeBigUInt64LE(BigInt.asUintN(64, th.sigmask), 24);
  const p = th.proc;
  b.writeInt32LE(th.tid, 32);
  b.writeInt32LE(p.parent?.pid ?? 0, 36);
  b.writeInt32LE(p.pgid, 40);
  b.writeInt32LE(p.sid, 44);
  // pr_utime and pr_stime: the process's for its leader, a thread's own for the others (fill_prstatus); pr_cutime, pr_cstime
  const leader = th.tid === p.pid;
  timeval(b, 48, leader ? p.utimeMs : th.utimeNow);
  timeval(b, 64, leader ? p.stimeMs : th.stimeNow);
  timeval(b, 80, p.childrenUtimeMs);
  timeval(b, 96, p.childrenStimeMs);
  gregs.forEach((v, i) => b.writeBigUInt64LE(BigInt.asUintN(64, v), 112 + 8 * i));
  b.writeInt32LE(1, 112 + 8 * nreg); // pr_fpvalid
  return b;
}

function timeval(b: Buffer, at: number, ms: number): void {
  b.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), at);
  b.writeBigInt64LE(BigInt(Math.floor((ms % 1000) * 1000)), at + 8);
}

function prpsinfo(t: Task): Buffer {
  const p = t.proc;
  const b = Buffer.alloc(136);
  b.write('R', 1, 'latin1'); // pr_sname
  b.writeInt8(Math.max(-128, Math.min(127, p.nice)), 3);
  b.writeUInt32LE(t.cred.ruid, 16);
  b.writeUInt32LE(t.cred.rgid, 20);
  b.writeInt32LE(p.pid, 24);
  b.writeInt32LE(p.parent?.pid ?? 0, 28);
  b.writeInt32LE(p.pgid, 32);
  b.writeInt32LE(p.sid, 36);
  b.write(p.comm.slice(0, 15), 40, 'latin1');
  const s = p.start;
  if (s !== null && s.argEnd > s.argStart) {
    let args: Buffer;
    try {
      args = t.mm.read(s.argStart, Math.min(80, s.argEnd - s.argStart));
    } catch {
      args = Buffer.alloc(0);
    }
    const text = Buffer.from(args.map((c) => (c === 0 ? 0x20 : c)));
    text.copy(b, 56, 0, Math.min(79, text.length));
    // psargs ends without the last argument's NUL turned into a space
    if (text.length > 0 && text[text.length - 1] === 0x20 && text.length <= 79) b[56 + text.length - 1] = 0;
  }
  return b;
}

function auxv(t: Task): Buffer {
  const pairs = [...(t.proc.start?.auxv ?? [])];
  const b = Buffer.alloc(16 * (pairs.length + 1));
  pairs.forEach(([k, v], i) => {
    b.writeBigUInt64LE(BigInt(k), 16 * i);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), 16 * i + 8);
  });
  return b;
}

/** NT_FILE: the file mappings (start, end, offset in pages) and their paths. */
function ntFile(t: Task): Buffer {
  const files = t.mm.vmas.filter((v) => v.info.name.startsWith('/') && v.info.ino !== 0);
  const head = Buffer.alloc(16 + 24 * files.length);
  head.writeBigUInt64LE(BigInt(files.length), 0);
  head.writeBigUInt64LE(BigInt(PAGE), 8);
  files.forEach((v, i) => {
    head.writeBigUInt64LE(BigInt(v.start), 16 + 24 * i);
    head.writeBigUInt64LE(BigInt(v.end), 24 + 24 * i);
    head.writeBigUInt64LE(BigInt(Math.floor(v.info.offset / PAGE)), 32 + 24 * i);
  });
  return Buffer.concat([head, ...files.map((v) => Buffer.from(`${v.info.name}\0`, 'utf8'))]);
}

/** The pieces Linux's writenote emits of each note (header, name, descriptor; not their padding), as [offset, length] in the notes. */
function notePieces(notes: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const pad = (x: number): number => Math.ceil(x / 4) * 4;
  for (let at = 0; at + 12 <= notes.length; ) {
    const namesz = notes.readUInt32LE(at);
    const descsz = notes.readUInt32LE(at + 4);
    out.push([at, 12], [at + 12, namesz], [at + 12 + pad(namesz), descsz]);
    at += 12 + pad(namesz) + pad(descsz);
  }
  return out;
}

/** An ELF note: name and descriptor each padded to 4 bytes. */
function note(name: string, type: number, desc: Buffer): Buffer {
  const n = Buffer.from(`${name}\0`, 'latin1');
  const pad = (x: number): number => Math.ceil(x / 4) * 4;
  const b = Buffer.alloc(12 + pad(n.length) + pad(desc.length));
  b.writeUInt32LE(n.length, 0);
  b.writeUInt32LE(desc.length, 4);
  b.writeUInt32LE(type, 8);
  n.copy(b, 12);
  desc.copy(b, 12 + pad(n.length));
  return b;
}

function ehdr(b: Buffer, machine: number, phnum: number): void {
  b.set([0x7f, 0x45, 0x4c, 0x46, 2 /* 64-bit */, 1 /* little-endian */, 1 /* version */, 0 /* SYSV */], 0);
  b.writeUInt16LE(4, 16); // ET_CORE
  b.writeUInt16LE(machine, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(EHDR), 32); // e_phoff
  b.writeUInt16LE(EHDR, 52);
  b.writeUInt16LE(PHDR, 54);
  b.writeUInt16LE(phnum, 56);
}

interface Phdr {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

function phdr(b: Buffer, at: number, h: Phdr): void {
  b.writeUInt32LE(h.type, at);
  b.writeUInt32LE(h.flags, at + 4);
  b.writeBigUInt64LE(BigInt(h.offset), at + 8);
  b.writeBigUInt64LE(BigInt(h.vaddr), at + 16);
  b.writeBigUInt64LE(0n, at + 24);
  b.writeBigUInt64LE(BigInt(h.filesz), at + 32);
  b.writeBigUInt64LE(BigInt(h.memsz), at + 40);
  b.writeBigUInt64LE(BigInt(h.align), at + 48);
}
