// Debian's procps and util-linux under elfrun read /proc and /sys as they do
// natively: findmnt's tree of the guest's mounts (the same targets and types
// as the host's for /, /proc), free and uptime's formats, and ps on guest
// processes (their pids, parents, states, memory). The oracle is the native
// run where the output depends only on the host; ps's view of a guest
// process is checked against what the guest itself reads in /proc.
import { spawnSync } from 'node:child_process';
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

// util-linux's mount, findmnt and umount and coreutils' df in the guest, as root, against a native run in a
// private mount namespace (df's used space masked: tmpfs keeps no usage count in elfrun).
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0;
describe.runIf(canUnshare && have('/usr/bin/mount') && have('/usr/bin/df'))('util-linux mount in the guest', () => {
  it('mounts, shows, remounts read-only and unmounts a tmpfs as natively', () => {
    const script =
      'd=/tmp/um.$$; mkdir -p $d; /usr/bin/mount -t tmpfs -o size=1m,mode=750 none $d; echo rc $?; /usr/bin/findmnt -n $d | sed "s#$d#D#"; ' +
      '/usr/bin/df -h $d | sed "s#$d#D#; s/  *0  */ USED /"; /usr/bin/mount -o remount,ro $d; /usr/bin/findmnt -n -o TARGET,OPTIONS $d | sed "s#$d#D#"; ' +
      '/usr/bin/umount $d; echo rc $?; rmdir $d';
    const bb = fixture('x86_64', 'busybox');
    const native = spawnSync('unshare', ['-m', '--propagation', 'private', bb, 'sh', '-c', script], { encoding: 'latin1' });
    const got = runElfrun(bb, ['sh', '-c', script]);
    expect(got.stdout).toBe(native.stdout);
    expect(got.stderr).toBe(native.stderr);
  });
});

// util-linux's ipcmk, ipcs and ipcrm see the guest's System V IPC objects
// (through /proc/sysvipc and the *_STAT commands). Run natively, the same
// script makes and removes its own objects in the host's namespace: the
// outputs match once ids, keys, pids and times are masked.
describe.runIf(have('/usr/bin/ipcs') && have('/usr/bin/ipcmk') && have('/usr/bin/ipcrm'))('util-linux ipcs, ipcmk, ipcrm', () => {
  it('ipcs -l shows the limits as natively', () => {
    expect(runElfrun('/usr/bin/ipcs', ['-l']).stdout).toBe(runLinux('x86_64', '/usr/bin/ipcs', ['-l']).stdout);
  });
  it('ipcmk makes a segment, a semaphore set and a queue that ipcs -i shows and ipcrm removes', () => {
    const bb = fixture('x86_64', 'busybox');
    const script = [
      'id() { sed "s/.*: //"; }',
      'm=$(/usr/bin/ipcmk -M 10000 -p 0640 | id); s=$(/usr/bin/ipcmk -S 3 -p 0600 | id); q=$(/usr/bin/ipcmk -Q | id)',
      '/usr/bin/ipcs -m -i $m; /usr/bin/ipcs -s -i $s; /usr/bin/ipcs -q -i $q',
      '/usr/bin/ipcrm -m $m -s $s -q $q && echo removed',
      '/usr/bin/ipcs -m -i $m; /usr/bin/ipcs -q -i $q',
    ].join('\n');
    const mask = (s: string): string =>
      s
        .replace(/(shmid|semid|msqid)=\d+/g, '$1=N')
        .replace(/(cpid|lspid|lrpid)=\d+/g, '$1=N')
        .replace(/(change_time|ctime|change_time) ?= ?.*\n/g, '$1=T\n')
        .replace(/id \d+/g, 'id N');
    const got = runElfrun(bb, ['sh', '-c', script]);
    const want = runLinux('x86_64', bb, ['sh', '-c', script]);
    expect(mask(got.stdout)).toBe(mask(want.stdout));
    expect(mask(got.stderr)).toBe(mask(want.stderr));
    expect(got.stdout).toContain('removed');
  });
});
