// Typed views of the six syscall argument registers. Registers arrive as
// lo/hi uint32 pairs (slot 0 is the syscall number), so 64-bit values stay
// exact and no BigInt is made unless a handler asks for one.
export class Args {
  regs: Uint32Array = new Uint32Array(16);

  /** raw low 32 bits, as a signed int (fds, ints, flags that fit in int) */
  i32(n: number): number {
    return this.regs[2 * n + 2] | 0;
  }
  /** unsigned 32 bits (flags, modes) */
  u32(n: number): number {
    return this.regs[2 * n + 2];
  }
  /** unsigned 64 bits as a number; values above 2^53 come back as Infinity (never a valid pointer or size) */
  u64(n: number): number {
    const hi = this.regs[2 * n + 3];
    return hi >= 0x200000 ? Infinity : hi * 0x100000000 + this.regs[2 * n + 2];
  }
  /** a guest pointer: same as u64 (an impossible address fails the memory checks with EFAULT) */
  ptr(n: number): number {
    return this.u64(n);
  }
  /** signed 64 bits as a number (offsets); exact within +-2^53 */
  i64(n: number): number {
    return (this.regs[2 * n + 3] | 0) * 0x100000000 + this.regs[2 * n + 2];
  }
  /** size_t length: lengths above 2^53 are clamped (the checks that use them fail the same way) */
  size(n: number): number {
    return Math.min(this.u64(n), Number.MAX_SAFE_INTEGER);
  }
  big(n: number): bigint {
    return (BigInt(this.regs[2 * n + 3]) << 32n) | BigInt(this.regs[2 * n + 2]);
  }
  get nr(): number {
    return this.regs[1] !== 0 ? -1 : this.regs[0];
  }
}

/** A handler's result meaning "the registers are already set, or the task is parked": write nothing. */
export const NORETURN = Number.MIN_SAFE_INTEGER;
