/**
 * How many connections a listener holds, in total and per identity, so one credential cannot
 * take every slot. Pure bookkeeping: the server asks before accepting and tells on close.
 */
export type ConnectionQuota = {
  /** Authenticated connections the listener keeps open at once. */
  maxConnections: number;
  /** Of those, how many one identity may hold. */
  maxConnectionsPerIdentity: number;
};

export type Admission =
  | { ok: true }
  | { ok: false; cause: "connection-limit" | "identity-connection-limit"; reason: string };

export class ConnectionCount {
  private total = 0;
  private readonly byIdentity = new Map<string, number>();

  constructor(private readonly quota: ConnectionQuota) {}

  get size(): number {
    return this.total;
  }

  /** Take a slot for `identity`, or say which limit is in the way. */
  admit(identity: string): Admission {
    if (this.total >= this.quota.maxConnections) {
      return {
        ok: false,
        cause: "connection-limit",
        reason: `the server holds its maximum of ${this.quota.maxConnections} connections; retry later`,
      };
    }
    const mine = this.byIdentity.get(identity) ?? 0;
    if (mine >= this.quota.maxConnectionsPerIdentity) {
      return {
        ok: false,
        cause: "identity-connection-limit",
        reason:
          `'${identity}' already holds ${mine} connections, the most one identity may; ` +
          "close some or share one connection between calls",
      };
    }
    this.total++;
    this.byIdentity.set(identity, mine + 1);
    return { ok: true };
  }

  /** Give back the slot `admit` took. */
  release(identity: string): void {
    const mine = this.byIdentity.get(identity) ?? 0;
    if (mine <= 0) return;
    this.total--;
    if (mine === 1) this.byIdentity.delete(identity);
    else this.byIdentity.set(identity, mine - 1);
  }
}
