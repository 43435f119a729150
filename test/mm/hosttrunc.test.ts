// A host file the guest maps shared, truncated and then extended again by a
// host process while the guest runs (fixture hosttrunc): past the new end the
// guest gets SIGBUS (BUS_ADRERR, si_addr the byte touched) for reads and
// writes, the pages before it go on working, and once the file has grown the
// same pages show its new bytes; elfrun itself never takes the host's SIGBUS.
// Against the native run, and qemu-aarch64 for arm64; with the engine's direct
// window and without it.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, fixture, haveFixtures, haveQemu } from '../helpers/oracle.js';

/** Run argv with a fresh 16 KiB file (its last argument), truncating it to 5000 bytes at the first "ready", extending it again at the second. */
function drive(argv: string[], file: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  writeFileSync(file, Buffer.alloc(16384, 'a'));
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    let out = '';
    let err = '';
    let steps = 0;
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      for (const n = out.split('ready\n').length - 1; steps < n; ) {
        steps++;
        if (steps === 1) truncateSync(file, 5000);
        else {
          truncateSync(file, 16384);
          const fd = openSync(file, 'r+');
          writeSync(fd, Buffer.alloc(4096, 'Z'), 0, 4096, 8192);
          closeSync(fd);
        }
        p.stdin.write('go\n');
      }
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString('latin1')));
    p.on('error', reject);
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve(`${out}${err}exit ${code} ${sig}\n`);
    });
  });
}

describe.skipIf(!haveFixtures())('a shared file mapping truncated by the host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elfrun-hosttrunc-'));
  const file = join(dir, 'f');
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: SIGBUS past the new end, as Linux`, async () => {
      const prog = fixture(arch, 'hosttrunc');
      const want = await drive(arch === 'x86_64' ? [prog, file] : ['qemu-aarch64', prog, file], file);
      expect(want).toContain('read page 3 at 8193: SIGBUS code 2 at offset 8193\n');
      expect(want).toMatch(/exit 0 null\n$/);
      expect(await drive([ELFRUN, 'run', prog, file], file)).toBe(want);
      // through the TLB only (no direct window): the engine's SIGBUS, not the window's
      expect(await drive([ELFRUN, 'run', prog, file], file, { ...process.env, ELFRUN_DIRECT: '0' })).toBe(want);
    }, 120_000);
  }
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
