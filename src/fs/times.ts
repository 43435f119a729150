// File times as utimensat(2) takes them: two struct timespec, where a
// tv_nsec of UTIME_OMIT leaves a time as it is and UTIME_NOW sets it to now.
import { UTIME_NOW, UTIME_OMIT } from '../abi/fcntl.js';
import type { Timespec } from './vfs.js';

/** A time to set: a timespec, 'now' (UTIME_NOW), or undefined (UTIME_OMIT). */
export type TimeArg = Timespec | 'now' | undefined;

/** Two struct timespec for the host's utimensat: unset is UTIME_OMIT, 'now' is UTIME_NOW. */
export function writeTimes(dv: DataView, at: TimeArg, mt: TimeArg): void {
  [at, mt].forEach((v, i) => {
    dv.setBigInt64(i * 16, BigInt(v === undefined || v === 'now' ? 0 : v.sec), true);
    dv.setBigInt64(i * 16 + 8, BigInt(v === undefined ? UTIME_OMIT : v === 'now' ? UTIME_NOW : v.nsec), true);
  });
}
