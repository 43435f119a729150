// GuestMemory through AddressSpace: the kernel's reads and writes of guest
// memory, EFAULT and ENAMETOOLONG where Linux gives them.
import { afterEach, describe, expect, it } from 'vitest';
import { PROT_READ, PROT_WRITE } from '../../src/abi/mman.js';
import { PAGE } from '../../src/mm/layout.js';
import { A, EFAULT, ENAMETOOLONG, LAYOUT, RW, consistent, destroySpaces, errnoOf, fill, fresh } from './helpers.js';

afterEach(destroySpaces);

describe('guest memory access', () => {
  it('read, write, cstring and scalars across two adjacent VMAs', () => {
    const { as, be } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.mapAnon(A + PAGE, PAGE, RW);
    expect(as.vmas).toHaveLength(2);
    const at = A + PAGE - 3;
    as.write(at, Buffer.from('abcdef\0'));
    expect(as.read(at, 6).toString()).toBe('abcdef');
    expect(as.cstring(at).toString()).toBe('abcdef');
    expect(as.cstring(at + 3).toString()).toBe('def');
    as.setU64(A + PAGE - 4, 0x1122334455667788n);
    expect(as.big64(A + PAGE - 4)).toBe(0x1122334455667788n);
    as.setU32(A + PAGE - 2, 0xdeadbeef);
    expect(as.u32(A + PAGE - 2)).toBe(0xdeadbeef);
    expect(as.i32(A + PAGE - 2)).toBe(0xdeadbeef | 0);
    as.setU64(A + PAGE - 4, 2 ** 52 + 5);
    expect(as.u64(A + PAGE - 4)).toBe(2 ** 52 + 5);
    as.setU64(A + PAGE - 4, -2n);
    expect(as.i64(A + PAGE - 4)).toBe(-2);
    let pieces = 0;
    as.pieces(A + 10, 2 * PAGE - 20, PROT_READ, () => void pieces++);
    expect(pieces).toBe(2);
    consistent(as, be);
  });

  it('EFAULT for unmapped, partly mapped, or wrongly protected ranges, before any byte is written', () => {
    const { as } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.mapAnon(A + PAGE, PAGE, PROT_READ);
    as.mapAnon(A + 2 * PAGE, PAGE, PROT_WRITE);
    as.mapAnon(A + 3 * PAGE, PAGE, 0);
    expect(errnoOf(() => as.read(A - 1, 2))).toBe(EFAULT);
    expect(errnoOf(() => as.read(A + 4 * PAGE, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(A + 2 * PAGE, 1))).toBe(EFAULT); // write-only
    expect(errnoOf(() => as.read(A + 3 * PAGE, 1))).toBe(EFAULT); // PROT_NONE
    expect(errnoOf(() => as.u32(A + 3 * PAGE - 2))).toBe(EFAULT); // straddles into PROT_NONE
    expect(errnoOf(() => as.write(A + PAGE, Buffer.from('x')))).toBe(EFAULT); // read-only
    expect(errnoOf(() => as.write(A + PAGE - 2, Buffer.from('xyz')))).toBe(EFAULT);
    expect(as.read(A + PAGE - 2, 2).equals(Buffer.alloc(2))).toBe(true); // nothing written
    expect(errnoOf(() => as.setU32(A + 3 * PAGE, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.cstring(A + 3 * PAGE))).toBe(EFAULT);
    expect(errnoOf(() => as.cstring(A - 1))).toBe(EFAULT);
    expect(as.hostRange(A, PAGE, PROT_READ)).toBe(as.find(A)!.hostAddr(A));
    expect(as.hostRange(A, PAGE + 1, PROT_READ)).toBe(-1);
    expect(as.hostRange(A + PAGE, 1, PROT_WRITE)).toBe(-1);
    expect(() => as.check(A + 5 * PAGE, 0, PROT_READ)).not.toThrow(); // nothing to access
  });

  it('EFAULT for addresses beyond the user address space (and impossible numbers)', () => {
    const { as } = fresh();
    as.mapAnon(LAYOUT.taskSize - PAGE, PAGE, RW);
    expect(as.read(LAYOUT.taskSize - 4, 4).length).toBe(4);
    expect(errnoOf(() => as.read(LAYOUT.taskSize - 4, 5))).toBe(EFAULT);
    expect(errnoOf(() => as.read(LAYOUT.taskSize, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(2 ** 53, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(Infinity, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(NaN, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.read(-PAGE, 1))).toBe(EFAULT);
    expect(errnoOf(() => as.write(LAYOUT.taskSize + PAGE, Buffer.from('x')))).toBe(EFAULT);
    expect(errnoOf(() => as.cstring(Infinity))).toBe(EFAULT);
    expect(errnoOf(() => as.cstring(NaN))).toBe(EFAULT);
    expect(errnoOf(() => as.u64(LAYOUT.taskSize))).toBe(EFAULT);
  });

  it('NaN is no address (the binary search must not land on a VMA)', () => {
    const { as } = fresh();
    as.mapAnon(A, PAGE, RW);
    as.mapAnon(A + PAGE, PAGE, RW);
    as.write(A + PAGE, Buffer.from('hi\0'));
    expect(as.find(NaN)).toBeNull();
    expect(as.hostRange(NaN, 1, PROT_READ)).toBe(-1);
    expect(errnoOf(() => as.cstring(NaN))).toBe(EFAULT);
  });

  it('ENAMETOOLONG for an unterminated string, EFAULT if it runs into unmapped memory first', () => {
    const { as } = fresh();
    as.mapAnon(A, 2 * PAGE, RW);
    as.mapAnon(A + 2 * PAGE, 2 * PAGE, RW);
    as.write(A, fill(4 * PAGE, 0x61));
    expect(errnoOf(() => as.cstring(A))).toBe(ENAMETOOLONG);
    expect(errnoOf(() => as.cstring(A + 3 * PAGE))).toBe(ENAMETOOLONG); // 4096 readable bytes, no NUL
    expect(errnoOf(() => as.cstring(A + 3 * PAGE + 1))).toBe(EFAULT); // 4095 bytes, then unmapped
    expect(errnoOf(() => as.cstring(A, 16))).toBe(ENAMETOOLONG);
    as.u8(A); // still fine
    as.write(A + 4095, Buffer.from([0]));
    expect(as.cstring(A).length).toBe(4095); // PATH_MAX counts the NUL
    as.write(A + 4095, Buffer.from([0x61]));
    as.write(A + 4096, Buffer.from([0]));
    expect(errnoOf(() => as.cstring(A))).toBe(ENAMETOOLONG);
    expect(as.cstring(A + 1).length).toBe(4095);
  });

  it('poke writes through any protection; into unmapped memory it throws', () => {
    const { as } = fresh();
    as.mapAnon(A, PAGE, PROT_READ);
    as.mapAnon(A + PAGE, PAGE, 0);
    as.poke(A + PAGE - 2, Buffer.from('wxyz'));
    expect(as.read(A + PAGE - 2, 2).toString()).toBe('wx');
    expect(() => as.poke(A + 2 * PAGE - 1, Buffer.from('ab'))).toThrow(/unmapped/);
  });
});
