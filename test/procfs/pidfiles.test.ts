// /proc/<pid>/'s files beyond stat and status: the writable tunables (their
// ranges, errors, scaling and inheritance), the fixed answers of the initial
// namespaces, limits, the memory files' formats, mem and pagemap, and the
// permission bits of every entry elfrun shows.
//
// The oracle is the native x86_64 busybox for both arches: what a process
// sees of itself does not depend on its arch, and qemu-aarch64 would show
// its own (the host process's) files for several of these entries.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ARCHES, ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const scripts: Array<[string, string]> = [
  [
    'oom_score_adj and oom_adj: ranges, parsing, scaling, the floor and legacy rules',
    [
      'cat /proc/self/oom_score_adj /proc/self/oom_adj',
      'echo 1001 > /proc/self/oom_score_adj; echo "rc $?"',
      'echo abc > /proc/self/oom_score_adj; echo "rc $?"',
      'echo " 0x10 " > /proc/self/oom_score_adj; cat /proc/self/oom_score_adj /proc/self/oom_adj',
      'echo 500 > /proc/self/oom_score_adj; cat /proc/self/oom_score_adj /proc/self/oom_adj',
      // oom_adj may not go below the current value without CAP_SYS_RESOURCE (the guest has the host's capabilities)
      'echo -17 > /proc/self/oom_adj; echo "rc $?"; cat /proc/self/oom_score_adj',
      'echo 15 > /proc/self/oom_adj; cat /proc/self/oom_score_adj /proc/self/oom_adj',
      'echo 16 > /proc/self/oom_adj; echo "rc $?"',
      'echo 3 > /proc/self/oom_adj; echo "rc $?"',
      'echo 017 > /proc/self/oom_score_adj; cat /proc/self/oom_score_adj /proc/self/oom_adj',
      'echo 1000 > /proc/self/oom_score_adj; test $(cat /proc/self/oom_score) -gt 1300 && echo high',
    ].join('; '),
  ],
  ['oom_score_adj is inherited by fork', 'echo 321 > /proc/$$/oom_score_adj; sh -c "cat /proc/self/oom_score_adj; cat /proc/\\$PPID/oom_score_adj"'],
  [
    'comm, timerslack_ns, coredump_filter, clear_refs writes',
    [
      'echo foo > /proc/$$/comm; od -c /proc/$$/comm',
      'printf 0123456789abcdefgh > /proc/$$/comm; cat /proc/$$/comm',
      'cat /proc/self/timerslack_ns; echo 7 > /proc/$$/timerslack_ns; cat /proc/$$/timerslack_ns; echo 0 > /proc/$$/timerslack_ns; cat /proc/$$/timerslack_ns',
      'echo " 7" > /proc/$$/timerslack_ns; echo "rc $?"',
      'cat /proc/self/coredump_filter; echo 0x1ff > /proc/$$/coredump_filter; cat /proc/$$/coredump_filter; echo 0xfff > /proc/$$/coredump_filter; cat /proc/$$/coredump_filter',
      'echo 0x2 > /proc/$$/coredump_filter; sh -c "cat /proc/self/coredump_filter"',
      'echo 1 > /proc/self/clear_refs; echo "rc $?"; echo 9 > /proc/self/clear_refs; echo "rc $?"; cat /proc/self/clear_refs; echo "rc $?"',
    ].join('; '),
  ],
  [
    'the initial namespaces: uid_map, gid_map, projid_map, setgroups, timens_offsets',
    [
      'cat /proc/self/uid_map /proc/self/gid_map /proc/self/projid_map /proc/self/setgroups /proc/self/timens_offsets',
      'echo allow > /proc/self/setgroups; echo "rc $?"; echo deny > /proc/self/setgroups; echo "rc $?"; echo x > /proc/self/setgroups; echo "rc $?"',
      'echo "0 0 1" > /proc/self/uid_map; echo "rc $?"',
    ].join('; '),
  ],
  ['personality, loginuid, sessionid, wchan, attr', 'cat /proc/self/personality /proc/self/loginuid; echo; cat /proc/self/sessionid; echo; cat /proc/self/wchan; echo; cat /proc/self/attr/current; echo "rc $?"; ls /proc/self/attr'],
  ['limits, as set by ulimit', 'cat /proc/self/limits; ulimit -n 100; ulimit -c 0; ulimit -s 4096; cat /proc/self/limits'],
  ['ns links', 'ls /proc/self/ns; for n in pid mnt net uts ipc user cgroup; do readlink /proc/self/ns/$n; done'],
  [
    'ns links lead to nsfs inodes that can be opened and compared',
    [
      "stat -L -c '%i %d %F %a %s %h %u' /proc/self/ns/pid /proc/self/ns/mnt",
      "exec 3</proc/self/ns/uts; ls -l /proc/$$/fd/3 | sed 's/.* -> //'; grep -v -e mnt_id -e flags /proc/$$/fdinfo/3; stat -f -c %t /proc/self/ns/pid",
      'cat /proc/self/ns/pid; echo "rc $?"',
      'test "$(stat -L -c %i /proc/self/ns/pid)" = "$(stat -L -c %i /proc/$$/ns/pid)" && echo same ns',
    ].join('\n'),
  ],
  [
    'memory files: statm and schedstat fields, smaps and smaps_rollup field names, one smaps entry per mapping',
    [
      'wc -w < /proc/self/statm; wc -w < /proc/self/schedstat; wc -c < /proc/self/timers; grep -c "^device .* mounted on / with fstype " /proc/self/mountstats',
      'sed -n "2,23p" /proc/self/smaps | cut -d: -f1 | tr "\\n" " "; echo',
      'sed 1d /proc/self/smaps_rollup | cut -d: -f1 | tr "\\n" " "; echo',
      'head -1 /proc/self/smaps_rollup | sed "s/^[0-9a-f]*-[0-9a-f]* //"',
      'test $(grep -c VmFlags /proc/$$/smaps) = $(wc -l < /proc/$$/maps) && echo one per mapping',
      'head -1 /proc/self/sched | sed "s/[0-9][0-9]*/N/"',
    ].join('; '),
  ],
  [
    'mem and pagemap read at an offset',
    [
      'dd if=/proc/self/mem bs=1 skip=$((0x400000)) count=4 2>/dev/null | od -c | head -1',
      'dd if=/proc/self/mem bs=1 skip=16 count=4 2>&1 | head -1',
      'dd if=/proc/self/pagemap bs=7 count=1 2>&1 | head -1',
      // the shell's top stack page is present (bit 63); the rest of the entry depends on the kernel's page sharing
      's=$(awk \'/\\[stack\\]/{split($1,a,"-"); print a[2]}\' /proc/$$/maps); p=$(( 0x$s / 4096 - 1 ))',
      'dd if=/proc/$$/pagemap bs=8 skip=$p count=1 2>/dev/null | od -An -t x8 | cut -c2',
    ].join('; '),
  ],
  [
    'permission bits and link counts of the entries',
    'for f in comm oom_score_adj oom_adj oom_score limits statm smaps smaps_rollup mountinfo mounts cgroup uid_map gid_map setgroups loginuid sessionid personality wchan sched schedstat timerslack_ns coredump_filter clear_refs pagemap mem environ auxv cmdline stat status maps attr ns fd fdinfo task projid_map timens_offsets cpuset timers mountstats; do stat -c "%A %h %n" /proc/self/$f; done; stat -c "%A %n" /proc/self/task/$$/oom_score_adj 2>&1 | sed "s/[0-9][0-9]*/N/"',
  ],
  [
    'a file with nothing to write: access and open as the mode says (root passes), the write is EINVAL',
    'for f in stat oom_score limits environ; do test -w /proc/self/$f && echo "w $f"; test -x /proc/self/$f || echo "no x $f"; echo x > /proc/self/$f; echo "rc $?"; done',
  ],
  [
    "a thread's directory: children, no task/",
    'sleep 3 & a=$!; sleep 3 & b=$!; IFS= read -r c < /proc/$$/task/$$/children; test "$c" = "$a $b " && echo children ok; ls /proc/$$/task/$$ | grep -cx task; ls /proc/$$/task/$$ | grep -cx children; ls /proc/$$ | grep -cx children; kill $a $b',
  ],
  [
    'map_files: a link per file mapping',
    "stat -c '%A %h' /proc/self/map_files; ls -l /proc/$$/map_files | awk '{print $1, $NF}' | sed 's#/.*/##' | sort -u; a=$(ls /proc/$$/map_files | head -1); readlink /proc/$$/map_files/$a | sed 's#.*/##'; ls /proc/$$/map_files/0-1 2>&1 | sed 's/[0-9][0-9]*/N/g'",
  ],
  ['entries elfrun leaves out are ENOENT, not a stop', 'cat /proc/self/syscall; echo "rc $?" >&2'],
];

for (const arch of ARCHES) {
  describe(`/proc/<pid> files on ${arch}`, () => {
    for (const [name, script] of scripts) {
      // entries elfrun leaves out (listed in docs/procfs.md) exist natively: only that the run goes on is compared
      const lenient = name.startsWith('entries elfrun leaves out');
      it(name, () => {
        const want = runLinux('x86_64', fixture('x86_64', 'busybox'), ['sh', '-c', script]);
        const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', script]);
        if (lenient) {
          expect(got.stderr).toMatch(/rc 1/);
          expect(got.stderr).not.toMatch(/elfrun:/);
          expect(got.status).toBe(0);
          return;
        }
        expect(got.stdout).toBe(want.stdout);
        expect(got.stderr).toBe(want.stderr);
        expect(got.status).toBe(want.status);
      });
    }
  });
}

describe('--sandbox', () => {
  it('has a pid namespace of its own, the same for all its processes', () => {
    const bb = fixture('x86_64', 'busybox');
    const script = 'readlink /proc/self/ns/pid; sh -c "readlink /proc/self/ns/pid"; readlink /proc/self/ns/mnt';
    const host = runLinux('x86_64', bb, ['sh', '-c', script]).stdout.split('\n');
    const got = runElfrun(bb, ['sh', '-c', script], { flags: ['--sandbox'] }).stdout.split('\n');
    expect(got[0]).toMatch(/^pid:\[\d+\]$/);
    expect(got[0]).not.toBe(host[0]);
    expect(got[1]).toBe(got[0]);
    // the other namespaces are still the host's
    expect(got[2]).toBe(host[2]);
  });
});

// As an unprivileged user (setpriv: uid 65534, no capabilities), natively and under elfrun: mount and umount
// are EPERM, oom_score_adj may not go below its floor nor oom_adj below the current value (EACCES), the
// files are the user's, and a sysctl write is EACCES.
const setpriv = ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];
const canSetpriv = process.getuid?.() === 0 && spawnSync('setpriv', [...setpriv, 'true']).status === 0;
describe.skipIf(!canSetpriv)('an unprivileged user', () => {
  const script = [
    "id -u; mkdir -p /tmp/u.$$; mount -t tmpfs none /tmp/u.$$; echo \"rc $?\"; umount /tmp; echo \"rc $?\"; rmdir /tmp/u.$$",
    "echo 100 > /proc/self/oom_score_adj; echo \"rc $?\"; echo -5 > /proc/self/oom_score_adj; echo \"rc $?\"",
    "sh -c 'cat /proc/self/oom_score_adj; echo 50 > /proc/self/oom_score_adj; echo \"rc $?\"; echo 3 > /proc/self/oom_adj; echo \"rc $?\"; echo -1 > /proc/self/oom_adj; echo \"rc $?\"; cat /proc/self/oom_score_adj'",
    "stat -c \"%A %u\" /proc/self/oom_score_adj /proc/self/environ; echo x > /proc/self/stat; echo \"rc $?\"",
    "echo 1 > /proc/sys/vm/overcommit_memory; echo \"rc $?\""
  ].join('\n');
  for (const arch of ARCHES) {
    it(`on ${arch}: the same permissions and errors as natively`, () => {
      const want = spawnSync('setpriv', [...setpriv, fixture('x86_64', 'busybox'), 'sh', '-c', script], { encoding: 'latin1' });
      const got = spawnSync('setpriv', [...setpriv, ELFRUN, 'run', fixture(arch, 'busybox'), 'sh', '-c', script], { encoding: 'latin1', env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' } });
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr.split('\n').filter((l) => !l.startsWith('elfrun: warning')).join('\n')).toBe(want.stderr);
    });
  }
});

describe('status memory lines on x86_64', () => {
  it("VmData and VmExe are the native process's; the lines shown are in Linux's order", () => {
    const bb = fixture('x86_64', 'busybox');
    const script = 'grep -E "^(VmData|VmExe):" /proc/self/status; grep -E "^(Vm|Rss)" /proc/self/status | cut -d: -f1 | tr "\\n" " "';
    const want = runLinux('x86_64', bb, ['sh', '-c', script]).stdout.split('\n');
    const got = runElfrun(bb, ['sh', '-c', script]).stdout.split('\n');
    expect(got.slice(0, 2)).toEqual(want.slice(0, 2));
    const order = want[2].trim().split(' ');
    const shown = got[2].trim().split(' ');
    expect(shown.map((k) => order.indexOf(k))).toEqual([...shown.map((k) => order.indexOf(k))].sort((a, b) => a - b));
    expect(shown.every((k) => order.includes(k))).toBe(true);
  });
});
