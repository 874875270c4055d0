// The grid view in headless Chromium against web_fixture_server (tests/web/fixture_grid.cc): abnormal values
// red and marked, the buttons' POSTs, the worker chart, who was told, expired links, partial answers, a
// 375 px phone.
// Usage: node grid_view_test.mjs --fixture BIN --chromium BIN --artifacts DIR (ctest runs it: web.browser.*).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { Browser } from './devtools.mjs';
import { clickAndWait, isRed, openView, readEpisodes, readRows } from './grid_view_page.mjs';

const { values: options } = parseArgs({
  options: { fixture: { type: 'string' }, chromium: { type: 'string' }, artifacts: { type: 'string' } },
});
for (const name of ['fixture', 'chromium', 'artifacts']) {
  if (!options[name]) {
    console.error(`grid_view_test: --${name} is required (--fixture BIN --chromium BIN --artifacts DIR)`);
    process.exit(2);
  }
}
mkdirSync(options.artifacts, { recursive: true });

const HOUR = 3600e3;
const cleanups = [];
const deadline = setTimeout(async () => {
  console.error('grid_view_test: still running after 90 s, giving up');
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  process.exit(1);
}, 90000);

// The fixture server prints "listening <port>" and stops when its stdin closes.
async function startFixture() {
  const child = spawn(options.fixture, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  cleanups.push(async () => { child.stdin.end(); });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = out.match(/^listening (\d+)\n/);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`web_fixture_server exited with ${code} before listening`)));
  });
  return `http://127.0.0.1:${port}`;
}

const base = await startFixture();
const browser = await Browser.launch({ executablePath: options.chromium });
cleanups.push(() => browser.close());
const page = await browser.newPage();
console.log(`# ${browser.version}, fixture at ${base}, screenshots in ${options.artifacts}`);

async function fixtureJson(route, token) {
  const res = await fetch(`${base}${route}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return res.json();
}
async function screenshot(name) {
  const file = await page.screenshot(path.join(options.artifacts, `${name}.png`));
  console.log(`# screenshot ${file}`);
}
const open = (route) => openView(page, `${base}${route}`);

const results = [];
async function check(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push(true);
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push(false);
    console.log(`not ok - ${name}\n${String(e.stack || e).replace(/^/gm, '#   ')}`);
    await screenshot(`failed-${results.length}`).catch(() => {});
  }
}

await page.setViewport(1280, 900);

await check('the grid view shows each worker\'s latest values, abnormal ones red and marked ↑/↓, normal ones not', async () => {
  assert.equal(await open('/grid/G01?t=grid-token'), 'loaded');
  const rows = await page.evaluate(readRows);
  assert.deepEqual(Object.keys(rows).sort(), ['W001', 'W002', 'W003', 'W004']);
  const abnormal = [rows.W001.bp, rows.W002.glucose, rows.W003.glucose];
  const normal = [rows.W001.glucose, rows.W002.bp, rows.W003.bp];
  assert.match(rows.W001.bp.text, /^168\/104↑$/);
  assert.match(rows.W002.glucose.text, /^13\.2↑$/);
  assert.match(rows.W003.glucose.text, /^3\.2↓$/, 'a low glucose is marked ↓');
  for (const v of abnormal) {
    assert.ok(v.abnormal, `${v.text} should carry class abnormal`);
    assert.ok(isRed(v.color), `${v.text} should be red, is ${v.color}`);
  }
  for (const v of normal) {
    assert.ok(!v.abnormal, `${v.text} should not carry class abnormal`);
    assert.ok(!isRed(v.color), `${v.text} should not be red, is ${v.color}`);
    assert.doesNotMatch(v.text, /[↑↓]/);
  }
  // 128/82 is within W002's own thresholds (135/85): the server's verdict, not a page-side rule.
  assert.equal(rows.W002.bp.text, '128/82');
  assert.equal(rows.W004.bp.text, '—');
  await screenshot('grid-desktop');
});

await check('a worker\'s name is printed as text, never run as HTML', async () => {
  const rows = await page.evaluate(readRows);
  assert.equal(rows.W003.name, '<img src=x onerror="window.__xss=1">赵六');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.evaluate(() => document.querySelectorAll('main img').length), 0);
});

await check('open escalations are listed oldest first with level, severity, age and who acknowledged', async () => {
  const episodes = await page.evaluate(readEpisodes);
  assert.deepEqual(episodes.map((e) => e.id), ['ep-W004-R3', 'ep-W002-R5', 'ep-W001-R4']);
  const r4 = episodes[2];
  assert.match(r4.text, /紧急 Urgent/);
  assert.match(r4.text, /健康管理员 Health manager/);
  assert.match(r4.text, /2小时前 \/ 2 h ago/);
  assert.match(r4.text, /未确认 Not acknowledged/);
  assert.deepEqual(r4.buttons, ['acknowledge', 'resolve', 'snooze']);
  const r5 = episodes[1];
  assert.match(r5.text, /已确认 Acknowledged: 王芳 · .*30分钟前 \/ 30 min ago/);
  assert.deepEqual(r5.buttons, ['resolve', 'snooze'], 'an acknowledged episode offers no second acknowledgement');
  const overdue = await page.evaluate(() => document.getElementById('overdue').textContent);
  assert.match(overdue, /陈静.*逾期2天 \/ 2 d overdue/);
});

await check('确认 Acknowledge POSTs the episode to /api/v1/acks with the page\'s token, then the view refreshes', async () => {
  assert.equal(await clickAndWait(page, 'article[data-episode-id="ep-W001-R4"] button[data-action="acknowledge"]'),
    'acknowledge ep-W001-R4 202');
  const posts = await fixtureJson('/__fixture/acks');
  assert.equal(posts.length, 1);
  assert.deepEqual(posts[0].body, { worker_id: 'W001', episode_id: 'ep-W001-R4', rule: 'R4', action: 'acknowledge' });
  assert.equal(posts[0].authorization, 'Bearer grid-token');
  assert.equal(posts[0].content_type, 'application/json');
  assert.equal(posts[0].status, 202);
  const r4 = (await page.evaluate(readEpisodes)).find((e) => e.id === 'ep-W001-R4');
  assert.match(r4.text, /已确认 Acknowledged: 王芳/);
  assert.match(await page.evaluate(() => document.getElementById('notices').textContent), /张伟：R4 已确认/);
});

await check('暂缓 Snooze asks until when and POSTs that time', async () => {
  const choiceShown = () => document.querySelector('article[data-episode-id="ep-W004-R3"] .snooze-choice')
    .getBoundingClientRect().height > 0;
  assert.equal(await page.evaluate(choiceShown), false, 'the until-choice waits for 暂缓 Snooze');
  await page.click('article[data-episode-id="ep-W004-R3"] button[data-action="snooze"]');
  assert.equal(await page.evaluate(choiceShown), true);
  const sentAfter = Date.now();
  assert.equal(await clickAndWait(page, 'article[data-episode-id="ep-W004-R3"] button[data-snooze="4h"]'),
    'snooze ep-W004-R3 202');
  const post = (await fixtureJson('/__fixture/acks')).at(-1);
  const { snooze_until_ms: until, ...rest } = post.body;
  assert.deepEqual(rest, { worker_id: 'W004', episode_id: 'ep-W004-R3', rule: 'R3', action: 'snooze' });
  assert.ok(until >= sentAfter + 4 * HOUR - 1000 && until <= Date.now() + 4 * HOUR, `snooze_until_ms ${until}`);
  assert.equal(post.status, 202);
  const r3 = (await page.evaluate(readEpisodes)).find((e) => e.id === 'ep-W004-R3');
  assert.match(r3.text, /暂缓至 Snoozed until/);
});

await check('解除 Resolve POSTs resolve and the episode leaves the list', async () => {
  assert.equal(await clickAndWait(page, 'article[data-episode-id="ep-W002-R5"] button[data-action="resolve"]'),
    'resolve ep-W002-R5 202');
  const post = (await fixtureJson('/__fixture/acks')).at(-1);
  assert.deepEqual(post.body, { worker_id: 'W002', episode_id: 'ep-W002-R5', rule: 'R5', action: 'resolve' });
  assert.deepEqual((await page.evaluate(readEpisodes)).map((e) => e.id), ['ep-W004-R3', 'ep-W001-R4']);
});

await check('the worker page charts blood pressure and glucose against the worker\'s own thresholds', async () => {
  const worker = await fixtureJson('/api/v1/workers/W002', 'grid-token');
  assert.equal(await open('/worker/W002?t=grid-token'), 'loaded');
  const chart = await page.evaluate(() => {
    const points = (cls) => [...document.querySelectorAll(`#chart svg circle.point.${cls}`)];
    const fills = (list) => list.map((c) => getComputedStyle(c).fill);
    return {
      systolic: points('systolic').length, diastolic: points('diastolic').length, glucose: points('glucose').length,
      abnormalFills: fills([...document.querySelectorAll('#chart svg circle.point.abnormal')]),
      normalFills: fills([...document.querySelectorAll('#chart svg circle.point:not(.abnormal)')]),
      lines: [...document.querySelectorAll('#chart svg polyline.series')].map((l) => l.classList[1]),
      thresholds: Object.fromEntries([...document.querySelectorAll('#chart svg line.threshold')]
        .map((l) => [l.dataset.threshold, Number(l.dataset.value)])),
      title: document.getElementById('title').textContent,
    };
  });
  assert.equal(chart.title, '李娜 W002');
  assert.equal(chart.systolic, worker.bp.length);
  assert.equal(chart.diastolic, worker.bp.length);
  assert.equal(chart.glucose, worker.glucose.length);
  assert.deepEqual(chart.lines, ['systolic', 'diastolic', 'glucose']);
  assert.deepEqual(chart.thresholds, {
    bp_high_systolic: 135, bp_high_diastolic: 85, bp_critical_systolic: 180, bp_critical_diastolic: 110,
    glucose_high_mmol: 11.1, glucose_low_mmol: 3.9,
  });
  const abnormalReadings = worker.bp.filter((r) => r.abnormal).length + worker.glucose.filter((r) => r.abnormal).length;
  assert.ok(chart.abnormalFills.length >= abnormalReadings && abnormalReadings >= 3, `${chart.abnormalFills.length} red points`);
  assert.ok(chart.abnormalFills.every(isRed), `abnormal points ${chart.abnormalFills}`);
  assert.ok(chart.normalFills.length > 0 && !chart.normalFills.some(isRed), 'normal points are not red');
  const text = await page.evaluate(() => document.querySelector('main').textContent);
  assert.match(text, /13\.2↑/);
  const lowPoint = await page.evaluate(() => [...document.querySelectorAll('#chart circle.point.glucose.abnormal title')]
    .map((t) => t.textContent).find((t) => / 3\.1 mmol/.test(t)));
  assert.ok(lowPoint, 'the 3.1 mmol/L reading is a red point');
  await screenshot('worker-desktop');
});

await check('the worker page lists open episodes with who acknowledged and when', async () => {
  assert.equal(await open('/worker/W001?t=grid-token'), 'loaded');
  const episodes = await page.evaluate(readEpisodes);
  assert.equal(episodes.length, 1);
  assert.match(episodes[0].text, /R4 上岗前体检/);
  assert.match(episodes[0].text, /已确认 Acknowledged: 王芳 · \d\d-\d\d \d\d:\d\d \(刚刚 \/ just now\)/);
  const rows = await page.evaluate(() => document.querySelectorAll('#readings tbody tr').length);
  assert.equal(rows, 12, 'the latest twelve readings');
});

await check('under each open episode the worker page lists who was told and when (通知记录 / Who was told)', async () => {
  const worker = await fixtureJson('/api/v1/workers/W004', 'grid-token');
  assert.equal(await open('/worker/W004?t=grid-token'), 'loaded');
  const tables = await page.evaluate(() => [...document.querySelectorAll('#escalations article.episode')].map((a) => {
    const t = a.querySelector('table.told');
    return {
      episode: a.dataset.episodeId, table: t ? t.dataset.episodeId : null, caption: t?.caption.textContent,
      head: t ? [...t.querySelectorAll('thead th')].map((th) => th.textContent) : [],
      rows: t ? [...t.querySelectorAll('tbody tr')].map((tr) => ({
        sequence: tr.dataset.sequence ?? null, cells: [...tr.cells].map((td) => td.textContent),
      })) : [],
    };
  }));
  assert.equal(tables.length, 1);
  const [t] = tables;
  assert.equal(t.table, t.episode, 'the table sits in its episode\'s card');
  assert.equal(t.caption, '通知记录 / Who was told');
  assert.deepEqual(t.head, ['时间 Time', '级别 Level', '状态 State', '通知对象 Recipients']);
  // Steps 1, 2 and 4 as the API lists them; sequence 3 is no longer kept, and the table says so.
  assert.deepEqual(t.rows.map((r) => r.sequence), ['1', '2', null, '4']);
  const steps = worker.episodes[0].history;
  const clocks = await page.evaluate((times) => times.map((ms) => {
    const d = new Date(ms);
    const two = (n) => String(n).padStart(2, '0');
    return `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
  }), steps.map((step) => step.at_ms));
  assert.deepEqual(t.rows[0].cells, [clocks[0], '职工本人 Worker', '首次通知 Opened', '陈静 职工本人 Worker']);
  assert.deepEqual(t.rows[1].cells,
    [clocks[1], '健康管理员 Health manager', '已升级 Escalated', '王芳 健康管理员 Health manager']);
  assert.match(t.rows[2].cells[0], /另有1条未保留 \/ 1 earlier step not kept/);
  assert.deepEqual(t.rows[3].cells,
    [clocks[2], '健康管理员 Health manager', '再次通知 Re-sent', '王芳 健康管理员 Health manager']);
  await screenshot('worker-history');

  // A grid's cards name only the newest step, from the escalations answer's "told".
  assert.equal(await open('/grid/G02?t=unit-token'), 'loaded');
  const card = (await page.evaluate(readEpisodes)).find((e) => e.id === 'ep-W005-R1');
  assert.match(card.text, /最近通知 Last told \d\d-\d\d \d\d:\d\d: 王芳 健康管理员 Health manager、刘洋 单位主管 Unit supervisor/);
  assert.equal(await page.evaluate(() => document.querySelectorAll('#escalations table.told').length), 0);
});

await check('a 375 px phone screen has no horizontal scroll on the grid, unit and worker pages', async () => {
  await page.setViewport(375, 812, { mobile: true, scale: 2 });
  for (const [route, shot] of [['/grid/G01?t=grid-token', 'grid-phone'], ['/unit/U01?t=unit-token', 'unit-phone'],
    ['/worker/W002?t=worker-token', 'worker-phone'], ['/worker/W004?t=grid-token', 'worker-history-phone']]) {
    assert.equal(await open(route), 'loaded');
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({
      scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth), innerWidth: window.innerWidth,
    }));
    assert.equal(innerWidth, 375);
    assert.ok(scrollWidth <= innerWidth, `${route}: content is ${scrollWidth} px wide`);
    await screenshot(shot);
  }
  await page.setViewport(1280, 900);
});

await check('a partial answer says some partitions did not answer', async () => {
  assert.equal(await open('/unit/U01?t=unit-token'), 'loaded');
  const partial = await page.evaluate(() => document.getElementById('partial')?.textContent);
  assert.match(partial ?? '', /部分数据暂不可用（分区 3）/);
  assert.match(partial, /Some partitions did not answer \(3\)/);
  assert.equal(await page.evaluate(() => document.getElementById('title').textContent), '单位 Unit U01');
  assert.equal(await open('/grid/G01?t=grid-token'), 'loaded');
  assert.equal(await page.evaluate(() => document.getElementById('partial')), null, 'a whole answer has no such notice');
});

await check('an expired link shows 链接已过期 / Link expired, from the server and from the script', async () => {
  const visibleNotice = () => {
    const e = document.getElementById('expired');
    const heading = e && e.querySelector('h1');
    return heading && heading.getBoundingClientRect().height > 0 ? heading.textContent : null;
  };
  // Refused when the page opens (expired, out of scope, no token), and expired between page and API call.
  for (const [route, shot] of [['/grid/G01?t=expired-token', 'expired'], ['/grid/G01?t=worker-token', null],
    ['/grid/G01', null], ['/grid/G01?t=stale-token', 'expired-after-load'], ['/worker/W002?t=stale-token', null]]) {
    assert.equal(await open(route), 'expired', route);
    const text = await page.evaluate(visibleNotice);
    assert.match(text ?? '', /链接已过期/, route);
    assert.match(text, /Link expired/, route);
    if (shot) await screenshot(shot);
  }
  assert.equal(await page.evaluate(() => document.querySelectorAll('#workers tbody tr').length), 0);
});

await check('an episode closed meanwhile answers 409 and the page says so', async () => {
  assert.equal(await open('/worker/W004?t=grid-token'), 'loaded');
  // Someone else resolves it from another page (the fixture's store then has no such open episode).
  const res = await fetch(`${base}/api/v1/acks`, {
    method: 'POST', headers: { Authorization: 'Bearer operator-token', 'Content-Type': 'application/json' },
    body: JSON.stringify({ worker_id: 'W004', episode_id: 'ep-W004-R3', rule: 'R3', action: 'resolve' }),
  });
  assert.equal(res.status, 202);
  assert.equal(await clickAndWait(page, 'article[data-episode-id="ep-W004-R3"] button[data-action="acknowledge"]'),
    'acknowledge ep-W004-R3 409');
  assert.match(await page.evaluate(() => document.getElementById('notices').textContent), /该预警已关闭/);
});

await check('grid_view_probe.mjs (for tests against a real alertd) reports the view and acknowledges', async () => {
  const probe = (...args) => {
    const run = spawnSync(process.execPath, [new URL('./grid_view_probe.mjs', import.meta.url).pathname,
      '--chromium', options.chromium, ...args], { encoding: 'utf8', timeout: 30000 });
    return { status: run.status, stderr: run.stderr, outcome: JSON.parse(run.stdout) };
  };
  const acked = probe('--url', `${base}/grid/G02?t=unit-token`, '--acknowledge', 'ep-W005-R1');
  assert.equal(acked.status, 0, acked.stderr);
  assert.equal(acked.outcome.last_action, 'acknowledge ep-W005-R1 202');
  assert.deepEqual([acked.outcome.rows.W005.bp.text, acked.outcome.rows.W005.bp.abnormal, acked.outcome.rows.W005.bp.red],
    ['182/112↑', true, true]);
  assert.deepEqual(acked.outcome.episodes.map((e) => [e.id, e.acknowledged]), [['ep-W005-R1', true]]);
  assert.deepEqual((await fixtureJson('/__fixture/acks')).at(-1).body,
    { worker_id: 'W005', episode_id: 'ep-W005-R1', rule: 'R1', action: 'acknowledge' });
  // Acknowledged now, its card offers no such button: the probe fails and says why.
  const again = probe('--url', `${base}/grid/G02?t=unit-token`, '--acknowledge', 'ep-W005-R1');
  assert.equal(again.status, 1);
  assert.match(again.outcome.error, /no element article\[data-episode-id="ep-W005-R1"\] button/);
});

await check('no page threw, logged an error or broke its content security policy', async () => {
  // The expired pages answer 401/403 and a closed episode 409, which the browser logs as failed resources.
  const problems = page.problems.filter((p) => !(p.kind === 'log:network:error' && / (401|403|409) /.test(p.text)));
  assert.deepEqual(problems, []);
});

clearTimeout(deadline);
for (const cleanup of cleanups.reverse()) await cleanup();
const passed = results.filter(Boolean).length;
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);
