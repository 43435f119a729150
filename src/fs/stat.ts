// struct stat per arch. The host is x86_64, so the host's struct stat (144
// bytes) is already the x86_64 guest's; arm64 uses asm-generic's 128-byte layout.
import type { ArchName } from '../cpu/arch.js';
import type { Timespec } from './vfs.js';
import { STATX_BASIC_STATS } from '../abi/stat.js';

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

/** Fields of a file elfrun emulates (pipes, tmpfs, procfs...), for writeStat. */
export interface StatFields {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** Encode a struct stat in the host (x86_64) layout. */
export function hostStatBytes(f: StatFields): Buffer {
  const b = Buffer.alloc(HOST_STAT_SIZE);
  const ts = (off: number, ms: number): void => {
    const s = Math.floor(ms / 1000);
    b.writeBigInt64LE(BigInt(s), off);
    b.writeBigInt64LE(BigInt(Math.round((ms - s * 1000) * 1e6)), off + 8);
  };
  b.writeBigUInt64LE(BigInt(f.dev), 0);
  b.writeBigUInt64LE(BigInt(f.ino), 8);
  b.writeBigUInt64LE(BigInt(f.nlink), 16);
  b.writeUInt32LE(f.mode, 24);
  b.writeUInt32LE(f.uid, 28);
  b.writeUInt32LE(f.gid, 32);
  b.writeBigUInt64LE(BigInt(f.rdev), 40);
  b.writeBigInt64LE(BigInt(f.size), 48);
  b.writeBigInt64LE(BigInt(f.blksize), 56);
  b.writeBigInt64LE(BigInt(f.blocks), 64);
  ts(72, f.atimeMs);
  ts(88, f.mtimeMs);
  ts(104, f.ctimeMs);
  return b;
}

/** Fields of an emulated inode with nanosecond times (tmpfs, devfs): a 4 KiB block size. */
export type InodeStat = Omit<StatFields, 'blksize' | 'atimeMs' | 'mtimeMs' | 'ctimeMs'> & { atime: Timespec; mtime: Timespec; ctime: Timespec };

/** A file's identity across the guest's file systems, "dev:ino" (as numbers, as ExecArgs keeps them). */
export const fileId = (st: { dev: bigint | number; ino: bigint | number }): string => `${Number(st.dev)}:${Number(st.ino)}`;

/** The fields elfrun reads back from a host-layout struct stat (identity, type and owner, size, mtime). */
export function statFields(st: Uint8Array): { dev: bigint; ino: bigint; mode: number; uid: number; gid: number; size: number; mtime: Timespec } {
  const dv = new DataView(st.buffer, st.byteOffset, HOST_STAT_SIZE);
  return {
    dev: dv.getBigUint64(0, true),
    ino: dv.getBigUint64(8, true),
    mode: dv.getUint32(24, true),
    uid: dv.getUint32(28, true),
    gid: dv.getUint32(32, true),
    size: Number(dv.getBigInt64(48, true)),
    mtime: { sec: Number(dv.getBigInt64(88, true)), nsec: Number(dv.getBigInt64(96, true)) },
  };
}

/** Encode a struct stat in the host (x86_64) layout, times to the nanosecond. */
export function inodeStatBytes(f: InodeStat): Buffer {
  const b = hostStatBytes({ ...f, blksize: 4096, atimeMs: 0, mtimeMs: 0, ctimeMs: 0 });
  [f.atime, f.mtime, f.ctime].forEach((ts, i) => {
    b.writeBigInt64LE(BigInt(ts.sec), 72 + 16 * i);
    b.writeBigInt64LE(BigInt(ts.nsec), 80 + 16 * i);
  });
  return b;
}

/** struct statx (256 bytes, same on both arches) from a host-layout struct stat: the basic fields, no birth time. */
export function statxFromStat(st: Uint8Array): Buffer {
  const h = Buffer.from(st.buffer, st.byteOffset, HOST_STAT_SIZE);
  const x = Buffer.alloc(256);
  const major = (d: bigint): number => Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = (d: bigint): number => Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  x.writeUInt32LE(STATX_BASIC_STATS, 0);
  x.writeUInt32LE(Number(h.readBigInt64LE(56)), 4);
  x.writeUInt32LE(Number(h.readBigUInt64LE(16)), 16);
  x.writeUInt32LE(h.readUInt32LE(28), 20);
  x.writeUInt32LE(h.readUInt32LE(32), 24);
  x.writeUInt16LE(h.readUInt32LE(24) & 0xffff, 28);
  h.copy(x, 32, 8, 16); // ino
  h.copy(x, 40, 48, 56); // size
  h.copy(x, 48, 64, 72); // blocks
  for (const [src, dst] of [[72, 64], [104, 96], [88, 112]]) {
    h.copy(x, dst, src, src + 8);
    x.writeUInt32LE(Number(h.readBigInt64LE(src + 8)), dst + 8);
  }
  const rdev = h.readBigUInt64LE(40);
  const dev = h.readBigUInt64LE(0);
  x.writeUInt32LE(major(rdev), 128);
  x.writeUInt32LE(minor(rdev), 132);
  x.writeUInt32LE(major(dev), 136);
  x.writeUInt32LE(minor(dev), 140);
  return x;
}
