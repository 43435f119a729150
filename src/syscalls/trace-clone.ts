// strace's decoding of clone3's struct clone_args: the flags by name, the
// fields the flags use (pidfd, child_tid, parent_tid, tls), exit_signal,
// stack and stack_size always, set_tid and cgroup when set, the bytes past
// the struct elfrun knows; and on return what the kernel wrote
// (=> {pidfd=[N], parent_tid=[N]}).
import { CLONEF, sigName } from './trace-names.js';
import { type DecodeCtx, addr, at, i32, quote } from './trace-prim.js';

/** clone's flag names, and clone3's two past 32 bits */
const FLAGS: Array<[bigint, string]> = [...CLONEF.map(([bit, name]): [bigint, string] => [BigInt(bit >>> 0), name]), [0x100000000n, 'CLONE_CLEAR_SIGHAND'], [0x200000000n, 'CLONE_INTO_CGROUP']];

function flagsText(f: bigint): string {
  const out: string[] = [];
  let rest = f;
  for (const [bit, name] of FLAGS) {
    if (rest & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(out.length === 0 ? `0x${rest.toString(16)} /* CLONE_??? */` : `0x${rest.toString(16)}`);
  return out.length ? out.join('|') : '0';
}

const hex = (v: bigint): string => (v === 0n ? '0' : `0x${v.toString(16)}`);
const ptr = (v: bigint): string => (v === 0n ? 'NULL' : `0x${v.toString(16)}`);

/** The struct at p of `size` bytes as strace shows it (the address for a size below the first version's or an unreadable one). */
export function cloneArgsText(c: DecodeCtx, p: number, whole: number): string {
  if (whole < 64) return addr(p);
  // strace reads at most a page of a larger one
  const size = Math.min(whole, 4096);
  return at(p, () => {
    const b = c.mem.read(p, size);
    const u = (i: number): bigint => (8 * i + 8 <= size ? b.readBigUInt64LE(8 * i) : 0n);
    const [flags, pidfd, childTid, parentTid, exitSignal, stack, stackSize, tls, setTid, setTidSize, cgroup] = Array.from({ length: 11 }, (_, i) => u(i));
    const parts = [`flags=${flagsText(flags)}`];
    if (flags & 0x1000n) parts.push(`pidfd=${ptr(pidfd)}`);
    if (flags & 0x1200000n) parts.push(`child_tid=${ptr(childTid)}`);
    if (flags & 0x100000n) parts.push(`parent_tid=${ptr(parentTid)}`);
    parts.push(`exit_signal=${exitSignal > 0n && exitSignal <= 64n ? sigName(Number(exitSignal)) : exitSignal.toString()}`);
    parts.push(`stack=${ptr(stack)}`, `stack_size=${hex(stackSize)}`);
    if (flags & 0x80000n) parts.push(`tls=${ptr(tls)}`);
    if (size > 64 && (setTid !== 0n || setTidSize !== 0n)) parts.push(`set_tid=${ptr(setTid)}`, `set_tid_size=${setTidSize}`);
    if (size > 80 && (cgroup !== 0n || flags & 0x200000000n)) parts.push(`cgroup=${cgroup}`);
    if (size > 88) {
      const tail = b.subarray(88);
      if (tail.some((x) => x !== 0)) parts.push(`/* bytes 88..${size - 1} */ ${quote(tail.subarray(0, c.strsize), tail.length > c.strsize, true)}`);
    }
    return `{${parts.join(', ')}}`;
  });
}

/** What the kernel wrote back, after a successful clone3: the pidfd and the parent's tid. */
export function cloneArgsOut(c: DecodeCtx, p: number, size: number): string {
  const text = cloneArgsText(c, p, size);
  if (size < 64 || !text.startsWith('{')) return text;
  const b = c.mem.read(p, 32);
  const flags = b.readBigUInt64LE(0);
  const out: string[] = [];
  if (flags & 0x1000n) out.push(`pidfd=${at(Number(b.readBigUInt64LE(8)), () => `[${i32(c, Number(b.readBigUInt64LE(8)))}]`)}`);
  if (flags & 0x100000n) out.push(`parent_tid=${at(Number(b.readBigUInt64LE(24)), () => `[${i32(c, Number(b.readBigUInt64LE(24)))}]`)}`);
  return out.length ? `${text} => {${out.join(', ')}}` : text;
}
