// busybox sh scripts under elfrun, both arches, against Linux: pipelines,
// subshells, command substitution, background jobs, traps, kill, exit
// statuses. The oracle is the native x86_64 busybox running the same script
// (shell semantics do not depend on the arch; qemu-aarch64 cannot follow an
// exec without binfmt_misc). Applets are reached through a bindir of busybox
// symlinks first in PATH, as busybox's own test suite does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, fixture, type TestArch } from '../helpers/oracle.js';

let dir = '';
const bindir = (arch: TestArch): string => join(dir, `bin-${arch}`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-sh-'));
  for (const arch of ARCHES) {
    mkdirSync(bindir(arch));
    const list = spawnSync(fixture('x86_64', 'busybox'), ['--list']).stdout.toString().trim().split('\n');
    for (const applet of list) symlinkSync(fixture(arch, 'busybox'), join(bindir(arch), applet));
  }
  mkdirSync(join(dir, 'work'));
  for (const f of ['a.txt', 'b.txt', 'c.log']) writeFileSync(join(dir, 'work', f), `${f}\n`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], arch: TestArch, input = ''): { out: string; err: string; status: number | null; signal: string | null } {
  const r = spawnSync(cmd, args, {
    cwd: join(dir, 'work'),
    input,
    timeout: 60_000,
    // ELFRUN_CACHE: elfrun finds its Unicorn build under $HOME, which the script's env replaces
    env: { PATH: `${bindir(arch)}:/usr/bin:/bin`, HOME: dir, LC_ALL: 'C', ELFRUN_QUIET_UNICORN: '1', ELFRUN_CACHE: process.env.ELFRUN_CACHE ?? join(homedir(), '.cache', 'elfrun') },
  });
  return { out: r.stdout.toString(), err: r.stderr.toString(), status: r.status, signal: r.signal };
}

const scripts: Array<[string, string]> = [
  ['a list, a subshell, a substitution, a background job, a trap', 'ls -l / | wc -l; (cd /tmp && pwd); echo $(seq 3); sleep 0.1 & wait; trap "echo bye" EXIT; kill -TERM $$'],
  ['pipeline of three', 'cat /etc/passwd | head -2 | wc -l'],
  ['yes | head', 'yes | head -3'],
  ['long pipe', 'seq 1 100000 | tail -1'],
  ['while read', 'seq 1 5 | while read l; do echo L$l; done'],
  ['read in a subshell', 'echo abc | (read v; echo got $v)'],
  ['command substitution', 'x=$(cat a.txt | wc -c); echo "[$x]"'],
  ['nested substitution', 'echo $(echo $(echo deep))'],
  ['redirection to fd 3', 'exec 3>&1; echo to3 >&3'],
  ['stderr into a pipe', 'ls /nonexistent 2>&1 | cat'],
  ['functions and local', 'a=1; f() { local a=2; echo $a; }; f; echo $a'],
  ['background jobs and wait', 'sleep 0.2 & sleep 0.1 & wait; echo done'],
  ['wait for a pid', 'sleep 0.1 & p=$!; wait $p; echo st=$?'],
  ['trap a signal', 'trap "echo usr1" USR1; kill -USR1 $$; echo after'],
  ['trap on exit', 'trap "echo bye" EXIT; echo main'],
  ['exit status of a child', 'sh -c "exit 7"; echo $?'],
  ['death by signal is 128+N', 'sh -c "kill -9 \\$\\$"; echo $?'],
  // busybox prints "Terminated" or not depending on whether it reaps the job
  // before `wait` runs, which varies on Linux too: only the status is compared
  ['kill a background job', '{ sleep 5 & kill $!; wait $!; echo $?; } 2>/dev/null'],
  ['a program of the other arch (x86_64 dash from any guest)', 'test -x /bin/dash || exit 0; /bin/dash -c "echo \\$((6*7))"; echo | /bin/dash -c "read x; echo read"'],
  ['nice and nohup (Debian\'s own, dynamically linked)', 'test -x /usr/bin/nice || exit 0; /usr/bin/nice -n 7 /usr/bin/nice; /usr/bin/nohup /usr/bin/nice -n 2 /usr/bin/nice 2>/dev/null'],
  ['find -exec', 'find . -name "*.txt" -exec echo found {} \\; | sort'],
  ['xargs', 'ls | xargs echo'],
  ['env', 'env -i A=1 B=2 env'],
  ['timeout that lets it finish', 'timeout 1 sleep 0.1; echo $?'],
  ['timeout that kills', 'timeout 1 sleep 5; echo $?'],
  ['subshell exit status', '(exit 3); echo $?'],
  ['and/or lists', 'false || echo or; true && echo and'],
  ['cd and pwd', 'cd / && pwd; cd - >/dev/null; pwd'],
  ['getppid from a child', 'sh -c "test \\$PPID = $$ && echo child-of-parent"'],
  ['sorting a generated list', 'printf "%s\\n" c a b | sort -r'],
  ['here-document', 'cat <<EOF\nline one\nline two\nEOF'],
  ['stdin of the script', 'cat; echo end'],
  ['exec replaces the shell', 'exec echo replaced; echo never'],
  ['cpu affinity', 'nproc; taskset 1 nproc; taskset -p $$ | sed "s/[0-9]*\'s/PID\'s/"'],
  ['a script file with #!', 'printf "#!/bin/sh\\necho from script \\$1\\n" > s.sh; chmod +x s.sh 2>/dev/null || true; sh s.sh arg'],
];

for (const arch of ARCHES) {
  describe(`busybox sh on ${arch}`, () => {
    for (const [name, script] of scripts) {
      // (an arm64 guest runs the host's x86_64 programs emulated too, as qemu-user's exec does)
      it(name, () => {
        const input = 'from stdin\n';
        const want = run(fixture('x86_64', 'busybox'), ['sh', '-c', script], 'x86_64', input);
        const got = run(ELFRUN, ['run', fixture(arch, 'busybox'), 'sh', '-c', script], arch, input);
        expect(got.err).toBe(want.err);
        expect(got.out).toBe(want.out);
        expect(got.status).toBe(want.status);
        expect(got.signal).toBe(want.signal);
      });
    }
  });
}
