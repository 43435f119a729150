// How elfrun itself ends: like the native program, with nothing the native
// exit does not do. A native exit does not fsync the files its output went
// to; the koffi addon's static destructors fsync fds 1 and 2, and used to
// force a guest's output file to disk at every exit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, fixture } from '../helpers/oracle.js';

let dir = '';
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-exit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The successful fsync-family calls on fds 1 and 2 that strace -f sees while cmd runs with stdout and stderr in files. */
function syncsOfStdio(cmd: string[], out: string): string[] {
  const log = join(dir, 'strace.log');
  const o = openSync(join(dir, out), 'w');
  const e = openSync(join(dir, `${out}.err`), 'w');
  try {
    const r = spawnSync('strace', ['-f', '-e', 'trace=fsync,fdatasync,sync_file_range', '-o', log, ...cmd], { env, stdio: ['ignore', o, e] });
    if (r.error) throw r.error;
    expect(r.status).toBe(0);
  } finally {
    closeSync(o);
    closeSync(e);
  }
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => /\b(fsync|fdatasync|sync_file_range)\([12][,)].*= 0$/.test(l));
}

describe('elfrun exit', () => {
  it('does not fsync the files stdout and stderr go to, as a native exit does not', () => {
    const bb = fixture('x86_64', 'busybox');
    const args = ['sh', '-c', 'echo out; echo err >&2'];
    const native = syncsOfStdio([bb, ...args], 'native.out');
    const got = syncsOfStdio([ELFRUN, 'run', bb, ...args], 'elfrun.out');
    expect(got).toEqual(native);
    expect(readFileSync(join(dir, 'elfrun.out'), 'utf8')).toBe('out\n');
    expect(readFileSync(join(dir, 'elfrun.out.err'), 'utf8')).toBe('err\n');
  });
});

describe("elfrun's own output into a closed pipe", () => {
  it('ends quietly with the status of a death by SIGPIPE, as coreutils', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${ELFRUN}" syscalls | head -1 >/dev/null`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(141);
  });
});
