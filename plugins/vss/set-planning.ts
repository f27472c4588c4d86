// Chooses a snapshot provider per volume (the highest priority that supports it, or the one named with --provider)
// and the writers named with --writer ('NAME[:key=value,...][;NAME...]').
import { ShadowError, type PluginContext, type ShadowVolume } from '../../sdk/index.js';
import type { ParticipatingWriter, PlannedVolume } from './coordinator.js';

/** A provider or writer named by its id or by the last part of it (`reflink` for `shadowdisk.vss.reflink`). */
function matches(id: string, name: string): boolean {
  return id === name || id.endsWith(`.${name}`);
}

export async function planVolumes(ctx: PluginContext, volumes: readonly ShadowVolume[], override: string | undefined): Promise<PlannedVolume[]> {
  const declared = ctx.providers.list('snapshotProviders');
  const candidates = override === undefined ? declared : declared.filter((p) => matches(p.id, override));
  if (candidates.length === 0) {
    throw new ShadowError('NOT_FOUND', `No snapshot provider '${override}'; providers: ${declared.map((p) => p.id).join(', ')}`);
  }
  const planned: PlannedVolume[] = [];
  for (const volume of volumes) {
    const reasons: string[] = [];
    let best: (PlannedVolume & { priority: number }) | undefined;
    for (const info of candidates) {
      const provider = await ctx.providers.get('snapshotProviders', info.id);
      const answer = await provider.supports(volume);
      if ('reason' in answer) reasons.push(`${info.id}: ${answer.reason}`);
      else if (best === undefined || answer.priority > best.priority) best = { volume, providerId: info.id, provider, priority: answer.priority };
    }
    if (best === undefined) throw new ShadowError('UNSUPPORTED', `No snapshot provider can take ${volume.name}: ${reasons.join('; ')}`);
    planned.push({ volume: best.volume, providerId: best.providerId, provider: best.provider });
  }
  return planned;
}

/** `postgresql:host=/run/postgresql,port=5432;sqlite:path=/srv/app.db` into writers with their options. */
export async function resolveWriters(ctx: PluginContext, spec: string | undefined): Promise<ParticipatingWriter[]> {
  if (spec === undefined || spec.trim() === '') return [];
  const declared = ctx.providers.list('writers');
  const writers: ParticipatingWriter[] = [];
  for (const part of spec.split(';').map((p) => p.trim()).filter(Boolean)) {
    const colon = part.indexOf(':');
    const name = colon < 0 ? part : part.slice(0, colon);
    const info = declared.find((w) => matches(w.id, name));
    if (info === undefined) throw new ShadowError('NOT_FOUND', `No writer '${name}'; writers: ${declared.map((w) => w.id).join(', ') || 'none installed'}`);
    const options: Record<string, string> = {};
    for (const pair of colon < 0 ? [] : part.slice(colon + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ShadowError('INVALID_ARGUMENT', `Writer option '${pair}' of '${name}' is not key=value`);
      options[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    writers.push({ id: info.id, pluginId: info.pluginId, writer: await ctx.providers.get('writers', info.id), options });
  }
  return writers;
}
