#!/usr/bin/env bash
# Makes sure pdsh (Debian's package) is installed, for the peer rows of `npm run bench`: pdsh's
# `-R exec` module and pdsh over ssh with a warm ControlMaster to a private loopback sshd (that
# sshd comes from scripts/ensure-sshd.sh; the bench starts and stops its own). The bench installs
# nothing by itself: without pdsh its rows say "not installed". Prints pdsh's path.
set -euo pipefail
if command -v pdsh >/dev/null 2>&1; then command -v pdsh; exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-pdsh: pdsh is missing and installing it needs root: run  sudo apt-get install -y pdsh  then run this again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
apt-get install -y --no-install-recommends pdsh >&2 || { apt-get update >&2 && apt-get install -y --no-install-recommends pdsh >&2; }
command -v pdsh
