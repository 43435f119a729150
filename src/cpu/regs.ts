// Registers read or written many at a time, in one FFI call each way:
// RegBatch is an engine's scratch for a varying list (the syscall's argument
// and result registers), RegBlock a fixed list shared by every engine (a
// signal frame's registers).
import { PAGE } from '../mm/layout.js';
import { Scratch } from '../host/libc.js';

/** at most this many registers in one RegBatch */
export const MAX_BATCH = 40;

/** Native scratch for batch register access: ids, pointer array, values. */
export class RegBatch {
  readonly ids: Int32Array;
  readonly vals: Uint32Array;
  readonly idsAddr: number;
  readonly ptrsAddr: number;
  readonly valsAddr: number;
  count = 0;
  constructor(scratch: Scratch, base: number) {
    this.idsAddr = scratch.addr + base;
    this.ptrsAddr = this.idsAddr + 256;
    this.valsAddr = this.ptrsAddr + 8 * MAX_BATCH;
    this.ids = new Int32Array(scratch.bytes.buffer, base, MAX_BATCH);
    this.vals = new Uint32Array(scratch.bytes.buffer, base + 256 + 8 * MAX_BATCH, MAX_BATCH * 2);
    const ptrs = new BigUint64Array(scratch.bytes.buffer, base + 256, MAX_BATCH);
    for (let i = 0; i < MAX_BATCH; i++) ptrs[i] = BigInt(this.valsAddr + 8 * i);
  }
  setIds(ids: number[]): void {
    this.ids.set(ids);
    this.count = ids.length;
  }
}

/**
 * A fixed list of registers that are read or written together, in one
 * uc_reg_read_batch / uc_reg_write_batch call: register i at `offsets[i]` of
 * `bytes` (native memory). A signal frame holds 25 to 70 registers, and one
 * FFI call each way per register was most of a delivery's cost. Blocks hold
 * no engine state: a module makes each of its lists once, for every engine.
 */
export class RegBlock {
  /** the register values, each at its offset, as many bytes as the register has */
  readonly bytes: Buffer;
  readonly offsets: readonly number[];
  readonly count: number;
  readonly idsAddr: number;
  readonly ptrsAddr: number;
  constructor(regs: ReadonlyArray<readonly [id: number, size: number]>) {
    this.count = regs.length;
    const offsets: number[] = [];
    let size = 0;
    for (const [, n] of regs) {
      size = Math.ceil(size / n) * n;
      offsets.push(size);
      size += n;
    }
    this.offsets = offsets;
    // ids (int32), then the pointer array, then the values
    const ptrsOff = Math.ceil((4 * this.count) / 16) * 16;
    const valsOff = ptrsOff + Math.ceil((8 * this.count) / 16) * 16;
    const scratch = new Scratch(Math.ceil((valsOff + size) / PAGE) * PAGE);
    this.idsAddr = scratch.addr;
    this.ptrsAddr = scratch.addr + ptrsOff;
    const ids = new Int32Array(scratch.bytes.buffer, 0, this.count);
    const ptrs = new BigUint64Array(scratch.bytes.buffer, ptrsOff, this.count);
    regs.forEach(([id], i) => {
      ids[i] = id;
      ptrs[i] = BigInt(scratch.addr + valsOff + offsets[i]);
    });
    this.bytes = Buffer.from(scratch.bytes.buffer, valsOff, size);
  }
}
