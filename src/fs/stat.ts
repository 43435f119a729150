// struct stat per arch. The host is x86_64, so the host's struct stat (144
// bytes) is already the x86_64 guest's; arm64 uses asm-generic's 128-byte layout.
import type { ArchName } from '../cpu/arch.js';

export const HOST_STAT_SIZE = 144;

export function statSize(arch: ArchName): number {
  return arch === 'x86_64' ? 144 : 128;
}

/** Convert a host (x86_64) struct stat into the guest's layout. */
export function guestStat(arch: ArchName, host: Uint8Array): Uint8Array {
  if (arch === 'x86_64') return host.subarray(0, 144);
  const h = Buffer.from(host.buffer, host.byteOffset, 144);
  const g = Buffer.alloc(128);
  h.copy(g, 0, 0, 16); // st_dev, st_ino
  g.writeUInt32LE(h.readUInt32LE(24), 16); // st_mode
  g.writeUInt32LE(Math.min(h.readUInt32LE(16) + h.readUInt32LE(20) * 0x100000000, 0xffffffff), 20); // st_nlink
  h.copy(g, 24, 28, 36); // st_uid, st_gid
  h.copy(g, 32, 40, 48); // st_rdev
  h.copy(g, 48, 48, 56); // st_size
  g.writeInt32LE(h.readInt32LE(56), 56); // st_blksize
  h.copy(g, 64, 64, 72); // st_blocks
  h.copy(g, 72, 72, 120); // atime, mtime, ctime with nsec
  return g;
}
