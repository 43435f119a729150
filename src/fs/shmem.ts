// The memory shared-memory file systems take, for elfrun's memory cap
// (--max-memory): tmpfs and memfd file data (the host memory behind each
// file's bytes; holes take none) and System V segments (their whole size, from
// shmget to their end, as Linux's strict overcommit accounting charges them).
// Without a cap nothing is measured.
import { fstatSync } from 'node:fs';
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import { host } from '../host/libc.js';

const SEEK_DATA = 3;
const SEEK_HOLE = 4;
const PAGE = 4096;

export class ShmemAccount {
  /** bytes charged: file data as last measured, and segment sizes */
  bytes = 0;
  /** bytes guests may still commit (the cap less everything committed); null: no cap */
  room: (() => number) | null = null;

  /** Charge a System V segment of size bytes at its creation (ENOMEM past the cap). */
  chargeSegment(size: number): void {
    if (this.room === null) return;
    if (size > this.room()) fail(E.ENOMEM);
    this.bytes += size;
  }

  uncharge(size: number): void {
    if (this.room !== null) this.bytes -= size;
  }

  /** The bytes the host has allocated behind the data of memfd fd. */
  measure(fd: number): number {
    return fd < 0 ? 0 : fstatSync(fd).blocks * 512;
  }

  /**
   * How much of a write of len bytes at off into memfd fd the cap lets
   * through: all of it while the room holds the holes it fills (already
   * allocated bytes cost nothing); otherwise the room's whole pages, and
   * ENOMEM for none (Linux's shmem block accounting under strict overcommit).
   */
  writable(fd: number, off: number, len: number): number {
    if (this.room === null || len === 0) return len;
    const room = this.room();
    if (room >= len) return len;
    if (this.holes(fd, off, len) <= room) return len;
    const pages = Math.floor(Math.max(0, room) / PAGE) * PAGE;
    if (pages === 0) fail(E.ENOMEM);
    return Math.min(len, pages - (off % PAGE));
  }

  /** bytes of [off, off + len) in fd that are holes (whole pages, rounded out) */
  private holes(fd: number, off: number, len: number): number {
    const start = off - (off % PAGE);
    const end = Math.ceil((off + len) / PAGE) * PAGE;
    if (fd < 0) return end - start;
    let holes = 0;
    let pos = start;
    while (pos < end) {
      const data = host.lseek(fd, pos, SEEK_DATA);
      if (data < 0) return holes + (end - pos); // ENXIO: no data from here on
      if (data > pos) holes += Math.min(data, end) - pos;
      if (data >= end) break;
      const hole = host.lseek(fd, data, SEEK_HOLE);
      pos = hole < 0 ? end : hole;
    }
    return holes;
  }
}
