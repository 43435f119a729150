// mount(2) and umount2 in the guest, as root, against a native run of the
// same busybox script inside a private mount namespace (unshare -m): tmpfs
// with its options, bind and recursive bind, remount read-only, nosuid,
// nodev, noexec, propagation flags, proc and sysfs mounts, statfs types,
// /proc/mounts and mountinfo, the errors. The host's mounts are not touched:
// the guest's mounts live in its own table (the directories are the host's,
// under /tmp, and are removed by the script). The oracle is native x86_64
// busybox for both arches (qemu-aarch64 would mount on the host).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ARCHES, ELFRUN, fixture, runElfrun } from '../helpers/oracle.js';

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0;

const scripts: Array<[string, string]> = [
  [
    'tmpfs, bind, remount ro, umount, unknown types, proc, sysfs, noexec',
    [
      'mkdir -p /tmp/mt.$$/a /tmp/mt.$$/b; cd /tmp/mt.$$',
      'mount -t tmpfs -o size=1m,mode=700 tmpfs a; echo "rc $?"; stat -c "%a %U" a; stat -f -c %t a',
      // the size and inode count a tmpfs was given (elfrun keeps no usage count: the free counts are not compared)
      'mount -t tmpfs -o size=2m,nr_inodes=100 none b; stat -f -c "%b %c %S %l" b; umount b',
      'grep " $PWD/a " /proc/mounts | sed "s#$PWD#D#"',
      'echo hi > a/f; cat a/f',
      'mount --bind a b; echo "rc $?"; cat b/f',
      'mount -o remount,ro,bind b; echo "rc $?"; echo x > b/g; echo "rc $?"; echo y > a/g; echo "rc $?"; cat b/g',
      'grep " $PWD/" /proc/mounts | sed "s#$PWD#D#"',
      'umount a; echo "rc $?"; umount b; echo "rc $?"; umount a; echo "rc $?"; ls a',
      'mount -t nosuchfs none a; echo "rc $?"',
      'mount -t proc proc a; echo "rc $?"; test -e a/self/status && echo proc ok; stat -f -c %t a; umount a',
      'mount -t sysfs sysfs a; echo "rc $?"; stat -f -c %t a; umount a',
      'mount -t tmpfs -o noexec none a; cp /proc/self/exe a/true; a/true; echo "rc $?"; umount a',
      'cd /; rm -rf /tmp/mt.$$',
    ].join('\n'),
  ],
  [
    'recursive bind, propagation flags, per-mount flags in /proc/mounts, mountinfo and statfs, EBUSY',
    [
      'mkdir -p /tmp/mt.$$/a /tmp/mt.$$/b /tmp/mt.$$/c; cd /tmp/mt.$$',
      'mount -t tmpfs -o size=10%,nr_inodes=1k,uid=5 tmpfs a; mkdir a/sub; mount -t tmpfs -o size=3000 t2 a/sub',
      'mount --rbind a b; mount --bind a/sub c; mount --make-private b; echo "rc $?"',
      'mount -o remount,nosuid,nodev,noexec,bind c',
      // size=10% of RAM rounds as the kernel's page count does; the mount ids and peer groups are the kernel's own
      'grep " $PWD/" /proc/mounts | sed "s#$PWD#D#; s/size=[0-9]*k,nr/size=Xk,nr/"',
      'grep " $PWD/" /proc/self/mountinfo | cut -d" " -f4- | sed "s#$PWD#D#; s/size=[0-9]*k,nr/size=Xk,nr/; s/ shared:[0-9]*//"',
      'stat -f -c "%n %t" a b/sub c',
      'umount a 2>&1 | sed "s/[0-9][0-9]*/N/"; echo "rc $?"',
      'umount c; umount b/sub; umount b; umount a/sub; umount a; echo "rc $?"',
      'cd /; rm -rf /tmp/mt.$$',
    ].join('\n'),
  ],
  [
    'bind mounts of files, and a file onto a directory (ENOTDIR)',
    [
      'cd /tmp; mkdir -p fb.$$; echo one > fb.$$/a; echo two > fb.$$/b',
      'mount --bind fb.$$/a fb.$$/b; echo "rc $?"; cat fb.$$/b; echo three > fb.$$/b; cat fb.$$/a',
      'mount --bind fb.$$/a fb.$$ ; echo "rc $?"',
      'umount fb.$$/b; echo "rc $?"; cat fb.$$/b',
      'mount -t tmpfs none fb.$$; echo x > fb.$$/f; mkdir fb.$$/d; mount --bind fb.$$/f fb.$$/d; echo "rc $?"',
      'touch fb.$$/g; mount --bind fb.$$/f fb.$$/g; echo "rc $?"; cat fb.$$/g',
      'grep fb.$$ /proc/self/mountinfo | cut -d" " -f4,5,9 | sed "s/[0-9][0-9]*/N/g"',
      'umount fb.$$/g; umount fb.$$; rm -rf fb.$$',
    ].join('\n'),
  ],
  [
    'move mounts, with what is mounted below them; into themselves (ELOOP), of a non-mount (EINVAL)',
    [
      'mkdir -p /tmp/mv.$$/a /tmp/mv.$$/b; cd /tmp/mv.$$',
      'mount -t tmpfs one a; mkdir a/s; mount -t tmpfs two a/s; echo hi > a/s/f',
      'mount --move a b; echo "rc $?"; cat b/s/f; ls a; grep " $PWD/" /proc/mounts | sed "s#$PWD#D#"',
      'mount --move b b/s; echo "rc $?"; mount --move a b; echo "rc $?"',
      'umount b/s; umount b; cd /; rm -rf /tmp/mv.$$',
    ].join('\n'),
  ],
  [
    'atime flags, nodiratime and nosymfollow, kept or changed by remounts',
    [
      'd=/tmp/mt.$$; mkdir -p $d; mount -t tmpfs -o noatime,nodiratime none $d; grep " $d " /proc/self/mountinfo | cut -d" " -f6',
      'mount -o remount,ro $d; grep " $d " /proc/self/mountinfo | cut -d" " -f6-',
      'mount -o remount,strictatime $d; grep " $d " /proc/self/mountinfo | cut -d" " -f6',
      'mount -o remount,relatime,nosymfollow $d; grep " $d " /proc/self/mountinfo | cut -d" " -f6; stat -f -c %t $d; umount $d; rmdir $d',
    ].join('\n'),
  ],
  [
    'unbindable mounts: no bind of one, left out of recursive binds, kept when moved; propagation types one at a time',
    [
      'd=/tmp/mt.$$; mkdir -p $d/a $d/b $d/c; cd $d; mount -t tmpfs one a; mkdir a/s a/t; mount -t tmpfs two a/s; mount -t tmpfs three a/t',
      'mount --make-unbindable a/s; echo rc $?; grep " $PWD/" /proc/self/mountinfo | cut -d" " -f5- | sed "s#$PWD#D#"',
      'mount --bind a/s b; echo rc $?; mount --rbind a b; echo rc $?; grep " $PWD/b" /proc/self/mountinfo | cut -d" " -f5- | sed "s#$PWD#D#"',
      'mount --make-private a/s; mount --bind a/s c; echo rc $?; umount c; mount --make-runbindable a; grep -c unbindable /proc/self/mountinfo',
      'mount --move a c; echo rc $?; grep " $PWD/" /proc/self/mountinfo | cut -d" " -f5- | sed "s#$PWD#D#"',
      'umount b/t; umount b; umount c/s; umount c/t; umount c; cd /; rm -rf $d',
    ].join('\n'),
  ],
  [
    'umount with mounts below: EBUSY, and umount -l takes them along',
    [
      'mkdir -p /tmp/dt.$$/a; cd /tmp/dt.$$; mount -t tmpfs one a; mkdir a/s; mount -t tmpfs two a/s',
      'umount a; echo "rc $?"; umount -l a; echo "rc $?"; grep -c " $PWD/" /proc/mounts; cd /; rm -rf /tmp/dt.$$',
    ].join('\n'),
  ],
];

for (const arch of ARCHES) {
  describe.skipIf(!canUnshare)(`mount(2) on ${arch}`, () => {
    for (const [name, script] of scripts) {
      it(name, () => {
        const bb = fixture('x86_64', 'busybox');
        const native = spawnSync('unshare', ['-m', '--propagation', 'private', bb, 'sh', '-c', script], { encoding: 'latin1' });
        const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', script]);
        const norm = (s: string): string => s.replace(/\/tmp\/mt\.\d+/g, '/tmp/mt.N').replace(/fb\.\d+/g, 'fb.N').replace(/mv\.\d+/g, 'mv.N').replace(/dt\.\d+/g, 'dt.N').replaceAll(fixture(arch, 'busybox'), 'BUSYBOX').replaceAll(bb, 'BUSYBOX');
        expect(norm(got.stdout)).toBe(norm(native.stdout));
        expect(norm(got.stderr)).toBe(norm(native.stderr));
        expect(got.status).toBe(native.status);
      });
    }
  });
}

// The trace of mount and umount2 as strace -f prints them (the type and data shown as addresses where the
// kernel ignores them).
const traceScript = 'mkdir -p /tmp/tm.$$ /tmp/tn.$$; mount -t tmpfs -o size=1m none /tmp/tm.$$; mount -o remount,ro /tmp/tm.$$; mount --bind /tmp/tm.$$ /tmp/tn.$$; mount --make-private /tmp/tn.$$; umount /tmp/tn.$$; umount -l /tmp/tm.$$; mount -t nosuch x /tmp/tm.$$; rmdir /tmp/tm.$$ /tmp/tn.$$';
const haveStrace = spawnSync('strace', ['-V']).status === 0;
describe.skipIf(!canUnshare || !haveStrace)('mount traces', () => {
  it('match strace -f of the native run', () => {
    const bb = fixture('x86_64', 'busybox');
    const calls = (s: string): string[] =>
      s
        .split('\n')
        .map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/0x[0-9a-f]+/g, 'ADDR').replace(/\/t([mn])\.\d+/g, '/t$1.N').replace(/ +=/, ' ='))
        .filter((l) => /^(mount|umount2)\(/.test(l));
    const native = spawnSync('unshare', ['-m', '--propagation', 'private', 'strace', '-f', '-e', 'trace=mount,umount2', bb, 'sh', '-c', traceScript], { encoding: 'latin1' });
    const got = spawnSync(ELFRUN, ['trace', '-f', bb, 'sh', '-c', traceScript], { encoding: 'latin1', env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' } });
    expect(calls(got.stderr)).toEqual(calls(native.stderr));
    expect(calls(got.stderr).length).toBe(7);
  });
});
