// Images: the images of a folder with their chains (full, then incrementals), the snapshots of an image repository,
// and a file browser into an image or a snapshot (mounted read-only by the backend for each listing; never written).
import { useState } from 'preact/hooks';
import { commandId, useApp } from './app-context.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { DataTable } from './data-table.js';
import { formatBytes } from './format.js';
import { useCommandData } from './use-command-data.js';

interface ImageList {
  dir: string;
  images: Record<string, unknown>[];
  chains: string[][];
}

interface Entry {
  name: string;
  type: string;
  sizeBytes: number;
  modified: string;
}

interface Browsed {
  /** What the file browser names: an image file, or a snapshot of a repository. */
  label: string;
  /** `image ls` words before the path: `-- IMAGE`, or `--repo=URL --passphrase-file=F -- SNAPSHOT`. */
  words: string[];
}

export function ImagesScreen() {
  const [dir, setDir] = useState('');
  const [shown, setShown] = useState<string | null>(null);
  const [browsed, setBrowsed] = useState<Browsed | null>(null);
  const setImage = (image: string) => setBrowsed({ label: image, words: ['--', image] });
  const list = useCommandData<ImageList>(shown === null ? null : 'image list', shown ? [shown] : []);
  return (
    <div class="images-screen">
      <form class="wizard inline" aria-label="Image folder" onSubmit={(e) => { e.preventDefault(); setShown(dir); setBrowsed(null); }}>
        <label>Folder of images<input name="dir" value={dir} onInput={(e) => setDir((e.target as HTMLInputElement).value)} placeholder="/var/backups" /></label>
        <div class="actions"><button class="primary" type="submit" disabled={dir === ''}>List images</button></div>
      </form>
      {list.error && <p class="error">{list.error}</p>}
      {list.data && (
        <>
          <h3>Chains</h3>
          {list.data.chains.length === 0 ? <p class="muted">No images.</p> : (
            <ul class="chains" aria-label="Image chains">
              {list.data.chains.map((chain) => (
                <li key={chain[0]}>{chain.map((name, i) => (
                  <span key={name}>{i > 0 && ' → '}<button class="link" onClick={() => setImage(`${list.data!.dir}/${name}`)}>{name}</button></span>
                ))}</li>
              ))}
            </ul>
          )}
          <h3>Images</h3>
          <DataTable rows={list.data.images} label="Images" />
        </>
      )}
      <RepositorySnapshots onBrowse={setBrowsed} onForgotten={(id) => browsed?.words.at(-1) === id && setBrowsed(null)} />
      {browsed && <ImageBrowser key={browsed.words.join(' ')} browsed={browsed} />}
    </div>
  );
}

interface Snapshot {
  id: string;
  time: string;
  host: string;
  source: string;
  usedBytes: number;
  addedBytes: number;
}

/**
 * A repository's snapshots (`repo list`), each one browsable or forgotten (`repo forget`, after a confirmation); the
 * passphrase stays in its file on the backend's side.
 */
function RepositorySnapshots({ onBrowse, onForgotten }: { onBrowse: (browsed: Browsed) => void; onForgotten: (id: string) => void }) {
  const app = useApp();
  const [forgetting, setForgetting] = useState<Snapshot | null>(null);
  const [url, setUrl] = useState('');
  const [passFile, setPassFile] = useState('');
  // The repository and the passphrase file listed last (options as --name=value, the URL after '--').
  const [shown, setShown] = useState<{ url: string; secret: string[] } | null>(null);
  const list = useCommandData<{ repository: string; snapshots: Snapshot[] }>(shown === null ? null : 'repo list', shown ? [...shown.secret, '--', shown.url] : []);
  return (
    <>
      <form class="wizard inline" aria-label="Image repository" onSubmit={(e) => { e.preventDefault(); setShown({ url, secret: passFile === '' ? [] : [`--passphrase-file=${passFile}`] }); }}>
        <label>Repository<input name="repo" value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} placeholder="s3://bucket/prefix or file:///srv/repo" /></label>
        <label>Passphrase file<input name="passphrase-file" value={passFile} onInput={(e) => setPassFile((e.target as HTMLInputElement).value)} placeholder="/root/repo.pass (or SHADOWDISK_PASSPHRASE on the backend)" /></label>
        <div class="actions"><button class="primary" type="submit" disabled={url === ''}>List snapshots</button></div>
      </form>
      {list.error && <p class="error">{list.error}</p>}
      {list.data && shown && (
        list.data.snapshots.length === 0 ? <p class="muted">No snapshots in {list.data.repository}.</p> : (<>
          <h3>Snapshots</h3>
          <table class="data" aria-label="Snapshots">
            <thead><tr><th>Snapshot</th><th>Time</th><th>Host</th><th>Source</th><th>Used</th><th>Added</th><th /></tr></thead>
            <tbody>{list.data.snapshots.map((s) => (
              <tr key={s.id}>
                <td><button class="link" onClick={() => onBrowse({ label: `snapshot ${s.id.slice(0, 8)} of ${list.data!.repository}`, words: [`--repo=${shown.url}`, ...shown.secret, '--', s.id] })}>{s.id.slice(0, 8)}</button></td>
                <td>{s.time.slice(0, 19).replace('T', ' ')}</td><td>{s.host}</td><td>{s.source}</td><td class="num">{formatBytes(s.usedBytes)}</td><td class="num">{formatBytes(s.addedBytes)}</td>
                <td><button onClick={() => setForgetting(s)}>Forget</button></td>
              </tr>
            ))}</tbody>
          </table>
        </>)
      )}
      {forgetting && shown && (
        <ConfirmDialog title={`Forget snapshot ${forgetting.id.slice(0, 8)}?`} confirmLabel="Forget" onCancel={() => setForgetting(null)}
          onConfirm={() => {
            const id = forgetting.id;
            setForgetting(null);
            // Errors become a toast; the list reloads after any command ran.
            void app.run(commandId(app.commands, 'repo forget'), [...shown.secret, '--', shown.url, id]).then(() => onForgotten(id), () => undefined);
          }}>
          <p>The snapshot of {forgetting.source} from {forgetting.time.slice(0, 19).replace('T', ' ')} is deleted from the repository. Its data goes at the next prune, unless other snapshots hold it too.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

function ImageBrowser({ browsed }: { browsed: Browsed }) {
  const [path, setPath] = useState('/');
  const listing = useCommandData<{ entries: Entry[] }>('image ls', [...browsed.words, path]);
  const enter = (entry: Entry) => entry.type === 'directory' && setPath(`${path.replace(/\/$/, '')}/${entry.name}`);
  return (
    <section class="view" aria-label={`Files in ${browsed.label}`}>
      <h2>{browsed.label} <span class="muted">{path}</span></h2>
      <div class="toolbar"><button disabled={path === '/'} onClick={() => setPath(path.replace(/\/[^/]+\/?$/, '') || '/')}>Up</button></div>
      {listing.loading && <p class="muted">Mounting {browsed.words[0]!.startsWith('--repo=') ? 'the snapshot' : 'the image'} read-only…</p>}
      {listing.error && <p class="error">{listing.error}</p>}
      {listing.data && (
        <table class="data" aria-label="Files">
          <thead><tr><th>Name</th><th>Type</th><th>Size</th><th>Modified</th></tr></thead>
          <tbody>{listing.data.entries.map((e) => (
            <tr key={e.name} onClick={() => enter(e)} class={e.type === 'directory' ? 'dir' : ''}>
              <td>{e.name}{e.type === 'directory' ? '/' : ''}</td><td>{e.type}</td><td class="num">{formatBytes(e.sizeBytes)}</td><td>{e.modified.slice(0, 19).replace('T', ' ')}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
    </section>
  );
}
