/**
 * A real OpenSSH server on a free loopback port, for the BOSCO-style SSH path: a generated host
 * key, a generated client key authorised for the current user (key only, no passwords), every
 * file in a `mktemp -d` folder, stopped by PID. Needs the Debian package `openssh-server`.
 */
import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/pool/ports.js";

export interface SshdPeer {
  dir: string;
  host: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** `port`: a port chosen beforehand (a test that first needs the login node away). */
export async function startSshd(opts: { port?: number } = {}): Promise<SshdPeer> {
  for (const b of ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"]) {
    if (!existsSync(b)) {
      throw new Error(
        `the SSH test peer needs ${b} (Debian packages openssh-server openssh-client; CI installs them)`,
      );
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "updraft-sshd-peer-"));
  const hostKey = join(dir, "ssh_host_ed25519_key");
  const identityFile = join(dir, "id_ed25519");
  for (const k of [hostKey, identityFile]) {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "updraft-test", "-f", k]);
  }
  writeFileSync(join(dir, "authorized_keys"), readFileSync(`${identityFile}.pub`), { mode: 0o600 });
  const port = opts.port ?? (await freePort());
  const knownHostsFile = join(dir, "known_hosts");
  const hostPub = readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostPub}\n`);
  const cfg = join(dir, "sshd_config");
  writeFileSync(
    cfg,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      // The key files live in a temp folder, not a home directory.
      "StrictModes no",
      "MaxSessions 50",
      "MaxStartups 50",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  // Privilege separation needs this folder; Debian makes it only when the service starts.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const logFile = join(dir, "sshd.log");
  const logFd = openSync(logFile, "a");
  const sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", cfg], {
    stdio: ["ignore", "ignore", logFd],
  });
  closeSync(logFd);
  // A test whose cleanup failed must still end (the exit hook below then stops sshd).
  sshd.unref();
  const log = (): string => readFileSync(logFile, "utf8");
  const end = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (sshd.exitCode !== null || Date.now() > end) {
      sshd.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start on 127.0.0.1:${port}: ${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const onExit = (): void => {
    sshd.kill("SIGKILL");
  };
  process.once("exit", onExit);
  return {
    dir,
    host: "127.0.0.1",
    port,
    user: userInfo().username,
    identityFile,
    knownHostsFile,
    async stop() {
      process.off("exit", onExit);
      if (sshd.exitCode === null && sshd.signalCode === null) {
        // Referenced again: waiting for its exit must keep this process alive.
        sshd.ref();
        const gone = new Promise((r) => sshd.once("exit", r));
        sshd.kill("SIGTERM");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
