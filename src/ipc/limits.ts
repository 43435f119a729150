// The System V IPC limits of the guest's IPC namespace: the host's
// /proc/sys/kernel values when it has them (what a program on the host
// sees, and what /proc/sys/kernel shows the guest), else Linux's defaults
// (include/uapi/linux/{shm,sem,msg}.h).
import { readFileSync } from 'node:fs';

export interface IpcLimits {
  /** unsigned longs up to 2^64 - 1: exact */
  shmmax: bigint;
  shmall: bigint;
  shmmni: number;
  semmsl: number;
  semmns: number;
  semopm: number;
  semmni: number;
  msgmax: number;
  msgmnb: number;
  msgmni: number;
}

/** SHMMAX and SHMALL: ULONG_MAX - 2^24 */
const SHM_HUGE = 2n ** 64n - 1n - 2n ** 24n;

const DEFAULTS: IpcLimits = {
  shmmax: SHM_HUGE,
  shmall: SHM_HUGE,
  shmmni: 4096,
  semmsl: 32000,
  semmns: 1024000000,
  semopm: 500,
  semmni: 32000,
  msgmax: 8192,
  msgmnb: 16384,
  msgmni: 32000,
};

function hostValues(name: string): bigint[] | null {
  try {
    const v = readFileSync(`/proc/sys/kernel/${name}`, 'latin1').trim().split(/\s+/);
    return v.every((x) => /^\d+$/.test(x)) ? v.map(BigInt) : null;
  } catch {
    return null;
  }
}

/** The limits a new namespace starts with. */
export function initialLimits(): IpcLimits {
  const l = { ...DEFAULTS };
  for (const k of ['shmmax', 'shmall'] as const) {
    const v = hostValues(k);
    if (v !== null && v.length === 1) l[k] = v[0];
  }
  for (const k of ['shmmni', 'msgmax', 'msgmnb', 'msgmni'] as const) {
    const v = hostValues(k);
    if (v !== null && v.length === 1) l[k] = Number(v[0]);
  }
  const sem = hostValues('sem');
  if (sem !== null && sem.length === 4) [l.semmsl, l.semmns, l.semopm, l.semmni] = sem.map(Number);
  return l;
}
