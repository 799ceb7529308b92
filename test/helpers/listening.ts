/**
 * The local IPv4 addresses on which a TCP port listens, from the kernel's /proc/net/tcp (hex,
 * as the kernel writes them: 127.0.0.1 is 0100007F, every address 00000000), so a test can
 * check where a daemon bound rather than where it says it did.
 */
import { readFileSync } from "node:fs";

const LISTEN = "0A";

export function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === LISTEN && f[1]?.endsWith(`:${hexPort}`))
    .map((f) => f[1]!.split(":")[0]!);
}
