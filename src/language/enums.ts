import type { EnumDefinition } from './definition.js';

/** Enumerations from reference section 4.1 (name = numeric value). */

export const JobState: EnumDefinition = {
  name: 'JobState',
  dotnet: 'System.Management.Automation.JobState',
  members: [
    ['NotStarted', 0],
    ['Running', 1],
    ['Completed', 2],
    ['Failed', 3],
    ['Stopped', 4],
    ['Blocked', 5],
    ['Suspended', 6],
    ['Disconnected', 7],
    ['Suspending', 8],
    ['Stopping', 9],
    ['AtBreakpoint', 10],
  ],
};

export const SessionFilterState: EnumDefinition = {
  name: 'SessionFilterState',
  dotnet: 'Microsoft.PowerShell.Commands.SessionFilterState',
  members: [
    ['All', 0],
    ['Opened', 1],
    ['Disconnected', 2],
    ['Closed', 3],
    ['Broken', 4],
  ],
};

export const OutputBufferingMode: EnumDefinition = {
  name: 'OutputBufferingMode',
  dotnet: 'System.Management.Automation.Runspaces.OutputBufferingMode',
  members: [
    ['None', 0],
    ['Drop', 1],
    ['Block', 2],
  ],
};

export const AuthenticationMechanism: EnumDefinition = {
  name: 'AuthenticationMechanism',
  dotnet: 'System.Management.Automation.Runspaces.AuthenticationMechanism',
  members: [
    ['Default', 0],
    ['Basic', 1],
    ['Negotiate', 2],
    ['NegotiateWithImplicitCredential', 3],
    ['Credssp', 4],
    ['Digest', 5],
    ['Kerberos', 6],
  ],
};

export const ProxyAccessType: EnumDefinition = {
  name: 'ProxyAccessType',
  dotnet: 'System.Management.Automation.Remoting.ProxyAccessType',
  members: [
    ['None', 0],
    ['IEConfig', 1],
    ['WinHttpConfig', 2],
    ['AutoDetect', 4],
    ['NoProxyServer', 8],
  ],
};

export const OutTarget: EnumDefinition = {
  name: 'OutTarget',
  dotnet: 'Microsoft.PowerShell.Commands.OutTarget',
  members: [
    ['Default', 0],
    ['Host', 1],
    ['Job', 2],
  ],
};

export const ActionPreference: EnumDefinition = {
  name: 'ActionPreference',
  dotnet: 'System.Management.Automation.ActionPreference',
  members: [
    ['SilentlyContinue', 0],
    ['Stop', 1],
    ['Continue', 2],
    ['Inquire', 3],
    ['Ignore', 4],
    ['Suspend', 5],
    ['Break', 6],
  ],
};
