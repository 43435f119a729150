// Linux native AIO: the aio fixture (io_setup's checks and ring, every
// opcode, errors and partial submission, IOCB_FLAG_RESFD, min_nr, nr and
// timeouts, the ring read in user space as libaio does, IOCB_CMD_POLL and
// io_cancel, a pipe read that waits in io_submit, signals, io_pgetevents'
// mask, fork, io_destroy, a full ring) against native Linux; and the calls
// in a trace as strace -f prints them.
//
// qemu-aarch64 (7.2) does not translate the AIO syscalls (io_setup is
// ENOSYS under it), so the native x86_64 run is the oracle for arm64 too:
// the fixture prints nothing that differs between the arches.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-aio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!haveFixtures())('aio fixture', () => {
  let native: string | null = null;
  const want = (): string => {
    native ??= runLinux('x86_64', fixture('x86_64', 'aio'), []).stdout;
    expect(native).toContain('ring: id 0 nr 383');
    return native;
  };

  it('x86_64: as Linux', () => {
    const got = runElfrun(fixture('x86_64', 'aio'), []);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want());
  });

  it('arm64: as Linux (native x86_64: qemu-aarch64 has no AIO)', () => {
    if (haveQemu()) {
      // the reason the oracle is x86_64: if qemu learns AIO, this test should compare with it instead
      const q = runLinux('arm64', fixture('arm64', 'aio'), []);
      expect(q.stdout).toContain('io_setup nr=128 = -1 ENOSYS');
    }
    const got = runElfrun(fixture('arm64', 'aio'), []);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want());
  });

  it.runIf(existsSync('/usr/bin/strace'))('traces decode the calls as strace -f prints them', () => {
    const calls = 'trace=io_setup,io_destroy,io_submit,io_cancel,io_getevents,io_pgetevents';
    // a call another process's line interrupted ("<unfinished ...>", then "<... resumed>") is one line again: where the lines of two processes interleave is timing
    const norm = (text: string): string[] => {
      const out: string[] = [];
      const pending = new Map<string, number>();
      for (const raw of text.split('\n')) {
        const m = /^(\[pid +(\d+)\] |(\d+) +)?(.*)$/.exec(raw)!;
        const pid = m[2] ?? m[3] ?? '';
        let l = m[4];
        if (l === '' || /^(---|\+\+\+)/.test(l)) continue;
        const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(l);
        if (resumed && pending.has(pid)) {
          out[pending.get(pid)!] += resumed[1];
          pending.delete(pid);
          continue;
        }
        if (l.endsWith(' <unfinished ...>')) {
          l = l.slice(0, -' <unfinished ...>'.length);
          pending.set(pid, out.length);
        }
        out.push(l);
      }
      // the order in which requests completed together (fsync and fdsync in Linux's workqueue) is timing too
      const sorted = (l: string): string => l.replace(/\[(\{data=[^\]]*\})\]/, (_m, evs: string) => `[${evs.split('}, {').map((e) => e.replace(/^\{|\}$/g, '')).sort().map((e) => `{${e}}`).join(', ')}]`);
      return out.map((l) => sorted(l.replace(/\s+=/, ' =').replace(/0x[0-9a-f]{5,}/g, 'ADDR')));
    };
    const st = join(dir, 'strace.txt');
    const el = join(dir, 'elfrun.txt');
    spawnSync('strace', ['-f', '-o', st, '-e', calls, fixture('x86_64', 'aio')]);
    spawnSync(ELFRUN, ['trace', '-f', '-o', el, '-e', calls, fixture('x86_64', 'aio')]);
    const lines = norm(readFileSync(st, 'latin1'));
    expect(lines.length).toBeGreaterThan(150);
    expect(norm(readFileSync(el, 'latin1'))).toEqual(lines);
  });

  it('a context left to the exit ends with it: aio-nr goes back', () => {
    const sh = `${fixture('x86_64', 'aio')} exit; cat /proc/sys/fs/aio-nr`;
    const want = spawnSync('sh', ['-c', sh], { encoding: 'latin1' }).stdout;
    expect(want).toBe('io_setup nr=32, then exit = 0\n0\n');
    const got = runElfrun(fixture('x86_64', 'busybox'), ['sh', '-c', sh]);
    expect(got.stdout).toBe(want);
  });

  it('/proc/sys/fs/aio-nr counts the live contexts; root may lower aio-max-nr', () => {
    const sh = 'cat /proc/sys/fs/aio-nr /proc/sys/fs/aio-max-nr; echo 100 > /proc/sys/fs/aio-max-nr; cat /proc/sys/fs/aio-max-nr; echo x > /proc/sys/fs/aio-max-nr';
    const got = runElfrun(fixture('x86_64', 'busybox'), ['sh', '-c', sh]);
    expect(got.stdout).toBe('0\n65536\n100\n');
    expect(got.stderr).toContain('Invalid argument');
  });
});
