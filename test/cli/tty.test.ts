// On a terminal (a pty from util-linux `script`), terminal ioctls reach the
// host terminal: ls lays out columns from TIOCGWINSZ, stty reads termios.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHES, ELFRUN, ROOT, fixture } from '../helpers/oracle.js';

/** Debian's python3, which runs under elfrun */
const PYTHON = '/usr/bin/python3';

function onTty(cmd: string): string {
  const r = spawnSync('script', ['-qec', `stty cols 90 rows 25; ${cmd}`, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, ELFRUN_QUIET_UNICORN: '1', TERM: 'dumb' },
    timeout: 60_000,
  });
  return r.stdout.toString('latin1');
}

/** An interactive `sh -i` (prompt "$ ") on a pty, driven by ptydrive.py's steps: all it wrote. */
function ptySession(cmd: string[], steps: string[]): string {
  const r = spawnSync('python3', [join(ROOT, 'test/helpers/ptydrive.py'), ...steps, '--', 'env', 'PS1=$ ', ...cmd, 'sh', '-i'], {
    cwd: ROOT,
    env: { ...process.env, ELFRUN_QUIET_UNICORN: '1', TERM: 'dumb' },
    timeout: 90_000,
  });
  return r.stdout.toString('latin1');
}

for (const arch of ARCHES) {
  describe(`terminal on ${arch}`, () => {
    // tcsetpgrp and /proc's tty fields: the oracle is native x86_64 (qemu-aarch64 7.2
    // reports tpgid 0 and no session); the guest's groups are its own
    it('the foreground process group: tcgetpgrp/tcsetpgrp, tpgid, tty_nr', () => {
      const want = onTty(`${fixture('x86_64', 'ttypgrp')}; echo status=$?`);
      expect(want).toContain('tcsetpgrp(child) -> 0');
      expect(onTty(`${ELFRUN} run ${fixture(arch, 'ttypgrp')}; echo status=$?`)).toBe(want);
      const stat = 'cut -d" " -f7 /proc/self/stat | grep -vx 0 >/dev/null && echo has-tty; awk "{print \\$5==\\$8}" /proc/self/stat';
      expect(onTty(`${ELFRUN} run ${fixture(arch, 'busybox')} sh -c '${stat}'`)).toBe(onTty(`${fixture('x86_64', 'busybox')} sh -c '${stat}'`));
    });

    it('background groups and their terminal: SIGTTIN, SIGTTOU with TOSTOP, EIO, TIOCSCTTY/TIOCNOTTY', () => {
      const native = arch === 'x86_64' ? fixture(arch, 'ttyjob') : `qemu-aarch64 ${fixture(arch, 'ttyjob')}`;
      const want = onTty(native);
      expect(want).toContain('background reader: stopped 1 by 21');
      expect(want).toContain('read in an orphaned background group: EIO');
      expect(onTty(`${ELFRUN} run ${fixture(arch, 'ttyjob')}`)).toBe(want);
    });

    // the guest's own ptys, made by Debian's python3 run as the guest: the
    // oracle is the same python3 natively, on a host pty (the line discipline is the kernel's)
    const python = (script: string, input = ''): [string, string] => {
      const path = join(ROOT, 'test/cli', script);
      const want = spawnSync(PYTHON, [path, fixture('x86_64', 'busybox')], { cwd: ROOT, input, timeout: 60_000 }).stdout.toString('latin1');
      const got = spawnSync(ELFRUN, ['run', PYTHON, path, fixture(arch, 'busybox')], { cwd: ROOT, input, env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' }, timeout: 120_000 });
      return [got.stdout.toString('latin1'), want];
    };
    it.runIf(existsSync(PYTHON))('os.forkpty of busybox sh: typed input and its echo, ^C to the foreground group, a resize', () => {
      const [got, want] = python('ptyspawn.py');
      expect(want).toContain('^CINT');
      expect(got).toBe(want);
    });
    it.runIf(existsSync(PYTHON))('pty.spawn of busybox sh: tty, stty -a, the master read until the slave closes', () => {
      const [got, want] = python('ptyspawn2.py');
      expect(want).toContain('/dev/pts/N');
      expect(got).toBe(want);
    });
    it.runIf(existsSync(PYTHON))('the master closes: the shell on the slave gets SIGHUP, reads end, writes fail with EIO', () => {
      const [got, want] = python('ptyhup.py');
      expect(want).toContain('HUP\nafter\nread status 1');
      expect(got).toBe(want);
    });

    const bb = fixture(arch, 'busybox');
    const linux = arch === 'x86_64' ? bb : `qemu-aarch64 ${bb}`;

    it('^C ends a loop without syscalls in an interactive shell, and the shell goes on', () => {
      const session = (cmd: string[]): string => {
        const r = spawnSync('python3', [
          join(ROOT, 'test/helpers/ptydrive.py'),
          // type the loop at the prompt, ^C once it runs, then ask for its status at the next prompt
          'e:$ ', 'w:while :; do :; done\\n', 'e:done', 's:0.5', 'w:\\x03', 'e:$ ', 'w:echo after=$?\\n', 'e:after=', 'e:$ ', 'w:exit\\n',
          '--', 'env', 'PS1=$ ', ...cmd, 'sh', '-i',
        ], { cwd: ROOT, env: { ...process.env, ELFRUN_QUIET_UNICORN: '1', TERM: 'dumb' }, timeout: 60_000 });
        return r.stdout.toString('latin1');
      };
      const want = session([fixture('x86_64', 'busybox')]);
      expect(want).toContain('after=130');
      expect(session([ELFRUN, 'run', bb])).toBe(want);
    });
    it('pipelines, a background read (SIGTTIN) and a background write with tostop (SIGTTOU) in an interactive shell', () => {
      // each line's output does not depend on when the shell hears of its jobs
      const session = (cmd: string[]): string => ptySession(cmd, [
        'e:$ ', 'w:echo a | cat; seq 5 | tail -n 2\\n',
        'e:$ ', 'w:cat & sleep 1; jobs; kill -9 %1; sleep 0.5; jobs\\n',
        'e:$ ', 'w:stty tostop; (echo x; echo z) & sleep 1; jobs; stty -tostop; fg\\n',
        'e:$ ', 'w:echo y & sleep 0.5; jobs\\n',
        'e:$ ', 'w:exit\\n',
      ]);
      const want = session([fixture('x86_64', 'busybox')]);
      expect(want).toContain('Stopped (tty input)        cat');
      expect(want).toContain('Stopped (tty output)       (echo x; echo z)');
      expect(session([ELFRUN, 'run', bb])).toBe(want);
    });

    if (arch === 'x86_64') {
      // busybox-static has no script applet: util-linux's (glibc, dynamic), and the shell it runs, are the guest
      const script = "script -qec 'tty | sed s/[0-9]*$/N/; stty size; echo $((1+1))' /dev/null";
      it("util-linux script -qec 'tty; stty size' inside the guest, without a terminal and on one (its size passed on)", () => {
        const bare = (cmd: string): string => spawnSync('sh', ['-c', cmd], { cwd: ROOT, input: '', env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' }, timeout: 120_000 }).stdout.toString('latin1');
        const want = bare(script);
        expect(want).toContain('/dev/pts/N\r\n0 0\r\n2');
        expect(bare(`${ELFRUN} run /usr/bin/${script}`)).toBe(want);
        // natively too, the inner script's echoed NUL (^@) comes before its output or not, as the two scripts' timing goes
        const term = (cmd: string): string => onTty(cmd).replace(/^\^@/, '');
        const onTerm = term(script);
        expect(onTerm).toContain('25 90');
        expect(term(`${ELFRUN} run /usr/bin/${script}`)).toBe(onTerm);
      });
    }

    for (const args of ['ls src/syscalls', 'stty -a', 'stty size']) {
      it(args, () => {
        const want = onTty(`${linux} ${args}; echo status=$?`);
        const got = onTty(`${ELFRUN} run ${bb} ${args}; echo status=$?`);
        expect(got).toBe(want);
      });
    }
    // both on one terminal: which /dev/pts/N a new session gets depends on the ptys others hold meanwhile
    it('tty', () => {
      const out = onTty(`${linux} tty; echo status=$?; ${ELFRUN} run ${bb} tty; echo status=$?`);
      const m = /^(\/dev\/pts\/\d+)\r\nstatus=0\r\n(.*)\r\nstatus=0\r\n$/.exec(out);
      expect(m, out).not.toBeNull();
      expect(m![2]).toBe(m![1]);
    });
  });
}
