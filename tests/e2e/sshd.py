"""A private sshd for tests and benchmarks (tests/e2e/test_remote.py,
bench/console.py --ssh): Debian's openssh-server on 127.0.0.1 and a free port,
as the current user, with a throwaway host key, sshd_config and
authorized_keys in a temp dir; and the client side: a key, a known_hosts
holding the host key, a config, and an `ssh` wrapper to put first on PATH
that adds `-F config` (OpenSSH takes ~ from the password database, not from
$HOME, so a test cannot point it at another ~/.ssh). Host key checking stays
on (StrictHostKeyChecking yes)."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

SSHD = "/usr/sbin/sshd"


def short_tmp(prefix):
    """Unix socket paths must stay under 108 bytes: short dirs in /tmp."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mldeck-test",
                    "-f", path], check=True, capture_output=True)
    with open(path + ".pub") as f:
        return f.read().split()[:2]


class Sshd:
    """A private sshd on 127.0.0.1 as the current user, and a client set-up
    (key, known_hosts, config, an `ssh` wrapper dir to put first on PATH)."""

    def __init__(self, extra_config=""):
        self.extra_config = extra_config  # more sshd_config lines
        self.dir = short_tmp("sshd")
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.host_key = keygen(os.path.join(self.dir, "host_key"))
        client_pub = keygen(os.path.join(self.dir, "client_key"))
        with open(os.path.join(self.dir, "authorized_keys"), "w") as f:
            f.write(" ".join(client_pub) + "\n")
        os.chmod(os.path.join(self.dir, "authorized_keys"), 0o600)
        self.proc = None
        self.port = None
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)

    def start(self):
        if os.getuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation dir
        for _ in range(5):  # the free port may be taken between probe and bind
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
            if self._try_start():
                break
        else:
            raise AssertionError("sshd did not start:\n" + self.logtext())
        self.write_client(os.path.join(self.dir, "known_hosts"), self.host_key)
        return self

    def _try_start(self):
        cfg = os.path.join(self.dir, "sshd_config")
        with open(cfg, "w") as f:
            f.write("ListenAddress 127.0.0.1\nPort %d\nHostKey %s/host_key\n"
                    "AuthorizedKeysFile %s/authorized_keys\nStrictModes no\nUsePAM no\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                    "AllowStreamLocalForwarding yes\nPidFile none\nLogLevel VERBOSE\n%s"
                    % (self.port, self.dir, self.dir, self.extra_config))
        self.log_path = os.path.join(self.dir, "sshd.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", cfg], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "Server listening on" in self.logtext():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def logtext(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def write_client(self, known_hosts, host_key):
        """known_hosts with host_key for our port, a config, the ssh wrapper."""
        with open(known_hosts, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (self.port, host_key[0], host_key[1]))
        cfg = known_hosts + ".config"
        with open(cfg, "w") as f:
            f.write("Host 127.0.0.1\n  IdentityFile %s/client_key\n  IdentitiesOnly yes\n"
                    "  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n"
                    "  GlobalKnownHostsFile /dev/null\n" % (self.dir, known_hosts))
        wrapper_dir = os.path.join(self.dir, "bin-" + os.path.basename(known_hosts))
        os.makedirs(wrapper_dir, exist_ok=True)
        wrapper = os.path.join(wrapper_dir, "ssh")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec %s -F %s "$@"\n' % (shutil.which("ssh"), cfg))
        os.chmod(wrapper, 0o755)
        return wrapper_dir

    def client_option(self, line):
        """One more option for the default client ("KexAlgorithms curve25519-sha256")."""
        with open(os.path.join(self.dir, "known_hosts.config"), "a") as f:
            f.write("  %s\n" % line)

    def url(self):
        return "ssh://%s@127.0.0.1:%d" % (self.user, self.port)

    def wrapper_dir(self):
        """The `ssh` wrapper for the right known_hosts (put it first on PATH)."""
        return os.path.join(self.dir, "bin-known_hosts")

    def bytes_on_the_wire(self):
        """Bytes sent + received over every client connection to this sshd now
        (the kernel's TCP counters, from `ss`): what an ssh:// profile costs."""
        out = subprocess.run(["ss", "-tinH", "dport = :%d" % self.port], capture_output=True,
                             text=True).stdout
        total = 0
        for word in out.split():
            if word.startswith(("bytes_acked:", "bytes_received:")):
                total += int(word.split(":")[1])
        return total

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        shutil.rmtree(self.dir, ignore_errors=True)
