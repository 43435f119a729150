// What the trace decoders read (guest memory, the arch, the tracer's options)
// and the pieces every decoder prints with: numbers, quoted strings, sigsets.
import type { ArchName } from '../cpu/arch.js';
import { sigName } from './trace-names.js';

/** The guest memory a decoder reads: an address space, or a test's fake. Both throw on an unreadable address. */
export interface GuestMem {
  read(addr: number, len: number): Buffer;
  cstring(addr: number, max?: number): Buffer;
}

/** Everything a decoder needs beyond the argument registers. */
export interface DecodeCtx {
  mem: GuestMem;
  arch: ArchName;
  /** strace -s: the longest string shown */
  strsize: number;
  /** an fd as strace shows it: with -y, the file behind it in <...> */
  fd(fd: number): string;
  /** the cwd behind AT_FDCWD under -y, else null */
  cwd(): string | null;
}

export const hexNum = (v: number | bigint): string => (v === 0 || v === 0n ? '0' : `0x${v.toString(16)}`);
export const addr = (p: number): string => (p === 0 ? 'NULL' : `0x${p.toString(16)}`);

export const u32 = (c: DecodeCtx, p: number): number => c.mem.read(p, 4).readUInt32LE(0);
export const i32 = (c: DecodeCtx, p: number): number => c.mem.read(p, 4).readInt32LE(0);
export const i64 = (c: DecodeCtx, p: number): bigint => c.mem.read(p, 8).readBigInt64LE(0);
export const u64 = (c: DecodeCtx, p: number): bigint => c.mem.read(p, 8).readBigUInt64LE(0);
export const unum = (c: DecodeCtx, p: number): number => Number(u64(c, p));

/**
 * A structure at p, or its address when it cannot be read (strace's way).
 * NULL for 0; a RangeError for an address past 2^53 (an argument register's
 * Infinity), which the caller shows from the register itself.
 */
export function at(p: number, fn: () => string): string {
  if (p === 0) return 'NULL';
  if (!Number.isFinite(p)) throw new RangeError('an address past 2^53');
  try {
    return fn();
  } catch {
    return `0x${p.toString(16)}`;
  }
}

const ESC: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r', 12: '\\f', 11: '\\v', 34: '\\"', 92: '\\\\' };

/**
 * Bytes as strace quotes them: printable ASCII as is, \n and friends by
 * name, other bytes in octal (\0, or \000 before a digit); every byte in
 * \x escapes with `hex` (what strace does for getrandom's random bytes).
 * "..." follows when the bytes were cut short.
 */
export function quote(b: Uint8Array, more: boolean, hex = false): string {
  let s = '"';
  for (let j = 0; j < b.length; j++) {
    const ch = b[j];
    if (hex) s += `\\x${ch.toString(16).padStart(2, '0')}`;
    else if (ch in ESC) s += ESC[ch];
    else if (ch >= 32 && ch < 127) s += String.fromCharCode(ch);
    else {
      const next = j + 1 < b.length ? b[j + 1] : -1;
      s += `\\${next >= 0x30 && next <= 0x37 ? ch.toString(8).padStart(3, '0') : ch.toString(8)}`;
    }
  }
  return s + '"' + (more ? '...' : '');
}

/** len bytes at p, at most strsize of them shown. */
export function str(c: DecodeCtx, p: number, len: number, hex = false): string {
  const n = Math.min(len, c.strsize);
  return at(p, () => quote(c.mem.read(p, n), len > n, hex));
}

/** The NUL-terminated string at p, at most `max` bytes of it shown (strace -s). */
export function cstr(c: DecodeCtx, p: number, max = c.strsize): string {
  return at(p, () => {
    const b = c.mem.cstring(p, 4096);
    return quote(b.subarray(0, max), b.length > max);
  });
}

/** A signal mask as strace shows it: [INT TERM], or ~[...] for the signals not in it when more than half are. */
export function maskText(m: bigint): string {
  const names: string[] = [];
  let count = 0;
  for (let s = 1; s <= 64; s++) if (m & (1n << BigInt(s - 1))) count++;
  if (count > 32) {
    for (let s = 1; s <= 64; s++) if (!(m & (1n << BigInt(s - 1)))) names.push(sigName(s).replace(/^SIG/, ''));
    return `~[${names.join(' ')}]`;
  }
  for (let s = 1; s <= 64; s++) if (m & (1n << BigInt(s - 1))) names.push(sigName(s).replace(/^SIG/, ''));
  return `[${names.join(' ')}]`;
}

export const sigset = (c: DecodeCtx, p: number): string => at(p, () => maskText(u64(c, p)));

/** The struct timespec (nsec) or timeval (usec) at offset o of b. */
export const timeAt = (b: Buffer, o: number, usec: boolean): string => `{tv_sec=${b.readBigInt64LE(o)}, ${usec ? 'tv_usec' : 'tv_nsec'}=${b.readBigInt64LE(o + 8)}}`;

/** A struct timespec (nsec) or timeval (usec). */
export const timeText = (c: DecodeCtx, p: number, usec: boolean): string => at(p, () => timeAt(c.mem.read(p, 16), 0, usec));

/** An array of n elements at p, each `size` bytes, as strace's print_array shows it (at most strsize, then "..."). */
export function arrayText(c: DecodeCtx, p: number, n: number, size: number, item: (b: Buffer) => string): string {
  return at(p, () => {
    const shown = Math.min(n, c.strsize);
    const b = c.mem.read(p, shown * size);
    const items: string[] = [];
    for (let j = 0; j < shown; j++) items.push(item(b.subarray(j * size, (j + 1) * size)));
    return `[${items.join(', ')}${n > shown ? ', ...' : ''}]`;
  });
}
