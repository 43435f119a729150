// GuestMemory: the kernel's access to guest memory through an address
// space's VMAs: ranges checked against their protection (EFAULT), copied in
// and out piece by piece, scalars, NUL-terminated strings, host addresses of
// ranges within one VMA, and the loader's writes through any protection.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { mappedEnd, type Vma } from './vma.js';
import { VmaSet } from './vma-set.js';

export class GuestMemory extends VmaSet {
  /**
   * Calls fn(hostAddr, len, doneSoFar) for each host-contiguous piece of
   * [addr, addr+len); every byte must be mapped with `prot`, else EFAULT
   * before any piece is visited.
   */
  pieces(addr: number, len: number, prot: number, fn: (host: number, n: number, done: number) => boolean | void): void {
    if (len === 0) return;
    this.check(addr, len, prot);
    this.eachPiece(addr, len, fn);
  }

  /**
   * As pieces, over the part of [addr, addr+len) that is accessible from
   * its start (a copy to or from user memory stops at the first bad byte,
   * as on Linux): its length, or EFAULT if no byte of a non-empty range is.
   */
  prefixPieces(addr: number, len: number, prot: number, fn: (host: number, n: number, done: number) => boolean | void): number {
    const ok = this.accessiblePrefix(addr, len, prot);
    if (ok === 0 && len > 0) fail(E.EFAULT);
    this.eachPiece(addr, ok, fn);
    return ok;
  }

  /** fn for each host-contiguous piece of [addr, addr+len), which the caller has found mapped. */
  private eachPiece(addr: number, len: number, fn: (host: number, n: number, done: number) => boolean | void): void {
    let a = addr;
    let done = 0;
    while (done < len) {
      const v = this.find(a)!;
      const n = Math.min(v.end - a, len - done);
      if (fn(v.hostAddr(a), n, done) === false) return;
      a += n;
      done += n;
    }
  }

  /**
   * How many bytes from addr on are mapped with prot, up to len: where a
   * copy to or from user memory stops (Linux's copy_to_user/copy_from_user
   * copy what they can and report the rest).
   */
  accessiblePrefix(addr: number, len: number, prot: number): number {
    if (!(addr >= 0) || !Number.isSafeInteger(addr)) return 0;
    const end = Math.min(addr + len, this.layout.taskSize);
    let a = addr;
    while (a < end) {
      const v = this.find(a);
      if (v === null || (v.prot & prot) !== prot) break;
      const from = a;
      const e = Math.min(end, v.end);
      const pastEof = v.off + (e - v.start) > v.chunk.valid && this.pastEof(v, e);
      // pages of a shared file mapping past EOF: the kernel's own access gets EFAULT
      a = pastEof ? Math.max(a, Math.min(e, mappedEnd(v, v.chunk.valid))) : e;
      if (prot & PROT_WRITE && v.prot & PROT_EXEC && a > from) this.backend.codeWrite?.(from, a - from);
      // the kernel's store is a first touch too (charged under --max-memory)
      if (prot & PROT_WRITE && v.chunk.lazy !== null && a > from) this.touchLazy(v, from, a - from);
      if (pastEof) break;
    }
    return a - addr;
  }

  /** EFAULT unless all of [addr, addr+len) is mapped with prot. */
  check(addr: number, len: number, prot: number): void {
    if (!(addr >= 0) || addr + len > this.layout.taskSize || !Number.isSafeInteger(addr)) fail(E.EFAULT);
    if (this.accessiblePrefix(addr, len, prot) !== len) fail(E.EFAULT);
  }

  /**
   * Zero [addr, addr+len) if it lies within one VMA with prot (a small read
   * of /dev/zero): done in JS, no call into libc. False, and nothing written,
   * otherwise.
   */
  zeroWithin(addr: number, len: number, prot: number): boolean {
    const v = this.within(addr, len, prot);
    if (v === null) return false;
    v.chunk.zero(v.off + (addr - v.start), len);
    return true;
  }

  /** Host address of a range that lies within one VMA, or -1. */
  hostRange(addr: number, len: number, prot: number): number {
    return this.within(addr, len, prot)?.hostAddr(addr) ?? -1;
  }

  /**
   * The VMA that holds all of [addr, addr+len) with prot (and, for a file,
   * within its size), or null. Asked with PROT_WRITE, the caller is about to
   * store there: the backend hears of it if the VMA is executable.
   */
  private within(addr: number, len: number, prot: number): Vma | null {
    const v = this.find(addr);
    if (v === null || addr + len > v.end || (v.prot & prot) !== prot) return null;
    if (v.off + (addr + len - v.start) > v.chunk.valid && this.pastEof(v, addr + len)) return null;
    if (prot & PROT_WRITE && v.prot & PROT_EXEC) this.backend.codeWrite?.(addr, len);
    if (prot & PROT_WRITE && v.chunk.lazy !== null && len > 0) this.touchLazy(v, addr, len);
    return v;
  }

  read(addr: number, len: number): Buffer {
    const out = Buffer.allocUnsafe(len);
    this.pieces(addr, len, PROT_READ, (_h, n, done) => {
      const v = this.find(addr + done)!;
      const o = v.off + (addr + done - v.start);
      out.set(v.chunk.range(o, n), done);
    });
    return out;
  }

  write(addr: number, data: Uint8Array): void {
    this.pieces(addr, data.length, PROT_WRITE, (_h, n, done) => {
      const v = this.find(addr + done)!;
      v.chunk.range(v.off + (addr + done - v.start), n).set(data.subarray(done, done + n));
    });
  }

  /** Write ignoring protections (the kernel's own writes: loader, initial stack). */
  poke(addr: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const v = this.find(addr + done);
      if (v === null) throw new Error(`poke into unmapped guest memory at 0x${(addr + done).toString(16)}`);
      const n = Math.min(v.end - (addr + done), data.length - done);
      if (this.pastEof(v, addr + done + n)) throw new Error(`poke past the end of a mapped file at 0x${(addr + done).toString(16)}`);
      if (v.prot & PROT_EXEC) this.backend.codeWrite?.(addr + done, n);
      v.chunk.range(v.off + (addr + done - v.start), n).set(data.subarray(done, done + n));
      done += n;
    }
  }

  /** A DataView and offset for an aligned scalar access; EFAULT if not mapped. */
  private scalar(addr: number, size: number, prot: number): [DataView, number] {
    const v = this.find(addr);
    if (v === null || addr + size > v.end || (v.prot & prot) !== prot || v.off + (addr + size - v.start) > v.chunk.valid) {
      this.check(addr, size, prot); // throws EFAULT if really bad
      // straddles two VMAs: fall back to a copy (a small Buffer is a slice of a shared pool)
      const b = this.read(addr, size);
      return [new DataView(b.buffer, b.byteOffset, b.byteLength), 0];
    }
    return v.chunk.viewAt(v.off + (addr - v.start), size);
  }

  u8(addr: number): number {
    const [dv, o] = this.scalar(addr, 1, PROT_READ);
    return dv.getUint8(o);
  }
  u32(addr: number): number {
    const [dv, o] = this.scalar(addr, 4, PROT_READ);
    return dv.getUint32(o, true);
  }
  i32(addr: number): number {
    const [dv, o] = this.scalar(addr, 4, PROT_READ);
    return dv.getInt32(o, true);
  }
  /** A 64-bit value as a number (exact below 2^53). */
  u64(addr: number): number {
    const [dv, o] = this.scalar(addr, 8, PROT_READ);
    return dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 0x100000000;
  }
  i64(addr: number): number {
    const [dv, o] = this.scalar(addr, 8, PROT_READ);
    return dv.getUint32(o, true) + dv.getInt32(o + 4, true) * 0x100000000;
  }
  big64(addr: number): bigint {
    const [dv, o] = this.scalar(addr, 8, PROT_READ);
    return dv.getBigUint64(o, true);
  }

  setU32(addr: number, val: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(val >>> 0);
    this.write(addr, b);
  }
  setI32(addr: number, val: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32LE(val | 0);
    this.write(addr, b);
  }
  setU64(addr: number, val: number | bigint): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(val)));
    this.write(addr, b);
  }

  /** A NUL-terminated string of at most max bytes (ENAMETOOLONG past it). */
  cstring(addr: number, max = 4096): Buffer {
    const parts: Buffer[] = [];
    let total = 0;
    let a = addr;
    for (;;) {
      const v = this.find(a);
      if (v === null || (v.prot & PROT_READ) === 0) fail(E.EFAULT);
      let lim = mappedEnd(v, v.chunk.valid);
      if (a >= lim && !this.pastEof(v, a + 1)) lim = mappedEnd(v, v.chunk.valid);
      if (a >= lim) fail(E.EFAULT);
      const o = v.off + (a - v.start);
      const avail = Math.min(lim - a, max - total + 1);
      const seg = v.chunk.range(o, avail);
      const nul = seg.indexOf(0);
      const take = nul >= 0 ? nul : avail;
      if (total + take >= max) fail(E.ENAMETOOLONG);
      parts.push(Buffer.from(seg.subarray(0, take)));
      total += take;
      if (nul >= 0) break;
      a += avail;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}
