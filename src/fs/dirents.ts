// getdents64(2) for directories elfrun lists itself (tmpfs, devfs, procfs):
// struct linux_dirent64 records (d_ino, d_off, d_reclen, d_type, d_name),
// 8-byte aligned, the same on every arch; and x86_64's old getdents(2)
// records made from them.
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

/**
 * getdents(2)'s records from getdents64's, in place: struct linux_dirent
 * (d_ino, d_off, d_reclen, d_name, NUL, d_type in the record's last byte).
 * Both are 8-byte aligned and a name needs the same length in each (18 +
 * name + 2 bytes against 19 + name + 1), so the entries that fit, EINVAL
 * for a buffer too small for the first and EFAULT are getdents64's. A
 * 64-bit d_ino always fits: no EOVERFLOW on x86_64.
 */
export function toOldDirents(b: Buffer): Buffer {
  for (let off = 0; off + NAME_OFFSET <= b.length; ) {
    const reclen = b.readUInt16LE(off + 16);
    if (reclen === 0) break;
    const type = b[off + 18];
    const end = b.indexOf(0, off + NAME_OFFSET);
    const nameEnd = end < 0 || end > off + reclen ? off + reclen - 1 : end;
    b.copyWithin(off + 18, off + NAME_OFFSET, nameEnd);
    b.fill(0, nameEnd - 1, off + reclen - 1);
    b[off + reclen - 1] = type;
    off += reclen;
  }
  return b;
}
