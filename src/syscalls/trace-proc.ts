// How strace shows the arguments of calls about processes: seccomp(2)'s and
// prctl's PR_SET_SECCOMP (the operation and its flags by name, struct
// sock_fprog as {len, filter}, the action GET_ACTION_AVAIL asks about, the
// sizes GET_NOTIF_SIZES writes), kcmp(2)'s resource types, and
// process_vm_readv/writev's remote iovecs (addresses in another process).
import type { Args } from '../cpu/args.js';
import type { KindDecoder } from './trace-decode.js';
import { type DecodeCtx, at, hexNum, u32, unum } from './trace-prim.js';
import { flagNames } from './trace-names.js';
import { iovText } from './trace-structs.js';

const OPS = ['SECCOMP_SET_MODE_STRICT', 'SECCOMP_SET_MODE_FILTER', 'SECCOMP_GET_ACTION_AVAIL', 'SECCOMP_GET_NOTIF_SIZES'];
const MODES: Record<number, string> = { 1: 'SECCOMP_MODE_STRICT', 2: 'SECCOMP_MODE_FILTER' };
const FILTER_FLAGS: ReadonlyArray<readonly [number, string]> = [
  [1, 'SECCOMP_FILTER_FLAG_TSYNC'], [2, 'SECCOMP_FILTER_FLAG_LOG'], [4, 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'], [8, 'SECCOMP_FILTER_FLAG_NEW_LISTENER'],
  [16, 'SECCOMP_FILTER_FLAG_TSYNC_ESRCH'], [32, 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
];
const ACTIONS: Record<number, string> = {
  0x80000000: 'SECCOMP_RET_KILL_PROCESS', 0: 'SECCOMP_RET_KILL_THREAD', 0x00030000: 'SECCOMP_RET_TRAP', 0x00050000: 'SECCOMP_RET_ERRNO',
  0x7fc00000: 'SECCOMP_RET_USER_NOTIF', 0x7ff00000: 'SECCOMP_RET_TRACE', 0x7ffc0000: 'SECCOMP_RET_LOG', 0x7fff0000: 'SECCOMP_RET_ALLOW',
};

const KCMP = ['KCMP_FILE', 'KCMP_VM', 'KCMP_FILES', 'KCMP_FS', 'KCMP_SIGHAND', 'KCMP_IO', 'KCMP_SYSVSEM', 'KCMP_EPOLL_TFD'];

const ptrText = (a: Args, i: number): string => hexNum(a.big(i)).replace(/^0$/, 'NULL');

/** struct sock_fprog: {len=N, filter=0x...} */
function fprogText(c: DecodeCtx, a: Args, i: number): string {
  const p = a.ptr(i);
  return at(p, () => {
    const b = c.mem.read(p, 16);
    return `{len=${b.readUInt16LE(0)}, filter=${hexNum(b.readBigUInt64LE(8)).replace(/^0$/, 'NULL')}}`;
  });
}

/** iovecs whose bases are another process's: shown as addresses */
function remoteIovText(c: DecodeCtx, a: Args, i: number): string {
  const p = a.ptr(i);
  const n = a.u32(i + 1);
  return at(p, () => {
    const parts: string[] = [];
    for (let j = 0; j < Math.min(n, 32); j++) parts.push(`{iov_base=${hexNum(BigInt(unum(c, p + 16 * j))).replace(/^0$/, 'NULL')}, iov_len=${unum(c, p + 16 * j + 8)}}`);
    return `[${parts.join(', ')}${n > 32 ? ', ...' : ''}]`;
  });
}

export const PROC_KINDS = {
  remoteiov: { in: remoteIovText },
  // process_vm_readv's local iovecs: filled up to the result, or (after an error) as addresses
  localiovout: {
    in: (_c, a, i) => ptrText(a, i),
    out: (c, a, i, ret) => (ret >= 0 ? iovText(c, a.ptr(i), a.i32(i + 1), ret) : remoteIovText(c, a, i)),
    onError: true,
  },
  seccompop: {
    in: (_c, a, i) => OPS[a.u32(i)] ?? `${hexNum(a.u32(i))} /* SECCOMP_SET_MODE_??? */`,
  },
  seccompflags: {
    in: (_c, a, i) => (a.u32(i - 1) === 1 ? flagNames(a.u32(i), FILTER_FLAGS, '0', 'SECCOMP_FILTER_FLAG_???') : hexNum(a.u32(i))),
  },
  seccompargs: {
    in: (c, a, i) => {
      const op = a.u32(i - 2);
      if (op === 1) return fprogText(c, a, i);
      if (op === 2) {
        const p = a.ptr(i);
        return at(p, () => {
          const v = u32(c, p);
          return `[${ACTIONS[v] ?? `${hexNum(v)} /* SECCOMP_RET_??? */`}]`;
        });
      }
      return ptrText(a, i);
    },
    out: (c, a, i) => {
      if (a.u32(i - 2) !== 3) return null;
      const p = a.ptr(i);
      return at(p, () => {
        const b = c.mem.read(p, 6);
        return `{seccomp_notif=${b.readUInt16LE(0)}, seccomp_notif_resp=${b.readUInt16LE(2)}, seccomp_data=${b.readUInt16LE(4)}}`;
      });
    },
  },
  seccompmode: { in: (_c, a, i) => MODES[a.u32(i)] ?? String(a.u32(i)) },
  sockfprog: { in: fprogText },
  kcmptype: { in: (_c, a, i) => KCMP[a.u32(i)] ?? `${hexNum(a.u32(i))} /* KCMP_??? */` },
  // KCMP_EPOLL_TFD's struct kcmp_epoll_slot
  kcmpslot: {
    in: (c, a, i) =>
      at(a.ptr(i), () => {
        const b = c.mem.read(a.ptr(i), 12);
        return `{efd=${b.readUInt32LE(0)}, tfd=${b.readUInt32LE(4)}, toff=${b.readUInt32LE(8)}}`;
      }),
  },
} satisfies Record<string, KindDecoder>;
