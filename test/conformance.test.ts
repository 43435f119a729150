// A fast, deterministic slice of busybox's own test suite (npm run conformance
// runs all of it): every test that passes natively (x86_64) or under
// qemu-aarch64 (arm64) must pass under elfrun.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers/oracle.js';

const APPLETS: Record<string, string[]> = {
  x86_64: ['basename', 'cut', 'echo', 'expr', 'seq', 'tr', 'uniq', 'wc'],
  arm64: ['basename', 'cut', 'seq', 'uniq'],
};

for (const [arch, applets] of Object.entries(APPLETS)) {
  describe(`busybox test suite slice on ${arch}`, () => {
    it(`${applets.join(', ')}: all tests that pass on Linux pass under elfrun`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'elfrun-conf-'));
      try {
        const out = join(dir, 'result.json');
        const r = spawnSync('node', [join(ROOT, 'dist/scripts/conformance.js'), '--arch', arch, '--json', out, ...applets], { timeout: 600_000 });
        expect(r.status, r.stderr.toString()).toBe(0);
        const report = JSON.parse(readFileSync(out, 'utf8'))[arch];
        const baselinePasses = Object.values(report.baseline).filter((v) => v === 'PASS').length;
        expect(baselinePasses).toBeGreaterThan(0);
        const failing = Object.entries(report.baseline).filter(([k, v]) => v === 'PASS' && report.elfrun[k] !== 'PASS').map(([k]) => k);
        expect(failing).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
