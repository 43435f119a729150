// `elfrun syscalls` and `elfrun missing`, and the committed docs/syscalls.md.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ELFRUN, ROOT, fixture } from '../helpers/oracle.js';
import { coverageMarkdown } from '../../src/syscalls/coverage.js';

const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };

describe('syscall coverage', () => {
  it('docs/syscalls.md is current (regenerate: bin/elfrun syscalls --markdown > docs/syscalls.md)', () => {
    expect(readFileSync(join(ROOT, 'docs/syscalls.md'), 'utf8')).toBe(coverageMarkdown());
  });

  it('elfrun syscalls lists counts and entries per arch', () => {
    const r = spawnSync(ELFRUN, ['syscalls', '--arch', 'x86_64', '--status', 'absent'], { env });
    const out = r.stdout.toString();
    expect(r.status).toBe(0);
    expect(out).toMatch(/^x86_64: \d+ supported, \d+ partial, \d+ probe, \d+ absent\n/);
    expect(out).toMatch(/\n\s+246 kexec_load\s+absent\n/);
    expect(out).not.toMatch(/ openat /);
  });

  for (const arch of ['x86_64', 'arm64'] as const) {
    it(`elfrun missing reports a missing syscall on ${arch}`, () => {
      const r = spawnSync(ELFRUN, ['missing', '--json', fixture(arch, 'kexec')], { env });
      expect(r.status).toBe(125);
      const report = JSON.parse(r.stderr.toString());
      expect(report.arch).toBe(arch);
      expect(report.missing).toHaveLength(1);
      expect(report.missing[0]).toMatchObject({ name: 'kexec_load', nr: arch === 'x86_64' ? 246 : 104, count: 1, status: 'absent' });
      const clean = spawnSync(ELFRUN, ['missing', fixture(arch, 'busybox'), 'true'], { env });
      expect(clean.status).toBe(0);
      expect(clean.stderr.toString()).toBe(`elfrun: nothing missing (${arch})\n`);
    });
  }
});
