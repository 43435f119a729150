// Clocks and sleeping.
import { CLOCK_REALTIME, CLOCK_REALTIME_COARSE } from '../../abi/time.js';
import type { Task } from '../../proc/task.js';
import { host, Scratch } from '../../host/libc.js';
import { E } from '../../abi/errno.js';
import { fail } from '../../abi/errors.js';
import { chk, hostOut, partial, supported, type Def } from './util.js';
import { cpuClock } from './timers.js';
import { clockNow as cpuNow } from '../../proc/posixtimer.js';


/** Clock ids the guest may read from the host as they are (struct timespec is the same on both arches). */
function clockId(id: number): number {
  // Negative ids are per-process/thread CPU clocks or fd clocks: not passed through.
  if (id < 0) return fail(E.EINVAL);
  if (id > 11) return fail(E.EINVAL);
  return id;
}

export const timeDefs: Record<string, Def> = {
  clock_gettime: partial(
    ['clock', 'tsout'],
    (t, a) => {
      const raw = a.i32(0);
      const id = raw < 0 || raw === 2 || raw === 3 ? raw : clockId(raw);
      if (id < 0 || id === 2 || id === 3) {
        // CPU-time clocks: a guest process or thread (its own, or another by pid), as elfrun accounts it
        const ns = Math.round(cpuNow(cpuClock(t, id, true)) * 1e6);
        const b = Buffer.alloc(16);
        b.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), 0);
        b.writeBigInt64LE(BigInt(ns % 1e9), 8);
        t.mm.write(a.ptr(1), b);
        return 0;
      }
      return hostOut(t, a.ptr(1), 16, (h) => chk(host.clockGettime(id, h)));
    },
    'the host\'s clocks; the CPU-time clocks (the caller\'s, or a guest process\'s or thread\'s by pid) count the guest\'s time in the emulator; dynamic (fd) clocks are EINVAL',
  ),
  clock_getres: supported(['clock', 'tsout'], (t, a) => {
    if (a.i32(0) < 0) {
      // a CPU-time clock by pid, as Linux's posix_cpu_clock_getres: 1 ns for the
      // scheduler's clocks (CPUCLOCK_SCHED), a tick (the coarse clocks' resolution) for PROF and VIRT
      cpuClock(t, a.i32(0), false);
      if (a.ptr(1) === 0) return 0;
      if ((a.i32(0) & 3) !== 2) return hostOut(t, a.ptr(1), 16, (h) => chk(host.clockGetres(CLOCK_REALTIME_COARSE, h)));
      t.mm.write(a.ptr(1), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
      return 0;
    }
    const id = clockId(a.i32(0));
    if (a.ptr(1) === 0) return chk(host.clockGetres(id, 0));
    return hostOut(t, a.ptr(1), 16, (h) => chk(host.clockGetres(id, h)));
  }),
  gettimeofday: supported(['tvout', 'ptr'], (t, a) => {
    const tv = a.ptr(0);
    if (tv !== 0) {
      const now = clockNow(CLOCK_REALTIME);
      const b = Buffer.alloc(16);
      b.writeBigInt64LE(now / 1000000000n, 0);
      b.writeBigInt64LE((now % 1000000000n) / 1000n, 8);
      t.mm.write(tv, b);
    }
    const tz = a.ptr(1);
    if (tz !== 0) t.mm.write(tz, Buffer.alloc(8)); // struct timezone: UTC, no DST (what Linux keeps unless settimeofday set it)
    return 0;
  }),
  time: supported({ args: ['secsout'], ret: 'time' }, (t, a) => {
    const now = Number(clockNow(CLOCK_REALTIME) / 1000000000n);
    if (a.ptr(0) !== 0) t.mm.setU64(a.ptr(0), now);
    return now;
  }),
};

/** host memory clock_gettime writes into, reused by each call */
let ts: Scratch | null = null;
function clockNow(id: number): bigint {
  ts ??= new Scratch(4096);
  chk(host.clockGettime(id, ts.addr));
  return ts.dv.getBigInt64(0, true) * 1000000000n + ts.dv.getBigInt64(8, true);
}
