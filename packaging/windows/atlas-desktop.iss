; Inno Setup 6 script: installs dist\atlas-desktop (built on Windows by packaging\build.sh) as
; "Atlas Desktop". Compile from the project root:  iscc packaging\windows\atlas-desktop.iss
; The version comes from the exe's version resource, which the PyInstaller spec fills from the package.

#define SourceDir AddBackslash(SourcePath) + "..\..\dist\atlas-desktop"
#define AppExe "atlas-desktop-gui.exe"
#define AppVersion GetStringFileInfo(SourceDir + "\atlas-desktop.exe", "ProductVersion")
#if AppVersion == ""
  #error "dist\atlas-desktop\atlas-desktop.exe has no version: build the bundle first (packaging\build.sh)"
#endif

[Setup]
; Never change AppId: it is how an upgrade finds the installed version.
AppId={{6F0C4B1E-3A52-4C1D-9B7E-2D8A51C0A7F3}
AppName=Atlas Desktop
AppVersion={#AppVersion}
AppVerName=Atlas Desktop {#AppVersion}
AppPublisher=Atlas
AppPublisherURL=https://atlas.pharma
DefaultDirName={autopf}\Atlas Desktop
DefaultGroupName=Atlas Desktop
DisableProgramGroupPage=yes
; Per machine by default; a user without admin rights can choose "only for me".
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#SourcePath}\..\..\dist
OutputBaseFilename=atlas-desktop-{#AppVersion}-setup
SetupIconFile={#SourcePath}\..\..\build\icons\atlas-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Upgrades: close a running Atlas Desktop first, start it again afterwards.
CloseApplications=yes
RestartApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"
Name: "startatlogin"; Description: "Start Atlas Desktop when I log in"; GroupDescription: "Start-up:"

[Files]
; Replace the whole folder on upgrade, so no file of an older version lingers.
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#SourcePath}\run-agent.ps1"; DestDir: "{app}\windows"; Flags: ignoreversion
Source: "{#SourcePath}\README.md"; DestDir: "{app}\windows"; DestName: "AGENT-SERVICE.md"; Flags: ignoreversion

[InstallDelete]
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\Atlas Desktop"; Filename: "{app}\{#AppExe}"
Name: "{autoprograms}\Atlas Desktop (sandbox demo)"; Filename: "{app}\{#AppExe}"; Parameters: "--demo"
Name: "{autodesktop}\Atlas Desktop"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; The same value the app's own "Start at login" setting writes (atlas_desktop/app/autostart.py).
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; \
  ValueName: "Atlas Desktop"; ValueData: """{app}\{#AppExe}"""; Tasks: startatlogin; Flags: uninsdeletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,Atlas Desktop}"; \
  Flags: nowait postinstall skipifsilent

[UninstallDelete]
; The program folder only. The user's profile (%LOCALAPPDATA%\Atlas\atlas-desktop: database, logs,
; encrypted credentials) is kept, so a reinstall finds everything; INSTALL.md says how to remove it.
Type: filesandordirs; Name: "{app}\_internal"
