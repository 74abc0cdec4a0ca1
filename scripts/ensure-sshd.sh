#!/usr/bin/env bash
# Makes sure OpenSSH's server (sshd, Debian's openssh-server) is installed, for the side-by-side
# test that compares our remoting with PowerShell's own remoting over SSH on loopback. Only the
# package is installed: no system sshd is started or configured (the test starts its own, on
# 127.0.0.1 and a free port, with its own keys and config, and stops it by PID). Prints sshd's path.
set -euo pipefail
SSHD=/usr/sbin/sshd
if [ -x "${SSHD}" ]; then echo "${SSHD}"; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-sshd: ${SSHD} is missing and installing it needs root: run  sudo apt-get install -y openssh-server  then run this again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Keep the package's postinst from starting a system sshd on port 22 (policy-rc.d's exit 101 means
# "not allowed"); ours is started by the test alone.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# A fresh machine may have no package lists yet.
apt-get install -y --no-install-recommends openssh-server >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends openssh-server >&2; }
echo "${SSHD}"
