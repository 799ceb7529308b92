/**
 * The POSIX shell wrapper every ARC pilot runs in its session directory as
 * `/bin/sh <wrapper> <command> <args...>`. It exists because the pilot command is not on the CE
 * (it arrives as an uploaded input without its execute bit), and because an LRMS kill reaches
 * only the job script: the wrapper starts the command in its own session (process group) and
 * ends that whole group when it is signalled or when the adapter drops STOP_FILE into the
 * session directory, which is how `remove` reaches a running pilot's children on any back end.
 */

export const WRAPPER_NAME = "updraft-arc-wrapper.sh";
export const STOP_FILE = "updraft-stop";

export const WRAPPER_SCRIPT = `#!/bin/sh
# Updraft ARC pilot wrapper: run "$@" in its own process group; stop it on a signal or on ./${STOP_FILE}.
cmd="./$1"
shift
chmod u+x "$cmd" 2>/dev/null
if command -v setsid >/dev/null 2>&1; then
  setsid "$cmd" "$@" &
else
  "$cmd" "$@" &
fi
pid=$!
stop() {
  kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  sleep 2
  kill -KILL -"$pid" 2>/dev/null
}
trap 'stop; exit 143' TERM INT HUP
(
  while kill -0 "$pid" 2>/dev/null; do
    if [ -e ${STOP_FILE} ]; then stop; exit 0; fi
    sleep 1
  done
) </dev/null >/dev/null 2>&1 &
watcher=$!
wait "$pid"
rc=$?
kill "$watcher" 2>/dev/null
exit "$rc"
`;
