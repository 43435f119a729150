// The AIO syscalls' structures as strace prints them: struct iocb (by its
// opcode), io_submit's array of iocb pointers, struct io_event arrays, and
// io_pgetevents' struct __aio_sigset.
import { flagNames, POLL_EVENTS } from './trace-names.js';
import { type DecodeCtx, addr, arrayText, at, hexNum, sigset, str } from './trace-prim.js';
import { iovText } from './trace-structs.js';

const CMDS = ['IOCB_CMD_PREAD', 'IOCB_CMD_PWRITE', 'IOCB_CMD_FSYNC', 'IOCB_CMD_FDSYNC', 'IOCB_CMD_PREADX', 'IOCB_CMD_POLL', 'IOCB_CMD_NOOP', 'IOCB_CMD_PREADV', 'IOCB_CMD_PWRITEV'];
const RWF: ReadonlyArray<readonly [number, string]> = [[1, 'RWF_HIPRI'], [2, 'RWF_DSYNC'], [4, 'RWF_SYNC'], [8, 'RWF_NOWAIT'], [0x10, 'RWF_APPEND'], [0x20, 'RWF_NOAPPEND'], [0x40, 'RWF_ATOMIC'], [0x80, 'RWF_DONTCACHE'], [0x100, 'RWF_NOSIGNAL']];
const IOCB_FLAGS: ReadonlyArray<readonly [number, string]> = [[1, 'IOCB_FLAG_RESFD'], [2, 'IOCB_FLAG_IOPRIO']];
const IOPRIO_CLASSES = ['IOPRIO_CLASS_NONE', 'IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'];

/** An iovec array whose buffers are shown by address (a read's, before it happened). */
function iovAddrs(c: DecodeCtx, p: number, n: number): string {
  return at(p, () => {
    const parts: string[] = [];
    const b = c.mem.read(p, Math.min(n, 32) * 16);
    for (let j = 0; j < Math.min(n, 32); j++) parts.push(`{iov_base=${addr(Number(b.readBigUInt64LE(16 * j)))}, iov_len=${b.readBigUInt64LE(16 * j + 8)}}`);
    return `[${parts.join(', ')}${n > 32 ? ', ...' : ''}]`;
  });
}

/** struct iocb as strace's print_iocb shows it (the fields of its opcode). */
export function iocbText(c: DecodeCtx, p: number, headerOnly = false): string {
  return at(p, () => {
    const b = c.mem.read(p, 64);
    const op = b.readUInt16LE(16);
    const key = b.readUInt32LE(8);
    const rw = b.readUInt32LE(12);
    const prio = b.readInt16LE(18);
    const buf = Number(b.readBigUInt64LE(24));
    const nbytes = b.readBigUInt64LE(32);
    const off = b.readBigInt64LE(40);
    const flags = b.readUInt32LE(56);
    const f = [`aio_data=${hexNum(b.readBigUInt64LE(0))}`];
    if (key !== 0) f.push(`aio_key=${key}`);
    if (rw !== 0) f.push(`aio_rw_flags=${flagNames(rw, RWF, '0', 'RWF_???')}`);
    f.push(`aio_lio_opcode=${CMDS[op] ?? `${op} /* IOCB_CMD_??? */`}`);
    if (prio !== 0) {
      const cls = (prio >> 13) & 7;
      f.push(`aio_reqprio=IOPRIO_PRIO_VALUE(${IOPRIO_CLASSES[cls] ?? `0x${cls.toString(16)} /* IOPRIO_CLASS_??? */`}, ${prio & 0x1fff})`);
    }
    f.push(`aio_fildes=${b.readInt32LE(20)}`);
    // io_cancel's iocb: the header alone, as strace's print_iocb_header
    if (headerOnly) return `{${f.join(', ')}}`;
    switch (op) {
      case 0:
        f.push(`aio_buf=${addr(buf)}`, `aio_nbytes=${nbytes}`, `aio_offset=${off}`);
        break;
      case 1:
        f.push(`aio_buf=${str(c, buf, Number(nbytes))}`, `aio_nbytes=${nbytes}`, `aio_offset=${off}`);
        break;
      case 7:
        f.push(`aio_buf=${iovAddrs(c, buf, Number(nbytes))}`, `aio_offset=${off}`);
        break;
      case 8:
        f.push(`aio_buf=${iovText(c, buf, Number(nbytes))}`, `aio_offset=${off}`);
        break;
      case 5:
        f.push(`aio_buf=${flagNames(buf > 0xffffffff ? 0 : buf, POLL_EVENTS, '0', 'POLL???')}`);
        break;
      default:
        break;
    }
    if (flags !== 0) f.push(`aio_flags=${flagNames(flags, IOCB_FLAGS, '0', 'IOCB_FLAG_???')}`);
    if (flags & 1) f.push(`aio_resfd=${b.readInt32LE(60)}`);
    return `{${f.join(', ')}}`;
  });
}

/** io_submit's array of nr iocb pointers, each iocb shown. */
export function iocbsText(c: DecodeCtx, p: number, nr: number): string {
  if (nr <= 0) return `${nr < 0 ? addr(p) : '[]'}`;
  return arrayText(c, p, nr, 8, (b) => iocbText(c, Number(b.readBigUInt64LE(0))));
}

/** n struct io_event. */
export function ioEventsText(c: DecodeCtx, p: number, n: number): string {
  return arrayText(c, p, n, 32, (b) => `{data=${hexNum(b.readBigUInt64LE(0))}, obj=${hexNum(b.readBigUInt64LE(8))}, res=${b.readBigInt64LE(16)}, res2=${b.readBigInt64LE(24)}}`);
}

/** struct __aio_sigset {sigmask, sigsetsize}. */
export function aioSigsetText(c: DecodeCtx, p: number): string {
  return at(p, () => {
    const b = c.mem.read(p, 16);
    const m = Number(b.readBigUInt64LE(0));
    const size = b.readBigUInt64LE(8);
    return `{sigmask=${size === 8n ? sigset(c, m) : addr(m)}, sigsetsize=${size}}`;
  });
}
