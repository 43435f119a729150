// The package as npm ships it: `npm pack` of the checkout installs into an
// empty directory, its own set-up step (`elfrun setup`) installs the engine
// beside its build, and `npx elfrun` then runs programs for any $HOME.
// The pack skips the prepack build (the tests run on the checkout's build).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, fixture, haveFixtures } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const installed = existsSync(join(ROOT, 'dist/native/stamp'));

describe.skipIf(!installed || !haveFixtures())('npm pack', () => {
  it('installs with npm install ./elfrun-*.tgz, sets itself up, and runs a program as elfrun for another $HOME', { timeout: 240_000 }, () => {
    const sh = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
      spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 180_000 });
    const pack = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const tgz = readdirSync(dir).find((f) => /^elfrun-.*\.tgz$/.test(f));
    expect(tgz).toBeDefined();
    const app = join(dir, 'app');
    mkdirSync(app);
    const inst = sh('npm', ['install', '--no-audit', '--no-fund', join(dir, tgz!)], app);
    expect(inst.status, inst.stderr).toBe(0);
    const setup = sh('npx', ['elfrun', 'setup'], app);
    expect(setup.status, setup.stderr).toBe(0);
    expect(setup.stdout).toContain(`installed in ${join(app, 'node_modules/elfrun/dist/native')}`);
    const run = sh(join(app, 'node_modules/.bin/elfrun'), ['run', fixture('x86_64', 'busybox'), 'echo', 'packed'], app, { PATH: process.env.PATH, HOME: '/nonexistent' });
    expect(run).toMatchObject({ stdout: 'packed\n', stderr: '', status: 0 });
  });
});
