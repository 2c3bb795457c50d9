"""A throwaway podman for tests: storage, run root and config under a temp dir,
so tests never touch the machine's own podman state, plus a tiny busybox image.

    env = PodmanEnv(tmp_dir)            # raises Unavailable when podman cannot run
    env.env                              # CONTAINERS_CONF, CONTAINERS_STORAGE_CONF
    env.podman("ps", "-a")               # podman with that env
    env.image                            # "localhost/verdi-test-busybox:1"

verdi itself needs nothing else: podman reads CONTAINERS_CONF and
CONTAINERS_STORAGE_CONF from verdi's environment. The containers.conf is one
that runs in a sandbox without a Docker engine: runc, cgroupfs, and ulimits
no higher than the current hard limits.
"""

import os
import pathlib
import resource
import shutil
import subprocess
import tarfile

IMAGE = "localhost/verdi-test-busybox:1"
BUSYBOX_APPLETS = ["sh", "id", "pwd", "cat", "sleep", "env", "echo", "ls", "touch", "true",
                   "false", "test", "printf", "trap"]


class Unavailable(Exception):
    """podman (or busybox-static) is missing, or podman cannot run here."""


def _limit(res, wanted):
    soft, hard = resource.getrlimit(res)
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


class PodmanEnv:
    def __init__(self, base):
        base = pathlib.Path(base)
        base.mkdir(parents=True, exist_ok=True)
        self.base = base
        self.podman_bin = shutil.which("podman")
        if not self.podman_bin:
            raise Unavailable("podman is not installed (apt-get install podman runc catatonit)")
        busybox = shutil.which("busybox") or "/bin/busybox"
        if not os.path.exists(busybox):
            raise Unavailable("busybox is not installed (apt-get install busybox-static)")
        nofile = _limit(resource.RLIMIT_NOFILE, 1024)
        nproc = _limit(resource.RLIMIT_NPROC, 4096)
        conf = base / "containers.conf"
        conf.write_text(
            "[containers]\n"
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
            "[engine]\n"
            'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{base / "events.log"}"\n')
        storage = base / "storage.conf"
        storage.write_text(
            "[storage]\n"
            'driver = "vfs"\n'
            f'graphroot = "{base / "storage"}"\n'
            f'runroot = "{base / "run"}"\n')
        self.env = {"CONTAINERS_CONF": str(conf), "CONTAINERS_STORAGE_CONF": str(storage)}
        info = self.podman("info", check=False)
        if info.returncode != 0:
            raise Unavailable(f"podman info fails here: {info.stderr.strip()}")
        self.image = IMAGE
        self._import_busybox(busybox)
        probe = self.podman("run", "--init", "--rm", self.image, "true", check=False)
        if probe.returncode != 0:
            raise Unavailable(f"podman cannot run a container here: {probe.stderr.strip()}")

    def full_env(self, extra=None):
        env = dict(os.environ)
        env.update(self.env)
        env.update(extra or {})
        return env

    def podman(self, *args, check=True, timeout=300):
        proc = subprocess.run([self.podman_bin, *args], capture_output=True, text=True,
                              env=self.full_env(), timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {proc.stderr}")
        return proc

    def _import_busybox(self, busybox):
        rootfs = self.base / "rootfs"
        (rootfs / "bin").mkdir(parents=True, exist_ok=True)
        (rootfs / "tmp").mkdir(exist_ok=True)
        shutil.copy(busybox, rootfs / "bin" / "busybox")
        for applet in BUSYBOX_APPLETS:
            link = rootfs / "bin" / applet
            if not link.exists():
                link.symlink_to("busybox")
        tar_path = self.base / "rootfs.tar"
        with tarfile.open(tar_path, "w") as tar:
            tar.add(rootfs, arcname=".")
        self.podman("import", str(tar_path), self.image)

    def image_tarball(self, name, path):
        """`name` (a new tag of the test image) saved to `path`, then untagged,
        so the engine does not have it until the tarball is loaded."""
        self.podman("tag", self.image, name)
        self.podman("save", "-o", str(path), name)
        self.podman("rmi", name)
        return path

    def started_images(self):
        """The image of every container started since this store was made
        (podman's event log), in order."""
        out = self.podman("events", "--stream=false", "--filter", "event=start",
                          "--format", "{{.Image}}").stdout
        return [line for line in out.splitlines() if line.strip()]

    def trust_registry(self, location):
        """Lets podman use the plain-http registry at `location` (host:port)."""
        conf = self.base / "registries.conf"
        conf.write_text(f'[[registry]]\nlocation = "{location}"\ninsecure = true\n')
        self.env["CONTAINERS_REGISTRIES_CONF"] = str(conf)

    def remove_all_containers(self):
        """At the end of a test module: nothing keeps running, pass or fail."""
        self.podman("rm", "--all", "--force", "--time", "0", check=False)

    def containers(self, label):
        """Names of the containers (running or not) with that label."""
        out = self.podman("ps", "-a", "--filter", f"label={label}", "--format", "{{.Names}}").stdout
        return [line for line in out.splitlines() if line.strip()]


if __name__ == "__main__":
    # `podman_env.py DIR`: sets up DIR, prints {"env": {...}, "image": ...} as
    # JSON; exit code 3 (reason on stderr) when podman cannot run here.
    import json
    import sys
    try:
        e = PodmanEnv(sys.argv[1])
    except Unavailable as err:
        print(err, file=sys.stderr)
        sys.exit(3)
    print(json.dumps({"env": e.env, "image": e.image}))
