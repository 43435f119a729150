// A guest that runs elfrun (a harness's wrapper script): the program it names
// runs in the same emulated process instead of Node.js under emulation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-nested-'));
  for (const arch of ['x86_64', 'arm64'] as const) {
    const w = join(dir, `wrap-${arch}`);
    writeFileSync(w, `#!/bin/sh\nexec ${ELFRUN} run --argv0 "\${0##*/}" ${fixture(arch, 'busybox')} "$@"\n`);
    chmodSync(w, 0o755);
    mkdirSync(join(dir, arch));
    symlinkSync(w, join(dir, arch, 'false'));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('elfrun run by the guest', () => {
  it('a wrapper script that execs elfrun runs the program it names, with its argv[0]', () => {
    const bb = fixture('x86_64', 'busybox');
    // the host runs the same script with elfrun as a real process: the oracle is elfrun outside the guest
    const script = `${dir}/x86_64/false; echo "false: $?"; ln -s ${dir}/wrap-x86_64 ${dir}/echo 2>/dev/null; ${dir}/echo hi there; env -i X=1 ${ELFRUN} run -E Y=2 ${bb} env`;
    const native = runLinux('x86_64', bb, ['sh', '-c', script]);
    expect(native.stdout).toBe('false: 1\nhi there\nX=1\nY=2\n');
    expect(runElfrun(bb, ['sh', '-c', script])).toEqual(native);
  });

  it('across arches: an x86_64 guest runs elfrun on an arm64 program', () => {
    const r = runElfrun(fixture('x86_64', 'busybox'), ['sh', '-c', `${ELFRUN} run ${fixture('arm64', 'busybox')} uname -m; ${dir}/arm64/false; echo $?`]);
    expect(r.stdout).toBe('aarch64\n1\n');
  });

  it('an option elfrun cannot nest is reported, not ignored', () => {
    const r = runElfrun(fixture('x86_64', 'busybox'), ['sh', '-c', `${ELFRUN} run --root / /bin/true`]);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/unsupported option --root of an elfrun run by the guest/);
  });
});
