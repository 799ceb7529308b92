/**
 * What the wire server tells its daemon as it works, for metrics: each call's method, the code it
 * ended with (`ok` or a wire error code) and its duration, and each refused connection's cause
 * (a verify failure code, `no-certificate`, `no-role`, `tls-handshake`, `token-<check>`...).
 */
export type WireObserver = {
  callDone(method: string, code: string, seconds: number): void;
  refused(cause: string): void;
};
