// dnotify (fcntl F_NOTIFY) on a host directory (events from the host's
// inotify) and on a tmpfs one (the VFS's own events), compared with Linux:
// native x86_64, qemu-aarch64 for arm64; F_NOTIFY traced as strace shows it;
// a host process's change to a host directory signals a guest (python3).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARCHES, ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-dnotify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dnotify', () => {
  for (const arch of ARCHES) {
    it(`${arch}: DN_* events, one-shot and multishot, removal, ENOTDIR, on a host directory`, () => {
      const want = runLinux(arch, fixture(arch, 'dnotify'), [dir]);
      expect(want.stdout).toContain('rename within: 3 signal(s)');
      expect(runElfrun(fixture(arch, 'dnotify'), [dir])).toEqual(want);
    });
  }
  it('x86_64: the same on a tmpfs directory', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'dnotify'), [dir]);
    expect(runElfrun(fixture('x86_64', 'dnotify'), [dir], { flags: ['--tmpfs', dir] })).toEqual(want);
  });
  it('x86_64: F_NOTIFY traced as strace shows it', () => {
    const prog = fixture('x86_64', 'dnotify');
    const lines = (s: string): string[] => [...new Set(s.split('\n').filter((l) => l.includes('F_NOTIFY')).map((l) => l.replace(/ +/g, ' ')))].sort();
    const st = spawnSync('strace', ['-e', 'trace=fcntl', prog, dir], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-e', 'trace=fcntl', prog, dir], { encoding: 'latin1' });
    expect(lines(st.stderr)).toContain('fcntl(3, F_NOTIFY, DN_CREATE|DN_MULTISHOT) = 0');
    expect(lines(el.stderr)).toEqual(lines(st.stderr));
  });
});

const WAITER = `import fcntl, os, signal, sys, time
got = []
signal.signal(signal.SIGIO, lambda s, f: got.append(s))
d = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(d, fcntl.F_NOTIFY, fcntl.DN_CREATE)
print('ready', flush=True)
for _ in range(500):
    if got: break
    time.sleep(0.01)
print('signals', len(got), flush=True)
`;

describe('dnotify and host processes', () => {
  const py = '/usr/bin/python3';
  /** Run argv (the waiter on `watched`), make a file there from this (host) process once it is ready; its output. */
  const watch = async (argv: string[], watched: string): Promise<string> => {
    mkdirSync(watched);
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const done = new Promise<number | null>((res) => p.on('close', res));
    await new Promise<void>((res) => {
      p.stdout.on('data', (b: Buffer) => {
        out += b.toString('latin1');
        if (out.includes('ready')) res();
      });
    });
    writeFileSync(join(watched, 'made-by-the-host'), 'x');
    expect(await done).toBe(0);
    return out;
  };
  it.runIf(existsSync(py))('a file a host process makes in a watched host directory signals the guest, as natively', async () => {
    const script = join(dir, 'waiter.py');
    writeFileSync(script, WAITER);
    const want = await watch([py, script, join(dir, 'native-watched')], join(dir, 'native-watched'));
    expect(want).toBe('ready\nsignals 1\n');
    expect(await watch([ELFRUN, 'run', py, script, join(dir, 'host-watched')], join(dir, 'host-watched'))).toBe(want);
  });
});
