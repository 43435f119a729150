// Single-process busybox applets under elfrun against Linux (native x86_64,
// qemu-aarch64 for arm64): stdout, stderr and exit status must be identical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-applets-'));
  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) lines.push(createHash('md5').update(String(i)).digest('hex').slice(0, 6 + (i % 20)) + ` ${i}`);
  writeFileSync(join(dir, 'lines.txt'), lines.join('\n') + '\n');
  // 1 MiB of deterministic binary data
  const big = Buffer.alloc(1 << 20);
  let x = 12345;
  for (let i = 0; i < big.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    big[i] = x >>> 24;
  }
  writeFileSync(join(dir, 'data.bin'), big);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'a file with spaces'), 'x');
  symlinkSync('lines.txt', join(dir, 'link'));
  for (const f of ['lines.txt', 'data.bin', 'sub']) utimesSync(join(dir, f), 1700000000, 1700000000);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases: Array<{ name: string; args: string[]; input?: string }> = [
  { name: 'echo', args: ['echo', 'hello', 'world'] },
  { name: 'echo -n -e', args: ['echo', '-ne', 'a\\tb\\n'] },
  { name: 'printf', args: ['printf', '%s=%05d %x %.3f\\n', 'n', '42', '255', '3.14159'] },
  { name: 'true', args: ['true'] },
  { name: 'false', args: ['false'] },
  { name: 'uname -a', args: ['uname', '-a'] },
  { name: 'uname -m', args: ['uname', '-m'] },
  { name: 'cat file', args: ['cat', 'lines.txt'] },
  { name: 'cat stdin', args: ['cat'], input: 'from stdin\nline 2\n' },
  { name: 'cat missing', args: ['cat', 'no-such-file'] },
  { name: 'head', args: ['head', '-n', '5', 'lines.txt'] },
  { name: 'head -c', args: ['head', '-c', '100', 'data.bin'] },
  { name: 'wc', args: ['wc', 'lines.txt', 'data.bin'] },
  { name: 'wc stdin', args: ['wc', '-l'], input: 'a\nb\nc\n' },
  { name: 'md5sum', args: ['md5sum', 'data.bin', 'lines.txt'] },
  { name: 'sha256sum', args: ['sha256sum', 'data.bin'] },
  { name: 'seq', args: ['seq', '1', '10'] },
  { name: 'seq -s', args: ['seq', '-s', ',', '5', '-1', '-5'] },
  { name: 'sort', args: ['sort', 'lines.txt'] },
  { name: 'sort -n -r', args: ['sort', '-k2', '-n', '-r', 'lines.txt'] },
  { name: 'ls -l', args: ['ls', '-l', '.'] },
  { name: 'ls -la sub', args: ['ls', '-la', 'sub'] },
  { name: 'ls missing', args: ['ls', 'nope'] },
  { name: 'basename', args: ['basename', '/usr/lib/libfoo.so', '.so'] },
  { name: 'expr', args: ['expr', '6', '*', '7'] },
  { name: 'expr false', args: ['expr', '0', '+', '0'] },
  { name: 'date', args: ['date', '-u', '-d', '@0'] },
  { name: 'date fmt', args: ['date', '-u', '-d', '@1700000000', '+%Y-%m-%d %H:%M:%S %a %j'] },
  { name: 'unknown applet', args: ['no-such-applet'] },
];

for (const arch of ARCHES) {
  describe(`busybox applets on ${arch}`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const bb = fixture(arch, 'busybox');
        const want = runLinux(arch, bb, c.args, { cwd: dir, input: c.input });
        const got = runElfrun(bb, c.args, { cwd: dir, input: c.input });
        expect(got.stderr).toBe(want.stderr);
        expect(got.stdout).toBe(want.stdout);
        expect(got.status).toBe(want.status);
      });
    }
  });
}
