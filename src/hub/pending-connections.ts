import type { Socket } from 'node:net';
import type { Logger } from '../log.js';

/**
 * Connections to the hub that have not authenticated yet (TCP open, upgrade or hello pending).
 * They cost a file descriptor each and prove nothing, so they are capped in total and per
 * remote address; a connection over a cap is destroyed at once (an agent retries with backoff),
 * and one that has not completed its WebSocket upgrade within `upgradeTimeoutMs` is cut, so slow
 * header dripping cannot hold a slot. Authenticated agents do not count. IPv6 peers are
 * counted per /64 (one host usually holds a whole /64, so counting each address would let it
 * past the per-address cap).
 */
export interface PendingLimits {
  /** HUB_MAX_PENDING. */
  maxTotal: number;
  /** HUB_MAX_PENDING_PER_ADDRESS. */
  maxPerAddress: number;
  /** From TCP connect to a completed upgrade (TLS handshake and HTTP headers included). */
  upgradeTimeoutMs: number;
  /** At most one warning per this many ms while connections are being refused. Default 10 s. */
  warnEveryMs?: number;
}

interface Entry {
  socket: Socket;
  address: string;
  timer: NodeJS.Timeout;
  upgraded: boolean;
}

export class PendingConnections {
  /**
   * By `address:port`, which the raw TCP socket and, over TLS, the TLS socket wrapping it share
   * (the upgrade request carries the latter).
   */
  private readonly entries = new Map<string, Entry>();
  private readonly perAddress = new Map<string, number>();
  private refusedSinceWarning = 0;
  private lastWarning = 0;
  private busiest = '';

  constructor(
    private readonly limits: PendingLimits,
    private readonly log: Logger,
  ) {}

  /** A new TCP connection. Returns false, having destroyed it, when a cap is reached. */
  admit(socket: Socket): boolean {
    const address = addressGroup(socket.remoteAddress ?? '?');
    const fromHere = this.perAddress.get(address) ?? 0;
    if (this.entries.size >= this.limits.maxTotal || fromHere >= this.limits.maxPerAddress) {
      socket.destroy();
      this.refused(address, fromHere >= this.limits.maxPerAddress ? 'address' : 'total');
      return false;
    }
    const key = keyOf(socket);
    const timer = setTimeout(() => {
      const e = this.entries.get(key);
      // Upgraded sockets are the hello timer's business (it closes them with a reason).
      if (e && !e.upgraded) {
        this.log.debug('agent connection cut: no WebSocket upgrade in time', { remote: address });
        socket.destroy();
      }
    }, this.limits.upgradeTimeoutMs);
    timer.unref();
    this.entries.set(key, { socket, address, timer, upgraded: false });
    this.perAddress.set(address, fromHere + 1);
    socket.once('close', () => this.release(key, socket));
    return true;
  }

  /** The WebSocket upgrade completed; the slot is held until the hello is accepted or the socket closes. */
  upgraded(socket: Socket): void {
    const e = this.entries.get(keyOf(socket));
    if (e) e.upgraded = true;
  }

  /** The agent authenticated: its connection no longer counts. */
  authenticated(socket: Socket): void {
    const key = keyOf(socket);
    const e = this.entries.get(key);
    if (e) this.release(key, e.socket);
  }

  /** Connections counted now. */
  size(): number {
    return this.entries.size;
  }

  /** Stops every timer (the hub is stopping). */
  close(): void {
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
    this.perAddress.clear();
  }

  private release(key: string, socket: Socket): void {
    const e = this.entries.get(key);
    if (!e || e.socket !== socket) return;
    clearTimeout(e.timer);
    this.entries.delete(key);
    const n = (this.perAddress.get(e.address) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(e.address);
    else this.perAddress.set(e.address, n);
  }

  private refused(address: string, which: 'total' | 'address'): void {
    this.refusedSinceWarning++;
    this.busiest = address;
    const now = Date.now();
    if (now - this.lastWarning < (this.limits.warnEveryMs ?? 10_000)) return;
    this.lastWarning = now;
    this.log.warn('agent hub: refusing connections, too many are not authenticated', {
      refused: this.refusedSinceWarning,
      cap: which === 'total' ? `HUB_MAX_PENDING=${this.limits.maxTotal}` : `HUB_MAX_PENDING_PER_ADDRESS=${this.limits.maxPerAddress}`,
      address: this.busiest,
      pending: this.entries.size,
    });
    this.refusedSinceWarning = 0;
  }
}

function keyOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

/** The per-address key: an IPv4 address as it is; an IPv6 address as its /64 prefix. */
export function addressGroup(address: string): string {
  if (!address.includes(':') || /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
