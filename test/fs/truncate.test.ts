// A file that gets shorter tells the caller's memory: shared mappings of it
// drop the pages past its new end at once, as on Linux, where an access to a
// page of a MAP_SHARED mapping wholly past EOF is SIGBUS (mmap(2), "Errors":
// SIGBUS). Every way a file system shrinks a regular file is checked here,
// on tmpfs (memfd-backed) and hostfs, with guest memory but no engine.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { O_CREAT, O_RDWR, O_TRUNC, O_WRONLY } from '../../src/abi/fcntl.js';
import { Chunk } from '../../src/mm/chunk.js';
import { PAGE } from '../../src/mm/layout.js';
import { Vma } from '../../src/mm/vma.js';
import type { FileDescription } from '../../src/fs/file.js';
import { HostFs } from '../../src/fs/hostfs.js';
import { TmpFs, type TmpNode } from '../../src/fs/tmpfs.js';
import { Vfs, type Loc } from '../../src/fs/vfs.js';
import { A, RW, destroySpaces, fresh, memory, type FakeBackend } from '../mm/helpers.js';
import { FakeIo } from '../helpers/io.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'elfrun-truncate-')));
afterEach(destroySpaces);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A caller with guest memory of its own, in a tree rooted at `fs`. */
function caller(fs: TmpFs | HostFs): { t: FakeIo; be: FakeBackend } {
  const t = new FakeIo();
  const { as, be } = fresh();
  t.mm = as;
  t.vfs = new Vfs(fs);
  return { t, be };
}

/** Map `fd` MAP_SHARED, three pages at A, as mmap of the file would. */
function mapShared(t: FakeIo, fd: number): void {
  const info = { name: '/f', shared: true, offset: 0, dev: 0, ino: 0 };
  t.mm.insert(new Vma(A, A + 3 * PAGE, RW, Chunk.mapShared(memory, fd, 0, 3 * PAGE, true), 0, info));
}

/** How many bytes of the mapping the engine has (the pages within the file). */
const mapped = (be: FakeBackend): number => [...be.regions.values()].reduce((n, r) => n + r.size, 0);

describe('tmpfs', () => {
  /** A three-page tmpfs file /f, mapped shared at A. */
  function setup(): { t: FakeIo; be: FakeBackend; loc: Loc; file: FileDescription } {
    const fs = new TmpFs();
    const { t, be } = caller(fs);
    const root = t.vfs.root;
    const file = root.node.create(t, 'f', O_RDWR | O_CREAT, 0o644, root);
    const node = (file.loc as Loc).node as TmpNode;
    node.truncate(t, 3 * PAGE);
    mapShared(t, node.fd());
    expect(mapped(be)).toBe(3 * PAGE);
    return { t, be, loc: file.loc as Loc, file };
  }

  it('ftruncate', () => {
    const { t, be, file } = setup();
    file.ftruncate(t, 10);
    expect(mapped(be)).toBe(PAGE);
    expect(t.mm.fileFault(A + PAGE)).toBe('sigbus');
  });

  it('truncate (setattr of the size)', () => {
    const { t, be, loc } = setup();
    loc.node.setattr(t, { size: PAGE + 1 });
    expect(mapped(be)).toBe(2 * PAGE);
    expect(t.mm.fileFault(A + 2 * PAGE)).toBe('sigbus');
  });

  it('open with O_TRUNC', () => {
    const { t, be, loc } = setup();
    loc.node.open(t, O_WRONLY | O_TRUNC, loc).release();
    expect(mapped(be)).toBe(0);
    expect(t.mm.fileFault(A)).toBe('sigbus');
  });
});

describe('hostfs', () => {
  /** A three-page host file, mapped shared at A through an open of it. */
  function setup(name: string): { t: FakeIo; be: FakeBackend; loc: Loc; file: FileDescription } {
    writeFileSync(join(dir, name), Buffer.alloc(3 * PAGE, 1));
    const { t, be } = caller(new HostFs(dir));
    const loc = t.vfs.resolve(t, t.vfs.root, name, true);
    const file = loc.node.open(t, O_RDWR, loc);
    mapShared(t, file.hostFd);
    expect(mapped(be)).toBe(3 * PAGE);
    return { t, be, loc, file };
  }

  it('ftruncate', () => {
    const { t, be, file } = setup('a');
    file.ftruncate(t, 10);
    expect(mapped(be)).toBe(PAGE);
    expect(t.mm.fileFault(A + PAGE)).toBe('sigbus');
    file.release();
  });

  it('truncate (setattr of the size)', () => {
    const { t, be, loc, file } = setup('b');
    loc.node.setattr(t, { size: PAGE + 1 });
    expect(mapped(be)).toBe(2 * PAGE);
    file.release();
  });

  it('open with O_TRUNC', () => {
    const { t, be, loc, file } = setup('c');
    loc.node.open(t, O_WRONLY | O_TRUNC, loc).release();
    expect(mapped(be)).toBe(0);
    expect(t.mm.fileFault(A)).toBe('sigbus');
    file.release();
  });
});
