// The examples of docs/api.md, each run as its own Node program that imports
// 'elfrun' as a package (through package.json's exports), with BUSYBOX set to
// the x86_64 busybox. An example followed by an **Output** block must print
// exactly that; the syscall-counting one must count what strace -f counts in
// the native run of the same command.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fixture, haveFixtures } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-api-docs-'));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(ROOT, join(dir, 'node_modules/elfrun'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Example {
  title: string;
  code: string;
  output: string | null;
}

function examples(): Example[] {
  const md = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
  const out: Example[] = [];
  const re = /### Example: ([^\n]+)\n[\s\S]*?```js\n([\s\S]*?)```([\s\S]*?)(?=### |## |$)/g;
  for (const m of md.matchAll(re)) {
    const o = /\*\*Output\*\*\s*```text\n([\s\S]*?)```/.exec(m[3]);
    out.push({ title: m[1], code: m[2], output: o ? o[1] : null });
  }
  return out;
}

const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1', BUSYBOX: fixture('x86_64', 'busybox') };
const haveStrace = spawnSync('strace', ['-V']).status === 0;

describe.skipIf(!haveFixtures())('docs/api.md examples', () => {
  const all = examples();
  it('has the examples', () => {
    expect(all.map((e) => e.title)).toHaveLength(6);
  });
  all.forEach((ex, i) => {
    it(ex.title, { timeout: 60_000 }, () => {
      const file = join(dir, `example${i}.mjs`);
      writeFileSync(file, ex.code);
      const r = spawnSync(process.execPath, [file], { cwd: dir, env, encoding: 'utf8', timeout: 50_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      if (ex.output !== null) expect(r.stdout).toBe(ex.output);
      else if (/count the syscalls/.test(ex.title) && haveStrace) {
        // the command the example runs, natively under strace -f, with the same (empty) environment and a pipe for stdout
        const cmd = /argv: (\[[^\]]*\])/.exec(ex.code)![1];
        const argv = JSON.parse(cmd.replace(/'/g, '"')) as string[];
        const trace = join(dir, 'native.trace');
        const n = spawnSync('strace', ['-f', '-qq', '-o', trace, fixture('x86_64', 'busybox'), ...argv.slice(1)], { env: {}, encoding: 'utf8' });
        const counts = new Map<string, number>();
        for (const l of readFileSync(trace, 'utf8').split('\n')) {
          const m = /^\d+ +(\w+)\(/.exec(l);
          if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
        }
        // strace also shows the first execve, which the Machine does itself
        counts.set('execve', counts.get('execve')! - 1);
        if (counts.get('execve') === 0) counts.delete('execve');
        const want = [...counts].sort().map(([k, v]) => `${k} ${v}`).join('\n') + '\n';
        expect(r.stdout).toBe(n.stdout + want);
      }
    });
  });
});
