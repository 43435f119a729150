// The futex calls' encoded arguments as strace prints them: FUTEX_WAKE_OP's
// operation word and futex_waitv's vector of struct futex_waitv.
import { flagNames } from './trace-names.js';
import { type DecodeCtx, addr, at, hexNum } from './trace-prim.js';

const WAKE_OPS = ['FUTEX_OP_SET', 'FUTEX_OP_ADD', 'FUTEX_OP_OR', 'FUTEX_OP_ANDN', 'FUTEX_OP_XOR'];
const WAKE_CMPS = ['FUTEX_OP_CMP_EQ', 'FUTEX_OP_CMP_NE', 'FUTEX_OP_CMP_LT', 'FUTEX_OP_CMP_LE', 'FUTEX_OP_CMP_GT', 'FUTEX_OP_CMP_GE'];
// (strace names the size FUTEX_32 as a flag bit, and no other size or flag)
const WAITV_FLAGS: ReadonlyArray<readonly [number, string]> = [[0x02, 'FUTEX_32'], [0x80, 'FUTEX_PRIVATE_FLAG']];

/** FUTEX_WAKE_OP's val3: op<<28|oparg<<12|cmp<<24|cmparg, as strace spells it. */
export function wakeOpText(v: number): string {
  const op = v >>> 28;
  const shift = op & 8 ? 'FUTEX_OP_OPARG_SHIFT<<28|' : '';
  const cmp = (v >>> 24) & 0xf;
  const opText = WAKE_OPS[op & 7] !== undefined ? `${WAKE_OPS[op & 7]}<<28` : `${hexNum(op & 7)}<<28 /* FUTEX_OP_??? */`;
  const cmpText = WAKE_CMPS[cmp] !== undefined ? `${WAKE_CMPS[cmp]}<<24` : `${hexNum(cmp)}<<24 /* FUTEX_OP_CMP_??? */`;
  return `${shift}${opText}|${hexNum((v >>> 12) & 0xfff)}<<12|${cmpText}|${hexNum(v & 0xfff)}`;
}

/** futex_waitv's vector of n entries (val, uaddr, flags). */
export function waitvText(c: DecodeCtx, p: number, n: number): string {
  if (n === 0) return '[]';
  return at(p, () => {
    const shown = Math.min(n, 32);
    const b = c.mem.read(p, shown * 24);
    const parts: string[] = [];
    for (let i = 0; i < shown; i++) {
      const o = 24 * i;
      const f = flagNames(b.readUInt32LE(o + 16), WAITV_FLAGS, '0', 'FUTEX_???');
      const reserved = b.readUInt32LE(o + 20);
      parts.push(`{val=${hexNum(Number(b.readBigUInt64LE(o)))}, uaddr=${addr(Number(b.readBigUInt64LE(o + 8)))}, flags=${f}${reserved ? `, __reserved=${hexNum(reserved)}` : ''}}`);
    }
    return `[${parts.join(', ')}${n > shown ? ', ...' : ''}]`;
  });
}
