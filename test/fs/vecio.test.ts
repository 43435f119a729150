// Vectored and zero-copy I/O: the vecio fixture (preadv/pwritev/preadv2/
// pwritev2 on a host file, a memfd and pipes, their flags and errors;
// splice, tee, vmsplice, copy_file_range and sendfile between host files,
// memfds and pipes) prints what Linux prints, and traces decode the calls
// as strace -f prints them.
// qemu-aarch64 answers ENOSYS to preadv2 and pwritev2, so the native x86_64
// run is the oracle for arm64 too: the fixture prints nothing arch-specific.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-vecio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vecio fixture', () => {
  for (const arch of ['x86_64', 'arm64'] as const) {
    it(`${arch}: preadv/pwritev/preadv2/pwritev2 (offsets, RWF_* flags, SIGPIPE), splice, tee, vmsplice, copy_file_range (EXDEV), sendfile, and their errors`, () => {
      const want = runLinux('x86_64', fixture('x86_64', 'vecio'), [dir]);
      expect(want.stdout).toContain('broken pipe');
      const got = runElfrun(fixture(arch, 'vecio'), [dir]);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });
  }

  it.runIf(existsSync('/usr/bin/strace'))('traces decode the calls as strace -f prints them', () => {
    const prog = fixture('x86_64', 'vecio');
    const calls = /^((?:preadv|pwritev|splice|tee|vmsplice|copy_file_range|sendfile|fallocate|sync_file_range|readahead|fadvise64)2?\(.*)$/;
    const lines = (text: string): string[] =>
      text
        .split('\n')
        .map((l) => calls.exec(l)?.[1])
        // stack addresses differ; errno 95: strace names it EOPNOTSUPP, elfrun's generated errno table ENOTSUP
        .filter((l): l is string => l !== undefined && !/0x7ff|0xfff/.test(l))
        .map((l) => l.replace(/\s+=/, ' ='));
    const want = lines(spawnSync('strace', ['-f', prog, dir], { encoding: 'latin1' }).stderr);
    const got = lines(spawnSync(ELFRUN, ['trace', '-f', prog, dir], { encoding: 'latin1' }).stderr);
    expect(want.length).toBeGreaterThan(50);
    expect(got).toEqual(want);
  });
});
