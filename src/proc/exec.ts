// Building a fresh address space from an ELF image (the first program, and execve).
import { closeSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { Arch } from '../cpu/arch.js';
import type { Cpu } from '../cpu/engine.js';
import { PROT_EXEC, PROT_READ } from '../abi/mman.js';
import { AddressSpace } from '../mm/address-space.js';
import type { HostMemory } from '../mm/host-memory.js';
import { PAGE } from '../mm/layout.js';
import { anon } from '../mm/vma.js';
import { ExecFormatError, parseElf, type ElfImage } from '../loader/elf.js';
import { imageSpan, mapImage, setupStack, type ExecArgs, type ImageSource, type StartInfo } from '../loader/load.js';
import { Mm } from './process.js';
import { SIG_DFL, SIG_IGN } from '../abi/signal.js';
import { fileId } from '../fs/stat.js';
import { SIGTRAMP_CODE } from './sigframe.js';
import type { Kernel } from './kernel.js';
import type { Task } from './task.js';
import type { Loc } from '../fs/vfs.js';

/** Parse an executable for this set of machines. */
export function checkElf(file: ExeFile, machines: Record<number, string>): ElfImage {
  try {
    return parseElf(file.head, machines, file.size);
  } catch (e) {
    // headers past the first bytes read (legal, if odd): parse the whole file
    if (!(e instanceof ExecFormatError) || file.head.length >= file.size) throw e;
    const all = Buffer.alloc(file.size);
    file.read(all, 0);
    return parseElf(all, machines);
  }
}

/** How much of an executable is read to parse it: its headers, almost always its PT_INTERP, and a '#!' line. */
const EXE_HEAD = 65536;

/**
 * An executable opened for exec: its first bytes, read now for its headers,
 * and a host fd of its own, from which mapImage reads each segment straight
 * into the memory it maps (reading the whole file into a Buffer, then
 * copying its segments, cost ~1.5 ms of every first exec of busybox).
 */
export class ExeFile implements ImageSource {
  readonly head: Buffer;
  /** `fd`: a host fd this object owns (closed by `close`), or -1 for no bytes at all */
  constructor(
    private fd: number,
    readonly size: number,
  ) {
    this.head = Buffer.alloc(fd < 0 ? 0 : Math.min(size, EXE_HEAD));
    this.read(this.head, 0);
  }
  read(dst: Uint8Array, offset: number): void {
    let done = 0;
    while (done < dst.length && this.fd >= 0) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n <= 0) break;
      done += n;
    }
    if (done < dst.length) dst.fill(0, done);
  }
  /** the host fd, or -1 */
  get hostFd(): number {
    return this.fd;
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * The last executables opened, by identity: a shell execs the same few
 * programs over and over. Each keeps its host fd (the oldest is closed).
 */
export class ExeCache {
  private files = new Map<string, ExeFile>();
  constructor(private readonly max = 8) {}
  get(key: string): ExeFile | undefined {
    return this.files.get(key);
  }
  add(key: string, file: ExeFile): void {
    if (this.files.size >= this.max) {
      const [oldKey, old] = this.files.entries().next().value!;
      this.files.delete(oldKey);
      old.close();
    }
    this.files.set(key, file);
  }
  /** Close every file (the run is over; the images mapped from them keep their own mappings). */
  close(): void {
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }
}

/** A dynamically linked program's interpreter (its ld.so), read from the guest's file system. */
export interface Interp {
  elf: ElfImage;
  file: ExeFile;
  path: string;
  dev: number;
  ino: number;
  fileKey: string;
}


/** A new engine and address space holding the image, with registers set for its entry. */
export function buildMm(cpu: Cpu, memory: HostMemory, elf: ElfImage, file: ImageSource, args: ExecArgs, interp?: Interp): { mm: Mm; start: StartInfo; sigtramp: number; regs: Array<[number, number]> } {
  const arch = cpu.arch;
  const space = new AddressSpace(cpu.mirror(), cpu.layout, memory);
  try {
    const bias = mapImage(space, elf, file, args);
    let loaded: { elf: ElfImage; bias: number } | undefined;
    if (interp) {
      // Linux maps the interpreter like an mmap without a hint: top-down below the mmap base
      // (one page is kept free at the top for arm64's signal trampoline)
      const { lo, hi } = imageSpan(interp.elf);
      const at = space.findFree(hi - lo + PAGE) + PAGE;
      const ib = mapImage(space, interp.elf, interp.file, { ...args, mapName: interp.path, dev: interp.dev, ino: interp.ino, fileKey: interp.fileKey }, at);
      loaded = { elf: interp.elf, bias: ib };
    }
    const start = setupStack(space, arch, elf, bias, args, loaded);
    let sigtramp = 0;
    if (arch.name === 'arm64') {
      // Linux returns from arm64 signal handlers through its vDSO's sigtramp; we map our own page.
      sigtramp = cpu.layout.mmapBase;
      const v = space.mapAnon(sigtramp, PAGE, PROT_READ | PROT_EXEC, anon('[sigpage]'));
      v.chunk.range(v.off, SIGTRAMP_CODE.length).set(SIGTRAMP_CODE);
    }
    const regs: Array<[number, number]> = [...arch.entryRegs, [arch.tlsReg, 0], [arch.spReg, start.sp], [arch.pcReg, start.entry]];
    return { mm: new Mm(cpu, space), start, sigtramp, regs };
  } catch (e) {
    space.destroy();
    throw e;
  }
}

export interface ExecRequest {
  arch: Arch;
  elf: ElfImage;
  file: ExeFile;
  args: ExecArgs;
  /** the canonical host path of the program (/proc/self/exe) */
  exePath: string;
  exe: Loc;
  interp?: Interp;
}

/** The point of no return of execve: t's process now runs the new image. */
export function execInto(k: Kernel, t: Task, req: ExecRequest): void {
  const p = t.proc;
  const built = buildMm(k.engine(req.arch), k.memory, req.elf, req.file, req.args, req.interp);
  // other threads die (de_thread); the caller becomes the leader
  for (const o of [...p.threads]) {
    if (o !== t) {
      k.killThreadForExec(o);
      p.threads.delete(o);
    }
  }
  if (t.tid !== p.pid) k.retid(t, p.pid);
  const old = p.mm;
  if (t.ctx !== null) {
    old.cpu.freeContext(t.ctx);
    t.ctx = null;
  }
  // an exec into the other arch leaves its old engine: that engine must not
  // save its registers into this task's (new engine's) context later
  if (old.cpu !== built.mm.cpu && old.cpu.owner === t) old.cpu.owner = null;
  // mm flags survive exec as fork's copy keeps them (PR_MDWE_NO_INHERIT drops MDWE)
  built.mm.flags = { ...old.flags, mdwe: old.flags.mdwe & 2 ? 0 : old.flags.mdwe };
  p.mm = built.mm;
  if (old.refs === 1) k.ipc.shm.leaving(old.space, p.pid);
  k.releaseMm(old, p.mm); // the new image may take the old one's memory (AddressSpace.giveTo)
  t.pendingRegs = built.regs;
  t.pendingFpuInit = true;
  // arm64's start_thread forgets the last fault (its frames' fault_address and ESR record)
  t.lastFault = { ...t.lastFault, address: 0, esr: 0 };
  p.cred.execCaps();
  // begin_new_exec: dumpable again unless the ids differ (then suid_dumpable, 0 by default); syscall user dispatch ends
  p.dumpable = p.cred.euid === p.cred.ruid && p.cred.egid === p.cred.rgid ? 1 : 0;
  t.userDispatch = null;
  if (p.fds.refs > 1) {
    p.fds.refs--;
    p.fds = p.fds.clone();
  }
  p.fds.closeOnExec();
  k.itimers.posix.deleteAll(p);
  if (p.sighand.refs > 1) {
    p.sighand.refs--;
    p.sighand = p.sighand.clone();
  }
  for (const a of p.sighand.actions) {
    if (a.handler !== SIG_IGN) a.handler = SIG_DFL;
    a.flags = 0;
    a.restorer = 0;
    a.mask = 0n;
  }
  t.altstack = { sp: 0, flags: 2, size: 0 };
  t.clearChildTid = 0;
  t.robustList = 0;
  // SET_PERSONALITY: x86_64 drops READ_IMPLIES_EXEC; arm64 keeps the flags over PER_LINUX
  t.personality = req.arch.name === 'x86_64' ? t.personality & ~0x400000 : (t.personality & ~0xff) >>> 0;
  p.arch = req.arch;
  p.exePath = req.exePath;
  p.exe = req.exe;
  p.exeId = fileId(req.args);
  p.comm = basename(req.args.execfn.toString('latin1')).slice(0, 15);
  p.start = built.start;
  p.sigtramp = built.sigtramp;
  p.execed = true;
  if (p.vforkParent) {
    p.vforkParent = null;
    p.parent?.vforkDone.wake();
  }
  t.stopReason = 'exec';
  k.events?.exec(t, p.exePath, req.args.argv.map((a) => a.toString('utf8')));
  k.gdb?.execed(t);
}
