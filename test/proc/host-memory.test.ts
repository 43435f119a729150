// elfrun's own host memory over many processes: a shell that forks and execs
// hundreds of times must not leave host mappings behind (each process once
// leaked the unused part of its 8 MiB stack reservation, one mapping per
// process: vm.max_map_count, 65530, would end a long enough loop).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ARCHES, ELFRUN, fixture, ROOT } from '../helpers/oracle.js';

/** Host mappings of elfrun while the guest sleeps after `loop` (counted from outside). */
async function mappingsAfter(arch: string, loop: string): Promise<number> {
  const bb = fixture(arch as (typeof ARCHES)[number], 'busybox');
  const child = spawn(ELFRUN, ['run', bb, 'sh', '-c', `${loop}; echo ready; sleep 5`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      child.on('exit', () => reject(new Error(`elfrun ended early: ${out}`)));
    });
    return readFileSync(`/proc/${child.pid}/maps`, 'utf8').split('\n').filter(Boolean).length;
  } finally {
    child.kill('SIGKILL');
  }
}

describe('host mappings over many guest processes', () => {
  for (const arch of ARCHES) {
    it(`${arch}: 400 forks and 100 fork+execs leave no more mappings than 10 forks`, async () => {
      const few = await mappingsAfter(arch, 'i=0; while [ $i -lt 10 ]; do (exit 0); i=$((i+1)); done');
      const many = await mappingsAfter(arch, `i=0; while [ $i -lt 400 ]; do (exit 0); i=$((i+1)); done; i=0; while [ $i -lt 100 ]; do ${fixture(arch, 'busybox')} true; i=$((i+1)); done`);
      // the engine's translated code and V8's heap grow a little; 500 leaked mappings would not fit
      expect(many - few, `mappings: ${few} after 10 forks, ${many} after 500 processes`).toBeLessThan(60);
    }, 60_000);
  }
});
