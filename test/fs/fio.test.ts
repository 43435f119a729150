// A real program on native AIO: Debian's fio with --ioengine=libaio (its
// io_submit, io_getevents and, with --userspace_reap, libaio's reaping from
// the ring in user space, where fio makes no io_getevents call at all), random reads and writes at iodepth 8 with crc32c
// verification, on a host file and on tmpfs, against the same job run
// natively (a host file; /dev/shm for tmpfs): the same errors (none), bytes,
// I/O counts and queue depths. fio's random offsets are seeded the same way
// each run (randrepeat), so these figures are the job's, not the timing's.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkoutInTmp, runElfrun } from '../helpers/oracle.js';

const FIO = '/usr/bin/fio';
const dir = mkdtempSync(join(tmpdir(), 'elfrun-fio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TMPFS_MAGIC = 0x01021994;
const hostTmpfs = existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC;

const job = (file: string, reap: boolean): string[] => [
  // no verify state file left in the cwd (the checkout, for the native run)
  '--name=aio', '--ioengine=libaio', '--size=2M', '--bs=4k', '--rw=randrw', '--iodepth=8', '--verify=crc32c', '--verify_state_save=0', '--output-format=json',
  `--filename=${file}`, // reaping without waiting (a minimum of 0): libaio's engine takes every event from the ring itself, no io_getevents at all
  ...(reap ? ['--userspace_reap=1', '--iodepth_batch_complete_min=0'] : []),
];

interface Figures {
  error: number;
  read: [number, number];
  write: [number, number];
  depth: Record<string, number>;
}
interface FioSide { io_bytes: number; total_ios: number }
function figures(out: string): Figures {
  const j = (JSON.parse(out) as { jobs: Array<{ error: number; read: FioSide; write: FioSide; iodepth_level: Record<string, number> }> }).jobs[0];
  return { error: j.error, read: [j.read.io_bytes, j.read.total_ios], write: [j.write.io_bytes, j.write.total_ios], depth: j.iodepth_level };
}

describe.runIf(existsSync(FIO))('fio --ioengine=libaio', () => {
  const native = (file: string, reap: boolean): Figures => {
    const r = spawnSync(FIO, job(file, reap), { encoding: 'latin1' });
    rmSync(file, { force: true });
    return figures(r.stdout);
  };

  for (const reap of [false, true]) {
    it(`on a host file${reap ? ', reaping the ring in user space' : ''}: as Linux`, () => {
      const want = native(join(dir, 'native'), reap);
      expect(want.error).toBe(0);
      expect(want.read[1]).toBeGreaterThan(0);
      const got = runElfrun(FIO, job(join(dir, 'elfrun'), reap), { timeout: 120_000 });
      expect(got.stderr).toBe('');
      expect(figures(got.stdout)).toEqual(want);
    });
  }

  it.skipIf(!hostTmpfs || checkoutInTmp)('on tmpfs: as Linux on tmpfs', () => {
    const want = native('/dev/shm/elfrun-fio-native', true);
    const got = runElfrun(FIO, job('/tmp/fio-file', true), { flags: ['--tmpfs', '/tmp'], cwd: '/', timeout: 120_000 });
    expect(got.stderr).toBe('');
    expect(figures(got.stdout)).toEqual(want);
  });
});
