// Opens one grid view page in headless Chromium, optionally clicks 确认 Acknowledge on one episode, and
// prints what a person would have seen as one JSON line; for tests against a real alertd.
// Usage: node grid_view_probe.mjs --chromium BIN --url URL [--acknowledge EPISODE_ID] [--screenshot FILE]
// Prints {"state","rows":{worker id:{bp,glucose:{text,abnormal,red}}},"episodes":[...],"last_action","problems"};
// exits 0 when the page loaded (and the acknowledgement was answered 202), 1 otherwise, 2 on bad flags.
import { parseArgs } from 'node:util';

import { Browser } from './devtools.mjs';
import { clickAndWait, isRed, openView, readEpisodes, readRows } from './grid_view_page.mjs';

const { values: options } = parseArgs({
  options: {
    chromium: { type: 'string' }, url: { type: 'string' }, acknowledge: { type: 'string' }, screenshot: { type: 'string' },
  },
});
if (!options.chromium || !options.url) {
  console.error('grid_view_probe: --chromium BIN and --url URL are required');
  process.exit(2);
}

const browser = await Browser.launch({ executablePath: options.chromium });
const outcome = { state: null, rows: {}, episodes: [], last_action: null, problems: [] };
let ok = false;
try {
  const page = await browser.newPage();
  await page.setViewport(1280, 900);
  outcome.state = await openView(page, options.url);
  if (outcome.state === 'loaded' && options.acknowledge) {
    outcome.last_action = await clickAndWait(page,
      `article[data-episode-id="${options.acknowledge}"] button[data-action="acknowledge"]`);
  }
  const rows = await page.evaluate(readRows);
  for (const [id, row] of Object.entries(rows)) {
    for (const kind of ['bp', 'glucose']) row[kind].red = isRed(row[kind].color);
    outcome.rows[id] = row;
  }
  outcome.episodes = (await page.evaluate(readEpisodes)).map(({ text, ...episode }) => episode);
  outcome.problems = page.problems;
  if (options.screenshot) await page.screenshot(options.screenshot);
  ok = outcome.state === 'loaded' &&
    (!options.acknowledge || outcome.last_action === `acknowledge ${options.acknowledge} 202`);
} catch (e) {
  outcome.error = String(e.message || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
process.exit(ok ? 0 : 1);
