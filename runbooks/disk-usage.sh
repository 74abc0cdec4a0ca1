# Example runbook for the bash/sh configurations:
#   Invoke-Command -ComputerName web1,web2 -FilePath disk-usage.sh -ArgumentList /var
# ArgumentList values arrive as "$1", "$2", ... (data, never spliced into this text).
target="${1:-/}"
df -h "$target"
du -sh "$target" 2>/dev/null || true
