// What the host knows of one plugin: manifest, folder, state, and the disposables of its activation.
import type { PluginInfo, PluginManifest, PluginModule, PluginState } from '../../sdk/index.js';
import { DisposableStore, pluginIdOf } from '../../sdk/index.js';
import type { ScannedPlugin } from './plugin-scanner.js';
import type { IsolatedPlugin } from './isolation/isolated-plugin.js';

export class PluginRecord {
  readonly id: string;
  readonly manifest: PluginManifest | undefined;
  state: PluginState;
  error: { code: string; message: string } | undefined;
  activation: Promise<void> | undefined;
  module: PluginModule | undefined;
  subscriptions = new DisposableStore();
  /** Contribution keys per point, filled when the manifest is declared to the registries. */
  readonly contributions: Record<string, string[]> = {};
  /** Installed from a package file (listed in the state directory's installed-plugins.json). */
  installed = false;
  /** The process an installed plugin runs in while it is active. */
  isolated: IsolatedPlugin | undefined;

  constructor(readonly scanned: ScannedPlugin) {
    if (scanned.ok) {
      this.manifest = scanned.manifest;
      this.id = pluginIdOf(scanned.manifest);
      this.state = 'inactive';
    } else {
      this.id = scanned.name;
      this.state = 'refused';
      this.error = { code: scanned.error.code, message: scanned.error.message };
    }
  }

  /** A fresh store after deactivation, so a later activation's registrations are not disposed at once. */
  resetSubscriptions(): void {
    this.subscriptions = new DisposableStore();
  }

  get dir(): string {
    return this.scanned.dir;
  }

  info(): PluginInfo {
    return {
      id: this.id,
      name: this.manifest?.name ?? this.id,
      version: this.manifest?.version ?? '',
      path: this.dir,
      state: this.state,
      ...(this.error ? { error: { ...this.error } } : {}),
      contributions: structuredClone(this.contributions),
    };
  }
}
