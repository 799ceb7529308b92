/**
 * A real ARC CE for tests: one `arched` process running A-REX with its REST interface on a free
 * loopback port, the fork back end, and all state in a temporary folder. Started the way
 * /work/shared/peers/README.md describes (arc.conf expanded by arcconfig-parser, an arched XML
 * chain tcp -> tls -> http -> soap -> plexer -> a-rex, the info provider every 5 s), stopped by
 * process group. A machine without the Debian packages fails loudly instead of skipping.
 */
import { processesUnder } from "../../bench/lib/proc-cpu.js";
import { freePort } from "../../src/pool/ports.js";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "node:https";
import type { TestPki } from "./pki.js";

export const ARC_PACKAGES = "nordugrid-arc-arex nordugrid-arc-hed nordugrid-arc-plugins-needed";
const ARCHED = "/usr/sbin/arched";
const PARSER = "/usr/lib/arc/arcconfig-parser";

export interface ArcPeer {
  /** The A-REX endpoint, `https://localhost:PORT/arex`. */
  endpoint: string;
  port: number;
  state: string;
  pid: number;
  /** Where the grid manager writes its log, for failure messages. */
  logFile: string;
  stop(): Promise<void>;
}

export interface ArcPeerOptions {
  pki: TestPki;
  /** Slash-form DNs allowed to submit. */
  allowedDns: string[];
  /** Jobs A-REX runs at once (submitted to the fork back end); the rest wait. -1: no limit. */
  maxRunning?: number;
  /**
   * Bearer tokens of this issuer (an https:// URL A-REX fetches the keys from) are admitted to
   * the `pilots` group beside the listed DNs (ARC's `authtokens`).
   */
  tokenIssuer?: string;
  /**
   * Admit only tokens whose audience is this A-REX's endpoint URL (the `authtokens` audience
   * field), instead of any audience.
   */
  pinTokenAudience?: boolean;
}

/** Throws, naming the packages, when A-REX is not installed (CI installs them). */
export function requireArc(): void {
  for (const f of [ARCHED, PARSER]) {
    if (!existsSync(f)) {
      throw new Error(
        `${f} is missing: the ARC tests need a real A-REX; install the Debian packages ${ARC_PACKAGES}`,
      );
    }
  }
}

function arcConf(state: string, port: number, o: ArcPeerOptions): string {
  const maxRunning = o.maxRunning ?? -1;
  return `[common]
hostname = localhost
x509_host_key = ${o.pki.host.keyFile}
x509_host_cert = ${o.pki.host.certFile}
x509_cert_dir = ${o.pki.caDir}

[authgroup:pilots]
file = ${state}/allowed-dns
${o.tokenIssuer ? `authtokens = * ${o.tokenIssuer} ${o.pinTokenAudience ? `https://localhost:${port}/arex` : "*"} * *\n` : ""}
[mapping]
map_to_user = pilots nobody:nogroup

${o.tokenIssuer ? "[authtokens]\n\n" : ""}[lrms]
lrms = fork

[arex]
controldir = ${state}/control
sessiondir = ${state}/session
logfile = ${state}/log/arex.log
pidfile = ${state}/arex.pid
joblog = ${state}/log/jobs.log
helperlog = ${state}/log/helper.log
tmpdir = ${state}/tmp
maxjobs = -1 ${maxRunning} -1 -1 -1
wakeupperiod = 1

[arex/ws]
wsurl = https://localhost:${port}/arex
logfile = ${state}/log/ws.log

[arex/ws/jobs]
allowaccess = pilots

[infosys]
logfile = ${state}/log/infoprovider.log

[infosys/glue2]

[infosys/cluster]

[queue:fork]
`;
}

function archedXml(state: string, port: number, o: ArcPeerOptions): string {
  const cfg = `${state}/arex.cfg`;
  return `<?xml version="1.0"?>
<ArcConfig
  xmlns="http://www.nordugrid.org/schemas/ArcConfig/2007"
  xmlns:tcp="http://www.nordugrid.org/schemas/ArcMCCTCP/2007"
  xmlns:arex="http://www.nordugrid.org/schemas/a-rex/Config">
  <Server>
    <PidFile>${state}/arched.pid</PidFile>
    <Logger><File>${state}/log/arched.log</File><Level>${o.tokenIssuer ? "DEBUG" : "INFO"}</Level></Logger>
  </Server>
  <ModuleManager><Path>/usr/lib/arc/</Path></ModuleManager>
  <Plugins><Name>mcctcp</Name></Plugins>
  <Plugins><Name>mcctls</Name></Plugins>
  <Plugins><Name>mcchttp</Name></Plugins>
  <Plugins><Name>mccsoap</Name></Plugins>
  <Plugins><Name>arex</Name></Plugins>
  <Plugins><Name>identitymap</Name></Plugins>
  <Plugins><Name>arcshc</Name></Plugins>
  <Plugins><Name>arcshclegacy</Name></Plugins>
  ${o.tokenIssuer ? "<Plugins><Name>arcshcotokens</Name></Plugins>" : ""}
  <Chain>
    <Component name="tcp.service" id="tcp">
      <next id="tls"/>
      <tcp:Listen><tcp:Interface>127.0.0.1</tcp:Interface><tcp:Port>${port}</tcp:Port></tcp:Listen>
    </Component>
    <Component name="tls.service" id="tls">
      <next id="http"/>
      <KeyPath>${o.pki.host.keyFile}</KeyPath>
      <CertificatePath>${o.pki.host.certFile}</CertificatePath>
      <CACertificatesDir PolicyGlobus="true">${o.pki.caDir}</CACertificatesDir>
      <ClientAuthn>false</ClientAuthn>
      <DHParamFile>${state}/control/dhparam.pem</DHParamFile>
    </Component>
    <Component name="http.service" id="http">
      <next id="soap">POST</next>
      <next id="plexer"/>
      ${o.tokenIssuer ? '<SecHandler name="otokens.handler" event="incoming"/>' : ""}
      <SecHandler name="arclegacy.handler" event="incoming">
        <ConfigFile>${cfg}</ConfigFile>
      </SecHandler>
    </Component>
    <Component name="soap.service" id="soap">
      <next id="plexer"/>
      <ContinueNonSOAP>true</ContinueNonSOAP>
    </Component>
    <Plexer name="plexer.service" id="plexer">
      <next id="a-rex">^/arex</next>
    </Plexer>
    <Service name="a-rex" id="a-rex">
      <SecHandler name="arclegacy.map" event="incoming">
        <ConfigBlock><ConfigFile>${cfg}</ConfigFile><BlockName>mapping</BlockName></ConfigBlock>
      </SecHandler>
      <arex:endpoint>https://localhost:${port}/arex</arex:endpoint>
      <arex:gmconfig>${cfg}</arex:gmconfig>
      <arex:InfoproviderWakeupPeriod>5</arex:InfoproviderWakeupPeriod>
    </Service>
  </Chain>
</ArcConfig>
`;
}

/** Resolves once the REST interface answers a TLS request (any HTTP status). */
async function answers(port: number, o: ArcPeerOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/arex/rest/1.0/info",
        servername: "localhost",
        ca: readFileSync(o.pki.caCertFile),
        cert: readFileSync(o.pki.user.certFile),
        key: readFileSync(o.pki.user.keyFile),
        timeout: 1000,
      },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

/** SIGKILL every process whose working directory is inside `dir`. */
function killUnder(dir: string): void {
  for (const pid of processesUnder(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
}

export async function startArcPeer(o: ArcPeerOptions): Promise<ArcPeer> {
  requireArc();
  const state = mkdtempSync(join(tmpdir(), "updraft-arex-"));
  // Jobs run as nobody: their session directories hang below this folder.
  chmodSync(state, 0o755);
  for (const d of ["control", "session", "log", "tmp"]) mkdirSync(join(state, d));
  chmodSync(join(state, "tmp"), 0o1777);
  chmodSync(join(state, "session"), 0o755);
  writeFileSync(join(state, "allowed-dns"), o.allowedDns.map((d) => `"${d}"`).join("\n") + "\n");
  // A named group: instant, where generated parameters take the start scripts minutes.
  execFileSync("openssl", [
    "genpkey",
    "-genparam",
    "-algorithm",
    "DH",
    "-pkeyopt",
    "group:ffdhe2048",
    "-out",
    join(state, "control", "dhparam.pem"),
  ]);
  const port = await freePort();
  writeFileSync(join(state, "arc.conf"), arcConf(state, port, o));
  execFileSync(PARSER, [
    "--config",
    join(state, "arc.conf"),
    "--runconfig",
    join(state, "arex.cfg"),
    "--save",
  ]);
  writeFileSync(join(state, "arched.xml"), archedXml(state, port, o));
  const xml = join(state, "arched.xml");
  // A-REX fetches a token issuer's keys over HTTPS trusting /etc/grid-security/certificates only
  // (ARC's built-in default; no variable moves it). With tokens, arched gets a mount namespace of
  // its own where the test CA's directory is mounted there, leaving the machine's untouched.
  const [cmd, args] = o.tokenIssuer
    ? [
        "unshare",
        [
          "--mount",
          "--propagation",
          "private",
          "sh",
          "-c",
          'mount --bind "$1" /etc/grid-security/certificates && exec "$2" -f -c "$3"',
          "sh",
          o.pki.caDir,
          ARCHED,
          xml,
        ],
      ]
    : [ARCHED, ["-f", "-c", xml]];
  const child: ChildProcess = spawn(cmd, args, {
    cwd: state,
    detached: true,
    stdio: ["ignore", "ignore", "ignore"],
    env: { ...process.env, ARC_CONFIG: join(state, "arex.cfg") },
  });
  const pid = child.pid!;
  let exited = false;
  child.on("exit", () => (exited = true));
  const stop = async (): Promise<void> => {
    // Pilots run in sessions of their own (the wrapper's setsid): find them by working folder.
    killUnder(join(state, "session"));
    // The process group holds arched and the job scripts the fork back end started for it.
    for (const sig of ["SIGTERM", "SIGKILL"] as const) {
      if (exited) break;
      try {
        process.kill(-pid, sig);
      } catch {
        break;
      }
      const end = Date.now() + 5000;
      while (!exited && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    }
    rmSync(state, { recursive: true, force: true });
  };
  const end = Date.now() + 20_000;
  while (!(await answers(port, o))) {
    if (exited || Date.now() > end) {
      const log = join(state, "log", "arched.log");
      const tail = existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : "(no log)";
      await stop();
      throw new Error(
        `A-REX did not answer on port ${port}${exited ? " (it exited)" : ""}: ${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint: `https://localhost:${port}/arex`,
    port,
    state,
    pid,
    logFile: join(state, "log", "arex.log"),
    stop,
  };
}
