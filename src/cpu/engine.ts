// One Unicorn engine (one address space's CPU) and the hooks that bring guest
// syscalls and faults into TypeScript.
//
// All engines share one registered callback per hook kind (koffi caps live
// callbacks), dispatching to the engine that is running now (`current`).
import koffi from '../host/ffi.js';
import type { Arch } from './arch.js';
import {
  loadUnicorn,
  IntrCb,
  MemInvalidCb,
  SyscallInsnCb,
  TrampolineCb,
  TRAMP_SIZE,
  loadTrampoline,
  PREEMPTED,
  HOSTBUS,
  type TrampolineLib,
  UC_CTL_CPU_MODEL,
  UC_CTL_TCG_BUFFER_SIZE,
  UC_HOOK_INSN,
  UC_HOOK_INTR,
  UC_HOOK_MEM_INVALID,
  UC_MEM_FETCH_UNMAPPED,
  UC_MEM_READ_UNMAPPED,
  UC_MEM_WRITE_UNMAPPED,
  ucCtlWrite,
  UC_CTL_TB_REMOVE_CACHE,
  type Engine,
  type UnicornLib,
} from './unicorn.js';
import { Scratch, useSharedGuestMemory } from '../host/libc.js';
import { AddressSpace } from '../mm/address-space.js';
import type { MemBackend } from '../mm/backend.js';
import { PAGE, type Layout } from '../mm/layout.js';
import { SEGV_ACCERR, SEGV_MAPERR, SIG } from '../abi/signal.js';
import { Panic } from '../abi/errors.js';
import { Mirror } from './mirror.js';
import { hostBusFault, memFaultWhat, pageFaultCode, type CpuClient, type Fault } from './fault.js';
import { RegBatch, RegBlock } from './regs.js';
import { nowMs } from '../host/clock.js';
import { abortEsr } from './arm64.js';
import { DIRECT_BITS, WindowSlots, directLayout } from './windows.js';

const UNTIL = 0xffffffffffffffffn;
const BUS_ADRERR = 2;
/** where a Cpu's trampoline struct sits in its scratch page */
const TRAMP_OFF = 3072;
const TCG_BUFFER = 64 << 20;
/** host address of an engine region whose memory is gone (see Cpu.releaseRegion) */
const DANGLING = -1;

/** the engine inside uc_emu_start now (one at a time on this thread): where the shared callbacks go */
let current: Cpu | null = null;
/** koffi caps live callbacks: every engine of every Machine shares these */
let callbacks: { insn: unknown; intr: unknown; mem: unknown; tramp: unknown } | null = null;

function sharedCallbacks(): { insn: unknown; intr: unknown; mem: unknown; tramp: unknown } {
  if (callbacks) return callbacks;
  callbacks = {
    tramp: koffi.register(() => current?.trampolineEntry(), koffi.pointer(TrampolineCb)),
    insn: koffi.register((_uc: unknown, _user: unknown) => current?.syscallEntry(), koffi.pointer(SyscallInsnCb)),
    intr: koffi.register((_uc: unknown, intno: number, _user: unknown) => current?.interrupt(intno), koffi.pointer(IntrCb)),
    mem: koffi.register(
      (_uc: unknown, type: number, address: number | bigint, _size: number, _value: unknown, _user: unknown) =>
        // koffi hands a uint64_t above 2^63 over as a negative bigint: the address is unsigned
        current ? current.memFault(type, Number(BigInt.asUintN(64, BigInt(address)))) : false,
      koffi.pointer(MemInvalidCb),
    ),
  };
  return callbacks;
}

export class Cpu implements MemBackend {
  readonly lib: UnicornLib;
  readonly uc: Engine;
  client: CpuClient | null = null;
  private readonly scratch = new Scratch(4096);
  private readonly sys: RegBatch;
  private readonly ret: RegBatch;
  private readonly any: RegBatch;
  private readonly reg8 = Buffer.alloc(16);
  private stopping = false;
  private hooks = new BigUint64Array(1);

  constructor(readonly arch: Arch) {
    this.lib = loadUnicorn();
    const out: [Engine | null] = [null];
    const err = this.lib.open(arch.ucArch, arch.ucMode, out);
    if (err !== 0) throw new Error(`uc_open(${arch.name}): ${this.lib.strerror(err)}`);
    this.uc = out[0]!;
    // 2.1.x: translated code gets a 64 MiB buffer instead of reserving 1 GiB per engine
    // (must come before anything initialises the engine; 2.0.x has no such control).
    if (this.lib.version.minor >= 1) this.lib.ctl(this.uc, ucCtlWrite(UC_CTL_TCG_BUFFER_SIZE, 1), 'uint32_t', TCG_BUFFER);
    if (arch.cpuModel >= 0) this.check(this.lib.ctl(this.uc, ucCtlWrite(UC_CTL_CPU_MODEL, 1), 'int', arch.cpuModel), 'uc_ctl(CPU_MODEL)');
    this.sys = new RegBatch(this.scratch, 0);
    this.ret = new RegBatch(this.scratch, 1024);
    this.any = new RegBatch(this.scratch, 2048);
    this.sys.setIds(arch.syscallRegs);
    this.ret.setIds(arch.returnRegs);
    const cb = sharedCallbacks();
    const h = arch.syscallHook;
    const tl = loadTrampoline();
    this.watchdogRun = tl?.run ?? null;
    this.bus = tl?.busTake ?? null;
    this.sysTimed = tl?.sysTime === true;
    if (tl !== null) {
      // the C trampoline reads the syscall registers and writes the result itself
      const t = new DataView(this.scratch.bytes.buffer, this.scratch.bytes.byteOffset + TRAMP_OFF, TRAMP_SIZE);
      t.setBigUint64(0, BigInt(this.sys.idsAddr), true);
      t.setBigUint64(8, BigInt(this.sys.ptrsAddr), true);
      t.setBigUint64(16, BigInt(this.ret.idsAddr), true);
      t.setBigUint64(24, BigInt(this.ret.ptrsAddr), true);
      t.setInt32(32, this.sys.count, true);
      t.setInt32(36, this.ret.count, true);
      this.tramp = t;
      this.check(tl.install(this.uc, this.scratch.addr + TRAMP_OFF, h.kind === 'insn' ? h.insn : -1, h.kind === 'intr' ? h.intno : -2, cb.tramp), 'hook syscall (trampoline)');
    } else if (h.kind === 'insn') {
      this.check(this.lib.hookAdd(this.uc, this.hooks, UC_HOOK_INSN, cb.insn, null, 1n, 0n, 'int', h.insn), 'hook syscall');
      this.check(this.lib.hookAdd(this.uc, this.hooks, UC_HOOK_INTR, cb.intr, null, 1n, 0n), 'hook intr');
    } else {
      this.check(this.lib.hookAdd(this.uc, this.hooks, UC_HOOK_INTR, cb.intr, null, 1n, 0n), 'hook intr');
    }
    this.check(this.lib.hookAdd(this.uc, this.hooks, UC_HOOK_MEM_INVALID, cb.mem, null, 1n, 0n), 'hook mem');
    this.layout = arch.layout;
    if (this.lib.direct !== null && process.env.ELFRUN_DIRECT !== '0') {
      // guest memory must be shared for the window to map it too
      useSharedGuestMemory();
      if (this.lib.direct(this.uc, DIRECT_BITS) === 0) {
        this.layout = directLayout(arch.layout);
        this.windows = WindowSlots.open(this.lib, this.uc);
      }
    }
  }

  /**
   * Where stacks and mappings go in this engine's processes: below the top of
   * its direct-access window (directLayout) when it has one, as qemu-user's
   * translated code reaches guest memory without the TLB.
   */
  readonly layout: Layout;

  private check(err: number, what: string): void {
    if (err !== 0) throw new Error(`${what}: ${this.lib.strerror(err)}`);
  }

  // ---- memory ---------------------------------------------------------------------
  //
  // One engine serves every process of its arch, so translated code survives
  // fork and exec (qemu-user keeps its cache across a host fork; a fresh engine
  // per process re-translated everything the child ran). The engine holds the
  // mappings of one address space at a time: `activate` swaps in another
  // space's VMAs, keeping the regions both share (the same host memory at the
  // same addresses, e.g. text shared by fork or by the file cache), so their
  // translations stay valid.

  /** what is mapped in the engine now: start -> region */
  /** its memory regions by start (a debugger's watchpoint changes a whole one's protection: a part would split it) */
  readonly regions = new Map<number, { end: number; prot: number; host: number }>();
  /** the address space whose mappings the engine holds */
  active: object | null = null;
  /** direct mode's window slots, one per recently run space (null: one window, remapped at each switch) */
  private windows: WindowSlots | null = null;
  /** the task whose registers the engine holds */
  owner: CpuClient | null = null;

  /** A MemBackend for one address space: changes reach the engine while that space is active. */
  mirror(): Mirror {
    return new Mirror(this);
  }

  /**
   * Make the engine hold these regions (sorted, non-overlapping), changing
   * only what differs. A region at the same place, of the same size and
   * protection, but over other host memory (a forked child's copy of its
   * parent's data, heap and stack) is rebased where the library can: a
   * fork's two switches were 16 map/unmap calls, each rebuilding Unicorn's
   * memory map, and are now 8 rebases that drop only those pages' TLB entries.
   */
  activate(space: object, want: Array<{ start: number; end: number; prot: number; host: number }>): void {
    const held = this.windows?.begin(space, this.regions, want) === true;
    const keep = new Set<number>();
    const rebase: Array<{ start: number; end: number; host: number }> = [];
    const canRebase = this.lib.memRebase !== null;
    for (const w of want) {
      const r = this.regions.get(w.start);
      if (r === undefined || r.end !== w.end || r.prot !== w.prot) continue;
      if (r.host === w.host) keep.add(w.start);
      else if (canRebase) {
        keep.add(w.start);
        rebase.push(w);
      }
    }
    for (const [start, r] of [...this.regions]) if (!keep.has(start)) this.unmap(start, r.end - start);
    for (const w of rebase) this.rebase(w.start, w.end - w.start, w.host);
    for (const w of want) if (!keep.has(w.start)) this.map(w.start, w.end - w.start, w.prot, w.host);
    if (held) this.windows!.finish(want);
    this.active = space;
  }

  /** A fork gave the memory the engine maps to `child` (see deactivate). */
  handOver(parent: object, child: object): void {
    this.deactivate(parent);
    this.windows?.handOver(parent, child);
  }

  /**
   * Regions whose host memory was freed while no space was active (a dead
   * process's, until the next activation rebases or unmaps them). The engine
   * never runs with one: `run` unmaps any left.
   */
  private dangling = 0;

  /** The engine's region at start no longer has host memory behind it. */
  private releaseRegion(start: number, r: { end: number; prot: number; host: number }): void {
    if (this.active === null && this.lib.memRebase !== null) {
      if (r.host !== DANGLING) this.dangling++;
      this.regions.set(start, { ...r, host: DANGLING });
    } else this.unmap(start, r.end - start);
  }

  private dropDangling(): void {
    for (const [s, r] of [...this.regions]) if (r.host === DANGLING) this.unmap(s, r.end - s);
  }

  /**
   * Host memory behind [start, start+size) is being freed: no region of the
   * engine may keep pointing into it (a dead space's region left mapped for
   * the next activation must not outlive its memory). It is unmapped, or
   * marked dangling when no space is active (see releaseRegion).
   */
  releaseHost(start: number, size: number, hostAddr: number): void {
    this.windows?.releaseHost(hostAddr, size);
    for (const [s, r] of [...this.regions]) {
      if (s < start + size && r.end > start && r.host - s === hostAddr - start) this.releaseRegion(s, r);
    }
  }

  /** Host memory [hostAddr, hostAddr+size) is being freed: as releaseHost, for every region that points into it. */
  releaseHostRange(hostAddr: number, size: number): void {
    this.windows?.releaseHost(hostAddr, size);
    for (const [s, r] of [...this.regions]) {
      if (r.host !== DANGLING && r.host < hostAddr + size && r.host + (r.end - s) > hostAddr) this.releaseRegion(s, r);
    }
  }

  /** Does the engine map exactly [start, end) over host memory at `host`? */
  holds(start: number, end: number, host: number): boolean {
    const r = this.regions.get(start);
    return r !== undefined && r.end === end && r.host === host;
  }

  /**
   * Forget the active space without touching the engine: it is being
   * destroyed, or the engine no longer holds what it has at its addresses
   * (fork gave its memory to the child, see AddressSpace.forkInto). The next
   * task to run activates its own space, and activating this one again
   * rebases its regions.
   */
  deactivate(space: object): void {
    if (this.active === space) this.active = null;
  }

  /** The space is destroyed: as deactivate, and its window slot is no longer kept for it. */
  forget(space: object): void {
    this.deactivate(space);
    this.windows?.forget(space);
  }

  map(start: number, size: number, prot: number, hostAddr: number): void {
    if (this.dangling > 0) this.dropDangling();
    this.regions.set(start, { end: start + size, prot, host: hostAddr });
    this.check(this.lib.memMapPtr(this.uc, start, size, prot, hostAddr), `uc_mem_map_ptr(0x${start.toString(16)}, 0x${size.toString(16)})`);
  }
  unmap(start: number, size: number): void {
    if (this.regions.get(start)?.host === DANGLING) this.dangling--;
    this.regions.delete(start);
    this.check(this.lib.memUnmap(this.uc, start, size), `uc_mem_unmap(0x${start.toString(16)}, 0x${size.toString(16)})`);
  }
  private rebase(start: number, size: number, hostAddr: number): void {
    const r = this.regions.get(start)!;
    if (r.host === DANGLING) this.dangling--;
    this.regions.set(start, { ...r, host: hostAddr });
    this.check(this.lib.memRebase!(this.uc, start, size, hostAddr), `uc_elfrun_mem_rebase(0x${start.toString(16)}, 0x${size.toString(16)})`);
  }
  /**
   * Bytes of [start, start+size), mapped executable in one region, are about
   * to change behind the engine's back: their translations (and the jumps
   * linked to them) go, as after a guest store.
   */
  codeWrite(start: number, size: number): void {
    if (size <= 0) return;
    const from = BigInt(start);
    this.check(this.lib.ctl(this.uc, ucCtlWrite(UC_CTL_TB_REMOVE_CACHE, 2), 'uint64_t', from, 'uint64_t', from + BigInt(size)), 'uc_ctl(TB_REMOVE_CACHE)');
  }
  protect(start: number, size: number, prot: number): void {
    this.check(this.lib.memProtect(this.uc, start, size, prot), 'uc_mem_protect');
  }

  // ---- registers ------------------------------------------------------------

  /** A register as a number (exact below 2^53; guest addresses always are). */
  reg(id: number): number {
    this.flush();
    this.lib.regRead(this.uc, id, this.reg8);
    return this.reg8.readUInt32LE(0) + this.reg8.readUInt32LE(4) * 0x100000000;
  }
  regBig(id: number): bigint {
    this.flush();
    this.lib.regRead(this.uc, id, this.reg8);
    return this.reg8.readBigUInt64LE(0);
  }
  setReg(id: number, val: number | bigint): void {
    this.flush();
    this.reg8.writeBigUInt64LE(BigInt.asUintN(64, BigInt(val)), 0);
    this.lib.regWrite(this.uc, id, this.reg8);
  }
  setRegs(pairs: Array<[number, number]>): void {
    this.flush();
    const b = this.any;
    b.setIds(pairs.map((p) => p[0]));
    pairs.forEach(([, v], i) => {
      b.vals[2 * i] = v >>> 0;
      b.vals[2 * i + 1] = Math.floor(v / 0x100000000) >>> 0;
    });
    this.check(this.lib.regWriteBatch(this.uc, b.idsAddr, b.ptrsAddr, b.count), 'uc_reg_write_batch');
  }
  get pc(): number {
    return this.reg(this.arch.pcReg);
  }

  /** Read a block's registers into its bytes, which are returned (valid until the block is next used). */
  readBlock(b: RegBlock): Buffer {
    this.flush();
    b.bytes.fill(0); // a register narrower than its slot (eflags, nzcv: 32 bits) leaves the rest zero
    this.check(this.lib.regReadBatch(this.uc, b.idsAddr, b.ptrsAddr, b.count), 'uc_reg_read_batch');
    return b.bytes;
  }

  /** Write a block's registers from its bytes. */
  writeBlock(b: RegBlock): void {
    this.flush();
    this.check(this.lib.regWriteBatch(this.uc, b.idsAddr, b.ptrsAddr, b.count), 'uc_reg_write_batch');
  }

  // ---- running --------------------------------------------------------------

  /**
   * Run from the current pc until a hook stops the engine or, with the
   * trampoline, until its watchdog ends the time slice (`preempted` tells);
   * `steps` > 0: that many instructions at most, without the watchdog (a
   * debugger's single step). Returns the Unicorn error code.
   */
  run(steps = 0): number {
    if (this.dangling > 0) this.dropDangling();
    const prev = current;
    current = this;
    this.stopping = false;
    this.running = true;
    try {
      const run = this.watchdogRun;
      if (run === null || steps > 0) {
        const pc = this.pc;
        const r = this.lib.emuStart(this.uc, pc, UNTIL, 0, steps);
        // An instruction whose direct memory access faults is run again through
        // the TLB, and Unicorn's count then ends the run before it: it did
        // nothing (no fault, no stop, the same pc). Once more, counting it twice.
        const r2 = steps === 1 && r === 0 && !this.stopping && this.pc === pc ? this.lib.emuStart(this.uc, pc, UNTIL, 0, 2) : r;
        this.preempted = steps > 0 && r2 === 0 && !this.stopping; // the count ran out: not a halt
        return r2;
      }
      const r = run(this.uc, this.pc);
      this.preempted = (r & PREEMPTED) !== 0;
      if (r & HOSTBUS && this.active instanceof AddressSpace) hostBusFault(this.active, this.pc, this.bus?.() ?? [], (f) => this.client?.onFault(this, f));
      return r & ~(PREEMPTED | HOSTBUS);
    } finally {
      this.running = false;
      current = prev;
    }
  }
  running = false;
  /** The time its syscalls took (µs, a uint32 that wraps; a difference of two reads is what one stretch spent): timed by the trampoline, or here. */
  sysMicros(): number {
    return this.sysTimed ? this.tramp!.getUint32(52, true) : Math.floor(this.sysMs * 1000) % 2 ** 32;
  }
  private readonly sysTimed: boolean;
  private sysMs = 0;
  /** the last run was ended by the watchdog (at a block boundary: the pc is exact), or by its step count */
  preempted = false;
  /** the trampoline's run under its watchdog, or null (no preemption); its host SIGBUSes */
  private readonly watchdogRun: TrampolineLib['run'];
  private readonly bus: TrampolineLib['busTake'];
  /** does a spin-wait hint end a run (uc_elfrun_spin_yield; the scheduler's to set) */
  spinYield = false;
  /** Stop the engine if it is running this client now (a task killed from inside a hook). */
  stopIfRunning(client: CpuClient): void {
    if (this.running && this.client === client) this.stop();
  }

  setPc(pc: number): void {
    this.setReg(this.arch.pcReg, pc);
  }

  /** Save the registers into ctx (allocated on first use); returns ctx. */
  saveContext(ctx: unknown): unknown {
    this.flush();
    if (ctx === null) ctx = this.contexts.pop() ?? null;
    if (ctx === null) {
      const out: [unknown] = [null];
      this.check(this.lib.contextAlloc(this.uc, out), 'uc_context_alloc');
      ctx = out[0];
    }
    this.check(this.lib.contextSave(this.uc, ctx), 'uc_context_save');
    return ctx;
  }

  restoreContext(ctx: unknown): void {
    this.flush();
    this.check(this.lib.contextRestore(this.uc, ctx), 'uc_context_restore');
  }

  /**
   * Contexts of dead tasks, for the next ones: uc_context_alloc of a whole
   * CPU state was ~12 µs of each fork.
   */
  private readonly contexts: unknown[] = [];

  freeContext(ctx: unknown): void {
    if (this.contexts.length < 64) this.contexts.push(ctx);
    else this.lib.contextFree(ctx);
  }

  /** An x86 model-specific register (through uc_x86_msr: its id, then the value at offset 8). */
  msr(rid: number, msrReg: number): bigint {
    this.flush();
    const b = Buffer.alloc(16);
    b.writeUInt32LE(rid, 0);
    this.check(this.lib.regRead(this.uc, msrReg, b), `read MSR 0x${rid.toString(16)}`);
    return b.readBigUInt64LE(8);
  }

  setMsr(rid: number, msrReg: number, value: bigint): void {
    this.flush();
    const b = Buffer.alloc(16);
    b.writeUInt32LE(rid, 0);
    b.writeBigUInt64LE(value, 8);
    this.check(this.lib.regWrite(this.uc, msrReg, b), `write MSR 0x${rid.toString(16)}`);
  }

  /** The value of a register as 16 raw bytes (vector registers). */
  regBytes(id: number, n: number): Buffer {
    this.flush();
    const b = Buffer.alloc(Math.max(16, n));
    this.lib.regRead(this.uc, id, b);
    return b.subarray(0, n);
  }

  setRegBytes(id: number, bytes: Uint8Array): void {
    this.flush();
    const b = Buffer.alloc(Math.max(16, bytes.length));
    b.set(bytes);
    this.lib.regWrite(this.uc, id, b);
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.lib.emuStop(this.uc);
  }

  close(): void {
    for (const ctx of this.contexts.splice(0)) this.lib.contextFree(ctx);
    this.lib.close(this.uc);
    this.scratch.free();
  }

  /** Write the syscall result registers (for the syscall being serviced now). */
  setReturn(result: number): void {
    this.setReturnWith(result, this.sys.vals);
  }

  /** Write the result registers of a syscall whose entry registers were `regs`. */
  setReturnWith(result: number, regs: Uint32Array): void {
    // the kernel's restart codes (ERESTARTSYS..ERESTART_RESTARTBLOCK) end at signal delivery
    if (result <= -512 && result >= -516) throw new Panic(`a syscall result of ${result} (a kernel-internal restart code) would reach the guest`);
    const r = this.ret;
    this.flush();
    this.arch.syscallReturn(result, regs, r.vals);
    if (this.inTramp && regs === this.sys.vals) {
      this.tramp!.setInt32(40, 1, true); // the trampoline writes them when the hook returns
      return;
    }
    this.lib.regWriteBatch(this.uc, r.idsAddr, r.ptrsAddr, r.count);
  }

  // ---- hook entry points (called by the shared callbacks) ---------------------

  /** the trampoline's struct (null without it) */
  private tramp: DataView | null = null;
  /** inside a trampoline syscall: result writes are left to the trampoline */
  private inTramp = false;

  /** From the C trampoline: a syscall (registers already read) or another interrupt. */
  trampolineEntry(): void {
    const t = this.tramp!;
    const intno = t.getInt32(44, true);
    if (intno !== -1 && intno !== t.getInt32(48, true)) {
      this.interrupt(intno);
      return;
    }
    this.inTramp = true;
    const t0 = this.sysTimed ? 0 : nowMs();
    try {
      this.client!.onSyscall(this, this.sys.vals);
    } catch (e) {
      this.internalError = e as Error;
      this.stop();
    } finally {
      this.inTramp = false;
      if (!this.sysTimed) this.sysMs += nowMs() - t0;
    }
  }

  /** A result write the trampoline would do later must happen now (another register access comes first). */
  private flush(): void {
    if (this.inTramp && this.tramp!.getInt32(40, true) !== 0) {
      this.tramp!.setInt32(40, 0, true);
      const r = this.ret;
      this.lib.regWriteBatch(this.uc, r.idsAddr, r.ptrsAddr, r.count);
    }
  }

  syscallEntry(): void {
    const s = this.sys;
    const t0 = nowMs();
    this.lib.regReadBatch(this.uc, s.idsAddr, s.ptrsAddr, s.count);
    try {
      this.client!.onSyscall(this, s.vals);
    } catch (e) {
      // An exception must never unwind through Unicorn: record it and stop.
      this.internalError = e as Error;
      this.stop();
    }
    this.sysMs += nowMs() - t0;
  }

  internalError: Error | null = null;

  interrupt(intno: number): void {
    const h = this.arch.syscallHook;
    if (h.kind === 'intr' && intno === h.intno) {
      this.syscallEntry();
      return;
    }
    const pc = this.pc;
    if (this.arch.name === 'x86_64' && intno === 0x80) {
      // int $0x80 from 64-bit code runs Linux's i386 syscall table: not emulated.
      this.internalError = new Panic(`unimplemented syscall ABI: int $0x80 (i386 syscalls) on x86_64, pc 0x${pc.toString(16)}`);
      this.stop();
      return;
    }
    const trap = this.arch.trapSignal(intno, (id) => this.reg(id));
    const addr = trap.access ?? (trap.addrIsPc ? pc : 0);
    const esr = trap.esr === undefined ? {} : { esr: trap.esr };
    this.client!.onFault(this, { signal: trap.signal, code: trap.code, addr, pc, what: `exception ${intno}`, trapno: intno, err: 0, access: trap.access !== undefined, ...esr });
    this.stop();
  }

  memFault(type: number, addr: number): boolean {
    if (type === UC_MEM_READ_UNMAPPED || type === UC_MEM_WRITE_UNMAPPED || type === UC_MEM_FETCH_UNMAPPED) {
      // a page of a shared file mapping that the engine leaves unmapped: past EOF, or the file grew since
      const f = this.active instanceof AddressSpace ? this.active.fileFault(addr) : null;
      if (f === 'retry') return true;
      if (f === 'sigbus') {
        const err = pageFaultCode(type, true);
        this.client!.onFault(this, { signal: SIG.SIGBUS, addr, pc: this.pc, what: 'access past the end of a mapped file', code: BUS_ADRERR, trapno: 14, err, access: true, ...this.esrOf(err) });
        return false;
      }
      // a first touch of memory charged as touched (MAP_NORESERVE under --max-memory)
      if (this.client!.touchLazy?.(addr, type === UC_MEM_WRITE_UNMAPPED ? 2 : type === UC_MEM_FETCH_UNMAPPED ? 4 : 1)) return true;
    }
    if ((type === UC_MEM_READ_UNMAPPED || type === UC_MEM_WRITE_UNMAPPED) && this.client!.growStack?.(addr)) return true;
    const what = memFaultWhat(type);
    // Linux's bad_area: SEGV_MAPERR where no mapping is, SEGV_ACCERR where one is but its protection refuses
    const vma = this.active instanceof AddressSpace ? this.active.find(addr) : null;
    // the page is present where its mapping gives some access (PROT_NONE pages are not)
    const err = pageFaultCode(type, vma !== null && vma.prot !== 0);
    this.client!.onFault(this, { signal: SIG.SIGSEGV, code: vma !== null ? SEGV_ACCERR : SEGV_MAPERR, addr, pc: this.pc, what, trapno: 14, err, access: true, ...this.esrOf(err) });
    return false;
  }

  /** arm64: the ESR a page fault with x86's error code `err` (its present, write and fetch bits) would leave */
  private esrOf(err: number): { esr?: number } {
    return this.arch.name === 'arm64' ? { esr: abortEsr((err & 16) !== 0, (err & 2) !== 0, (err & 1) !== 0) } : {};
  }
}

