// An address space's view of its arch's shared engine: the engine holds one
// process's mappings at a time (the active space), so a change to another
// space's memory map waits until that space is activated again.
import type { MemBackend } from '../mm/backend.js';
import type { Cpu } from './engine.js';

/** An address space's view of the shared engine: changes apply only while it is active. */
export class Mirror implements MemBackend {
  space: object | null = null;
  constructor(readonly cpu: Cpu) {}
  map(start: number, size: number, prot: number, hostAddr: number): void {
    if (this.cpu.active === this.space) this.cpu.map(start, size, prot, hostAddr);
  }
  unmap(start: number, size: number): void {
    if (this.cpu.active === this.space) this.cpu.unmap(start, size);
  }
  protect(start: number, size: number, prot: number): void {
    if (this.cpu.active === this.space) this.cpu.protect(start, size, prot);
  }
  release(start: number, size: number, hostAddr: number): void {
    this.cpu.releaseHost(start, size, hostAddr);
  }
  releaseHostRange(hostAddr: number, size: number): void {
    this.cpu.releaseHostRange(hostAddr, size);
  }
  codeWrite(start: number, size: number): void {
    // another space's pages are not in the engine (a region it shares with
    // the active one is the same region, and goes with it)
    if (this.cpu.active === this.space) this.cpu.codeWrite(start, size);
  }
}
