// Host signals reach the guest while it runs: ^C and ^\ (SIGINT, SIGQUIT),
// ^Z and fg (SIGTSTP, SIGCONT) go to its foreground process group, SIGTERM
// and SIGHUP to its init, each with si_code SI_KERNEL.
import { SI_KERNEL, SIG } from '../abi/signal.js';
import type { Kernel } from './kernel.js';

/** Install the forwarding handlers on Node's process; returns their removal. */
export function forwardHostSignals(k: Kernel): () => void {
  const handlers: Array<[NodeJS.Signals, () => void]> = [];
  const on = (name: NodeJS.Signals, sig: number, group: boolean): void => {
    const h = (): void => {
      const init = k.init!;
      const info = k.userInfo(sig, 0);
      info.writeInt32LE(SI_KERNEL, 8);
      const fg = k.terminal.foreground();
      for (const p of [...k.processes.values()]) if (p.exit === null && (group ? p.pgid === fg : p === init)) k.signals.sendToProcess(p, sig, info);
      k.sched.kick();
    };
    process.on(name, h);
    handlers.push([name, h]);
  };
  on('SIGINT', SIG.SIGINT, true);
  on('SIGQUIT', SIG.SIGQUIT, true);
  on('SIGTSTP', SIG.SIGTSTP, true); // ^Z: the guest's foreground group stops (and elfrun with its init)
  on('SIGCONT', SIG.SIGCONT, true); // fg: it continues
  on('SIGTERM', SIG.SIGTERM, false);
  on('SIGHUP', SIG.SIGHUP, false);
  return () => handlers.forEach(([n, h]) => process.off(n, h));
}
