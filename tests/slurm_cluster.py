"""A real single-node Slurm for the tests: Debian's munged, slurmctld and
slurmd, run as root with everything (config, state, spool, logs, the munge
socket) in a temporary directory; clients find it through SLURM_CONF.

Slurm needs root here: slurmd runs jobs as their submitting user and munged
checks the key's ownership. The key is /etc/munge/munge.key (Debian's munge
package makes one; created when missing)."""

import os
import pathlib
import shutil
import socket
import subprocess
import time

from services import free_ports

MUNGE_KEY = pathlib.Path("/etc/munge/munge.key")


class SlurmUnavailable(Exception):
    """Slurm cannot run on this machine; the message says why."""


class SlurmCluster:
    def __init__(self, directory):
        self.dir = pathlib.Path(directory)
        self.procs = []
        self.host = socket.gethostname().split(".")[0]

    def env(self):
        return {"SLURM_CONF": str(self.dir / "slurm.conf")}

    def _check(self):
        missing = [b for b in ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")
                   if shutil.which(b) is None and not os.path.exists(f"/usr/sbin/{b}")]
        if missing:
            raise SlurmUnavailable(f"{', '.join(missing)} not installed: scripts/install-deps "
                                   "installs Debian's slurm-wlm and munge")
        if os.geteuid() != 0:
            raise SlurmUnavailable("not root: slurmd must run as root to start jobs and munged "
                                   "to read /etc/munge/munge.key")

    def start(self):
        self._check()
        d = self.dir
        for sub in ("munge", "state", "spool"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(d / "munge", 0o755)
        if not MUNGE_KEY.exists():
            MUNGE_KEY.parent.mkdir(mode=0o700, exist_ok=True)
            MUNGE_KEY.write_bytes(os.urandom(1024))
            os.chmod(MUNGE_KEY, 0o400)
        socket_path = d / "munge" / "munge.sock"
        self._spawn("munged", ["munged", "-F", "-f", f"--socket={socket_path}",
                               f"--key-file={MUNGE_KEY}", f"--log-file={d / 'munged.log'}",
                               f"--pid-file={d / 'munged.pid'}", f"--seed-file={d / 'munged.seed'}"])
        self._wait(lambda: socket_path.exists(), 10, "munged did not create its socket",
                   d / "munged.out")
        ctld_port, d_port = free_ports(2)
        (d / "slurm.conf").write_text("\n".join([
            "ClusterName=verditest",
            f"SlurmctldHost={self.host}(127.0.0.1)",
            f"SlurmctldPort={ctld_port}",
            f"SlurmdPort={d_port}",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            f"AuthInfo=socket={socket_path}",
            "CredType=cred/munge",
            f"StateSaveLocation={d / 'state'}",
            f"SlurmdSpoolDir={d / 'spool'}",
            f"SlurmctldPidFile={d / 'slurmctld.pid'}",
            f"SlurmdPidFile={d / 'slurmd.pid'}",
            f"SlurmctldLogFile={d / 'slurmctld.log'}",
            f"SlurmdLogFile={d / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/backfill",
            "SchedulerParameters=sched_interval=1",
            "MpiDefault=none",
            "ReturnToService=2",
            "JobCompType=jobcomp/none",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            f"NodeName={self.host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory=1000 "
            "State=UNKNOWN",
            f"PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP",
            ""]))
        env = dict(os.environ, **self.env())
        self._spawn("slurmctld", ["slurmctld", "-D", "-i"], env)
        self._spawn("slurmd", ["slurmd", "-D", "-N", self.host], env)

        def idle():
            out = subprocess.run(["sinfo", "--noheader", "--format=%t"], env=env,
                                 capture_output=True, text=True)
            return out.returncode == 0 and out.stdout.strip() == "idle"
        self._wait(idle, 30, "the node never became idle", d / "slurmctld.log", d / "slurmd.log")
        return self

    def _spawn(self, name, argv, env=None):
        out = open(self.dir / f"{name}.out", "w")
        self.procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env))

    def _wait(self, predicate, timeout, what, *logs):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            for p in self.procs:
                if p.poll() is not None:
                    break
            time.sleep(0.2)
        tails = "\n".join(f"--- {log}:\n" + pathlib.Path(log).read_text(errors="replace")[-2000:]
                          for log in (*logs, *self.dir.glob("*.out")) if os.path.exists(log))
        self.stop()
        raise SlurmUnavailable(f"{what} within {timeout} s\n{tails}")

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
