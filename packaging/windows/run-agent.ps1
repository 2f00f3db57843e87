<#
.SYNOPSIS
  Starts the Atlas Desktop agent with its profile folder and passphrase (for a service or a scheduled task).
.DESCRIPTION
  Reads the passphrase from a file that only the agent's account and Administrators can read, puts it in
  ATLAS_DESKTOP_PASSPHRASE for this process only, and runs `atlas-desktop.exe agent` in the foreground.
  Its exit code is the agent's, so the service manager can restart it on failure.
.EXAMPLE
  powershell -NoProfile -ExecutionPolicy Bypass -File "C:\Program Files\Atlas Desktop\windows\run-agent.ps1"
#>
param(
  [string]$DataDir = "C:\ProgramData\AtlasDesktop\agent",
  [string]$PassphraseFile = "C:\ProgramData\AtlasDesktop\agent.passphrase",
  [string]$Exe = (Join-Path (Split-Path -Parent $PSScriptRoot) "atlas-desktop.exe")
)
$ErrorActionPreference = "Stop"
if (-not (Test-Path -LiteralPath $PassphraseFile)) {
  Write-Error "The passphrase file $PassphraseFile is missing; see AGENT-SERVICE.md."
  exit 2
}
$passphrase = (Get-Content -LiteralPath $PassphraseFile -Raw).Trim()
if ($passphrase.Length -lt 8) {
  Write-Error "The passphrase in $PassphraseFile is shorter than 8 characters."
  exit 2
}
$env:ATLAS_DESKTOP_PASSPHRASE = $passphrase
$env:ATLAS_DESKTOP_HOME = $DataDir
# A service session has no usable Credential Manager vault of its own: the key comes from the passphrase.
$env:PYTHON_KEYRING_BACKEND = "keyring.backends.null.Keyring"
Remove-Variable passphrase
& $Exe agent
exit $LASTEXITCODE
