// /proc/self and /proc/<pid> show the guest process, as a native run shows itself.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
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

// The host's other processes: visible as to a native program (their /proc
// entries, kill, affinity, pgid, sid and priority go to the host), hidden by
// --sandbox as by a pid namespace of its own. Each run gets its own host
// `sleep` to look at and kill; the oracle is native busybox doing the same.
describe("the host's other processes", () => {
  const script = (pid: number): string =>
    [
      `p=${pid}`,
      'tr "\\0" " " < /proc/$p/cmdline; echo',
      'cat /proc/$p/comm',
      // (stderr dropped: a host process that exits between ls's readdir and its stat is reported, natively too)
      'ls /proc 2>/dev/null | grep -qx $p && echo listed',
      'pidof sleep | grep -ow $p',
      'taskset -p $p',
      'kill -0 $p; echo "kill -0: $?"',
      'kill $p; echo "kill: $?"',
    ].join('; ');
  const withSleep = (fn: (pid: number) => { stdout: string; stderr: string; status: number | null }): { out: string; err: string; status: number | null; sleepSignal: string | null } => {
    const child = spawn('sleep', ['30.25'], { stdio: 'ignore' });
    try {
      const r = fn(child.pid!);
      const pid = String(child.pid);
      // the sleep is this process's child: killed, it stays a zombie until Node's loop reaps it
      const killed = spawnSync('sh', ['-c', `for i in 1 2 3 4 5 6 7 8 9 10; do grep -q "^${pid} ([^)]*) Z" /proc/${pid}/stat 2>/dev/null && exit 0; [ -e /proc/${pid} ] || exit 0; sleep 0.1; done; exit 1`]);
      return { out: r.stdout.replaceAll(pid, 'P'), err: r.stderr.replaceAll(pid, 'P'), status: r.status, sleepSignal: killed.status === 0 ? 'gone' : 'alive' };
    } finally {
      child.kill('SIGKILL');
    }
  };

  for (const arch of ARCHES) {
    it(`${arch}: /proc, pidof, taskset and kill see them, as natively`, () => {
      const bb = fixture('x86_64', 'busybox');
      const want = withSleep((pid) => runLinux('x86_64', bb, ['sh', '-c', script(pid)]));
      const got = withSleep((pid) => runElfrun(fixture(arch, 'busybox'), ['sh', '-c', script(pid)]));
      expect(got).toEqual(want);
      expect(got.out).toContain('listed');
      expect(got.sleepSignal).toBe('gone');
    });
  }

  it('--sandbox hides them, as a pid namespace does (Linux shows a pid that does not exist the same way)', () => {
    const bb = fixture('x86_64', 'busybox');
    const missing = 4194000;
    const want = runLinux('x86_64', bb, ['sh', '-c', script(missing).replace('; kill $p; echo "kill: $?"', '')]);
    const got = withSleep((pid) => runElfrun(bb, ['sh', '-c', script(pid).replace('; kill $p; echo "kill: $?"', '')], { flags: ['--sandbox'] }));
    expect(got.out).toBe(want.stdout.replaceAll(String(missing), 'P'));
    expect(got.err).toBe(want.stderr.replaceAll(String(missing), 'P'));
    expect(got.status).toBe(want.status);
    expect(got.sleepSignal).toBe('alive');
  });
});
