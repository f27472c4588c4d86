// A readable sentence for a five-field cron pattern (the common shapes), for the schedule editor's cron helper.
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export const CRON_PRESETS: { label: string; cron: string }[] = [
  { label: 'Every day at 03:30', cron: '30 3 * * *' },
  { label: 'Every hour', cron: '0 * * * *' },
  { label: 'Every 15 minutes', cron: '*/15 * * * *' },
  { label: 'Every Sunday at 02:00', cron: '0 2 * * 0' },
  { label: 'On the 1st of every month at 04:00', cron: '0 4 1 * *' },
];

const num = (s: string) => /^\d+$/.test(s);
const time = (h: string, m: string) => `${h.padStart(2, '0')}:${m.padStart(2, '0')}`;

export function describeCron(pattern: string): string {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== 5) return `Not a cron pattern: it needs 5 fields (minute hour day month weekday), it has ${fields.length}`;
  const [m, h, dom, mon, dow] = fields as [string, string, string, string, string];
  const step = /^\*\/(\d+)$/;
  if (step.test(m) && h === '*' && dom === '*' && mon === '*' && dow === '*') return `Every ${m.match(step)![1]} minutes`;
  if (num(m) && h === '*' && dom === '*' && mon === '*' && dow === '*') return `Every hour at minute ${m}`;
  if (num(m) && step.test(h) && dom === '*' && mon === '*' && dow === '*') return `Every ${h.match(step)![1]} hours at minute ${m}`;
  if (!num(m) || !num(h)) return `Custom: ${pattern}`;
  const at = `at ${time(h, m)}`;
  if (dom === '*' && mon === '*' && dow === '*') return `Every day ${at}`;
  if (dom === '*' && mon === '*' && /^[0-7](,[0-7])*$/.test(dow)) return `Every ${dow.split(',').map((d) => DAYS[Number(d) % 7]).join(', ')} ${at}`;
  if (dom === '*' && mon === '*' && dow === '1-5') return `Every weekday ${at}`;
  if (num(dom) && mon === '*' && dow === '*') return `On day ${dom} of every month ${at}`;
  return `Custom: ${pattern}`;
}
