// Open tmpfs files: a regular file (its bytes in the node's host memfd, with
// its own offset, RLIMIT_FSIZE and O_APPEND as Linux applies them) and a
// directory (getdents64 over a snapshot of its entries).
import { host, type Scratch } from '../host/libc.js';
import { PROT_READ, PROT_WRITE } from '../abi/mman.js';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { F_SEAL_FUTURE_WRITE, F_SEAL_WRITE, O_APPEND, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../abi/fcntl.js';
import { SIG } from '../abi/signal.js';
import { DT_DIR } from '../abi/stat.js';
import type { IoContext } from './context.js';
import { writeDirents } from './dirents.js';
import { FileDescription } from './file.js';
import type { TmpNode } from './tmpfs.js';
import { chk, transfer } from './transfer.js';
import { nowTs } from './vfs.js';

/** An open tmpfs file: its own offset over the node's bytes. */
export class TmpFile extends FileDescription {
  private pos = 0;
  constructor(
    readonly node: TmpNode,
    flags: number,
  ) {
    super(flags);
    node.opens++;
  }
  override get hostFd(): number {
    return this.node.fd();
  }
  override identity(): { dev: bigint; ino: bigint } {
    return { dev: BigInt(this.node.fs.dev), ino: BigInt(this.node.ino) };
  }
  override sharedMapWritable(prot: number): boolean {
    if (this.node.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
      if (prot & PROT_WRITE) fail(E.EPERM);
      return false;
    }
    return this.writable;
  }
  override read(t: IoContext, addr: number, len: number): number {
    const n = this.pread(t, addr, len, this.pos);
    this.pos += n;
    return n;
  }
  override pread(t: IoContext, addr: number, len: number, off: number): number {
    const node = this.node;
    node.touchAtime();
    const n = Math.max(0, Math.min(len, node.size - off));
    if (n === 0) return 0;
    if (node.memfd < 0) {
      t.mm.write(addr, new Uint8Array(n));
      return n;
    }
    return transfer(t.mm, addr, n, PROT_WRITE, (h, k, done) => host.pread(node.memfd, h, k, off + done));
  }
  override write(t: IoContext, addr: number, len: number): number {
    if (this.flags & O_APPEND) this.pos = this.node.size;
    const n = this.pwrite(t, addr, len, this.pos);
    this.pos += n;
    return n;
  }
  override pwrite(t: IoContext, addr: number, len: number, off: number): number {
    const node = this.node;
    if (len === 0) return 0;
    const limit = Number((t.rlimits[1]?.[0] ?? -1n) < 0n ? Infinity : t.rlimits[1][0]); // RLIMIT_FSIZE
    if (off >= limit) {
      t.raise(SIG.SIGXFSZ);
      fail(E.EFBIG);
    }
    len = node.writable(off, Math.min(len, limit - off));
    const fd = node.fd();
    const n = transfer(t.mm, addr, len, PROT_READ, (h, k, done) => host.pwrite(fd, h, k, off + done));
    node.remeasure();
    node.size = Math.max(node.size, off + n);
    node.mtime = node.ctime = nowTs();
    return n;
  }
  override lseek(off: number, whence: number): number {
    const size = this.node.size;
    let p: number;
    switch (whence) {
      case SEEK_SET:
        p = off;
        break;
      case SEEK_CUR:
        p = this.pos + off;
        break;
      case SEEK_END:
        p = size + off;
        break;
      case SEEK_DATA:
      case SEEK_HOLE:
        if (off < 0) fail(E.ENXIO);
        if (off >= size) fail(E.ENXIO);
        p = this.node.memfd < 0 ? (whence === SEEK_DATA ? fail(E.ENXIO) : size) : chk(host.lseek(this.node.memfd, off, whence));
        break;
      default:
        return fail(E.EINVAL);
    }
    if (p < 0) fail(E.EINVAL);
    this.pos = p;
    return p;
  }
  override kread(_t: IoContext, s: Scratch, len: number, off: number | null): number {
    const node = this.node;
    const from = off ?? this.pos;
    const n = Math.max(0, Math.min(len, node.size - from));
    if (n > 0) {
      if (node.memfd < 0) s.bytes.fill(0, 0, n);
      else chk(host.pread(node.memfd, s.addr, n, from));
    }
    node.touchAtime();
    if (off === null) this.pos += n;
    return n;
  }
  override kwrite(_t: IoContext, s: Scratch, len: number): number {
    const node = this.node;
    if (this.flags & O_APPEND) this.pos = node.size;
    len = node.writable(this.pos, len);
    const n = chk(host.pwrite(node.fd(), s.addr, len, this.pos));
    node.remeasure();
    this.pos += n;
    node.size = Math.max(node.size, this.pos);
    node.mtime = node.ctime = nowTs();
    return n;
  }
  override ftruncate(t: IoContext, len: number): number {
    this.node.truncate(t, len);
    return 0;
  }
  override fsync(): number {
    return 0;
  }
  override release(): void {
    this.node.opens--;
    this.node.maybeFree();
  }
}

/** An open tmpfs directory: getdents64 over a snapshot of its entries (taken at open and at rewind). */
export class TmpDirFile extends FileDescription {
  private pos = 0;
  private list: Array<[string, number, number]> | null = null;
  constructor(
    readonly node: TmpNode,
    flags: number,
  ) {
    super(flags);
  }
  override identity(): { dev: bigint; ino: bigint } {
    return { dev: BigInt(this.node.fs.dev), ino: BigInt(this.node.ino) };
  }
  override read(): number {
    return fail(E.EISDIR);
  }
  override write(): number {
    return fail(E.EBADF);
  }
  override lseek(off: number, whence: number): number {
    if (whence !== SEEK_SET || off < 0) fail(E.EINVAL);
    this.pos = off;
    if (off === 0) this.list = null;
    return off;
  }
  override getdents64(t: IoContext, addr: number, len: number): number {
    const n = this.node;
    this.list ??= [['.', DT_DIR, n.ino], ['..', DT_DIR, n.up.ino], ...n.entries()];
    n.touchAtime();
    return writeDirents(t, addr, len, this.list, this, (p) => (this.pos = p));
  }
  get offset(): number {
    return this.pos;
  }
  override fsync(): number {
    return 0;
  }
}

