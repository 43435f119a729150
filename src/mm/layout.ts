// Page size and rounding, and the per-arch layout of a user address space.

export const PAGE = 4096;

export const pageDown = (a: number): number => a - (a % PAGE);
export const pageUp = (a: number): number => Math.ceil(a / PAGE) * PAGE;

/** Linux's per-arch layout constants, as `setarch -R` (no randomization) shows them. */
export interface Layout {
  /** highest user address + 1 */
  taskSize: number;
  stackTop: number;
  mmapBase: number;
  etDynBase: number;
}
