// Open procfs files and directories: a file's content is made once, when it
// is first read after the open (as Linux's seq_file reads see one snapshot),
// a directory lists its entries through getdents64.
import type { Scratch } from '../host/libc.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { O_ACCMODE, O_RDONLY, SEEK_CUR, SEEK_END, SEEK_SET } from '../abi/fcntl.js';
import { DT_DIR } from '../abi/stat.js';
import { type IoContext } from '../fs/context.js';
import { writeDirents } from '../fs/dirents.js';
import { FileDescription } from '../fs/file.js';
import { hostStatBytes } from '../fs/stat.js';
import { nodeStat, procIno, type ProcNode } from './node.js';

/** An open procfs file or directory: content captured at open, as Linux's seq_file reads do. */
export class ProcFile extends FileDescription {
  private pos = 0;
  private data: Buffer | null = null;
  constructor(
    readonly node: ProcNode,
    flags: number,
  ) {
    super(flags);
  }
  get path(): string {
    return this.node.name;
  }
  private bytes(): Buffer {
    if (this.node.kind !== 'file') fail(E.EISDIR);
    this.data ??= this.node.content();
    return this.data;
  }
  /** the bytes at off of a file read at an offset */
  private at(off: number, len: number): Buffer | null {
    return this.node.kind === 'file' && this.node.at !== undefined ? this.node.at(off, Math.min(len, 1 << 20)) : null;
  }
  override read(t: IoContext, addr: number, len: number): number {
    const a = this.at(this.pos, len);
    if (a !== null) {
      if (a.length > 0) t.mm.write(addr, a);
      this.pos += a.length;
      return a.length;
    }
    const b = this.bytes();
    const n = Math.max(0, Math.min(len, b.length - this.pos));
    if (n > 0) t.mm.write(addr, b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return n;
  }
  override write(t: IoContext, addr: number, len: number): number {
    if ((this.flags & O_ACCMODE) === O_RDONLY) return fail(E.EBADF);
    if (this.node.kind !== 'file' || this.node.write === undefined) return fail(E.EINVAL);
    // Linux's proc writers take one call's bytes at a time; none of them reads more than a page
    const data = t.mm.read(addr, Math.min(len, 4096));
    const n = this.node.write(t, data);
    this.pos += n;
    return n;
  }
  override pwrite(t: IoContext, addr: number, len: number, _off: number): number {
    return this.write(t, addr, len);
  }
  override pread(t: IoContext, addr: number, len: number, off: number): number {
    const a = this.at(off, len);
    if (a !== null) {
      if (a.length > 0) t.mm.write(addr, a);
      return a.length;
    }
    const b = this.bytes();
    const n = Math.max(0, Math.min(len, b.length - off));
    if (n > 0) t.mm.write(addr, b.subarray(off, off + n));
    return n;
  }
  override lseek(off: number, whence: number): number {
    const sized = this.node.kind === 'file' && this.node.at === undefined;
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.pos : whence === SEEK_END && sized ? this.bytes().length : fail(E.EINVAL);
    if (base + off < 0) fail(E.EINVAL);
    this.pos = base + off;
    return this.pos;
  }
  override getdents64(t: IoContext, addr: number, len: number): number {
    if (this.node.kind !== 'dir') fail(E.ENOTDIR);
    const entries: Array<[string, number, number]> = [['.', DT_DIR, 0], ['..', DT_DIR, 0], ...this.node.entries().map(([n, ty]): [string, number, number] => [n, ty, 0])];
    // inode numbers: a hash of the entry's name
    for (const e of entries) e[2] = procIno(e[0]);
    return writeDirents(t, addr, len, entries, { offset: this.pos }, (p) => (this.pos = p));
  }
  override statBytes(t: IoContext): Uint8Array {
    return hostStatBytes(nodeStat(t, this.node));
  }
  override kread(_t: IoContext, s: Scratch, len: number, off: number | null): number {
    const from = off ?? this.pos;
    const a = this.at(from, len);
    if (a !== null) {
      s.bytes.set(a);
      if (off === null) this.pos += a.length;
      return a.length;
    }
    const b = this.bytes();
    const out = b.subarray(from, Math.min(b.length, from + len));
    s.bytes.set(out);
    if (off === null) this.pos += out.length;
    return out.length;
  }
}

export function openProc(n: ProcNode, flags: number): ProcFile {
  if (n.kind === 'link') fail(E.ELOOP);
  // a file with nothing to write opens for writing where its mode lets the caller (root): the write is EINVAL, as Linux's
  if ((flags & O_ACCMODE) !== O_RDONLY && n.kind === 'dir') fail(E.EISDIR);
  return new ProcFile(n, flags);
}
