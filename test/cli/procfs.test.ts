// /proc/self and /proc/<pid> show the guest process, as a native run shows itself.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const scripts: Array<[string, string]> = [
  ['cmdline', 'cat /proc/self/cmdline | tr "\\0" " "; echo'],
  ['comm', 'cat /proc/self/comm; cat /proc/$$/comm'],
  ['exe link', 'readlink /proc/self/exe; readlink -f /proc/$$/exe'],
  ['cwd link', 'cd /etc && readlink /proc/self/cwd'],
  ['fd links', 'ls -l /proc/self/fd 2>&1 | sed "s/\\(pipe\\|socket\\):\\[[0-9]*\\]/\\1:[N]/; s/ [A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]* / DATE /"'],
  ['stat fields', 'cut -d" " -f2,3 /proc/self/stat'],
  ['status name and ids', 'grep -E "^(Name|Umask|Pid|PPid|Uid|Gid|Threads):" /proc/self/status | sed "s/[0-9][0-9][0-9]*/N/g"'],
  ['environ', 'env -i A=1 B=two cat /proc/self/environ | tr "\\0" "\\n"'],
  ['a pid that is not ours', 'cat /proc/999999/status 2>&1; echo $?'],
  ['self is a link to the pid', 'test "$(readlink /proc/self)" -gt 0 && echo ok'],
];

for (const arch of ARCHES) {
  describe(`procfs on ${arch}`, () => {
    for (const [name, script] of scripts) {
      it(name, () => {
        // the oracle is the native x86_64 busybox: what a process sees of itself does not depend on the arch
        const want = runLinux('x86_64', fixture('x86_64', 'busybox'), ['sh', '-c', script]);
        const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', script]);
        expect(got.stdout.replaceAll(fixture(arch, 'busybox'), 'BUSYBOX')).toBe(want.stdout.replaceAll(fixture('x86_64', 'busybox'), 'BUSYBOX'));
        expect(got.stderr).toBe(want.stderr);
        expect(got.status).toBe(want.status);
      });
    }
  });
}

describe('names /proc/<pid> does not have', () => {
  it('are ENOENT, as on Linux (entries Linux has and elfrun lacks are reported instead)', () => {
    const bb = fixture('x86_64', 'busybox');
    const script = 'cat /proc/self/no-such-entry; echo "status $?"; ls /proc/self/nosuch 2>&1; echo "status $?"';
    expect(runElfrun(bb, ['sh', '-c', script])).toEqual(runLinux('x86_64', bb, ['sh', '-c', script]));
  });
});
