// The layers of src/ point down only, no modules need each other's values,
// and no module holds several concerns' worth of lines
// (scripts/import-graph.mjs prints the graph; docs/architecture.md explains it).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('import graph', () => {
  it('has no upward import, no runtime import cycle and no hand-written module over 600 lines', () => {
    const r = spawnSync(process.execPath, ['scripts/import-graph.mjs'], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/upward imports \(0\)/);
    expect(r.stdout).toMatch(/runtime import cycles \(0\)/);
    expect(r.stdout).toMatch(/files over 600 lines \(0\)/);
    expect(r.status, r.stdout).toBe(0);
  });
});
