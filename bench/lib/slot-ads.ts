/**
 * Realistic glidein slot ads for benchmarks: about 60 attributes, as a pilot's startd would
 * advertise them. Most values repeat across slots of one site (as in a real pool); a handful are
 * unique per slot (Name, Machine, addresses, ids).
 */
const SITES = 100;
const OS = [
  ["AlmaLinux9", "RedHat", "9"],
  ["AlmaLinux8", "RedHat", "8"],
  ["CentOS7", "RedHat", "7"],
] as const;

export function siteName(i: number): string {
  return `Site_${i % SITES}`;
}

/** Slot ad `i` in wire form (attribute -> new-syntax expression text); `round` varies state. */
export function slotAd(i: number, round = 0): Record<string, string> {
  const site = siteName(i);
  const entry = `${site}_CE${i % 3}`;
  const host = `wn${i}.${site.toLowerCase()}.example.org`;
  const glidein = `glidein_${i}_${1000 + (i % 997)}`;
  const [opSysAndVer, opSysName, opSysMajor] = OS[i % OS.length]!;
  const cpus = [1, 4, 8, 16][i % 4]!;
  const memory = cpus * 2048;
  const claimed = (i + round) % 2 === 0;
  const started = 1_763_900_000 + (i % 3600);
  return {
    MyType: '"Slot"',
    TargetType: '"Job"',
    Name: `"slot1@${glidein}@${host}"`,
    Machine: `"${host}"`,
    MyAddress: `"<10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:9618?sock=${glidein}>"`,
    Arch: '"X86_64"',
    OpSys: '"LINUX"',
    OpSysAndVer: `"${opSysAndVer}"`,
    OpSysName: `"${opSysName}"`,
    OpSysMajorVer: opSysMajor,
    OpSysLegacy: '"LINUX"',
    CondorVersion: '"$CondorVersion: 23.0.8 2024-04-29 BuildID: 728331 $"',
    CondorPlatform: '"$CondorPlatform: x86_64_AlmaLinux9 $"',
    Cpus: String(cpus),
    TotalCpus: String(cpus),
    Memory: String(memory),
    TotalMemory: String(memory),
    Disk: String(cpus * 20_000_000),
    TotalDisk: String(cpus * 20_000_000),
    GPUs: "0",
    TotalGPUs: "0",
    DetectedCpus: String(cpus),
    DetectedMemory: String(memory),
    SlotType: '"Partitionable"',
    SlotID: "1",
    PartitionableSlot: "true",
    State: claimed ? '"Claimed"' : '"Unclaimed"',
    Activity: claimed ? '"Busy"' : '"Idle"',
    EnteredCurrentActivity: String(started + round * 300),
    EnteredCurrentState: String(started + round * 300),
    LoadAvg: claimed ? "0.98" : "0.0",
    KFlops: "2145677",
    Mips: "31456",
    Start:
      "(TARGET.RequestCpus <= MY.Cpus) && (TARGET.RequestMemory <= MY.Memory) && stringListIMember(TARGET.DESIRED_Sites, MY.GLIDEIN_Site)",
    Requirements: "START && (MY.GLIDEIN_ToRetire =?= undefined || time() < MY.GLIDEIN_ToRetire)",
    Rank: "0",
    IsOwner: "false",
    IsWakeAble: "false",
    HasFileTransfer: "true",
    HasSingularity: "true",
    SINGULARITY_VERSION: '"apptainer version 1.3.1"',
    HAS_CVMFS_cms_cern_ch: "true",
    HAS_CVMFS_oasis_opensciencegrid_org: "true",
    GLIDEIN_Site: `"${site}"`,
    GLIDEIN_ResourceName: `"${site}"`,
    GLIDEIN_Entry_Name: `"${entry}"`,
    GLIDEIN_Factory: '"OSG"',
    GLIDEIN_Name: '"gfactory_instance"',
    GLIDEIN_Gatekeeper: `"ce${i % 3}.${site.toLowerCase()}.example.org ce${i % 3}.${site.toLowerCase()}.example.org:9619"`,
    GLIDEIN_GridType: '"condor"',
    GLIDEIN_ClusterId: String(1000 + (i % 997)),
    GLIDEIN_ProcId: "0",
    GLIDEIN_Job_Max_Time: "34800",
    GLIDEIN_ToRetire: String(started + 86_400),
    GLIDEIN_ToDie: String(started + 172_800),
    GLIDEIN_MASTER_NAME: `"${glidein}@${host}"`,
    GLIDEIN_Supported_VOs: '"CMS,OSG,Fermilab"',
    GLIDECLIENT_Name: '"frontend_cms.main"',
    GLIDECLIENT_Group: '"main"',
    UIDDomain: '"example.org"',
    FileSystemDomain: '"example.org"',
    DaemonStartTime: String(started),
    MonitorSelfAge: String(round * 300),
    StartdIpAddr: `"<10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:9618>"`,
  };
}
