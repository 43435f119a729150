// Debian's node (x86_64) under elfrun: fs.watch, which libuv builds on
// inotify, reports what native node reports, for the guest's own changes
// and for a host process's changes to a host directory.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, checkoutInTmp, runElfrun, runLinux } from '../helpers/oracle.js';

const NODE = '/usr/bin/node';

/** Creates, writes, renames and removes a file in a new directory, printing fs.watch's reports once each, in order. */
const OWN = `
const fs = require('fs'), path = require('path'), os = require('os');
const d = fs.mkdtempSync(path.join(os.tmpdir(), 'elfrun-watch-'));
const seen = [];
const w = fs.watch(d, (ev, name) => seen.push(ev + ' ' + name));
setTimeout(() => fs.writeFileSync(path.join(d, 'a.txt'), 'x'), 50);
setTimeout(() => fs.renameSync(path.join(d, 'a.txt'), path.join(d, 'b.txt')), 150);
setTimeout(() => fs.unlinkSync(path.join(d, 'b.txt')), 250);
setTimeout(() => { w.close(); fs.rmdirSync(d); console.log([...new Set(seen)].join('\\n')); }, 600);
`;

/** Watches the directory it is given and prints the first report, once it has said it is ready. */
const HOSTS = `
const fs = require('fs');
const w = fs.watch(process.argv[1], (ev, name) => { console.log(ev, name); w.close(); });
console.log('ready');
`;

describe.skipIf(!existsSync(NODE))('node fs.watch under elfrun', () => {
  it('reports the guest\'s own changes as native node does', () => {
    const want = runLinux('x86_64', NODE, ['-e', OWN]);
    const got = runElfrun(NODE, ['-e', OWN]);
    expect(want.stdout).toBe('rename a.txt\nchange a.txt\nrename b.txt\n');
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(0);
  });

  it.skipIf(checkoutInTmp)('reports the same of changes on a tmpfs, which elfrun\'s VFS reports', () => {
    const want = runLinux('x86_64', NODE, ['-e', OWN]);
    const got = runElfrun(NODE, ['-e', OWN], { flags: ['--tmpfs', '/tmp'] });
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(0);
  });

  it('reports a file a host process makes in a watched host directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elfrun-watch-host-'));
    try {
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(ELFRUN, ['run', NODE, '-e', HOSTS, dir]);
        let text = '';
        p.stdout.on('data', (b: Buffer) => {
          text += b.toString();
          // the host writes only once the guest watches
          if (text === 'ready\n') writeFileSync(join(dir, 'from-host'), 'x');
        });
        p.on('error', reject);
        p.on('close', () => resolve(text));
      });
      expect(out).toBe('ready\nrename from-host\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
