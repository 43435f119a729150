// The guest's IPC namespace: its System V shared memory, semaphores and
// message queues, its POSIX message queues, and their limits. One per
// Kernel (Kernel.ipc), so two Machines never see each other's objects, nor
// the host's.
import { readFileSync } from 'node:fs';
import type { AddressSpace } from '../mm/address-space.js';
import { initialLimits, type IpcLimits } from './limits.js';
import { MessageQueues } from './msg.js';
import { PosixQueues, type MqLimits, type SignalProcess } from './mqueue.js';
import { Semaphores } from './sem.js';
import { SharedMemory } from './shm.js';

/** What the IPC objects need of the kernel, which the ipc layer cannot see. */
export interface IpcKernel {
  /** the address spaces of the live processes (shm_nattch counts their VMAs) */
  spaces(): Iterable<AddressSpace>;
  /** send a signal with this siginfo to a process (mq_notify) */
  signal: SignalProcess;
}

/** fs.mqueue's limits: the host's /proc/sys/fs/mqueue when it has them, else Linux's defaults. */
function mqLimits(): MqLimits {
  const read = (name: string, dflt: number): number => {
    try {
      const v = Number(readFileSync(`/proc/sys/fs/mqueue/${name}`, 'latin1').trim());
      return Number.isInteger(v) && v >= 0 ? v : dflt;
    } catch {
      return dflt;
    }
  };
  return {
    queuesMax: read('queues_max', 256),
    msgMax: read('msg_max', 10),
    msgsizeMax: read('msgsize_max', 8192),
    msgDefault: read('msg_default', 10),
    msgsizeDefault: read('msgsize_default', 8192),
  };
}

export class IpcNamespace {
  readonly limits: IpcLimits = initialLimits();
  readonly shm: SharedMemory;
  readonly sem = new Semaphores(this.limits);
  readonly msg = new MessageQueues(this.limits);
  readonly mq: PosixQueues;

  constructor(k: IpcKernel) {
    this.shm = new SharedMemory(this.limits, () => k.spaces());
    this.mq = new PosixQueues(mqLimits(), k.signal);
  }
}
