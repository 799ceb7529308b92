/**
 * A controlled node for validation tests: real directories and files (os-release, meminfo, a
 * cgroup dir, CVMFS mounts) and a PATH holding stub commands that print fixed output.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNodeView, type NodeView } from "../../src/pilot/validate/node-view.js";

export interface NodeFixture {
  dir: string;
  bin: string;
  paths: NodeView["paths"];
  osRelease(text: string): void;
  meminfoKb(kb: number): void;
  cgroupFile(rel: string, text: string): void;
  stub(cmd: string, script: string): void;
  cvmfsRepo(repo: string): void;
  view(env?: Record<string, string>, extra?: { nodeCpus?: number; machine?: string }): NodeView;
  cleanup(): void;
}

export function createNodeFixture(): NodeFixture {
  const dir = mkdtempSync(join(tmpdir(), "updraft-node-"));
  const sub = (name: string) => {
    const p = join(dir, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const bin = sub("bin");
  const paths = {
    workDir: sub("work"),
    tmpDir: sub("tmp"),
    etcDir: sub("etc"),
    procDir: sub("proc"),
    cgroupDir: sub("cgroup"),
    cvmfsRoot: sub("cvmfs"),
  };
  const write = (p: string, text: string) => {
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, text);
  };
  const f: NodeFixture = {
    dir,
    bin,
    paths,
    osRelease: (text) => write(join(paths.etcDir, "os-release"), text),
    meminfoKb: (kb) => write(join(paths.procDir, "meminfo"), `MemTotal:       ${kb} kB\n`),
    cgroupFile: (rel, text) => write(join(paths.cgroupDir, rel), text),
    stub(cmd, script) {
      const p = join(bin, cmd);
      writeFileSync(p, `#!/bin/sh\n${script}\n`);
      chmodSync(p, 0o755);
    },
    cvmfsRepo: (repo) => write(join(paths.cvmfsRoot, repo, ".cvmfsdirtab"), ""),
    view: (env = {}, extra = {}) =>
      createNodeView({
        env: { PATH: bin, ...env },
        paths,
        nodeCpus: extra.nodeCpus ?? 16,
        machine: extra.machine ?? "x86_64",
        host: "wn01.example.org",
      }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  f.osRelease('NAME="AlmaLinux"\nID="almalinux"\nVERSION_ID="9.4"\nPRETTY_NAME="AlmaLinux 9.4"\n');
  f.meminfoKb(32 * 1024 * 1024);
  return f;
}
