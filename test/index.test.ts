// Two Machines in one Node process, run at the same time: each keeps its own
// processes, memory, file-system state (FIFOs, caches, files open for
// writing) and syscall report, and each gives what Linux gives.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/index.js';
import { fixture } from './helpers/oracle.js';

// Each run writes, sleeps (so the other Machine runs meanwhile), meets itself
// through a FIFO both Machines open at the same host path at the same time
// (were the Machines' FIFOs one, a reader of each would wait on one pipe, and
// one run would read the other's line or wait forever), and creates files.
const SCRIPT = `
i=0
while [ $i -lt 30 ]; do echo "$1 line $i"; i=$((i+1)); [ $((i % 10)) = 0 ] && sleep 0.02; done > out-$1
cat fifo > got-$1 &
sleep 0.3
echo "$1 through the fifo" > fifo
wait
mkdir -p d-$1 && cd d-$1 && echo x > f && ls -l f | cut -c1-10
cat ../got-$1; wc -l < ../out-$1; md5sum ../out-$1 | cut -c1-32
exit 3
`;

describe('two Machines in one process', () => {
  it('run interleaved, each as Linux runs it alone', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elfrun-machines-'));
    try {
      writeFileSync(join(dir, 'script.sh'), SCRIPT);
      expect(spawnSync('mkfifo', [join(dir, 'fifo')]).status).toBe(0);
      // the oracle: the x86_64 busybox natively, once per name (shell semantics are the same on arm64)
      const linux = (name: string): { out: string; status: number | null } => {
        const r = spawnSync(fixture('x86_64', 'busybox'), ['sh', '-c', `sh script.sh ${name} > result-${name} 2>&1`], { cwd: dir });
        const out = readFileSync(join(dir, `result-${name}`), 'latin1');
        rmSync(join(dir, `d-${name}`), { recursive: true });
        return { out, status: r.status };
      };
      const expected = { A: linux('A'), B: linux('B') };
      expect(expected.A.status).toBe(3);

      const machine = (arch: 'x86_64' | 'arm64', name: string): Machine => {
        const program = fixture(arch, 'busybox');
        return new Machine({ program, argv: ['busybox', 'sh', '-c', `sh script.sh ${name} > result-${name} 2>&1`], env: ['PATH=/usr/bin:/bin'], cwd: dir });
      };
      const a = machine('x86_64', 'A');
      const b = machine('arm64', 'B');
      const [sa, sb] = await Promise.all([a.run(), b.run()]);
      expect(sa).toEqual({ kind: 'exited', code: 3 });
      expect(sb).toEqual({ kind: 'exited', code: 3 });
      expect(readFileSync(join(dir, 'result-A'), 'latin1')).toBe(expected.A.out);
      expect(readFileSync(join(dir, 'result-B'), 'latin1')).toBe(expected.B.out);
      // their tables are their own
      expect(a.kernel).not.toBe(b.kernel);
      expect(a.kernel.memory).not.toBe(b.kernel.memory);
      expect(a.kernel.vfs).not.toBe(b.kernel.vfs);
      expect(a.syscalls.missing).not.toBe(b.syscalls.missing);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
