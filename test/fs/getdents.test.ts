// getdents(2), x86_64's old call: the getdents fixture (entries and d_type
// in the record's last byte on a host directory in large and small
// buffers, the same entries as getdents64 on procfs, devfs and /, EINVAL,
// EFAULT, EBADF, ENOTDIR) under elfrun against the native run, and its
// trace against strace's. arm64 has no getdents.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ELFRUN, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

const prog = fixture('x86_64', 'getdents');
const calls = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('getdents(')).map((l) => l.replace(/0x[0-9a-f]+/g, 'ADDR').replace(/\s+/g, ' '));

describe.skipIf(!haveFixtures())('getdents fixture', () => {
  it('x86_64: as Linux', () => {
    const want = runLinux('x86_64', prog, []);
    expect(want.stdout).toContain('a-much-longer-name-of-thirty-two-chars 8');
    const got = runElfrun(prog, []);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(want.status);
  });
  it('x86_64: traced as strace traces it (the host directory\'s calls)', () => {
    const st = spawnSync('strace', ['-e', 'trace=getdents', prog], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-e', 'trace=getdents', prog], { encoding: 'latin1' });
    // the first directory is the host's: the same calls on both; procfs and devfs are elfrun's own
    expect(calls(el.stderr).slice(0, 6)).toEqual(calls(st.stderr).slice(0, 6));
  });
});
