// The committed command-line reference is what bin/elfrun prints.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/oracle.js';

describe('command-line reference', () => {
  it('docs/cli.md is current (regenerate: node scripts/gen-cli-doc.mjs)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/gen-cli-doc.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
