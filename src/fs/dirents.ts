// getdents64(2) for directories elfrun lists itself (tmpfs, devfs, procfs):
// struct linux_dirent64 records (d_ino, d_off, d_reclen, d_type, d_name),
// 8-byte aligned, the same on every arch.
import type { IoContext } from './context.js';
import { PROT_WRITE } from '../abi/mman.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';

/** d_name's offset in struct linux_dirent64 */
const NAME_OFFSET = 19;

/** The record length of an entry named by `nameBytes` bytes: the header, the name, its NUL, to 8 bytes. */
export const direntSize = (nameBytes: number): number => (NAME_OFFSET + nameBytes + 1 + 7) & ~7;

/** Fill a getdents64 buffer from a list of [name, d_type, ino], from position `from.offset`. */
export function writeDirents(t: IoContext, addr: number, len: number, list: Array<[string, number, number]>, from: { offset: number }, setPos: (p: number) => void): number {
  let pos = from.offset;
  let out = 0;
  const recs: Buffer[] = [];
  while (pos < list.length) {
    const [name, type, ino] = list[pos];
    const nb = Buffer.from(name, 'latin1');
    const reclen = direntSize(nb.length);
    if (out + reclen > len) {
      if (out === 0) fail(E.EINVAL);
      break;
    }
    const r = Buffer.alloc(reclen);
    r.writeBigUInt64LE(BigInt(ino), 0);
    r.writeBigInt64LE(BigInt(pos + 1), 8);
    r.writeUInt16LE(reclen, 16);
    r.writeUInt8(type, 18);
    nb.copy(r, NAME_OFFSET);
    recs.push(r);
    out += reclen;
    pos++;
  }
  if (out > 0) {
    t.mm.check(addr, out, PROT_WRITE);
    t.mm.write(addr, Buffer.concat(recs));
  }
  setPos(pos);
  return out;
}

