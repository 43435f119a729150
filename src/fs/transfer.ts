// Moving bytes between guest memory and the host: host scratch memory for
// results the host writes before they are translated for the guest, and the
// piecewise transfer that reads and writes guest buffers as Linux's
// copy_{to,from}_user do (a short count at the first inaccessible byte).
import type { AddressSpace } from '../mm/address-space.js';
import { fail } from '../abi/errors.js';
import { Scratch } from '../host/libc.js';

let scratch: Scratch | null = null;
/** Host memory for results the host writes before they are translated for the guest. */
export function hostScratch(): Scratch {
  return (scratch ??= new Scratch(65536));
}

/** Throw the errno a negative host result carries. */
export const chk = (r: number): number => (r < 0 ? fail(-r) : r);

/**
 * Transfer into or out of guest memory in host-contiguous pieces. A short
 * transfer ends it; an error after some bytes moved returns the bytes moved.
 */
export function transfer(
  mm: AddressSpace,
  addr: number,
  len: number,
  prot: number,
  op: (host: number, n: number, done: number) => number,
): number {
  let total = 0;
  let err = 0;
  // As Linux copies to and from user memory: up to the first byte that is
  // not accessible (a short count), EFAULT only if that is the first one.
  mm.prefixPieces(addr, len, prot, (h, n, done) => {
    const r = op(h, n, done);
    if (r < 0) {
      err = r;
      return false;
    }
    total += r;
    return r === n;
  });
  if (total === 0 && err < 0) fail(-err);
  return total;
}
