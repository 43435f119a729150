// Signal frames, byte for byte as Linux builds them (handlers read them):
// x86_64 arch/x86/kernel/signal_64.c, arm64 arch/arm64/kernel/signal.c.
import type { Task } from './task.js';
import type { SigAction } from './process.js';
import { X86 } from '../cpu/x86_64.js';
import { A64 } from '../cpu/arm64.js';
import { RegBlock } from '../cpu/regs.js';
import type { Cpu } from '../cpu/engine.js';
import type { ArchName } from '../cpu/arch.js';
import { PROT_WRITE } from '../abi/mman.js';
import { SysError } from '../abi/errors.js';
import { SA_ONSTACK, SA_RESTORER, SA_SIGINFO, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK } from '../abi/signal.js';

const u64 = (b: Buffer, off: number, v: bigint | number): void => {
  b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), off);
};

/** Where the frame goes: the alternate stack if asked for and not already on it. */
function signalStackTop(t: Task, act: SigAction, sp: number): { top: number; onAlt: boolean } {
  const a = t.altstack;
  const on = a.size > 0 && sp > a.sp && sp - a.sp <= a.size;
  if (act.flags & SA_ONSTACK && !(a.flags & SS_DISABLE) && a.size > 0 && !on) {
    const top = a.sp + a.size;
    if (a.flags & SS_AUTODISARM) t.altstack = { sp: 0, flags: SS_DISABLE, size: 0 };
    return { top, onAlt: true };
  }
  return { top: sp, onAlt: on };
}

/** stack_t as __save_altstack writes it into uc_stack. */
function altstackBytes(t: Task, sp: number, b: Buffer, off: number, saved: { sp: number; flags: number; size: number }): void {
  u64(b, off, saved.sp);
  const onStack = saved.size > 0 && sp > saved.sp && sp - saved.sp <= saved.size;
  const flags = saved.size === 0 ? SS_DISABLE : onStack ? SS_ONSTACK : 0;
  b.writeInt32LE((flags | (saved.flags & SS_AUTODISARM)) | 0, off + 8);
  u64(b, off + 16, saved.size);
  void t;
}

function restoreAltstack(t: Task, b: Buffer, off: number): void {
  const sp = Number(b.readBigUInt64LE(off));
  const flags = b.readInt32LE(off + 8);
  const size = Number(b.readBigUInt64LE(off + 16));
  const mode = flags & ~SS_AUTODISARM;
  // restore_altstack ignores errors; it fails while on the stack, which a frame restore never is
  if (mode === SS_DISABLE) t.altstack = { sp: 0, flags: SS_DISABLE, size: 0 };
  else if (mode === 0 || mode === SS_ONSTACK) t.altstack = { sp, flags: flags & SS_AUTODISARM, size };
}

// ---- x86_64 -------------------------------------------------------------------------

const X86_GPRS = [X86.R8, X86.R9, X86.R10, X86.R11, X86.R12, X86.R13, X86.R14, X86.R15, X86.RDI, X86.RSI, X86.RBP, X86.RBX, X86.RDX, X86.RAX, X86.RCX, X86.RSP, X86.RIP, X86.EFLAGS];
const XMM0 = 122;
const ST0 = 114;
const MXCSR = 249;
const FPCW = 246;
const FPTAG = 247;
const FPSW = 31;
/** the last non-control x87 instruction's address, its operand's, and its opcode */
const FIP = 254;
const FDP = 256;
const FOP = 258;
const FIX_EFLAGS = 0x50dd5n; // AC OF DF TF SF ZF AF PF CF RF
const UC_SIZE = 304;

/** The registers a frame saves and restores, read and written a block at a time (made on first use; layouts only, the same for every Machine). */
let x86Blocks: { gprs: RegBlock; fp: RegBlock; entry: RegBlock } | null = null;

function x86Regs(): NonNullable<typeof x86Blocks> {
  return (x86Blocks ??= {
    // sigcontext's order: r8 ... r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags
    gprs: new RegBlock(X86_GPRS.map((r): [number, number] => [r, 8])),
    // the fxsave state; the status word (the stack top) before the stack registers it numbers
    fp: new RegBlock([
      [FPCW, 2],
      [FPSW, 2],
      [FPTAG, 2],
      [MXCSR, 4],
      ...Array.from({ length: 8 }, (_, i): [number, number] => [ST0 + i, 16]),
      ...Array.from({ length: 16 }, (_, i): [number, number] => [XMM0 + i, 16]),
      [FOP, 2],
      [FIP, 8],
      [FDP, 8],
    ]),
    entry: new RegBlock([X86.RDI, X86.RSI, X86.RDX, X86.RAX, X86.RSP, X86.EFLAGS, X86.RIP].map((r): [number, number] => [r, 8])),
  });
}

/** fxsave's abridged tag byte (bit i: physical register i in use) from the full tag word (2 bits each, 3: empty). */
function abridgedTags(full: number): number {
  let t = 0;
  for (let i = 0; i < 8; i++) if (((full >> (2 * i)) & 3) !== 3) t |= 1 << i;
  return t;
}

function fullTags(abridged: number): number {
  let t = 0;
  for (let i = 0; i < 8; i++) if (!(abridged & (1 << i))) t |= 3 << (2 * i);
  return t;
}

/** The fxsave image (512 bytes) from the fp block's bytes, and back. */
function fxsaveFrom(fp: Buffer, o: readonly number[]): Buffer {
  const fx = Buffer.alloc(512);
  fx.writeUInt16LE(fp.readUInt16LE(o[0]), 0);
  fx.writeUInt16LE(fp.readUInt16LE(o[1]), 2);
  fx[4] = abridgedTags(fp.readUInt16LE(o[2]));
  fx.writeUInt32LE(fp.readUInt32LE(o[3]), 24);
  fx.writeUInt32LE(0xffff, 28); // MXCSR_MASK
  for (let i = 0; i < 8; i++) fp.copy(fx, 32 + 16 * i, o[4 + i], o[4 + i] + 10);
  fp.copy(fx, 160, o[12], o[12] + 16 * 16);
  // FOP, FIP and FDP while an exception is pending (the status word's ES), as
  // AMD's XSAVE stores them (and the engine's fxsave); zeros otherwise
  if (fx.readUInt16LE(2) & 0x80) {
    fx.writeUInt16LE(fp.readUInt16LE(o[28]) & 0x7ff, 6);
    fp.copy(fx, 8, o[29], o[29] + 8);
    fp.copy(fx, 16, o[30], o[30] + 8);
  }
  return fx;
}

function fxsaveInto(fx: Buffer, fp: Buffer, o: readonly number[]): void {
  fp.writeUInt16LE(fx.readUInt16LE(0), o[0]);
  fp.writeUInt16LE(fx.readUInt16LE(2), o[1]);
  fp.writeUInt16LE(fullTags(fx[4]), o[2]);
  fp.writeUInt32LE(fx.readUInt32LE(24) & 0xffff, o[3]);
  for (let i = 0; i < 8; i++) fx.copy(fp, o[4 + i], 32 + 16 * i, 32 + 16 * i + 10);
  fx.copy(fp, o[12], 160, 160 + 16 * 16);
  fp.writeUInt16LE(fx.readUInt16LE(6) & 0x7ff, o[28]);
  fx.copy(fp, o[29], 8, 16);
  fx.copy(fp, o[30], 16, 24);
}

/**
 * The FP state in an x86_64 signal frame, as Linux writes it on a CPU with
 * XSAVE: the fxsave image, whose software-reserved bytes (464..511) say an
 * XSAVE area follows (FP_XSTATE_MAGIC1, its sizes, the features it holds:
 * x87 and SSE, all the engine has), the XSAVE header, and FP_XSTATE_MAGIC2
 * after the area.
 */
const XSTATE_SIZE = 512 + 64;
const XSTATE_FRAME = XSTATE_SIZE + 4;
const FP_XSTATE_MAGIC1 = 0x46505853;
const FP_XSTATE_MAGIC2 = 0x46505845;
const XFEATURES = 3n; // XFEATURE_MASK_FP | XFEATURE_MASK_SSE

function xstateFrame(fx: Buffer): Buffer {
  const b = Buffer.alloc(XSTATE_FRAME);
  fx.copy(b, 0, 0, 464);
  b.writeUInt32LE(FP_XSTATE_MAGIC1, 464);
  b.writeUInt32LE(XSTATE_FRAME, 468); // extended_size
  b.writeBigUInt64LE(XFEATURES, 472);
  b.writeUInt32LE(XSTATE_SIZE, 480); // xstate_size
  b.writeBigUInt64LE(XFEATURES, 512); // the header's xstate_bv: both components are in the image
  b.writeUInt32LE(FP_XSTATE_MAGIC2, XSTATE_SIZE);
  return b;
}

function x86Setup(t: Task, sig: number, act: SigAction, info: Buffer, oldMask: bigint): boolean {
  const cpu = t.cpu;
  const blocks = x86Regs();
  const gprs = cpu.readBlock(blocks.gprs);
  const rsp = Number(gprs.readBigUInt64LE(8 * 15));
  if (!(act.flags & SA_RESTORER)) return false; // x86_64 Linux needs the libc's restorer
  const saved = { ...t.altstack };
  const { top } = signalStackTop(t, act, rsp - 128 /* skip the red zone; not on a fresh alternate stack */);
  const fpAddr = (top - XSTATE_FRAME) - ((top - XSTATE_FRAME) % 64);
  let frame = fpAddr - (8 + UC_SIZE + 128);
  frame = frame - (frame % 16) - 8; // align_sigframe: as if a call had pushed the return address
  const b = Buffer.alloc(8 + UC_SIZE + 128);
  u64(b, 0, act.restorer);
  const uc = 8;
  u64(b, uc, 6); // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
  u64(b, uc + 8, 0);
  altstackBytes(t, rsp, b, uc + 16, saved);
  const sc = uc + 40;
  gprs.copy(b, sc, 0, 8 * X86_GPRS.length);
  b.writeUInt16LE(0x33, sc + 144); // cs
  b.writeUInt16LE(0x2b, sc + 150); // ss
  u64(b, sc + 152, t.lastFault.err);
  u64(b, sc + 160, t.lastFault.trapno);
  u64(b, sc + 176, t.lastFault.cr2);
  u64(b, sc + 168, oldMask); // oldmask (legacy: low word of the mask)
  u64(b, sc + 184, fpAddr);
  u64(b, uc + 296, oldMask);
  info.copy(b, uc + UC_SIZE, 0, 128);
  const fx = fxsaveFrom(cpu.readBlock(blocks.fp), blocks.fp.offsets);
  try {
    t.mm.check(frame, fpAddr + XSTATE_FRAME - frame, PROT_WRITE);
    t.mm.write(fpAddr, xstateFrame(fx));
    t.mm.write(frame, b);
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
  const flags = (gprs.readBigUInt64LE(8 * 17) & ~0x10500n) | 0x2n; // clear TF, DF, RF
  const e = blocks.entry.bytes;
  u64(e, 0, sig);
  u64(e, 8, frame + uc + UC_SIZE);
  u64(e, 16, frame + uc);
  u64(e, 24, 0);
  u64(e, 32, frame);
  e.writeBigUInt64LE(flags, 40);
  u64(e, 48, act.handler);
  cpu.writeBlock(blocks.entry);
  // the handler starts from the FPU's init state (fpu__clear_user_states)
  x86FpuInit(cpu);
  return true;
}

/**
 * The x87/SSE init state (fpstate_init_fx): control word 0x37F (double
 * extended precision, every exception masked), MXCSR 0x1F80 (every SSE
 * exception masked), an empty x87 stack, zero registers.
 */
function x86FpuInit(cpu: Cpu): void {
  const blocks = x86Regs();
  const fp = blocks.fp.bytes;
  const o = blocks.fp.offsets;
  fp.fill(0);
  fp.writeUInt16LE(0x37f, o[0]);
  fp.writeUInt16LE(0xffff, o[2]);
  fp.writeUInt32LE(0x1f80, o[3]);
  cpu.writeBlock(blocks.fp);
}

/**
 * A new program's FPU state, as exec leaves it (fpu__clear_all on x86_64,
 * fpsimd_flush_thread on arm64): the init state, whatever the old image
 * left in the engine. On arm64 that is FPCR and FPSR 0 and zero vector
 * registers.
 */
export function initFpu(cpu: Cpu, arch: ArchName): void {
  if (arch === 'x86_64') return x86FpuInit(cpu);
  const blocks = a64Regs();
  blocks.fp.bytes.fill(0);
  cpu.writeBlock(blocks.fp);
}

function x86Return(t: Task): boolean {
  const cpu = t.cpu;
  const blocks = x86Regs();
  const gprs = cpu.readBlock(blocks.gprs);
  const uc = Number(gprs.readBigUInt64LE(8 * 15)); // the restorer's `ret` popped pretcode: rsp points at uc
  let b: Buffer;
  try {
    b = t.mm.read(uc, UC_SIZE);
  } catch {
    return false;
  }
  const sc = 40;
  const flags = (gprs.readBigUInt64LE(8 * 17) & ~FIX_EFLAGS) | (b.readBigUInt64LE(sc + 8 * 17) & FIX_EFLAGS);
  b.copy(gprs, 0, sc, sc + 8 * 17);
  gprs.writeBigUInt64LE(flags, 8 * 17);
  cpu.writeBlock(blocks.gprs);
  const fpAddr = Number(b.readBigUInt64LE(sc + 184));
  if (fpAddr !== 0) {
    try {
      fxsaveInto(t.mm.read(fpAddr, 512), blocks.fp.bytes, blocks.fp.offsets);
      cpu.writeBlock(blocks.fp);
    } catch {
      return false;
    }
  }
  t.sigmask = b.readBigUInt64LE(296) & ~((1n << 8n) | (1n << 18n));
  restoreAltstack(t, b, 16);
  return true;
}

// ---- arm64 ----------------------------------------------------------------------------

const FRAME = 4688; // sizeof(struct rt_sigframe), already a multiple of 16
const UC = 128;
const MC = UC + 176;
const FPSIMD_MAGIC = 0x46508001;
/** esr_context: the syndrome of the fault the thread last took (thread.fault_code), when it has one */
const ESR_MAGIC = 0x45535201;
const Q0 = 104;

/** The page holding `mov x8, #139; svc #0` (Linux's vDSO sigtramp), if mapped. */
export const SIGTRAMP_CODE = Buffer.from([0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4]);

/** As x86Regs, for arm64. */
let a64Blocks: { state: RegBlock; fp: RegBlock; entry: RegBlock; entryInfo: RegBlock } | null = null;

function a64Regs(): NonNullable<typeof a64Blocks> {
  const x = (n: number): Array<[number, number]> => Array.from({ length: n }, (_, i): [number, number] => [A64.X(i), 8]);
  return (a64Blocks ??= {
    // sigcontext's order: x0 ... x30, sp, pc, pstate
    state: new RegBlock([...x(31), [A64.SP, 8], [A64.PC, 8], [A64.NZCV, 8]]),
    fp: new RegBlock([[A64.FPSR, 4], [A64.FPCR, 4], ...Array.from({ length: 32 }, (_, i): [number, number] => [Q0 + i, 16])]),
    entry: new RegBlock([A64.X(0), A64.SP, A64.X(29), A64.X(30), A64.PC].map((r): [number, number] => [r, 8])),
    entryInfo: new RegBlock([A64.X(0), A64.SP, A64.X(29), A64.X(30), A64.PC, A64.X(1), A64.X(2)].map((r): [number, number] => [r, 8])),
  });
}

function a64Setup(t: Task, sig: number, act: SigAction, info: Buffer, oldMask: bigint): boolean {
  const cpu = t.cpu;
  const blocks = a64Regs();
  const st = cpu.readBlock(blocks.state);
  const sp = Number(st.readBigUInt64LE(8 * 31));
  const saved = { ...t.altstack };
  const { top } = signalStackTop(t, act, sp);
  let next = top - 16;
  next -= next % 16;
  const frame = next - FRAME;
  const b = Buffer.alloc(FRAME);
  info.copy(b, 0, 0, 128);
  u64(b, UC, 0);
  u64(b, UC + 8, 0);
  altstackBytes(t, sp, b, UC + 16, saved);
  u64(b, UC + 40, oldMask);
  u64(b, MC, t.lastFault.address);
  st.copy(b, MC + 8, 0, 8 * 34); // x0-x30, sp, pc, pstate
  const r = MC + 288;
  b.writeUInt32LE(FPSIMD_MAGIC, r);
  b.writeUInt32LE(528, r + 4);
  const fp = cpu.readBlock(blocks.fp);
  const o = blocks.fp.offsets;
  fp.copy(b, r + 8, o[0], o[0] + 4); // fpsr
  fp.copy(b, r + 12, o[1], o[1] + 4); // fpcr
  fp.copy(b, r + 16, o[2], o[2] + 32 * 16); // q0-q31
  // then the ESR record (setup_sigframe_layout: after fpsimd, when fault_code is set)
  if (t.lastFault.esr !== 0) {
    b.writeUInt32LE(ESR_MAGIC, r + 528);
    b.writeUInt32LE(16, r + 532);
    u64(b, r + 536, t.lastFault.esr);
  }
  // a zero header ends the records (already zero)
  const record = Buffer.alloc(16);
  st.copy(record, 0, 8 * 29, 8 * 31); // x29, x30
  const tramp = act.flags & SA_RESTORER ? act.restorer : t.proc.sigtramp;
  if (tramp === 0) return false;
  try {
    t.mm.check(frame, top - frame, PROT_WRITE);
    t.mm.write(frame, b);
    t.mm.write(next, record);
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
  const block = act.flags & SA_SIGINFO ? blocks.entryInfo : blocks.entry;
  const e = block.bytes;
  u64(e, 0, sig);
  u64(e, 8, frame);
  u64(e, 16, next);
  u64(e, 24, tramp);
  u64(e, 32, act.handler);
  if (block === blocks.entryInfo) {
    u64(e, 40, frame);
    u64(e, 48, frame + UC);
  }
  cpu.writeBlock(block);
  return true;
}

function a64Return(t: Task): boolean {
  const cpu = t.cpu;
  const frame = cpu.reg(A64.SP);
  if (frame % 16 !== 0) return false;
  let b: Buffer;
  try {
    b = t.mm.read(frame, FRAME);
  } catch {
    return false;
  }
  const blocks = a64Regs();
  const st = blocks.state.bytes;
  b.copy(st, 0, MC + 8, MC + 8 + 8 * 34); // x0-x30, sp, pc, pstate
  st.writeBigUInt64LE(b.readBigUInt64LE(MC + 272) & 0xf0000000n, 8 * 33); // of pstate, the flags
  cpu.writeBlock(blocks.state);
  // walk the records for the FP/SIMD state
  let off = MC + 288;
  while (off + 8 <= FRAME) {
    const magic = b.readUInt32LE(off);
    const size = b.readUInt32LE(off + 4);
    if (magic === 0 && size === 0) break;
    if (magic === FPSIMD_MAGIC && size >= 528) {
      const fp = blocks.fp.bytes;
      const o = blocks.fp.offsets;
      b.copy(fp, o[0], off + 8, off + 12); // fpsr
      b.copy(fp, o[1], off + 12, off + 16); // fpcr
      b.copy(fp, o[2], off + 16, off + 16 + 32 * 16); // q0-q31
      cpu.writeBlock(blocks.fp);
    }
    if (size < 8 || size % 16 !== 0) break;
    off += size;
  }
  t.sigmask = b.readBigUInt64LE(UC + 40) & ~((1n << 8n) | (1n << 18n));
  restoreAltstack(t, b, UC + 16);
  return true;
}

/** Build the frame and point the task at its handler. False if the frame cannot be written. */
export function deliverFrame(t: Task, sig: number, act: SigAction, info: Buffer, oldMask: bigint): boolean {
  return t.arch.name === 'x86_64' ? x86Setup(t, sig, act, info, oldMask) : a64Setup(t, sig, act, info, oldMask);
}

/** rt_sigreturn: restore the interrupted context from the frame. False on a bad frame. */
export function sigreturn(t: Task): boolean {
  return t.arch.name === 'x86_64' ? x86Return(t) : a64Return(t);
}
