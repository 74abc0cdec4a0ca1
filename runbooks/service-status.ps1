# Example runbook for the Microsoft.PowerShell configuration:
#   Invoke-Command -ComputerName web1 -FilePath service-status.ps1 -ArgumentList nginx
# ArgumentList values bind to param(); each output object becomes a table row.
param([string]$Name = '*')
Get-Process -Name $Name -ErrorAction SilentlyContinue |
  Select-Object Name, Id, CPU, WorkingSet
