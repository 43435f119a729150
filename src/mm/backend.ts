// MemBackend: what an address space needs of the CPU engine that mirrors its
// VMAs (uc_mem_map_ptr and friends), so that mm is testable without Unicorn.

export interface MemBackend {
  map(start: number, size: number, prot: number, hostAddr: number): void;
  unmap(start: number, size: number): void;
  protect(start: number, size: number, prot: number): void;
  /** Host memory of [start, start+size) is about to be freed: no engine may keep it mapped. */
  release?(start: number, size: number, hostAddr: number): void;
  /** The host range [hostAddr, hostAddr+size) is about to be freed: no engine may keep any of it mapped. */
  releaseHostRange?(hostAddr: number, size: number): void;
  /**
   * The kernel is about to store into [start, start+size) of an executable
   * VMA (read(2) into code, say): no translation of the old bytes may run
   * again. The guest's own stores are the engine's business.
   */
  codeWrite?(start: number, size: number): void;
}
