/** OS name and version as HTCondor publishes them, from os-release; and the architecture. */
import { join } from "node:path";
import { NODE } from "../../ads/names.js";
import { fail, pass, type CheckResult } from "../failure.js";
import type { NodeView } from "./node-view.js";

/** os-release ID to HTCondor's OpSysName. */
const NAMES: Record<string, string> = {
  almalinux: "AlmaLinux",
  rocky: "Rocky",
  centos: "CentOS",
  rhel: "RedHat",
  fedora: "Fedora",
  debian: "Debian",
  ubuntu: "Ubuntu",
  sles: "SLES",
  "opensuse-leap": "openSUSE",
  amzn: "AmazonLinux",
};

export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (m) out[m[1]!] = m[2]!.trim().replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

export function checkOs(view: NodeView): CheckResult {
  const dir = view.paths.etcDir;
  const text =
    view.readFile(join(dir, "os-release")) ?? view.readFile(join(dir, "../usr/lib/os-release"));
  if (text === undefined) return fail("WN_Resource", `no os-release in ${dir}`);
  const r = parseOsRelease(text);
  const id = (r.ID ?? "").toLowerCase();
  const name = NAMES[id] ?? (id ? id[0]!.toUpperCase() + id.slice(1) : "");
  const [majorText, minorText] = (r.VERSION_ID ?? "").split(".");
  const major = Number(majorText);
  const minor = Number(minorText ?? 0) || 0;
  if (!name || !Number.isInteger(major) || major <= 0) {
    return fail("WN_Resource", `os-release lacks a usable ID/VERSION_ID (ID=${r.ID ?? ""})`);
  }
  return pass({
    [NODE.OpSys]: "LINUX",
    [NODE.OpSysName]: name,
    [NODE.OpSysMajorVer]: major,
    // HTCondor's encoding: 9.4 is 904.
    [NODE.OpSysVer]: major * 100 + minor,
    [NODE.OpSysAndVer]: `${name}${major}`,
    [NODE.OpSysLongName]: r.PRETTY_NAME ?? `${name} ${r.VERSION_ID}`,
  });
}

const ARCH: Record<string, string> = {
  x86_64: "X86_64",
  amd64: "X86_64",
  i686: "INTEL",
  i386: "INTEL",
  aarch64: "aarch64",
  arm64: "aarch64",
  ppc64le: "ppc64le",
};

export function checkArch(view: NodeView): CheckResult {
  const arch = ARCH[view.machine];
  if (!arch) return fail("WN_Resource", `unsupported machine architecture ${view.machine}`);
  return pass({ [NODE.Arch]: arch });
}
