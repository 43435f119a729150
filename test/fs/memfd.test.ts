// memfd with a real program: Debian's python3 (os.memfd_create, mmap, seals,
// fork) under elfrun prints what it prints natively. The memfd fixture
// (test/cli/fixtures.test.ts) covers the syscalls one by one.
import { afterAll, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runElfrun } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-memfd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const py = '/usr/bin/python3';

it.runIf(existsSync(py))('python3: os.memfd_create, a shared mmap, F_ADD_SEALS/F_GET_SEALS, a sealed write, a forked reader', () => {
  const script = join(dir, 'memfd.py');
  writeFileSync(
    script,
    [
      'import os, mmap, fcntl',
      "fd = os.memfd_create('py', os.MFD_ALLOW_SEALING | os.MFD_CLOEXEC)",
      "os.write(fd, b'hello')",
      'os.ftruncate(fd, 4096)',
      'm = mmap.mmap(fd, 4096)',
      "m[0:5] = b'HELLO'",
      "print(os.pread(fd, 5, 0), os.readlink(f'/proc/self/fd/{fd}'))",
      'm.close()',
      'fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK)',
      'print(fcntl.fcntl(fd, fcntl.F_GET_SEALS))',
      'try: os.write(fd, b"x")',
      "except OSError as e: print('write', e.errno)",
      'pid = os.fork()',
      'if pid == 0:',
      "    print('child reads', os.pread(fd, 5, 0), flush=True); os._exit(0)",
      'os.waitpid(pid, 0)',
      '',
    ].join('\n'),
  );
  const want = spawnSync(py, [script]).stdout.toString();
  expect(want).toContain('/memfd:py (deleted)');
  expect(runElfrun(py, [script]).stdout).toBe(want);
});
