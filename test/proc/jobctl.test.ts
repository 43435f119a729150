// Job control: stop and continue, as wait4/waitid/SIGCHLD and /proc report it.
// The oracle is native x86_64 for both arches: the semantics are the kernel's,
// and qemu-aarch64 (7.2) mishandles SA_NOCLDSTOP (it notifies stops anyway).
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

describe('job control', () => {
  const native = (): ReturnType<typeof runLinux> => runLinux('x86_64', fixture('x86_64', 'jobctl'), []);
  for (const arch of ARCHES) {
    it(`${arch}: WUNTRACED, WCONTINUED, waitid WSTOPPED/WNOWAIT, SIGKILL while stopped, SA_NOCLDSTOP`, () => {
      const want = native();
      expect(want.stdout).toContain('stopped by 19');
      expect(runElfrun(fixture(arch, 'jobctl'), [])).toEqual(want);
    });

    it(`${arch}: a shell stops and continues a background job`, () => {
      const bb = fixture('x86_64', 'busybox');
      const script = 'sleep 0.3 & p=$!; kill -STOP $p; sleep 0.1; cut -d" " -f3 /proc/$p/stat; grep State /proc/$p/status; kill -CONT $p; wait $p; echo "wait: $?"';
      expect(runElfrun(fixture(arch, 'busybox'), ['sh', '-c', script])).toEqual(runLinux('x86_64', bb, ['sh', '-c', script]));
    });
  }
});
