// The strip at the bottom: every running job's phase, progress, rate and ETA, from the streamed job events.
import { useEffect, useState } from 'preact/hooks';
import { useApp } from './app-context.js';
import { ProgressLine } from './progress-line.js';
import type { ProgressEvent } from './rpc-client.js';

export function JobBar() {
  const { rpc, commands } = useApp();
  const [jobs, setJobs] = useState<Record<string, { title: string; progress: ProgressEvent | null }>>({});
  useEffect(() => rpc.onJob((commandId, event) => {
    setJobs((all) => {
      const next = { ...all };
      if (event.type === 'finished') delete next[event.jobId];
      else if (event.type === 'progress') next[event.jobId] = { title: commands.find((c) => c.id === commandId)?.title ?? commandId, progress: event };
      return next;
    });
  }), [rpc]);
  const entries = Object.entries(jobs).filter(([, j]) => j.progress && j.progress.total > 0);
  if (entries.length === 0) return <footer class="jobbar idle">No jobs running</footer>;
  return (
    <footer class="jobbar">
      {entries.map(([id, job]) => (
        <div key={id} class="job">
          <span class="job-title">{job.title}</span>
          <ProgressLine progress={job.progress!} />
          <button class="small" onClick={() => rpc.call('jobs.cancel', { jobId: id }).catch(() => undefined)}>Cancel</button>
        </div>
      ))}
    </footer>
  );
}
