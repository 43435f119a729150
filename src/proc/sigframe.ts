// Signal frames, byte for byte as Linux builds them (handlers read them):
// x86_64 arch/x86/kernel/signal_64.c, arm64 arch/arm64/kernel/signal.c.
import type { Task } from './task.js';
import type { SigAction } from './process.js';
import { X86 } from '../cpu/x86_64.js';
import { A64 } from '../cpu/arm64.js';
import { PROT_WRITE } from '../mm/address-space.js';
import { SysError } from '../syscalls/errno.js';

const SA_SIGINFO = 4;
const SA_ONSTACK = 0x08000000;
const SA_RESTORER = 0x04000000;
const SS_ONSTACK = 1;
const SS_DISABLE = 2;
const SS_AUTODISARM = 1 << 31;

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
const MXCSR = 249;
const FPCW = 246;
const FPSW = 31;
const FIX_EFLAGS = 0x50dd5n; // AC OF DF TF SF ZF AF PF CF RF
const UC_SIZE = 304;

function x86Setup(t: Task, sig: number, act: SigAction, info: Buffer, oldMask: bigint): boolean {
  const cpu = t.cpu;
  const regs = X86_GPRS.map((r) => cpu.regBig(r));
  const rsp = Number(regs[15]);
  if (!(act.flags & SA_RESTORER)) return false; // x86_64 Linux needs the libc's restorer
  const saved = { ...t.altstack };
  const { top } = signalStackTop(t, act, rsp - 128 /* skip the red zone; not on a fresh alternate stack */);
  const fpAddr = (top - 512) - ((top - 512) % 64);
  let frame = fpAddr - (8 + UC_SIZE + 128);
  frame = frame - (frame % 16) - 8; // align_sigframe: as if a call had pushed the return address
  const b = Buffer.alloc(8 + UC_SIZE + 128);
  u64(b, 0, act.restorer);
  const uc = 8;
  u64(b, uc, 6); // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
  u64(b, uc + 8, 0);
  altstackBytes(t, rsp, b, uc + 16, saved);
  const sc = uc + 40;
  regs.forEach((v, i) => u64(b, sc + 8 * i, v));
  b.writeUInt16LE(0x33, sc + 144); // cs
  b.writeUInt16LE(0x2b, sc + 150); // ss
  u64(b, sc + 168, oldMask); // oldmask (legacy: low word of the mask)
  u64(b, sc + 184, fpAddr);
  u64(b, uc + 296, oldMask);
  info.copy(b, uc + UC_SIZE, 0, 128);
  const fx = Buffer.alloc(512);
  fx.writeUInt16LE(Number(cpu.regBig(FPCW)) & 0xffff, 0);
  fx.writeUInt16LE(Number(cpu.regBig(FPSW)) & 0xffff, 2);
  fx.writeUInt32LE(Number(cpu.regBig(MXCSR)) >>> 0, 24);
  fx.writeUInt32LE(0xffff, 28); // MXCSR_MASK
  for (let i = 0; i < 16; i++) fx.set(cpu.regBytes(XMM0 + i, 16), 160 + 16 * i);
  try {
    t.mm.check(frame, fpAddr + 512 - frame, PROT_WRITE);
    t.mm.write(fpAddr, fx);
    t.mm.write(frame, b);
  } catch (e) {
    if (e instanceof SysError) return false;
    throw e;
  }
  const flags = (regs[17] & ~0x10500n) | 0x2n; // clear TF, DF, RF
  cpu.setReg(X86.RDI, sig);
  cpu.setReg(X86.RSI, frame + uc + UC_SIZE);
  cpu.setReg(X86.RDX, frame + uc);
  cpu.setReg(X86.RAX, 0);
  cpu.setReg(X86.RSP, frame);
  cpu.setReg(X86.EFLAGS, flags);
  cpu.setReg(X86.RIP, act.handler);
  return true;
}

function x86Return(t: Task): boolean {
  const cpu = t.cpu;
  const uc = cpu.reg(X86.RSP); // the restorer's `ret` popped pretcode: rsp points at uc
  let b: Buffer;
  try {
    b = t.mm.read(uc, UC_SIZE);
  } catch {
    return false;
  }
  const sc = 40;
  X86_GPRS.forEach((r, i) => {
    const v = b.readBigUInt64LE(sc + 8 * i);
    if (r === X86.EFLAGS) cpu.setReg(r, (cpu.regBig(r) & ~FIX_EFLAGS) | (v & FIX_EFLAGS));
    else cpu.setReg(r, v);
  });
  const fpAddr = Number(b.readBigUInt64LE(sc + 184));
  if (fpAddr !== 0) {
    try {
      const fx = t.mm.read(fpAddr, 512);
      cpu.setReg(FPCW, fx.readUInt16LE(0));
      cpu.setReg(MXCSR, fx.readUInt32LE(24) & 0xffff);
      for (let i = 0; i < 16; i++) cpu.setRegBytes(XMM0 + i, fx.subarray(160 + 16 * i, 176 + 16 * i));
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
const Q0 = 104;

/** The page holding `mov x8, #139; svc #0` (Linux's vDSO sigtramp), if mapped. */
export const SIGTRAMP_CODE = Buffer.from([0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4]);

function a64Setup(t: Task, sig: number, act: SigAction, info: Buffer, oldMask: bigint): boolean {
  const cpu = t.cpu;
  const x = Array.from({ length: 31 }, (_, i) => cpu.regBig(A64.X(i)));
  const sp = cpu.reg(A64.SP);
  const pc = cpu.regBig(A64.PC);
  const pstate = cpu.regBig(A64.NZCV);
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
  u64(b, MC, 0); // fault_address
  x.forEach((v, i) => u64(b, MC + 8 + 8 * i, v));
  u64(b, MC + 256, sp);
  u64(b, MC + 264, pc);
  u64(b, MC + 272, pstate);
  const r = MC + 288;
  b.writeUInt32LE(FPSIMD_MAGIC, r);
  b.writeUInt32LE(528, r + 4);
  b.writeUInt32LE(Number(cpu.regBig(A64.FPSR)) >>> 0, r + 8);
  b.writeUInt32LE(Number(cpu.regBig(A64.FPCR)) >>> 0, r + 12);
  for (let i = 0; i < 32; i++) b.set(cpu.regBytes(Q0 + i, 16), r + 16 + 16 * i);
  // a zero header ends the records (already zero)
  const record = Buffer.alloc(16);
  u64(record, 0, x[29]);
  u64(record, 8, x[30]);
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
  cpu.setReg(A64.X(0), sig);
  if (act.flags & SA_SIGINFO) {
    cpu.setReg(A64.X(1), frame);
    cpu.setReg(A64.X(2), frame + UC);
  }
  cpu.setReg(A64.SP, frame);
  cpu.setReg(A64.X(29), next);
  cpu.setReg(A64.X(30), tramp);
  cpu.setReg(A64.PC, act.handler);
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
  for (let i = 0; i < 31; i++) cpu.setReg(A64.X(i), b.readBigUInt64LE(MC + 8 + 8 * i));
  cpu.setReg(A64.SP, b.readBigUInt64LE(MC + 256));
  cpu.setReg(A64.PC, b.readBigUInt64LE(MC + 264));
  cpu.setReg(A64.NZCV, b.readBigUInt64LE(MC + 272) & 0xf0000000n);
  // walk the records for the FP/SIMD state
  let off = MC + 288;
  while (off + 8 <= FRAME) {
    const magic = b.readUInt32LE(off);
    const size = b.readUInt32LE(off + 4);
    if (magic === 0 && size === 0) break;
    if (magic === FPSIMD_MAGIC && size >= 528) {
      cpu.setReg(A64.FPSR, b.readUInt32LE(off + 8));
      cpu.setReg(A64.FPCR, b.readUInt32LE(off + 12));
      for (let i = 0; i < 32; i++) cpu.setRegBytes(Q0 + i, b.subarray(off + 16 + 16 * i, off + 32 + 16 * i));
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
