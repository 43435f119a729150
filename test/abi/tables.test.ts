// src/abi/numbers.ts and errno.ts are what scripts/gen-tables.py makes from
// Debian's Linux UAPI headers (both arches) and the host's errno table.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/oracle.js';

describe('generated ABI tables', () => {
  it('numbers.ts and errno.ts are current (regenerate: python3 scripts/gen-tables.py)', () => {
    const out = mkdtempSync(join(tmpdir(), 'elfrun-abi-'));
    try {
      const r = spawnSync('python3', [join(ROOT, 'scripts/gen-tables.py'), out], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      for (const f of ['numbers.ts', 'errno.ts']) expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(ROOT, 'src/abi', f), 'utf8'));
    } finally {
      rmSync(out, { recursive: true });
    }
  });
});
