// What the web server needs from the backend: the same command registry the CLI runs, and the declarative contributions.
import type { CommandArgs, CommandInfo, CommandResult, KeybindingContribution, RunContext, ViewContribution } from '../../../sdk/index.js';

export interface ViewInfo extends ViewContribution {
  pluginId: string;
}

export interface KeybindingInfo extends KeybindingContribution {
  pluginId: string;
}

export interface SettingInfo {
  key: string;
  pluginId: string;
  section: string;
  schema: { type: string; default?: unknown; description?: string; [k: string]: unknown };
  value: unknown;
}

export interface BackendApi {
  listCommands(): CommandInfo[];
  executeCommand(id: string, args: Partial<CommandArgs>, run: Partial<RunContext>): Promise<CommandResult>;
  views(): ViewInfo[];
  keybindings(): KeybindingInfo[];
  settings(): SettingInfo[];
}
