// The gdb stub's connection (gdb.ts): the remote protocol's framing over TCP
// ($body#checksum packets, + acks until QStartNoAckMode, ^C as a lone 0x03
// byte), and the listening socket that waits for gdb. ELFRUN_GDB_LOG=1 logs
// each packet on stderr.
import { createServer, type Socket } from 'node:net';
import { unescape } from './gdb-proto.js';

export interface WireUser {
  /** a packet's body (escapes undone): its reply, or null when there is none now */
  packet(body: string): string | null;
  /** ^C */
  interrupt(): void;
  /** the connection ended */
  closed(): void;
}

export class Wire {
  private inbuf = '';
  /** no + acks any more (QStartNoAckMode) */
  noAck = false;
  private user: WireUser | null = null;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.setNoDelay(true);
    sock.on('data', (d: string) => this.onData(d));
    sock.on('close', () => this.user?.closed());
    sock.on('error', () => this.user?.closed());
  }

  /** Listen on host:port and wait for gdb's connection (one line on stderr says where). */
  static listen(host: string, port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address();
        const where = typeof a === 'object' && a !== null ? `${a.address}:${a.port}` : `${host}:${port}`;
        process.stderr.write(`elfrun: waiting for gdb on ${where}\n`);
      });
      server.once('connection', (sock) => {
        server.close();
        resolve(new Wire(sock));
      });
    });
  }

  serve(user: WireUser): void {
    this.user = user;
  }

  private onData(d: string): void {
    this.inbuf += d;
    for (;;) {
      const c = this.inbuf[0];
      if (c === undefined || this.user === null) return;
      if (c === '+' || c === '-') {
        this.inbuf = this.inbuf.slice(1);
        continue;
      }
      if (c === '\x03') {
        this.inbuf = this.inbuf.slice(1);
        this.user.interrupt();
        continue;
      }
      const start = this.inbuf.indexOf('$');
      if (start < 0) {
        this.inbuf = '';
        return;
      }
      const end = this.inbuf.indexOf('#', start);
      if (end < 0 || this.inbuf.length < end + 3) return;
      const body = unescape(this.inbuf.slice(start + 1, end));
      if (process.env.ELFRUN_GDB_LOG) process.stderr.write(`gdb> ${body.slice(0, 120)}\n`);
      this.inbuf = this.inbuf.slice(end + 3);
      if (!this.noAck) this.sock.write('+');
      const reply = this.user.packet(body);
      if (reply !== null) this.send(reply);
    }
  }

  send(body: string): void {
    if (process.env.ELFRUN_GDB_LOG) process.stderr.write(`gdb< ${body.slice(0, 120)}\n`);
    let sum = 0;
    for (let i = 0; i < body.length; i++) sum = (sum + body.charCodeAt(i)) & 0xff;
    this.sock.write(`$${body}#${sum.toString(16).padStart(2, '0')}`, 'latin1');
  }

  end(): void {
    this.sock.end();
  }
}
