// AddressSpace as a whole: MAP_SHARED mappings of files through mmap, fork,
// mprotect, mremap, msync and maps; what destroy gives back.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROT_EXEC, PROT_READ } from '../../src/abi/mman.js';
import { AddressSpace } from '../../src/mm/address-space.js';
import { Chunk } from '../../src/mm/chunk.js';
import { PAGE } from '../../src/mm/layout.js';
import { Vma } from '../../src/mm/vma.js';
import { hostFileInfo } from '../../src/host/libc.js';
import { A, EACCES, EFAULT, EINVAL, ENOMEM, RW, consistent, destroySpaces, errnoOf, fresh, memory, shape } from './helpers.js';

afterEach(destroySpaces);

describe('MAP_SHARED chunks (host MAP_SHARED mappings of a file)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfrun-shared-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fds: number[] = [];
  afterEach(() => {
    destroySpaces();
    while (fds.length) closeSync(fds.pop()!);
  });

  /** A host file of `size` bytes, open read-write (or read-only). */
  function file(size: number, mode: 'w+' | 'r' = 'w+', name = 'f'): number {
    const path = join(dir, name);
    if (mode === 'w+') {
      const fd = openSync(path, 'w+');
      ftruncateSync(fd, size);
      fds.push(fd);
      return fd;
    }
    const fd = openSync(path, 'r');
    fds.push(fd);
    return fd;
  }
  const info = (offset = 0) => ({ name: '/f', shared: true, offset, dev: 0, ino: 0 });
  function shared(fd: number, start: number, size: number, prot: number, offset = 0, writable = true): Vma {
    return new Vma(start, start + size, prot, Chunk.mapShared(memory, fd, offset, size, writable), 0, info(offset));
  }
  const text = (as: AddressSpace, addr: number, n: number): string => as.read(addr, n).toString('latin1');
  function pread(fd: number, n: number, off: number): string {
    const b = Buffer.alloc(n);
    return b.subarray(0, readSync(fd, b, 0, n, off)).toString('latin1');
  }

  it('guest writes reach the file; write(2) to the file shows through the mapping', () => {
    const { as, be } = fresh();
    const fd = file(2 * PAGE);
    as.insert(shared(fd, A, 2 * PAGE, RW));
    as.write(A + 10, Buffer.from('hello'));
    expect(pread(fd, 5, 10)).toBe('hello');
    writeSync(fd, 'world', PAGE + 1);
    expect(text(as, A + PAGE + 1, 5)).toBe('world');
    consistent(as, be);
  });

  it('fork shares it (not copy-on-write); mprotect and MADV_DONTNEED keep it shared', () => {
    const p = fresh();
    const c = fresh();
    const fd = file(2 * PAGE);
    const v = p.as.insert(shared(fd, A, 2 * PAGE, RW));
    p.as.forkInto(c.as);
    expect(c.as.find(A)!.chunk).toBe(v.chunk);
    expect([...v.chunk.users!]).toEqual([p.as, c.as]);
    c.as.write(A, Buffer.from('child'));
    expect(text(p.as, A, 5)).toBe('child');
    p.as.protect(A, A + PAGE, PROT_READ);
    p.as.protect(A, A + PAGE, RW);
    expect(p.as.find(A)!.chunk).toBe(v.chunk);
    p.as.write(A + 5, Buffer.from('+parent'));
    expect(text(c.as, A, 12)).toBe('child+parent');
    c.as.zeroPages(A, A + 2 * PAGE);
    expect(text(c.as, A, 12)).toBe('child+parent');
    expect(pread(fd, 12, 0)).toBe('child+parent');
    consistent(p.as, p.be);
    consistent(c.as, c.be);
  });

  it('is freed (host mapping and fd) only when no address space maps any of it', () => {
    const p = fresh();
    const c = fresh();
    const fd = file(2 * PAGE);
    const chunk = p.as.insert(shared(fd, A, 2 * PAGE, RW)).chunk;
    p.as.forkInto(c.as);
    p.as.removeRange(A, A + PAGE);
    expect(chunk.users!.has(p.as)).toBe(true);
    p.as.removeRange(A + PAGE, A + 2 * PAGE);
    expect(chunk.users!.has(p.as)).toBe(false);
    expect(chunk.backing).not.toBeNull();
    c.as.write(A, Buffer.from('still there'));
    expect(pread(fd, 11, 0)).toBe('still there');
    c.be.log = [];
    c.as.removeRange(A, A + 2 * PAGE);
    expect(chunk.backing).toBeNull();
    expect(c.be.log).toContain(`release host ${chunk.addr.toString(16)} ${chunk.size.toString(16)}`);
    consistent(p.as, p.be);
    consistent(c.as, c.be);
  });

  it('pages past EOF: not in the engine, EFAULT to the kernel, SIGBUS to the guest; they follow the file size', () => {
    const { as, be } = fresh();
    const fd = file(100);
    as.insert(shared(fd, A, 3 * PAGE, RW));
    expect([...be.regions.values()].map((r) => r.size)).toEqual([PAGE]);
    consistent(as, be);
    expect(as.fileFault(A + 5)).toBeNull();
    expect(as.fileFault(A + PAGE)).toBe('sigbus');
    expect(errnoOf(() => as.read(A + PAGE - 2, 4))).toBe(EFAULT);
    expect(errnoOf(() => as.u32(A + PAGE))).toBe(EFAULT);
    expect(as.hostRange(A + PAGE, 1, PROT_READ)).toBe(-1);
    as.write(A + PAGE - 3, Buffer.from('abc'));
    expect(errnoOf(() => as.cstring(A + PAGE - 3))).toBe(EFAULT); // no NUL before EOF's page ends
    // the file grows: the next fault maps the page ('retry'); a syscall's access just works
    ftruncateSync(fd, PAGE + 1);
    expect(as.fileFault(A + PAGE)).toBe('retry');
    expect([...be.regions.values()].map((r) => r.size)).toEqual([2 * PAGE]);
    ftruncateSync(fd, 3 * PAGE);
    as.poke(A + PAGE - 3, Buffer.from('abcdef\0'));
    expect(as.cstring(A + PAGE - 3).toString()).toBe('abcdef');
    expect([...be.regions.values()].map((r) => r.size)).toEqual([2 * PAGE]); // grown lazily, on a fault
    expect(as.fileFault(A + 2 * PAGE)).toBe('retry');
    expect([...be.regions.values()].map((r) => r.size)).toEqual([3 * PAGE]);
    // it shrinks: refreshSharedFiles (after a truncating syscall) unmaps the pages at once
    ftruncateSync(fd, 10);
    memory.refreshSharedFiles();
    expect([...be.regions.values()].map((r) => r.size)).toEqual([PAGE]);
    expect(as.fileFault(A + 2 * PAGE)).toBe('sigbus');
    consistent(as, be);
    // an offset past EOF: nothing is mapped at all
    as.insert(shared(fd, A + 8 * PAGE, PAGE, PROT_READ, 4 * PAGE));
    expect(be.regions.has(A + 8 * PAGE)).toBe(false);
    expect(as.fileFault(A + 8 * PAGE)).toBe('sigbus');
    consistent(as, be);
  });

  it('splitting, merging and forking a mapping that ends past EOF keep the engine right', () => {
    const p = fresh();
    const c = fresh();
    const fd = file(PAGE + 1);
    p.as.insert(shared(fd, A, 4 * PAGE, RW));
    p.as.protect(A + PAGE, A + 3 * PAGE, PROT_READ);
    consistent(p.as, p.be);
    p.as.protect(A + PAGE, A + 3 * PAGE, RW);
    expect(p.as.vmas).toHaveLength(1);
    consistent(p.as, p.be);
    p.as.forkInto(c.as);
    consistent(c.as, c.be);
    ftruncateSync(fd, 4 * PAGE);
    memory.refreshSharedFiles();
    consistent(p.as, p.be);
    consistent(c.as, c.be);
    p.as.removeRange(A + PAGE, A + 2 * PAGE);
    consistent(p.as, p.be);
  });

  it('a read-only host mapping never becomes writable: EACCES, after the pages before it changed', () => {
    const { as, be } = fresh();
    file(PAGE);
    const ro = file(PAGE, 'r');
    as.mapAnon(A, PAGE, PROT_READ);
    as.insert(shared(ro, A + PAGE, PAGE, PROT_READ, 0, false));
    as.mapAnon(A + 2 * PAGE, PAGE, PROT_READ);
    expect(errnoOf(() => as.protect(A, A + 3 * PAGE, RW))).toBe(EACCES);
    expect(shape(as).map((v) => v[2])).toEqual([RW, PROT_READ, PROT_READ]);
    as.protect(A + PAGE, A + 2 * PAGE, PROT_READ | PROT_EXEC);
    expect(as.find(A + PAGE)!.chunk.readOnly).toBe(true);
    consistent(as, be);
  });

  it('mremap grows and moves it over the same file pages; old_size 0 maps them twice', () => {
    const { as, be } = fresh();
    const fd = file(4 * PAGE);
    as.insert(shared(fd, A, PAGE, RW));
    as.write(A, Buffer.from('one'));
    writeSync(fd, 'two', PAGE);
    expect(as.remap(A, PAGE, 2 * PAGE, true, null)).toBe(A);
    expect(text(as, A, 3) + text(as, A + PAGE, 3)).toBe('onetwo');
    as.write(A + PAGE + 3, Buffer.from('!'));
    expect(pread(fd, 4, PAGE)).toBe('two!');
    const dup = as.remap(A + PAGE, 0, PAGE, true, null);
    expect(dup).not.toBe(A + PAGE);
    expect(as.find(A + PAGE)).not.toBeNull();
    as.write(dup, Buffer.from('TWO'));
    expect(text(as, A + PAGE, 4)).toBe('TWO!');
    expect(as.find(dup)!.info.offset).toBe(PAGE);
    expect(errnoOf(() => as.remap(A, 0, PAGE, false, null))).toBe(ENOMEM);
    as.mapAnon(A + 16 * PAGE, PAGE, RW);
    expect(errnoOf(() => as.remap(A + 16 * PAGE, 0, PAGE, true, null))).toBe(EINVAL);
    const to = A + 32 * PAGE;
    expect(as.remap(A, 2 * PAGE, 3 * PAGE, true, to)).toBe(to);
    expect(as.find(A)).toBeNull();
    expect(text(as, to, 3) + text(as, to + PAGE, 4)).toBe('oneTWO!');
    consistent(as, be);
  });

  it('msync: EINVAL/ENOMEM as mm/msync.c; MS_SYNC over shared file pages succeeds', () => {
    const { as } = fresh();
    const fd = file(2 * PAGE);
    as.insert(shared(fd, A, 2 * PAGE, RW));
    as.mapAnon(A + 3 * PAGE, PAGE, RW);
    expect(as.msync(A, A + 2 * PAGE, 4)).toBe(0);
    expect(as.msync(A, A + 2 * PAGE, 2)).toBe(0);
    expect(errnoOf(() => as.msync(A, A + 4 * PAGE, 1))).toBe(ENOMEM); // hole, plain MS_ASYNC
    expect(errnoOf(() => as.msync(A, A + 4 * PAGE, 4))).toBe(ENOMEM); // hole, after the rest
    expect(errnoOf(() => as.msync(A + 2 * PAGE, A + 3 * PAGE, 4))).toBe(ENOMEM);
    expect(errnoOf(() => as.msync(A + 5 * PAGE, A + 6 * PAGE, 4))).toBe(ENOMEM);
  });

  it('maps() shows it as the host kernel shows the same host mapping', () => {
    const { as } = fresh();
    const fd = file(2 * PAGE, 'w+', 'shown');
    const chunk = Chunk.mapShared(memory, fd, 0, 2 * PAGE, true);
    const id = hostFileInfo(fd);
    if (typeof id === 'number') throw new Error(`statx: ${id}`);
    // guest address = host address, so the two lines must be identical
    as.insert(new Vma(chunk.addr, chunk.addr + chunk.size, RW, chunk, 0, { name: join(dir, 'shown'), shared: true, offset: 0, dev: id.dev, ino: id.ino }));
    const start = chunk.addr.toString(16).padStart(8, '0');
    const host = readFileSync('/proc/self/maps', 'latin1')
      .split('\n')
      .find((l) => l.startsWith(`${start}-`));
    expect(as.maps()).toEqual([host]);
  });

  it('a chunk shared by fork and copied by mprotect in one space no longer counts that space', () => {
    const p = fresh();
    const c = fresh();
    const v = p.as.mapAnon(A, PAGE, PROT_READ);
    p.as.forkInto(c.as);
    expect(v.chunk.users!.size).toBe(2);
    p.as.protect(A, A + PAGE, RW);
    expect(p.as.find(A)!.chunk).not.toBe(v.chunk);
    expect([...v.chunk.users!]).toEqual([c.as]);
    consistent(p.as, p.be);
  });
});

describe('destroy', () => {
  it('releases only the host memory its chunks still hold (a piece given back may hold another chunk by now)', () => {
    const { as, be } = fresh();
    as.mapAnon(A, 8 * PAGE, RW);
    const base = as.find(A)!.hostAddr(A);
    as.removeRange(A + 2 * PAGE, A + 6 * PAGE); // the middle goes back to the host
    consistent(as, be);
    be.log = [];
    as.destroy();
    const released = be.log.filter((l) => l.startsWith('release host')).map((l) => l.split(' ').slice(2).map((x) => parseInt(x, 16)));
    expect(released.length).toBeGreaterThan(0);
    for (const [h, n] of released) expect(h + n <= base + 2 * PAGE || h >= base + 6 * PAGE, `released ${h.toString(16)}+${n.toString(16)}`).toBe(true);
  });
});
