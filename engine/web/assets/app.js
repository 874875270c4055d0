// The grid view's script: takes the token from the page's URL, reads alertd's /api/v1 with it and draws a
// grid's or unit's view or one worker's page. Data enters the page as text nodes only, never as HTML.
'use strict';
(() => {
  const REFRESH_MS = 30000;
  const token = new URLSearchParams(location.search).get('t') || '';
  const [, kind, rawId] = location.pathname.split('/');
  const pageId = decodeURIComponent(rawId || '');
  const body = document.body;

  // ---- words: Simplified Chinese first, English beside it
  const SEVERITY = { INFO: ['提示', 'Info'], HIGH: ['高', 'High'], URGENT: ['紧急', 'Urgent'], CRITICAL: ['危急', 'Critical'] };
  const LEVEL = {
    WORKER: ['职工本人', 'Worker'],
    HEALTH_MANAGER: ['健康管理员', 'Health manager'],
    UNIT_SUPERVISOR: ['单位主管', 'Unit supervisor'],
  };
  const STATE = {
    OPEN: ['首次通知', 'Opened'],
    ESCALATED: ['已升级', 'Escalated'],
    RENOTIFIED: ['再次通知', 'Re-sent'],
    RESOLVED: ['已解除', 'Resolved'],
  };
  // A recipient's role is named like the level that reaches them; EXTRA are the worker's own additions.
  const ROLE = { ...LEVEL, EXTRA: ['另行通知', 'Also told'] };
  // Keys without '_' or '-': the API may spell them "grade_1" (the engine's labels) or "grade1".
  const CATEGORY = {
    normal: ['正常', 'normal'],
    highnormal: ['正常高值', 'high-normal'],
    elevated: ['正常高值', 'elevated'],
    grade1: ['1级高血压', 'grade 1'],
    grade2: ['2级高血压', 'grade 2'],
    grade3: ['3级高血压', 'grade 3'],
  };
  const POST = {
    driver: ['驾驶', 'driving'],
    work_at_height: ['高处作业', 'work at height'],
    hot_work: ['动火作业', 'hot work'],
    confined_space: ['受限空间作业', 'confined space'],
    electrical: ['电工作业', 'electrical work'],
  };
  const words = (table, key) => {
    const w = table[key];
    return w ? `${w[0]} ${w[1]}` : String(key ?? '');
  };
  const categoryWords = (category) => words(CATEGORY, String(category || '').replace(/[_-]/g, ''));

  // ---- times
  const pad = (n) => String(n).padStart(2, '0');
  const clock = (ms) => {
    const d = new Date(ms);
    return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  };
  const span = (ms) => {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    if (minutes < 1) return null;
    if (minutes < 60) return [`${minutes}分钟`, `${minutes} min`];
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return [`${hours}小时`, `${hours} h`];
    const days = Math.floor(hours / 24);
    return [`${days}天`, `${days} d`];
  };
  const ago = (ms) => {
    const s = span(Date.now() - ms);
    return s ? `${s[0]}前 / ${s[1]} ago` : '刚刚 / just now';
  };
  const overdueFor = (dueMs) => {
    const s = span(Date.now() - dueMs);
    return s ? `逾期${s[0]} / ${s[1]} overdue` : '刚逾期 / just overdue';
  };
  const fromNow = (ms) => {
    const s = span(ms - Date.now());
    return s ? `${s[0]}后 / in ${s[1]}` : '即将 / now';
  };

  // ---- DOM: attributes and text only
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      e.append(child instanceof Node ? child : String(child));
    }
    return e;
  }
  const SVG_NS = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, ...children) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const child of children) e.append(child instanceof Node ? child : String(child));
    return e;
  }
  const $ = (id) => document.getElementById(id);
  const fill = (id, ...children) => $(id).replaceChildren(...children.flat());

  // The arrow says which way the value is off, so red is never the only sign.
  function value(text, abnormal, direction) {
    if (!abnormal) return h('span', { class: 'value' }, text);
    return h('span', { class: 'value abnormal', title: '异常 Abnormal' }, text,
      h('span', { class: 'marker', 'aria-label': '异常 abnormal' }, direction === 'low' ? '↓' : '↑'));
  }
  // Below 3.9 mmol/L is hypoglycaemia whatever a worker's thresholds; the server alone decides "abnormal".
  const glucoseDirection = (g, low) => (g.mmol_per_l < (low ?? 3.9) ? 'low' : 'high');
  const glucoseText = (g) => `${Number(g.mmol_per_l).toFixed(1)}`;
  const pageLink = (path, id, text) => h('a', { href: `/${path}/${encodeURIComponent(id)}?t=${encodeURIComponent(token)}` }, text);

  // ---- the API
  class LinkRefused extends Error {
    constructor(status) {
      super(`status ${status}`);
      this.status = status;
    }
  }
  async function api(path, options = {}) {
    const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (options.body) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method: options.method || 'GET', headers, cache: 'no-store',
      body: options.body ? JSON.stringify(options.body) : undefined,
    });
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      json = null;  // an answer that is not JSON is reported by its status below
    }
    if (res.status === 401 || res.status === 403) throw new LinkRefused(res.status);
    return { status: res.status, json };
  }

  // ---- notices
  let flash = null;  // the outcome of the last button, kept through the refresh it causes
  function notice(cls, zh, en) {
    return h('div', { class: `notice ${cls}` }, h('strong', {}, zh), ' ', h('span', { lang: 'en' }, en));
  }
  function showExpired(status) {
    stopRefresh();
    body.dataset.state = 'expired';
    const main = document.querySelector('main');
    main.replaceChildren(h('div', { class: 'notice expired', id: 'expired' },
      h('h1', {}, '链接已过期 ', h('span', { lang: 'en' }, 'Link expired')),
      h('p', {}, status === 403 ? '此链接无权查看此页。请打开最新消息中的链接。' : '此链接已过期。请打开最新消息中的链接。'),
      h('p', { lang: 'en' }, status === 403 ? 'This link does not cover this page. Open the link in the newest message.'
        : 'This link has expired. Open the link in the newest message.')));
    $('updated').textContent = '';
  }
  function partialNotice(answers) {
    const partial = answers.filter((a) => a && a.partial);
    if (partial.length === 0) return null;
    const missing = [...new Set(partial.flatMap((a) => a.missing_partitions || []))].sort((x, y) => x - y);
    const which = missing.length ? `（分区 ${missing.join(', ')}）` : '';
    return h('div', { class: 'notice', id: 'partial' }, h('strong', {}, `部分数据暂不可用${which}`), ' ',
      h('span', { lang: 'en' }, `Some partitions did not answer${missing.length ? ` (${missing.join(', ')})` : ''}; the list may be incomplete.`));
  }

  // ---- escalations and their buttons
  function ackLine(ep) {
    const lines = [];
    if (ep.acknowledged) {
      const who = ep.acked_by ? (ep.acked_by.name || ep.acked_by.id) : '';
      lines.push(h('p', { class: 'acked' }, '已确认 Acknowledged: ', h('strong', {}, who),
        ep.acked_at_ms ? ` · ${clock(ep.acked_at_ms)} (${ago(ep.acked_at_ms)})` : ''));
    } else {
      lines.push(h('p', { class: 'unacked' }, '未确认 Not acknowledged'));
    }
    if (ep.snoozed_until_ms && ep.snoozed_until_ms > Date.now()) {
      lines.push(h('p', { class: 'meta' }, `暂缓至 Snoozed until ${clock(ep.snoozed_until_ms)}`));
    }
    if (ep.next_deadline_ms) {
      lines.push(h('p', { class: 'meta' }, `下一步 Next step: ${clock(ep.next_deadline_ms)} (${fromNow(ep.next_deadline_ms)})`));
    }
    return lines;
  }
  // ---- who was told and when
  const person = (r) => h('span', { class: 'person' }, r.name || r.staff_id, ' ',
    h('small', { class: 'inline' }, words(ROLE, r.role)));
  const people = (recipients) => (recipients && recipients.length ? recipients.map(person)
    : [h('span', { class: 'none' }, '无人 Nobody')]);
  // The grid's cards: the newest step only.
  function toldLine(ep) {
    if (!ep.told) return null;
    return h('p', { class: 'meta told' }, `最近通知 Last told ${clock(ep.told.at_ms)}: `,
      people(ep.told.recipients).flatMap((p, i) => (i ? ['、', p] : [p])));
  }
  // The worker's page: every step kept, oldest first; a jump in the sequence is steps the engine
  // no longer keeps (it keeps the first and the newest few).
  function historyTable(ep) {
    const steps = ep.history || [];
    if (!steps.length) return h('p', { class: 'none told-none' }, '无通知记录 No record of who was told');
    const rows = [];
    steps.forEach((step, i) => {
      const skipped = i > 0 ? step.sequence - steps[i - 1].sequence - 1 : 0;
      if (skipped > 0) {
        rows.push(h('tr', { class: 'skipped' }, h('td', { colspan: '4', class: 'none' },
          `…… 另有${skipped}条未保留 / ${skipped} earlier step${skipped > 1 ? 's' : ''} not kept`)));
      }
      rows.push(h('tr', { 'data-sequence': String(step.sequence), class: `state-${step.state}` },
        h('td', { class: 'when' }, clock(step.at_ms)),
        h('td', { class: 'level' }, words(LEVEL, step.level)),
        h('td', { class: 'state' }, words(STATE, step.state)),
        h('td', { class: 'recipients' }, people(step.recipients))));
    });
    return h('table', { class: 'told', 'data-episode-id': ep.episode_id },
      h('caption', {}, '通知记录 ', h('span', { lang: 'en' }, '/ Who was told')),
      h('thead', {}, h('tr', {}, h('th', { class: 'when' }, '时间 Time'), h('th', { class: 'level' }, '级别 Level'),
        h('th', { class: 'state' }, '状态 State'), h('th', { class: 'recipients' }, '通知对象 Recipients'))),
      h('tbody', {}, rows));
  }
  function tomorrowAtEight() {
    const d = new Date();
    d.setDate(d.getDate() + 1);
    d.setHours(8, 0, 0, 0);
    return d.getTime();
  }
  function actions(ep) {
    const result = h('p', { class: 'result', role: 'status' });
    const row = h('div', { class: 'actions' });
    const choice = h('div', { class: 'snooze-choice', hidden: 'hidden' });
    const send = async (action, snoozeUntilMs) => {
      for (const b of card.querySelectorAll('button')) b.disabled = true;
      result.textContent = '发送中… Sending…';
      const ack = { worker_id: ep.worker_id, episode_id: ep.episode_id, rule: ep.rule, action };
      if (action === 'snooze') ack.snooze_until_ms = snoozeUntilMs;
      let answer;
      try {
        answer = await api('/api/v1/acks', { method: 'POST', body: ack });
      } catch (e) {
        if (e instanceof LinkRefused) return showExpired(e.status);
        result.textContent = '无法连接服务器 Cannot reach the server';
        for (const b of card.querySelectorAll('button')) b.disabled = false;
        return undefined;
      }
      const name = ep.worker_name || ep.worker_id;
      body.dataset.lastAction = `${action} ${ep.episode_id} ${answer.status}`;  // for tests driving the page
      if (answer.status === 202) {
        const done = { acknowledge: ['已确认', 'acknowledged'], resolve: ['已解除', 'resolved'], snooze: ['已暂缓', 'snoozed'] }[action];
        flash = notice('ok', `${name}：${ep.rule} ${done[0]}`, `${ep.rule} ${done[1]}; the view shows it once alertd has applied it.`);
      } else if (answer.status === 409) {
        flash = notice('', `${name}：${ep.rule} 该预警已关闭`, 'This escalation is already closed.');
      } else {
        result.textContent = `发送失败 Not sent (${answer.status}): ${(answer.json && answer.json.error) || ''}`;
        for (const b of card.querySelectorAll('button')) b.disabled = false;
        return undefined;
      }
      return refresh();
    };
    if (!ep.acknowledged) {
      row.append(h('button', { class: 'primary', 'data-action': 'acknowledge', onclick: () => send('acknowledge') }, '确认 Acknowledge'));
    }
    row.append(h('button', { 'data-action': 'resolve', onclick: () => send('resolve') }, '解除 Resolve'));
    row.append(h('button', { 'data-action': 'snooze', onclick: () => { choice.hidden = !choice.hidden; } }, '暂缓 Snooze'));
    choice.append('暂缓到 Until:',
      h('button', { 'data-snooze': '1h', onclick: () => send('snooze', Date.now() + 3600e3) }, '1小时 1 h'),
      h('button', { 'data-snooze': '4h', onclick: () => send('snooze', Date.now() + 4 * 3600e3) }, '4小时 4 h'),
      h('button', { 'data-snooze': 'tomorrow', onclick: () => send('snooze', tomorrowAtEight()) }, '明早8点 Tomorrow 08:00'),
      h('button', { 'data-snooze': 'cancel', onclick: () => { choice.hidden = true; } }, '取消 Cancel'));
    const card = h('div', {}, row, choice, result);
    return card;
  }
  function episodeCard(ep, withWorker) {
    return h('article', { class: `episode sev-${ep.severity}`, 'data-episode-id': ep.episode_id, 'data-worker-id': ep.worker_id },
      withWorker ? h('p', { class: 'who' }, pageLink('worker', ep.worker_id, ep.worker_name || ep.worker_id), ' ',
        h('small', { class: 'inline' }, ep.worker_id)) : null,
      h('p', {}, h('strong', {}, `${ep.rule} ${ep.rule_zh || ''}`), ' ', h('span', { lang: 'en' }, ep.rule_en || '')),
      h('p', {}, h('span', { class: `badge sev-${ep.severity}` }, words(SEVERITY, ep.severity)), ' ',
        h('span', { class: 'level' }, `级别 Level: ${words(LEVEL, ep.level)}`)),
      h('p', { class: 'meta age' }, `开始 Opened ${clock(ep.opened_at_ms)} · ${ago(ep.opened_at_ms)}`,
        ep.trigger_count > 1 ? ` · 触发${ep.trigger_count}次 / triggered ${ep.trigger_count}×` : ''),
      ackLine(ep),
      withWorker ? toldLine(ep) : null,
      actions(ep),
      withWorker ? null : historyTable(ep));
  }
  function escalationList(episodes, withWorker) {
    if (!episodes.length) return [h('p', { class: 'none' }, '无待处理预警 No open escalations')];
    return episodes.map((ep) => episodeCard(ep, withWorker));
  }

  // ---- the grid or unit view
  function workerRow(w) {
    const bp = w.latest_bp;
    const g = w.latest_glucose;
    return h('tr', { 'data-worker-id': w.id },
      h('td', { class: 'name' }, pageLink('worker', w.id, w.name || w.id), h('small', {}, w.id)),
      bp ? h('td', { class: 'bp' }, value(`${bp.systolic}/${bp.diastolic}`, bp.abnormal, 'high'), h('small', {}, clock(bp.measured_at_ms)))
        : h('td', { class: 'bp none' }, '—'),
      g ? h('td', { class: 'glucose' }, value(glucoseText(g), g.abnormal, glucoseDirection(g)), h('small', {}, clock(g.measured_at_ms)))
        : h('td', { class: 'glucose none' }, '—'),
      h('td', { class: 'alerts' }, w.open_episodes
        ? h('span', { class: `badge sev-${w.highest_severity}` }, String(w.open_episodes)) : h('span', { class: 'none' }, '0')));
  }
  async function loadGrid() {
    const base = `/api/v1/${kind === 'unit' ? 'units' : 'grids'}/${encodeURIComponent(pageId)}`;
    const [workers, escalations, compliance] = await Promise.all(
      ['workers', 'escalations', 'compliance'].map((part) => api(`${base}/${part}`)));
    $('title').textContent = `${kind === 'unit' ? '单位 Unit' : '网格 Grid'} ${pageId}`;
    document.title = `${$('title').textContent} · alertd`;
    const notices = [flash, partialNotice([workers.json, escalations.json, compliance.json])];
    flash = null;
    for (const [answer, zh, en] of [[workers, '职工', 'workers'], [escalations, '预警', 'escalations'], [compliance, '自测', 'self-tests']]) {
      if (answer.status !== 200) notices.push(notice('', `${zh}暂不可用（${answer.status}）`, `Could not load the ${en} (${answer.status}).`));
    }
    if (workers.json && workers.json.truncated) {
      notices.push(notice('', `仅显示前 ${workers.json.workers.length} 名职工`, `Only the first ${workers.json.workers.length} workers are shown.`));
    }
    fill('notices', notices.filter(Boolean));
    if (escalations.status === 200) fill('escalations', escalationList(escalations.json.escalations || [], true));
    if (workers.status === 200) {
      const rows = (workers.json.workers || []).map(workerRow);
      document.querySelector('#workers tbody').replaceChildren(...(rows.length ? rows
        : [h('tr', {}, h('td', { colspan: '4', class: 'none' }, '无职工 No workers'))]));
    }
    if (compliance.status === 200) {
      const c = compliance.json;
      $('compliance').textContent = `已登记 Enrolled ${c.enrolled} · 本周已测 Tested this week ${c.tested_this_week}`;
      const overdue = c.overdue || [];
      fill('overdue', overdue.length ? overdue.map((o) => h('li', { 'data-worker-id': o.worker_id },
        pageLink('worker', o.worker_id, o.name || o.worker_id), ' ',
        h('span', { class: 'abnormal' }, `应测 Due ${clock(o.due_at_ms)} · ${overdueFor(o.due_at_ms)}`)))
        : [h('li', { class: 'none' }, '无 None')]);
    }
  }

  // ---- one worker's page
  function drawPanel(svg, top, height, spec) {
    const { x, series, thresholds, title, unit } = spec;
    const values = series.flatMap((sr) => sr.points.map((p) => p.v)).concat(thresholds.map((t) => t.value));
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    const margin = Math.max(5, (hi - lo) * 0.1);
    lo = Math.max(0, Math.floor(lo - margin));
    hi = Math.ceil(hi + margin);
    const y = (v) => top + height - ((v - lo) / (hi - lo)) * height;
    svg.append(s('text', { class: 'chart-title', x: x.left, y: top - 8 }, `${title} (${unit})`));
    svg.append(s('line', { class: 'axis', x1: x.left, x2: x.right, y1: top + height, y2: top + height }));
    svg.append(s('line', { class: 'axis', x1: x.left, x2: x.left, y1: top, y2: top + height }));
    for (let i = 0; i <= 4; i++) {
      const v = lo + ((hi - lo) * i) / 4;
      svg.append(s('text', { class: 'tick', x: x.left - 4, y: y(v) + 3, 'text-anchor': 'end' }, String(Math.round(v))));
    }
    for (const t of thresholds) {
      svg.append(s('line', {
        class: `threshold ${t.kind}`, x1: x.left, x2: x.right, y1: y(t.value), y2: y(t.value),
        'data-threshold': t.name, 'data-value': t.value,
      }));
      svg.append(s('text', { class: 'threshold-label', x: x.right - 2, y: y(t.value) - 2, 'text-anchor': 'end' }, `${t.label} ${t.value}`));
    }
    for (const sr of series) {
      if (sr.points.length > 1) {
        svg.append(s('polyline', { class: `series ${sr.name}`, points: sr.points.map((p) => `${x.at(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ') }));
      }
      for (const p of sr.points) {
        const dot = s('circle', {
          class: `point ${sr.name}${p.abnormal ? ' abnormal' : ''}`, cx: x.at(p.t).toFixed(1), cy: y(p.v).toFixed(1),
          r: p.abnormal ? 3.5 : 2.5, 'data-t': p.t,
        });
        dot.append(s('title', {}, p.label));
        svg.append(dot);
      }
    }
  }
  function drawChart(w) {
    const bp = w.bp || [];
    const glucose = w.glucose || [];
    if (!bp.length && !glucose.length) return [h('p', { class: 'none' }, '暂无读数 No readings in the window')];
    const th = w.thresholds || {};
    const times = bp.map((r) => r.measured_at_ms).concat(glucose.map((r) => r.measured_at_ms));
    const t0 = Math.min(...times);
    const t1 = Math.max(Date.now(), ...times);
    // Drawn at the container's own width, so its text keeps its size on a phone.
    const width = Math.max(300, Math.min(960, Math.round($('chart').getBoundingClientRect().width) || 640));
    const x = { left: 40, right: width - 8 };
    x.at = (t) => x.left + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (x.right - x.left);
    const bpTop = 24;
    const bpHeight = glucose.length ? 200 : 240;
    const gTop = bpTop + bpHeight + 44;
    const gHeight = 130;
    const height = glucose.length ? gTop + gHeight + 28 : bpTop + bpHeight + 28;
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': '血压和血糖趋势 Blood pressure and glucose readings' });
    // The server flags a reading; a point is red where its own value crosses the worker's threshold, both
    // points when the flag has another cause.
    const over = (r) => {
      const sys = r.systolic >= (th.bp_high_systolic ?? Infinity);
      const dia = r.diastolic >= (th.bp_high_diastolic ?? Infinity);
      return { sys: r.abnormal && (sys || !dia), dia: r.abnormal && (dia || !sys) };
    };
    if (bp.length) {
      const label = (r) => `${clock(r.measured_at_ms)} ${r.systolic}/${r.diastolic} mmHg ${categoryWords(r.category)}`;
      drawPanel(svg, bpTop, bpHeight, {
        x, title: '血压 Blood pressure', unit: 'mmHg',
        series: [
          { name: 'systolic', points: bp.map((r) => ({ t: r.measured_at_ms, v: r.systolic, abnormal: over(r).sys, label: label(r) })) },
          { name: 'diastolic', points: bp.map((r) => ({ t: r.measured_at_ms, v: r.diastolic, abnormal: over(r).dia, label: label(r) })) },
        ],
        thresholds: [
          ['bp_high_systolic', '收缩压 SBP', ''], ['bp_high_diastolic', '舒张压 DBP', ''],
          ['bp_critical_systolic', '危急 Critical SBP', 'critical'], ['bp_critical_diastolic', '危急 Critical DBP', 'critical'],
        ].filter(([name]) => typeof th[name] === 'number').map(([name, lbl, k]) => ({ name, label: lbl, kind: k, value: th[name] })),
      });
    }
    if (glucose.length) {
      drawPanel(svg, bp.length ? gTop : bpTop, gHeight, {
        x, title: '血糖 Glucose', unit: 'mmol/L',
        series: [{
          name: 'glucose',
          points: glucose.map((r) => ({
            t: r.measured_at_ms, v: r.mmol_per_l, abnormal: !!r.abnormal,
            label: `${clock(r.measured_at_ms)} ${glucoseText(r)} mmol/L ${r.fasting ? '空腹 fasting' : '随机 random'}`,
          })),
        }],
        thresholds: [['glucose_high_mmol', '高 High', ''], ['glucose_low_mmol', '低 Low', 'critical']]
          .filter(([name]) => typeof th[name] === 'number').map(([name, lbl, k]) => ({ name, label: lbl, kind: k, value: th[name] })),
      });
    }
    const axisY = height - 8;
    const steps = width < 500 ? 2 : 4;
    for (let i = 0; i <= steps; i++) {
      const t = t0 + ((t1 - t0) * i) / steps;
      const d = new Date(t);
      svg.append(s('text', { class: 'tick', x: x.at(t), y: axisY, 'text-anchor': i === 0 ? 'start' : i === steps ? 'end' : 'middle' },
        `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`));
    }
    const legend = h('div', { class: 'legend' },
      h('span', {}, h('span', { class: 'swatch systolic' }), '收缩压 Systolic'),
      h('span', {}, h('span', { class: 'swatch diastolic' }), '舒张压 Diastolic'),
      h('span', {}, h('span', { class: 'swatch glucose' }), '血糖 Glucose'),
      h('span', {}, h('span', { class: 'swatch abnormal' }), '异常 Abnormal'),
      h('span', {}, h('span', { class: 'swatch threshold' }), '本人阈值 Own thresholds'));
    return [svg, legend];
  }
  function readingRows(w) {
    const th = w.thresholds || {};
    const rows = (w.bp || []).map((r) => ({
      t: r.measured_at_ms, kind: 'bp',
      reading: [h('span', {}, '血压 BP '), value(`${r.systolic}/${r.diastolic}`, r.abnormal, 'high'), ' mmHg',
        r.pulse ? h('small', {}, `脉搏 Pulse ${r.pulse}`) : null],
      category: categoryWords(r.category),
    })).concat((w.glucose || []).map((r) => ({
      t: r.measured_at_ms, kind: 'glucose',
      reading: [h('span', {}, '血糖 Glucose '), value(glucoseText(r), r.abnormal, glucoseDirection(r, th.glucose_low_mmol)), ' mmol/L'],
      category: r.fasting ? '空腹 Fasting' : '随机 Random',
    })));
    rows.sort((a, b) => b.t - a.t);
    return rows.slice(0, 12).map((r) => h('tr', { class: r.kind }, h('td', {}, clock(r.t)), h('td', {}, r.reading), h('td', {}, r.category)));
  }
  function selfTestLine(st) {
    if (!st || !st.enrolled) return ['未参加每周自测 Not enrolled in the weekly self-test'];
    const parts = [];
    if (st.due_at_ms) {
      parts.push(st.due_at_ms < Date.now()
        ? h('span', { class: 'abnormal' }, `已逾期 Overdue since ${clock(st.due_at_ms)} (${ago(st.due_at_ms)})`)
        : `应测 Due ${clock(st.due_at_ms)} (${fromNow(st.due_at_ms)})`);
    }
    if (st.newest_bp_at_ms) parts.push(` · 最近血压 Last BP ${clock(st.newest_bp_at_ms)}`);
    return parts;
  }
  let shownWorker = null;
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (shownWorker && $('chart')) fill('chart', drawChart(shownWorker)); }, 200);
  });
  async function loadWorker() {
    const answer = await api(`/api/v1/workers/${encodeURIComponent(pageId)}`);
    if (answer.status === 404) {
      fill('notices', notice('', '未找到该职工', `Unknown worker ${pageId}.`));
      return;
    }
    if (answer.status !== 200) {
      fill('notices', notice('', `暂不可用（${answer.status}）`, `Could not load this worker (${answer.status}).`));
      return;
    }
    const w = answer.json;
    const p = w.worker || {};
    $('title').textContent = `${p.name || p.id} ${p.id}`;
    document.title = `${p.name || p.id} · alertd`;
    const posts = (p.posts || []).map((x) => words(POST, x)).join('、');
    $('profile').textContent = [`单位 Unit ${p.unit_id || '—'}`, `网格 Grid ${p.grid_id || '—'}`,
      posts ? `岗位 Posts: ${posts}` : '', (p.conditions || []).length ? `病史 Conditions: ${p.conditions.join(', ')}` : '']
      .filter(Boolean).join(' · ');
    fill('notices', [flash].filter(Boolean));
    flash = null;
    shownWorker = w;
    fill('chart', drawChart(w));
    fill('escalations', escalationList(w.episodes || [], false));
    const rows = readingRows(w);
    document.querySelector('#readings tbody').replaceChildren(...(rows.length ? rows
      : [h('tr', {}, h('td', { colspan: '3', class: 'none' }, '暂无读数 No readings'))]));
    fill('self-test', selfTestLine(w.self_test));
  }

  // ---- loading and refreshing
  let timer = null;
  let loads = 0;
  function stopRefresh() {
    clearTimeout(timer);
    timer = null;
  }
  async function refresh() {
    stopRefresh();
    if (!token) return showExpired(401);
    try {
      if (kind === 'worker') await loadWorker();
      else await loadGrid();
      body.dataset.state = 'loaded';
      $('updated').textContent = `更新于 Updated ${clock(Date.now())} · 每30秒刷新 refreshes every 30 s`;
    } catch (e) {
      if (e instanceof LinkRefused) return showExpired(e.status);
      body.dataset.state = 'error';
      fill('notices', notice('', '无法连接服务器，稍后重试', 'Cannot reach the server; retrying in 30 s.'));
    } finally {
      body.dataset.loads = String(++loads);
    }
    timer = setTimeout(refresh, REFRESH_MS);
    return undefined;
  }
  refresh();
})();
