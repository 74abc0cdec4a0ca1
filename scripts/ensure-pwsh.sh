#!/usr/bin/env bash
# Makes sure PowerShell 7.6 (pwsh) is installed, for the tests and agents that run real PowerShell.
# pwsh installs as a .NET global tool into ~/.dotnet/tools; the version is named because the
# default (7.7.0) does not install on the project's machines. Prints the path of pwsh.
set -euo pipefail
VERSION=7.6.10
TOOLS="${HOME}/.dotnet/tools"
if command -v pwsh >/dev/null 2>&1; then command -v pwsh; exit 0; fi
if [ -x "${TOOLS}/pwsh" ]; then echo "${TOOLS}/pwsh"; exit 0; fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "ensure-pwsh: neither pwsh nor the .NET SDK (dotnet) is installed: install the .NET SDK, then run this again, or install PowerShell 7.6 from https://aka.ms/powershell" >&2
  exit 1
fi
dotnet tool install --global PowerShell --version "${VERSION}" >&2
echo "${TOOLS}/pwsh"
