// Dynamically linked programs run through their own ld.so, found in the
// guest's file system: Debian's own binaries on x86_64, and a program built
// against Debian's arm64 cross libc, with binds standing in for an arm64 rootfs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-dyn-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'b.txt'), 'banana\napple\ncherry\n');
  writeFileSync(join(dir, 'sub', 'a.txt'), 'x'.repeat(5000));
  for (const p of ['b.txt', 'sub/a.txt', 'sub', '.']) utimesSync(join(dir, p), 1600000000, 1600000000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hostCases: Array<{ name: string; prog: string; args: string[]; input?: string }> = [
  { name: 'ls -la (coreutils, NSS lookups)', prog: '/bin/ls', args: ['-la', '--time-style=+%s', '.', 'sub'] },
  { name: 'sort', prog: '/usr/bin/sort', args: ['b.txt'] },
  { name: 'gzip -c -n | gzip -d', prog: '/bin/sh', args: ['-c', 'gzip -c -n sub/a.txt | gzip -d | md5sum; gzip -c -n b.txt | od -An -tx1 | head -3'] },
  { name: 'dash running dynamic programs', prog: '/bin/sh', args: ['-c', 'for f in b.txt missing; do wc -c "$f"; done; cat b.txt | tr a-z A-Z; exit 7'] },
  { name: 'stdin through a dynamic cat', prog: '/bin/cat', args: ['-n'], input: 'one\ntwo\n' },
  { name: 'python3: subprocess, socketpair, asyncio (epoll)', prog: '/usr/bin/python3', args: ['-c', 'import asyncio, socket, subprocess\na, b = socket.socketpair(); a.sendall(b"ping"); print(b.recv(10))\nprint(subprocess.run(["sort"], input=b"b\\na\\n", capture_output=True).stdout)\nasync def main():\n    p = await asyncio.create_subprocess_exec("echo", "hi", stdout=asyncio.subprocess.PIPE)\n    print((await p.communicate())[0], p.returncode)\nasyncio.run(main())'] },
  { name: 'bash: arrays, substitutions, pipelines, traps', prog: '/bin/bash', args: ['-c', 'a=(x y z); echo ${#a[@]} ${a[1]}; echo $(( 6 * 7 )); ls | sort | head -2; trap "echo bye" EXIT; (exit 4); echo $?'] },
];

describe('dynamically linked programs', () => {
  for (const c of hostCases) {
    it.skipIf(!existsSync(c.prog))(`x86_64 host binary: ${c.name}`, () => {
      const native = runLinux('x86_64', c.prog, c.args, { cwd: dir, input: c.input });
      const ours = runElfrun(c.prog, c.args, { cwd: dir, input: c.input });
      expect(ours).toEqual(native);
    });
  }

  it('x86_64: our own program built against glibc', () => {
    const prog = fixture('x86_64', 'hello-dyn');
    const native = runLinux('x86_64', prog, ['arg']);
    expect(native.stdout).toContain('hello from a dynamic program');
    expect(runElfrun(prog, ['arg'])).toEqual(native);
  });

  const cross = '/usr/aarch64-linux-gnu/lib';
  it.skipIf(!haveQemu() || !existsSync(join(cross, 'ld-linux-aarch64.so.1')))('arm64: ld.so and libc from binds, against qemu -L', () => {
    const prog = fixture('arm64', 'hello-dyn');
    const native = spawnSync('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', prog, 'arg'], { encoding: 'latin1' });
    expect(native.stdout).toContain('hello from a dynamic program');
    const ours = runElfrun(prog, ['arg'], { flags: ['--bind', `${cross}/ld-linux-aarch64.so.1:/lib/ld-linux-aarch64.so.1`, '--bind', `${cross}:/lib/aarch64-linux-gnu`] });
    expect({ out: ours.stdout, err: ours.stderr, status: ours.status }).toEqual({ out: native.stdout, err: native.stderr, status: native.status });
  });

  it('a missing interpreter is ENOENT, as Linux says it', () => {
    // the same program with its PT_INTERP renamed to a file that does not exist
    const img = readFileSync(fixture('x86_64', 'hello-dyn'));
    const from = Buffer.from('/lib64/ld-linux-x86-64.so.2');
    const at = img.indexOf(from);
    expect(at).toBeGreaterThan(0);
    Buffer.from('/lib64/ld-linux-x86-64.so.X').copy(img, at);
    const prog = join(dir, 'no-interp');
    writeFileSync(prog, img, { mode: 0o755 });
    const bb = fixture('x86_64', 'busybox');
    const script = `${prog}; echo "status $?"`;
    expect(runElfrun(bb, ['sh', '-c', script])).toEqual(runLinux('x86_64', bb, ['sh', '-c', script]));
  });
});
