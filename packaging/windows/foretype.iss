; Inno Setup script for Foretype (Windows installer). Built in CI (.github/workflows/installers.yml):
;   packaging/build.sh            -> dist\foretype\ (PyInstaller one-folder bundle)
;   iscc packaging\windows\foretype.iss   -> dist\foretype-VERSION-setup.exe
; Installs per user or for all users (the user picks), adds a Start-menu entry and an uninstaller.
; The app writes nothing in {app}: settings, drafts and personal models live in %LOCALAPPDATA%\Foretype,
; which the uninstaller leaves alone, like the user's documents.

#define AppVersion GetEnv("FORETYPE_VERSION")
#if AppVersion == ""
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6F1C2B5E-3A7D-4E8B-9C21-5D4F0A7B8E13}
AppName=Foretype
AppVersion={#AppVersion}
AppPublisher=Foretype developers
DefaultDirName={autopf}\Foretype
DefaultGroupName=Foretype
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=foretype-{#AppVersion}-setup
; torch's DLLs dominate the size; solid LZMA2 shrinks them most
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\foretype-app.exe
UninstallDisplayName=Foretype

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "..\..\dist\foretype\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Foretype"; Filename: "{app}\foretype-app.exe"
Name: "{autodesktop}\Foretype"; Filename: "{app}\foretype-app.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\foretype-app.exe"; Description: "{cm:LaunchProgram,Foretype}"; Flags: nowait postinstall skipifsilent
