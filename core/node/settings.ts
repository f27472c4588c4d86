// User settings: settings.json in the state directory over the defaults that plugins' configuration contributions declare.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject, injectable } from 'inversify';
import { ShadowError } from '../../sdk/index.js';
import { ContributionPoint, type ContributionPointTypes } from '../common/index.js';
import { HostOptionsToken, type HostOptions } from './tokens.js';

@injectable()
export class Settings {
  @inject(HostOptionsToken) private readonly options!: HostOptions;
  @inject(ContributionPoint.configuration) private readonly configuration!: ContributionPointTypes['configuration'];
  private values: Record<string, unknown> | undefined;

  get path(): string {
    return join(this.options.stateDir, 'settings.json');
  }

  get<T = unknown>(key: string): T | undefined {
    const values = this.load();
    if (key in values) return values[key] as T;
    return this.configuration.get(key)?.contribution.default as T | undefined;
  }

  private load(): Record<string, unknown> {
    if (this.values) return this.values;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return (this.values = {});
      throw ShadowError.from(error, 'IO_ERROR');
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the top level is not an object');
      return (this.values = parsed as Record<string, unknown>);
    } catch (error) {
      throw new ShadowError('SETTING_INVALID', `Settings file '${this.path}' is not valid JSON (${(error as Error).message}); fix or remove it`);
    }
  }
}
