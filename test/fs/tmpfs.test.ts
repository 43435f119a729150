// tmpfs's open files without Unicorn: reads, writes, seeks over holes,
// O_APPEND, truncation, directory sizes and getdents64's records. The
// expected values are what Linux's tmpfs answers (a native run of the same
// steps on /dev/shm) and getdents64(2).
import { afterEach, describe, expect, it } from 'vitest';
import { O_APPEND, O_CREAT, O_RDONLY, O_RDWR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from '../../src/abi/fcntl.js';
import { DT_DIR, DT_REG } from '../../src/abi/stat.js';
import { direntSize } from '../../src/fs/dirents.js';
import type { FileDescription } from '../../src/fs/file.js';
import { statFields } from '../../src/fs/stat.js';
import { TmpFs, type TmpNode } from '../../src/fs/tmpfs.js';
import { Vfs, type Loc } from '../../src/fs/vfs.js';
import { destroySpaces } from '../mm/helpers.js';
import { FakeIo, giveMemory, outcome } from '../helpers/io.js';

afterEach(destroySpaces);


function setup(): { t: FakeIo; buf: number; root: Loc } {
  const t = new FakeIo();
  const buf = giveMemory(t);
  t.vfs = new Vfs(new TmpFs());
  return { t, buf, root: t.vfs.root };
}

function create(t: FakeIo, dir: Loc, name: string, flags = O_RDWR): FileDescription {
  return dir.node.create(t, name, flags | O_CREAT, 0o644, dir);
}

/** Write `text` at `off` through guest memory at `buf`. */
function pwrite(t: FakeIo, f: FileDescription, buf: number, text: string, off: number): number {
  t.mm.write(buf, Buffer.from(text, 'latin1'));
  return f.pwrite(t, buf, text.length, off);
}

describe('a tmpfs regular file', () => {
  it('a write past the end leaves a hole that reads as zeros; SEEK_DATA and SEEK_HOLE find it', () => {
    const { t, buf, root } = setup();
    const f = create(t, root, 'f');
    expect(pwrite(t, f, buf, 'abc', 8192)).toBe(3);
    expect(f.pread(t, buf, 5, 8190)).toBe(5);
    expect(t.mm.read(buf, 5)).toEqual(Buffer.from('\0\0abc', 'latin1'));
    expect(f.lseek(0, SEEK_DATA)).toBe(8192);
    expect(f.lseek(8192, SEEK_HOLE)).toBe(8195);
    expect(f.lseek(0, SEEK_HOLE)).toBe(0);
    expect(outcome(() => f.lseek(8195, SEEK_DATA))).toBe('ENXIO');
    expect(outcome(() => f.lseek(-1, SEEK_SET))).toBe('EINVAL');
    expect(f.lseek(100, SEEK_END)).toBe(8295);
    const st = Buffer.from(f.statBytes(t));
    expect(statFields(st).size).toBe(8195);
    expect(st.readBigInt64LE(64)).toBe(8n); // st_blocks: the one page holding data
    expect(st.readBigInt64LE(56)).toBe(4096n); // st_blksize
  });

  it('O_APPEND writes at the end whatever the offset; ftruncate shortens it', () => {
    const { t, buf, root } = setup();
    const f = create(t, root, 'f');
    pwrite(t, f, buf, 'abc', 8192);
    const loc = f.loc!;
    const a = (loc.node as TmpNode).open(t, O_RDWR | O_APPEND, loc);
    a.lseek(0, SEEK_SET);
    t.mm.write(buf, Buffer.from('Z'));
    expect(a.write(t, buf, 1)).toBe(1);
    expect(statFields(f.statBytes(t)).size).toBe(8196);
    expect(f.pread(t, buf, 1, 8195)).toBe(1);
    expect(t.mm.read(buf, 1).toString()).toBe('Z');
    f.ftruncate(t, 2);
    expect(f.pread(t, buf, 10, 0)).toBe(2);
    a.release();
  });
});

describe('a tmpfs directory', () => {
  /** getdents64's records in guest memory: [name, d_reclen, d_type]. */
  function records(t: FakeIo, buf: number, n: number): Array<[string, number, number]> {
    const raw = t.mm.read(buf, n);
    const out: Array<[string, number, number]> = [];
    for (let off = 0; off < n; ) {
      const reclen = raw.readUInt16LE(off + 16);
      const name = raw.subarray(off + 19, off + reclen).toString('latin1').split('\0')[0];
      out.push([name, reclen, raw[off + 18]]);
      off += reclen;
    }
    return out;
  }

  it('grows by 20 bytes an entry from 40, and counts subdirectories in its links', () => {
    const { t, root } = setup();
    root.node.mkdir(t, 'd', 0o755);
    const d = t.vfs.resolve(t, root, 'd', true);
    const st = (): { size: number; nlink: bigint } => ({ size: statFields(d.node.stat(t)).size, nlink: Buffer.from(d.node.stat(t)).readBigUInt64LE(16) });
    expect(st()).toEqual({ size: 40, nlink: 2n });
    create(t, d, 'a').release();
    d.node.mkdir(t, 'sub', 0o755);
    expect(st()).toEqual({ size: 80, nlink: 3n });
  });

  it("lists ., .. and its entries in 8-byte aligned records with their types; EINVAL if one does not fit", () => {
    const { t, buf, root } = setup();
    root.node.mkdir(t, 'd', 0o755);
    const d = t.vfs.resolve(t, root, 'd', true);
    create(t, d, 'a').release();
    d.node.mkdir(t, 'sub', 0o755);
    const f = d.node.open(t, O_RDONLY, d);
    const n = f.getdents64(t, buf, 4096);
    expect(n).toBe(4 * 24);
    const got = records(t, buf, n).sort((x, y) => x[0].localeCompare(y[0]));
    expect(got).toEqual([
      ['.', 24, DT_DIR],
      ['..', 24, DT_DIR],
      ['a', 24, DT_REG],
      ['sub', 24, DT_DIR],
    ]);
    expect(f.getdents64(t, buf, 4096)).toBe(0); // the end
    f.lseek(0, SEEK_SET);
    expect(outcome(() => f.getdents64(t, buf, 10))).toBe('EINVAL');
  });

  it("d_reclen: the header (19 bytes), the name and its NUL, rounded up to 8", () => {
    // fs/readdir.c: ALIGN(offsetof(struct linux_dirent64, d_name) + namlen + 1, sizeof(u64))
    expect([1, 4, 5, 12, 13, 255].map(direntSize)).toEqual([24, 24, 32, 32, 40, 280]);
  });
});
