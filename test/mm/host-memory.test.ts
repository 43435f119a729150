// HostMemory: dead address spaces' chunks reused through the pool (reading
// as zero), and each Machine's pool and shared file chunks its own.
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostAlloc, hostViewAt } from '../../src/host/libc.js';
import { Chunk } from '../../src/mm/chunk.js';
import { HostMemory } from '../../src/mm/host-memory.js';
import { PAGE } from '../../src/mm/layout.js';
import { Vma, anon } from '../../src/mm/vma.js';
import { A, LAYOUT, RW, consistent, destroySpaces, fill, fresh, memory } from './helpers.js';

afterEach(destroySpaces);

describe('host memory of dead address spaces', () => {
  /** Is host address a inside one of this process's mappings? */
  const hostMapped = (a: number): boolean =>
    readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .filter(Boolean)
      .some((l) => {
        const [lo, hi] = l.split(' ')[0].split('-').map((h) => parseInt(h, 16));
        return a >= lo && a < hi;
      });
  const H = 0x20000000;

  it('a chunk or heap reused from a dead space reads as zero', () => {
    const first = fresh();
    const v = first.as.mapAnon(A, 16 * PAGE, RW);
    const host = v.hostAddr(A);
    first.as.write(A, fill(16 * PAGE, 0xa5));
    first.as.setBrkStart(H);
    first.as.brk(H + 8 * PAGE);
    const heapHost = first.as.find(H)!.hostAddr(H);
    first.as.write(H, fill(8 * PAGE, 0x5a));
    first.as.destroy();

    const { as, be } = fresh();
    const w = as.mapAnon(A + 64 * PAGE, 16 * PAGE, RW);
    // the pool handed the same host memory back (the case under test)
    expect(w.hostAddr(A + 64 * PAGE)).toBe(host);
    expect(as.read(A + 64 * PAGE, 16 * PAGE).equals(Buffer.alloc(16 * PAGE))).toBe(true);
    as.setBrkStart(H);
    as.brk(H + 4 * PAGE);
    expect(as.find(H)!.hostAddr(H)).toBe(heapHost);
    expect(as.read(H, 4 * PAGE).equals(Buffer.alloc(4 * PAGE))).toBe(true);
    // growing past what the dead heap had committed
    as.brk(H + 32 * PAGE);
    expect(as.read(H, 32 * PAGE).equals(Buffer.alloc(32 * PAGE))).toBe(true);
    as.write(H + 31 * PAGE, fill(PAGE, 1));
    consistent(as, be);
  });

  it('fork into reused memory: pages the parent never touched read as zero in the child', () => {
    const dead = fresh();
    dead.as.mapAnon(A, 16 * PAGE, RW);
    dead.as.write(A, fill(16 * PAGE, 0xee));
    dead.as.setBrkStart(H);
    dead.as.brk(H + 16 * PAGE);
    dead.as.write(H, fill(16 * PAGE, 0xee));
    dead.as.destroy();

    const p = fresh();
    p.as.mapAnon(A, 16 * PAGE, RW);
    p.as.write(A + 3 * PAGE, fill(PAGE, 7));
    p.as.setBrkStart(H);
    p.as.brk(H + 16 * PAGE);
    p.as.write(H + 5 * PAGE, fill(PAGE, 9));
    const c = fresh();
    p.as.forkInto(c.as);
    const want = Buffer.alloc(16 * PAGE);
    want.fill(7, 3 * PAGE, 4 * PAGE);
    expect(c.as.read(A, 16 * PAGE).equals(want)).toBe(true);
    const wantHeap = Buffer.alloc(16 * PAGE);
    wantHeap.fill(9, 5 * PAGE, 6 * PAGE);
    expect(c.as.read(H, 16 * PAGE).equals(wantHeap)).toBe(true);
    consistent(c.as, c.be);
  });

  it("a chunk larger than its VMAs (a stack's room to grow) goes back to the host with its last VMA", () => {
    const { as, be } = fresh();
    const chunk = Chunk.alloc(memory, 64 * PAGE);
    as.insert(new Vma(A + 60 * PAGE, A + 64 * PAGE, RW, chunk, 60 * PAGE, anon('[stack]')));
    as.write(A + 60 * PAGE, fill(4 * PAGE, 3));
    expect(hostMapped(chunk.addr)).toBe(true);
    as.removeRange(A + 62 * PAGE, A + 64 * PAGE);
    expect(hostMapped(chunk.addr), 'a VMA still uses the chunk').toBe(true);
    as.removeRange(A, A + 64 * PAGE);
    expect(hostMapped(chunk.addr), 'the rest of the reservation is still mapped on the host').toBe(false);
    consistent(as, be);
  });
});

describe('the pool', () => {
  const pools: HostMemory[] = [];
  afterEach(() => {
    destroySpaces();
    while (pools.length) pools.pop()!.drain();
  });
  const pool = (): HostMemory => {
    const m = new HostMemory();
    pools.push(m);
    return m;
  };
  /** host memory of `pages` pages, as a dead chunk would give it to the pool */
  const dead = (pages: number, reservation = false) => {
    const b = hostAlloc(pages * PAGE);
    return { addr: b.addr, size: b.size, used: b.size, from: 0, reservation, window: null };
  };

  it('keeps at most 16 chunks, the oldest going back to the host first', () => {
    const m = pool();
    const first = dead(1);
    expect(m.put(first)).toBe(true);
    for (let i = 0; i < 16; i++) expect(m.put(dead(1))).toBe(true);
    expect(m.pooled).toEqual({ entries: 16, bytes: 16 * PAGE });
    for (let i = 0; i < 16; i++) expect(m.take(PAGE, false)?.addr).not.toBe(first.addr);
    expect(m.take(PAGE, false)).toBeNull();
  });

  it('refuses a piece over 16 MiB, and gives back the oldest past 64 MiB in all', () => {
    const m = pool();
    expect(m.put({ addr: 0, size: (16 << 20) + PAGE, used: (16 << 20) + PAGE, from: 0, reservation: false, window: null })).toBe(false);
    const pieces = [dead(4096), dead(4096), dead(4096), dead(4096)]; // 16 MiB each
    for (const e of pieces) expect(m.put(e)).toBe(true);
    expect(m.pooled).toEqual({ entries: 4, bytes: 64 << 20 });
    expect(m.put(dead(1))).toBe(true);
    expect(m.pooled).toEqual({ entries: 4, bytes: (48 << 20) + PAGE });
  });

  it('hands back a chunk of the same size and kind only, zeroed, the most recent first', () => {
    const m = pool();
    const a = dead(2);
    const b = dead(2);
    const r = dead(2, true);
    new Uint8Array(hostViewAt(b.addr, 2 * PAGE)).fill(7);
    m.put(a);
    m.put(b);
    m.put(r);
    expect(m.take(3 * PAGE, false)).toBeNull();
    const got = m.take(2 * PAGE, false)!;
    expect(got.addr).toBe(b.addr);
    expect(new Uint8Array(hostViewAt(got.addr, 2 * PAGE)).every((x) => x === 0)).toBe(true);
    expect(m.take(2 * PAGE, true)!.addr).toBe(r.addr);
    m.drain();
    expect(m.pooled).toEqual({ entries: 0, bytes: 0 });
  });
});

describe('two Machines (two HostMemory objects)', () => {
  const pools: HostMemory[] = [];
  let dir = '';
  afterEach(() => {
    destroySpaces();
    while (pools.length) pools.pop()!.drain();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });
  const machine = (): HostMemory => {
    const m = new HostMemory();
    pools.push(m);
    return m;
  };

  it('do not share pooled memory', () => {
    const one = machine();
    const two = machine();
    const a = fresh(LAYOUT, one);
    const host = a.as.mapAnon(A, 16 * PAGE, RW).hostAddr(A);
    a.as.destroy();
    expect(one.pooled.entries).toBe(1);
    expect(two.pooled.entries).toBe(0);
    // the other Machine's space of the same size gets fresh host memory
    const b = fresh(LAYOUT, two);
    expect(b.as.mapAnon(A, 16 * PAGE, RW).hostAddr(A)).not.toBe(host);
    expect(one.pooled.entries).toBe(1);
    // the first Machine's next space reuses its own
    const c = fresh(LAYOUT, one);
    expect(c.as.mapAnon(A, 16 * PAGE, RW).hostAddr(A)).toBe(host);
    expect(one.pooled.entries).toBe(0);
  });

  it("do not share the shared file chunks: a refresh in one leaves the other's mappings alone", () => {
    const one = machine();
    const two = machine();
    dir = mkdtempSync(join(tmpdir(), 'elfrun-hostmem-'));
    const fd = openSync(join(dir, 'f'), 'w+');
    try {
      ftruncateSync(fd, 2 * PAGE);
      const { as, be } = fresh(LAYOUT, one);
      as.insert(new Vma(A, A + 2 * PAGE, RW, Chunk.mapShared(one, fd, 0, 2 * PAGE, true), 0, { name: '/f', shared: true, offset: 0, dev: 0, ino: 0 }));
      expect(one.sharedFilesMapped()).toBe(true);
      expect(two.sharedFilesMapped()).toBe(false);
      ftruncateSync(fd, PAGE);
      two.refreshSharedFiles();
      expect(as.find(A)!.chunk.valid, "the other Machine's refresh does not look at this mapping").toBe(2 * PAGE);
      one.refreshSharedFiles();
      expect(as.find(A)!.chunk.valid).toBe(PAGE);
      consistent(as, be);
      as.removeRange(A, A + 2 * PAGE);
      expect(one.sharedFilesMapped(), 'a freed chunk leaves its HostMemory').toBe(false);
    } finally {
      closeSync(fd);
    }
  });
});
