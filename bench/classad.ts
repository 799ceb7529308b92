/**
 * ClassAd engine benchmark: symmetric matching of one job against 1,000 slots (200 rounds), and
 * parsing the job ad from its text.
 */
import { ClassAd, symmetricMatch } from "../src/classad/index.js";

const JOB_AD =
  '[ Owner = "alice"; RequestCpus = 1; RequestMemory = 2000; RequestDisk = 1000000; ' +
  'DESIRED_Sites = "T2_US_UCSD,T2_US_Purdue,T2_IT_Pisa"; ' +
  'Requirements = TARGET.Arch == "X86_64" && TARGET.OpSysAndVer == "AlmaLinux9" && ' +
  "TARGET.Memory >= RequestMemory && TARGET.Cpus >= RequestCpus && TARGET.Disk >= RequestDisk && " +
  "stringListsIntersect(DESIRED_Sites, TARGET.GLIDEIN_CMSSite); Rank = TARGET.Mips ]";

const SITES = ["T2_US_UCSD", "T2_US_Purdue", "T2_DE_DESY", "T1_US_FNAL"];

function slotAd(i: number): string {
  return (
    `[ Name = "slot${i}@glidein"; Arch = "X86_64"; OpSysAndVer = "AlmaLinux9"; ` +
    `Memory = ${1000 + (i % 8) * 500}; Cpus = ${1 + (i % 8)}; Disk = 20000000; Mips = ${1000 + i}; ` +
    `GLIDEIN_CMSSite = "${SITES[i % 4]}"; Requirements = START; ` +
    'START = TARGET.RequestMemory <= MY.Memory && (TARGET.Owner =!= "mallory") ]'
  );
}

const ROUNDS = 200;
const SLOTS = 1000;
const EXPECTED_MATCHES = 50_000;

/**
 * CPU seconds this process used since `start` (user + system, all threads). The machines this
 * runs on are shared, and wall time there measures the neighbours as much as the engine; CPU
 * time is what "one core" means and still charges GC helper threads to us.
 */
function seconds(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function report(figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function benchMatch(): void {
  const job = ClassAd.parse(JOB_AD);
  const slots = Array.from({ length: SLOTS }, (_, i) => ClassAd.parse(slotAd(i)));
  for (let r = 0; r < 50; r++) for (const slot of slots) symmetricMatch(job, slot);
  let matched = 0;
  const start = process.cpuUsage();
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < SLOTS; i++) if (symmetricMatch(job, slots[i]!)) matched++;
  }
  const elapsed = seconds(start);
  if (matched !== EXPECTED_MATCHES) {
    throw new Error(`expected ${EXPECTED_MATCHES} matches, got ${matched}`);
  }
  report({
    bench: "classad.symmetric_match",
    ops_per_s: Math.round((ROUNDS * SLOTS) / elapsed),
    matched,
  });
}

/**
 * Parsing the job ad from its text, and (`us_per_ad_with_trees`) parsing it and then building
 * every attribute's tree, which an expression kept as checked text gets only on first use: the
 * cost of an ad whose every attribute is used. The same ad again and again is the case of a
 * cluster's jobs or a pool's slots, whose expressions recur; `us_per_distinct_ad` parses ads
 * whose Requirements are never the same twice.
 */
function benchParse(): void {
  const count = 100_000;
  let attributes = 0;
  for (let i = 0; i < 20_000; i++) attributes += ClassAd.parse(JOB_AD).size;
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) attributes += ClassAd.parse(JOB_AD).size;
  const elapsed = seconds(start);
  if (attributes !== 120_000 * 7) throw new Error("job ad parsed to the wrong size");
  let nodes = 0;
  const withTrees = (): void => {
    for (const [, expr] of ClassAd.parse(JOB_AD)) if (expr.kind !== "literal") nodes++;
  };
  for (let i = 0; i < 20_000; i++) withTrees();
  const treesStart = process.cpuUsage();
  for (let i = 0; i < count; i++) withTrees();
  const treesElapsed = seconds(treesStart);
  if (nodes !== 120_000 * 2) throw new Error("job ad has the wrong number of expressions");
  // Ads whose Requirements differ from one to the next: no expression text is seen twice.
  const distinct = Array.from({ length: count }, (_, i) =>
    JOB_AD.replace("TARGET.Memory >= RequestMemory", `TARGET.Memory >= ${1_000_000 + i}`),
  );
  const distinctStart = process.cpuUsage();
  for (let i = 0; i < count; i++) attributes += ClassAd.parse(distinct[i]!).size;
  const distinctElapsed = seconds(distinctStart);
  if (attributes !== 220_000 * 7) throw new Error("distinct job ads parsed to the wrong size");
  report({
    bench: "classad.parse_ad",
    ops_per_s: Math.round(count / elapsed),
    us_per_ad: Number(((elapsed / count) * 1e6).toFixed(2)),
    us_per_ad_with_trees: Number(((treesElapsed / count) * 1e6).toFixed(2)),
    us_per_distinct_ad: Number(((distinctElapsed / count) * 1e6).toFixed(2)),
  });
}

export async function run(): Promise<void> {
  benchMatch();
  benchParse();
}
