// Backup, verify and restore wizards: pick a source and an image file or a repository snapshot, start, and watch the
// job's live progress and ETA.
import { useState } from 'preact/hooks';
import { commandId, useApp } from './app-context.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { formatDuration } from './format.js';
import { ProgressLine } from './progress-line.js';
import type { ProgressEvent } from './rpc-client.js';
import { useCommandData } from './use-command-data.js';

type Wizard = 'backup' | 'verify' | 'restore';

export function BackupScreen() {
  const [wizard, setWizard] = useState<Wizard>('backup');
  return (
    <div class="backup-screen">
      <div class="tabs" role="tablist">
        {(['backup', 'verify', 'restore'] as const).map((w) => (
          <button key={w} role="tab" aria-selected={w === wizard} class={w === wizard ? 'tab active' : 'tab'} onClick={() => setWizard(w)}>{w[0]!.toUpperCase() + w.slice(1)}</button>
        ))}
      </div>
      <JobWizard key={wizard} wizard={wizard} />
    </div>
  );
}

function JobWizard({ wizard }: { wizard: Wizard }) {
  const app = useApp();
  const disks = useCommandData<{ disks: { path: string; partitions: { path: string }[] }[] }>('disks');
  const sources = (disks.data?.disks ?? []).flatMap((d) => [d.path, ...d.partitions.map((p) => p.path)]);
  const [source, setSource] = useState('');
  const [image, setImage] = useState('');
  const [target, setTarget] = useState('');
  // An image repository instead of an image file: its URL, a passphrase file on the backend's machine, the snapshot.
  const [store, setStore] = useState<'file' | 'repository'>('file');
  const [repo, setRepo] = useState('');
  const [passFile, setPassFile] = useState('');
  const [snapshot, setSnapshot] = useState('latest');
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const [updates, setUpdates] = useState(0);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const [running, setRunning] = useState(false);
  const [confirming, setConfirming] = useState(false);

  const start = async () => {
    setConfirming(false);
    setRunning(true);
    setOutcome(null);
    setUpdates(0);
    // Options as --name=value and the arguments after '--': a path or URL that starts with '-' stays what it is.
    const inRepo = [`--repo=${repo}`, ...(passFile === '' ? [] : [`--passphrase-file=${passFile}`])];
    const [cli, argv] = store === 'repository'
      ? wizard === 'backup' ? ['image backup', [...inRepo, '--', source]] : wizard === 'verify' ? ['image verify', [...inRepo, '--', snapshot]] : ['image restore', ['--yes', ...inRepo, '--', snapshot, target]]
      : wizard === 'backup' ? ['image backup', ['--', source, image]] : wizard === 'verify' ? ['image verify', ['--', image]] : ['image restore', ['--yes', '--', image, target]];
    const started = Date.now();
    try {
      const r = await app.run(commandId(app.commands, cli), argv as string[], (e) => {
        if (e.type !== 'progress') return;
        setProgress(e);
        setUpdates((n) => n + 1);
      });
      setOutcome({ ok: true, text: `${r.text ?? 'Done'} (${formatDuration((Date.now() - started) / 1000)})` });
    } catch (error) {
      setOutcome({ ok: false, text: (error as Error).message });
    } finally {
      setRunning(false);
    }
  };
  const from = store === 'repository' ? repo !== '' && (wizard === 'backup' || snapshot !== '') : image !== '';
  const ready = from && (wizard === 'backup' ? source !== '' : wizard === 'verify' || target !== '');
  const what = store === 'repository' ? `snapshot ${snapshot} of ${repo}` : `the image ${image}`;
  return (
    <form class="wizard" aria-label={`${wizard} wizard`} onSubmit={(e) => { e.preventDefault(); if (wizard === 'restore') setConfirming(true); else void start(); }}>
      {wizard === 'backup' && (
        <label>Source disk or partition
          <input list="sources" name="source" value={source} onInput={(e) => setSource((e.target as HTMLInputElement).value)} placeholder="/dev/sdb1" />
          <datalist id="sources">{sources.map((s) => <option key={s} value={s} />)}</datalist>
        </label>
      )}
      <fieldset class="choice" aria-label="Images kept in">
        <label><input type="radio" name="store" value="file" checked={store === 'file'} onChange={() => setStore('file')} /> an image file</label>
        <label><input type="radio" name="store" value="repository" checked={store === 'repository'} onChange={() => setStore('repository')} /> a repository</label>
      </fieldset>
      {store === 'file' ? (
        <label>{wizard === 'backup' ? 'Image file to write' : 'Image file'}
          <input name="image" value={image} onInput={(e) => setImage((e.target as HTMLInputElement).value)} placeholder="/var/backups/disk.sdimg" />
        </label>
      ) : (
        <>
          <label>Repository
            <input name="repo" value={repo} onInput={(e) => setRepo((e.target as HTMLInputElement).value)} placeholder="s3://bucket/prefix or file:///srv/repo" />
          </label>
          <label>Passphrase file
            <input name="passphrase-file" value={passFile} onInput={(e) => setPassFile((e.target as HTMLInputElement).value)} placeholder="/root/repo.pass (or SHADOWDISK_PASSPHRASE on the backend)" />
          </label>
          {wizard !== 'backup' && (
            <label>Snapshot
              <input name="snapshot" value={snapshot} onInput={(e) => setSnapshot((e.target as HTMLInputElement).value)} placeholder="latest, or an id or its prefix" />
            </label>
          )}
        </>
      )}
      {wizard === 'restore' && (
        <label>Target disk or file
          <input list="sources" name="target" value={target} onInput={(e) => setTarget((e.target as HTMLInputElement).value)} placeholder="/dev/sdc" />
          <datalist id="sources">{sources.map((s) => <option key={s} value={s} />)}</datalist>
        </label>
      )}
      <div class="actions"><button class="primary" type="submit" disabled={!ready || running}>{running ? 'Running…' : `Start ${wizard}`}</button></div>
      {progress && <div class="live" aria-label="Job progress" data-updates={updates}><ProgressLine progress={progress} /></div>}
      {outcome && <p class={outcome.ok ? 'ok' : 'error'} role="status" data-outcome={outcome.ok ? 'succeeded' : 'failed'}>{outcome.text}</p>}
      {confirming && (
        <ConfirmDialog title={`Restore onto ${target}?`} confirmLabel="Restore" onConfirm={() => void start()} onCancel={() => setConfirming(false)}>
          <p>Everything on {target} is overwritten by {what}. It is verified first.</p>
        </ConfirmDialog>
      )}
    </form>
  );
}
