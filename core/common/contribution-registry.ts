// One registry per contribution point: what plugins declared in their manifests, and the implementations their activation registered.
import { ShadowError, toDisposable, type Disposable } from '../../sdk/index.js';

export interface Declared<C> {
  readonly key: string;
  readonly pluginId: string;
  readonly contribution: C;
}

export class ContributionRegistry<C, I = never> {
  private readonly declared = new Map<string, Declared<C>>();
  private readonly implementations = new Map<string, I>();

  constructor(readonly point: string) {}

  /** Records a manifest declaration; a key declared by another plugin is refused. */
  declare(pluginId: string, key: string, contribution: C): Disposable {
    const existing = this.declared.get(key);
    if (existing) {
      throw new ShadowError('PLUGIN_MANIFEST_INVALID', `Plugin '${pluginId}' contributes ${this.point} '${key}', which plugin '${existing.pluginId}' already contributes`);
    }
    this.declared.set(key, { key, pluginId, contribution });
    return toDisposable(() => {
      this.declared.delete(key);
      this.implementations.delete(key);
    });
  }

  /** Registers the implementation of a declared key; only the declaring plugin may implement it. */
  implement(pluginId: string, key: string, implementation: I): Disposable {
    const declared = this.declared.get(key);
    if (!declared) {
      throw new ShadowError('CONTRIBUTION_NOT_FOUND', `Plugin '${pluginId}' registers ${this.point} '${key}', which its manifest does not declare; add it to shadowdisk.contributes.${this.point}`);
    }
    if (declared.pluginId !== pluginId) {
      throw new ShadowError('CONTRIBUTION_NOT_FOUND', `Plugin '${pluginId}' registers ${this.point} '${key}', which belongs to plugin '${declared.pluginId}'`);
    }
    this.implementations.set(key, implementation);
    return toDisposable(() => {
      if (this.implementations.get(key) === implementation) this.implementations.delete(key);
    });
  }

  get(key: string): Declared<C> | undefined {
    return this.declared.get(key);
  }

  implementation(key: string): I | undefined {
    return this.implementations.get(key);
  }

  all(): Declared<C>[] {
    return [...this.declared.values()];
  }

  byPlugin(pluginId: string): Declared<C>[] {
    return this.all().filter((d) => d.pluginId === pluginId);
  }
}
