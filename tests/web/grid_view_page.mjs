// What a browser test reads from the grid view (engine/web/assets/app.js's hooks): the load state, each
// worker's values as shown, the escalation cards; shared by grid_view_test.mjs and grid_view_probe.mjs.

// Red as the stylesheet's --abnormal (#c62828): a strong red channel, weak green and blue.
export const isRed = (css) => {
  const m = /rgba?\((\d+), (\d+), (\d+)/.exec(css || '');
  return !!m && Number(m[1]) >= 150 && Number(m[2]) <= 90 && Number(m[3]) <= 90;
};

// Opens a page and waits for its script: body[data-state] turns "loaded", "expired" or "error".
export async function openView(page, url) {
  await page.goto(url);
  return page.waitFor(() => document.body.dataset.state !== 'loading' && document.body.dataset.state,
    [], { what: `${url} to load` });
}

// How many loads the page has finished; a button's POST is followed by one more.
export const loads = (page) => page.evaluate(() => Number(document.body.dataset.loads || 0));

// Clicks a button of an escalation card and waits for the refresh it causes; returns body[data-last-action],
// "<action> <episode id> <HTTP status>".
export async function clickAndWait(page, selector) {
  const before = await loads(page);
  await page.click(selector);
  await page.waitFor((n) => Number(document.body.dataset.loads) > n || document.body.dataset.state === 'expired',
    [before], { what: `the refresh after clicking ${selector}` });
  return page.evaluate(() => document.body.dataset.lastAction || null);
}

// In the page: each grid row's values as the person sees them, with class and computed colour.
export function readRows() {
  const cell = (td) => {
    const v = td.querySelector('.value');
    return v ? { text: v.textContent, abnormal: v.classList.contains('abnormal'), color: getComputedStyle(v).color }
      : { text: td.textContent, abnormal: false, color: getComputedStyle(td).color };
  };
  const rows = {};
  for (const tr of document.querySelectorAll('#workers tbody tr[data-worker-id]')) {
    rows[tr.dataset.workerId] = {
      name: tr.querySelector('.name a').textContent, bp: cell(tr.querySelector('.bp')),
      glucose: cell(tr.querySelector('.glucose')), alerts: tr.querySelector('.alerts').textContent,
    };
  }
  return rows;
}

// In the page: the escalation cards, oldest first as shown.
export function readEpisodes() {
  return [...document.querySelectorAll('#escalations article.episode')].map((a) => ({
    id: a.dataset.episodeId, worker: a.dataset.workerId, text: a.textContent,
    acknowledged: !!a.querySelector('.acked'),
    buttons: [...a.querySelectorAll('.actions button')].map((b) => b.dataset.action),
  }));
}
