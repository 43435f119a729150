// The /proc/<pid>/maps text, compared with the host kernel's own lines for
// the same kinds of mapping.
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/abi/mman.js';
import { Chunk } from '../../src/mm/chunk.js';
import { PAGE } from '../../src/mm/layout.js';
import { Vma } from '../../src/mm/vma.js';
import { A, LAYOUT, RW, RX, consistent, destroySpaces, fresh, memory } from './helpers.js';

afterEach(destroySpaces);

describe('maps()', () => {
  /** glibc's makedev(): how st_dev encodes (major, minor). */
  const makedev = (major: number, minor: number): number =>
    ((major & 0xfff) << 8) + (minor & 0xff) + (minor & ~0xff) * 0x1000 + Math.floor(major / 0x1000) * 2 ** 44;

  interface HostLine {
    line: string;
    start: number;
    end: number;
    prot: number;
    shared: boolean;
    offset: number;
    dev: number;
    ino: number;
    name: string;
  }

  function hostLines(): HostLine[] {
    const re = /^([0-9a-f]+)-([0-9a-f]+) ([r-])([w-])([x-])([ps]) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+) *(.*)$/;
    return readFileSync('/proc/self/maps', 'latin1')
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => {
        const m = re.exec(line)!;
        expect(m, line).not.toBeNull();
        return {
          line,
          start: parseInt(m[1], 16),
          end: parseInt(m[2], 16),
          prot: (m[3] === 'r' ? PROT_READ : 0) | (m[4] === 'w' ? PROT_WRITE : 0) | (m[5] === 'x' ? PROT_EXEC : 0),
          shared: m[6] === 's',
          offset: parseInt(m[7], 16),
          dev: makedev(parseInt(m[8], 16), parseInt(m[9], 16)),
          ino: Number(m[10]),
          name: m[11],
        };
      });
  }

  it('formats lines exactly as the host kernel does (named, anonymous, [heap]/[stack])', () => {
    const lines = hostLines().filter((h) => h.end <= LAYOUT.taskSize && h.end - h.start <= 1 << 28);
    const picks = [
      lines.find((h) => h.name.startsWith('/') && h.offset === 0),
      lines.find((h) => h.name.startsWith('/') && h.offset !== 0),
      lines.find((h) => h.name === ''),
      lines.find((h) => h.name === '[heap]' || h.name === '[stack]'),
    ].filter((h): h is HostLine => h !== undefined);
    expect(picks.length).toBeGreaterThanOrEqual(3);
    for (const h of picks) {
      const { as } = fresh();
      as.mapAnon(h.start, h.end - h.start, h.prot, { name: h.name, shared: h.shared, offset: h.offset, dev: h.dev, ino: h.ino });
      expect(as.maps()).toEqual([h.line]);
    }
  });

  it('pieces of anonymous memory show offset 0; pieces of a file show their file offset', () => {
    const { as } = fresh();
    as.mapAnon(A, 4 * PAGE, RW);
    as.mapAnon(A + 8 * PAGE, 4 * PAGE, RW, { name: '/f', shared: false, offset: 0x10000, dev: 0xfe00, ino: 5 });
    as.protect(A + PAGE, A + 2 * PAGE, PROT_READ);
    as.protect(A + 9 * PAGE, A + 10 * PAGE, PROT_READ);
    expect(as.maps().map((l) => l.split(' ')[2])).toEqual(['00000000', '00000000', '00000000', '00010000', '00011000', '00012000']);
  });

  it('pieces of one chunk merge only if their file offsets are contiguous (the loader case)', () => {
    const { as, be } = fresh();
    const c = Chunk.alloc(memory, 3 * PAGE);
    const file = (offset: number) => ({ name: '/bin/x', shared: false, offset, dev: 0xfe00, ino: 9 });
    as.insert(new Vma(A, A + PAGE, PROT_READ, c, 0, file(0x5000)));
    as.insert(new Vma(A + PAGE, A + 2 * PAGE, RW, c, PAGE, file(0x5000))); // another segment, same file page
    as.insert(new Vma(A + 2 * PAGE, A + 3 * PAGE, PROT_READ, c, 2 * PAGE, file(0x6000)));
    as.protect(A + PAGE, A + 2 * PAGE, PROT_READ); // like mprotect(PT_GNU_RELRO)
    consistent(as, be);
    expect(as.vmas).toHaveLength(2);
    expect(as.maps().map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual([
      `${A.toString(16).padStart(8, '0')}-${(A + PAGE).toString(16).padStart(8, '0')} r--p 00005000`,
      `${(A + PAGE).toString(16).padStart(8, '0')}-${(A + 3 * PAGE).toString(16).padStart(8, '0')} r--p 00005000`,
    ]);
  });

  it('short addresses, flags, shared mappings and large device numbers', () => {
    const { as } = fresh();
    as.mapAnon(0x400000, PAGE, RX, { name: '/bin/busybox', shared: false, offset: 0x1000, dev: makedev(0xfe, 1), ino: 1234 });
    as.mapAnon(0x401000, PAGE, RW, { name: '/dev/shm/x', shared: true, offset: 0, dev: makedev(0, 300), ino: 7 });
    as.mapAnon(0x402000, PAGE, 0, { name: '/x', shared: false, offset: 0x123456789, dev: makedev(259, 3), ino: 2 ** 40 });
    as.mapAnon(0x403000, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    const m = as.maps();
    expect(m[0]).toBe('00400000-00401000 r-xp 00001000 fe:01 1234' + ' '.repeat(73 - 42) + '/bin/busybox');
    expect(m[1]).toMatch(/^00401000-00402000 rw-s 00000000 00:12c 7 +\/dev\/shm\/x$/);
    expect(m[1].indexOf('/dev')).toBe(73);
    expect(m[2]).toMatch(/^00402000-00403000 ---p 123456789 103:03 1099511627776 +\/x$/);
    expect(m[3]).toBe('00403000-00404000 rwxp 00000000 00:00 0 ');
  });
});
