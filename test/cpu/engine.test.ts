// The engine's contract with the syscall layer.
import { describe, expect, it } from 'vitest';
import { Cpu } from '../../src/cpu/engine.js';
import { arm64 } from '../../src/cpu/arm64.js';
import { x86_64 } from '../../src/cpu/x86_64.js';

describe('engine', () => {
  for (const arch of [x86_64, arm64]) {
    it(`${arch.name}: no kernel-internal restart code (-512..-516) is ever written as a syscall's result`, () => {
      const cpu = new Cpu(arch);
      try {
        for (const r of [-512, -513, -514, -515, -516]) expect(() => cpu.setReturn(r)).toThrow(/restart code/);
        for (const r of [-511, -517, -4, 0]) expect(() => cpu.setReturn(r)).not.toThrow();
      } finally {
        cpu.close();
      }
    });
  }
});
