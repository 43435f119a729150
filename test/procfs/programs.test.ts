// Debian's procps and util-linux under elfrun read /proc and /sys as they do
// natively: findmnt's tree of the guest's mounts (the same targets and types
// as the host's for /, /proc), free and uptime's formats, and ps on guest
// processes (their pids, parents, states, memory). The oracle is the native
// run where the output depends only on the host; ps's view of a guest
// process is checked against what the guest itself reads in /proc.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const have = (p: string): boolean => existsSync(p);

describe.runIf(have('/usr/bin/findmnt'))('util-linux findmnt', () => {
  for (const target of ['/', '/proc']) {
    it(`shows ${target} as natively`, () => {
      const args = ['-n', '-o', 'TARGET,FSTYPE', target];
      expect(runElfrun('/usr/bin/findmnt', args).stdout).toBe(runLinux('x86_64', '/usr/bin/findmnt', args).stdout);
    });
  }
  it('lists the guest /sys and its cgroup2 below it', () => {
    const got = runElfrun('/usr/bin/findmnt', ['-n', '-r', '-o', 'TARGET,FSTYPE,OPTIONS', '-R', '/sys']);
    expect(got.stdout).toBe('/sys sysfs ro,relatime\n/sys/fs/cgroup cgroup2 ro,relatime\n');
  });
});

describe.runIf(have('/usr/bin/ps') && have('/usr/bin/free'))('procps', () => {
  it('free and uptime print their formats as natively', () => {
    const shape = (s: string): string => s.replace(/\d+(\.\d+)?/g, 'N').replace(/ +/g, ' ');
    for (const prog of ['/usr/bin/free', '/usr/bin/uptime']) {
      const got = runElfrun(prog, []);
      expect(got.stderr).toBe('');
      expect(shape(got.stdout)).toBe(shape(runLinux('x86_64', prog, []).stdout));
    }
  });
  it('ps shows a guest process as its own /proc does', () => {
    const script = 'sleep 5 & p=$!; /usr/bin/ps -o pid=,ppid=,stat=,comm= -p $p; echo $p $$ "$(cut -d" " -f3 /proc/$p/stat)" "$(cat /proc/$p/comm)"; /usr/bin/ps -o rss= -p $$ | grep -qv "^ *0$" && echo resident; kill $p';
    const got = runElfrun(fixture('x86_64', 'busybox'), ['sh', '-c', script]);
    const [ps, own, resident] = got.stdout.trimEnd().split('\n');
    const [pid, ppid, state, comm] = own.split(' ');
    expect(ps.trim().split(/\s+/)).toEqual([pid, ppid, state, comm]);
    expect(resident).toBe('resident');
  });
  it('top -bn1 runs to its end', () => {
    const got = runElfrun('/usr/bin/top', ['-bn1']);
    expect(got.status).toBe(0);
    expect(got.stdout).toMatch(/^top - .* load average/);
    expect(got.stdout).toMatch(/\n\s*PID USER/);
  });
});
