// The new mount API (fsopen, fsconfig, fsmount, move_mount, open_tree,
// fspick, mount_setattr) in the guest, as root, against a native run of the
// mountapi fixture inside a private mount namespace (unshare -m). The oracle
// is the native x86_64 build for both arches: Debian's qemu-aarch64 (7.2)
// answers ENOSYS to these syscalls. The trace of the fixture's calls is
// compared with strace's of the native run.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ARCHES, ELFRUN, fixture, runElfrun } from '../helpers/oracle.js';

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0;
const native = (): string => spawnSync('unshare', ['-m', '--propagation', 'private', fixture('x86_64', 'mountapi')], { encoding: 'latin1' }).stdout;

describe.skipIf(!canUnshare)('the new mount API', () => {
  for (const arch of ARCHES) {
    it(`${arch}: contexts, detached mounts, moves, clones, mount_setattr and fspick as Linux`, () => {
      const got = runElfrun(fixture(arch, 'mountapi'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(native());
      expect(got.status).toBe(0);
    });
  }
});

const haveStrace = spawnSync('strace', ['-V']).status === 0;
describe.skipIf(!canUnshare || !haveStrace)('new mount API traces', () => {
  it('match strace -f of the native run', () => {
    const prog = fixture('x86_64', 'mountapi');
    const names = 'fsopen,fsconfig,fsmount,move_mount,open_tree,fspick,mount_setattr';
    const calls = (s: string): string[] =>
      s
        .split('\n')
        .map((l) => l.replace(/0x[0-9a-f]{6,}/g, 'ADDR').replace(/mapi\.\d+/g, 'mapi.N').replace(/ +=/, ' ='))
        .filter((l) => new RegExp(`^(${names.replaceAll(',', '|')})\\(`).test(l));
    const nat = spawnSync('unshare', ['-m', '--propagation', 'private', 'strace', '-e', `trace=${names}`, prog], { encoding: 'latin1' });
    const got = spawnSync(ELFRUN, ['trace', prog], { encoding: 'latin1', env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' } });
    // Debian 12's strace (6.1) predates FSCONFIG_CMD_CREATE_EXCL (Linux 6.6), which later ones name
    const want = calls(nat.stderr).map((l) => l.replace('0x8 /* FSCONFIG_??? */', 'FSCONFIG_CMD_CREATE_EXCL'));
    expect(want.length).toBeGreaterThan(100);
    expect(calls(got.stderr)).toEqual(want);
  });
});

// What the new API mounted, as util-linux's findmnt and coreutils' df show it (dynamic Debian programs in
// the guest), against the same script natively (Debian 12's mount(8), libmount 2.38, still uses mount(2)).
const have = (p: string): boolean => spawnSync('test', ['-x', p]).status === 0;
describe.runIf(canUnshare && have('/usr/bin/findmnt') && have('/usr/bin/df'))('findmnt and df of the new API mounts', () => {
  for (const arch of ARCHES) {
    it(`${arch}: a tmpfs attached with fsmount and a read-only clone of it`, () => {
      const script = (m: string): string =>
        `d=/tmp/fm.$$; mkdir -p $d/a $d/b; ${m} attach $d/a $d/b; echo rc $?; /usr/bin/findmnt -n -o TARGET,FSTYPE,SOURCE,OPTIONS,PROPAGATION $d/a | sed "s#$d#D#"; ` +
        `/usr/bin/findmnt -n -o TARGET,FSTYPE,SOURCE,OPTIONS $d/b | sed "s#$d#D#"; /usr/bin/df -h $d/a | sed "s#$d#D#; s/  *0  */ USED /"; umount $d/b; umount $d/a; rmdir $d/a $d/b $d`;
      const bb = fixture('x86_64', 'busybox');
      const want = spawnSync('unshare', ['-m', '--propagation', 'private', bb, 'sh', '-c', script(fixture('x86_64', 'mountapi'))], { encoding: 'latin1' });
      const got = runElfrun(fixture(arch, 'busybox'), ['sh', '-c', script(fixture(arch, 'mountapi'))]);
      expect(got.stdout).toBe(want.stdout);
      expect(got.stdout).toContain('ro,nosuid,nodev,noatime,size=1024k,mode=750');
      expect(got.stderr).toBe(want.stderr);
    });
  }
});
