// How a container runs here: in its pod's network namespace (`ip netns exec`, which also
// bind-mounts /etc/netns/<ns>/hosts over /etc/hosts), in a mount namespace of its own whose
// root is a read-only tmpfs holding the host's /usr and /etc read-only (the "image"), /dev,
// /proc, /sys and the pod's volumes; as the numeric user and group of its security context,
// with no capabilities and no_new_privs. Every step execs the next, so the container's process
// keeps the pid that was spawned and gets the signals sent to it.

/** One volume mount: a host directory at a path inside the container. */
export interface SandboxMount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface SandboxOptions {
  /** An empty directory the container's root is mounted on (inside its mount namespace only). */
  readonly rootDir: string;
  readonly mounts: readonly SandboxMount[];
  readonly workingDir: string;
  readonly uid: number;
  readonly gid: number;
  /** The container's command and args, run as they are. */
  readonly command: readonly string[];
}

const SANDBOX_SCRIPT = `set -eu
root=$1 cwd=$2 uid=$3 gid=$4
shift 4
mount -t tmpfs -o mode=0755 container-root "$root"
for dir in usr etc dev proc sys; do
  mkdir "$root/$dir"
  mount --rbind "/$dir" "$root/$dir"
done
mount -o remount,bind,ro "$root/usr"
mount -o remount,bind,ro "$root/etc"
for dir in bin sbin lib lib64; do
  if [ -L "/$dir" ]; then ln -s "$(readlink "/$dir")" "$root/$dir"
  elif [ -d "/$dir" ]; then mkdir "$root/$dir"; mount --rbind "/$dir" "$root/$dir"; mount -o remount,bind,ro "$root/$dir"
  fi
done
while [ "$1" != -- ]; do
  mkdir -p "$root$2"
  mount --bind "$1" "$root$2"
  if [ "$3" = ro ]; then mount -o remount,bind,ro "$root$2"; fi
  shift 3
done
shift
mount -o remount,ro "$root"
exec unshare --root="$root" --wd="$cwd" setpriv --reuid="$uid" --regid="$gid" --clear-groups \\
  --no-new-privs --inh-caps=-all --bounding-set=-all -- "$@"`;

/** The program and arguments that run a container in its sandbox (started inside the pod's netns). */
export function sandboxCommand(options: SandboxOptions): { command: string; args: string[] } {
  return {
    command: 'unshare',
    args: [
      ...['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', SANDBOX_SCRIPT, 'sandbox'],
      options.rootDir,
      options.workingDir,
      String(options.uid),
      String(options.gid),
      ...options.mounts.flatMap((mount) => [
        mount.source,
        mount.target,
        mount.readOnly ? 'ro' : 'rw',
      ]),
      '--',
      ...options.command,
    ],
  };
}
