// Views contributed by plugins (declarative tree/table/form fed by a data command), in-process or isolated alike.
import { useEffect, useState } from 'preact/hooks';
import { useApp } from './app-context.js';
import { DataForm, DataTable, DataTree, rowsOf } from './data-table.js';

interface ViewInfo {
  id: string;
  title: string;
  kind: 'tree' | 'table' | 'form';
  dataCommand?: string;
  pluginId: string;
}

export function ViewsScreen() {
  const app = useApp();
  const [views, setViews] = useState<ViewInfo[]>([]);
  const [active, setActive] = useState<string | null>(null);
  useEffect(() => {
    app.rpc.call<ViewInfo[]>('views.list').then((v) => {
      setViews(v);
      setActive((a) => a ?? v[0]?.id ?? null);
    }, (e: Error) => app.toast('error', e.message));
  }, []);
  const view = views.find((v) => v.id === active);
  return (
    <div class="views-screen">
      <nav class="view-list" aria-label="Contributed views">
        {views.map((v) => <button key={v.id} class={v.id === active ? 'active' : ''} onClick={() => setActive(v.id)} data-view={v.id}>{v.title}<span class="muted">{v.pluginId}</span></button>)}
      </nav>
      {view && <ContributedView key={view.id} view={view} />}
    </div>
  );
}

export function ContributedView({ view }: { view: ViewInfo }) {
  const app = useApp();
  const [state, setState] = useState<{ data: unknown; error: string | null; loaded: boolean }>({ data: null, error: null, loaded: false });
  useEffect(() => {
    app.rpc.call<{ data: unknown }>('views.data', { id: view.id }).then((r) => setState({ data: r.data, error: null, loaded: true }), (e: Error) => setState({ data: null, error: e.message, loaded: true }));
  }, [view.id, app.revision]);
  const rows = rowsOf(state.data);
  return (
    <section class="view" aria-label={view.title} data-view-kind={view.kind}>
      <h2>{view.title} <span class="muted">{view.kind} · {view.pluginId}</span></h2>
      {state.error && <p class="error">{state.error}</p>}
      {state.loaded && !state.error && (view.kind === 'table' && rows ? <DataTable rows={rows} label={view.title} />
        : view.kind === 'form' ? <DataForm data={state.data} label={view.title} />
        : <ul class="tree"><DataTree data={state.data} name={view.title} /></ul>)}
    </section>
  );
}
