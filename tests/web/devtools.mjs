// A small Chrome DevTools protocol client over --remote-debugging-pipe: drives Debian's chromium for the
// grid view's browser tests with node's standard library alone (no npm package, no port, no download).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Browser {
  // Starts headless chromium with a fresh profile; its DevTools messages travel on fds 3 (to it) and 4 (from it).
  static async launch({ executablePath, timeoutMs = 20000 }) {
    const userDataDir = mkdtempSync(path.join(tmpdir(), 'alertd-web-chromium-'));
    const args = [
      '--headless=new', '--remote-debugging-pipe', `--user-data-dir=${userDataDir}`,
      '--no-first-run', '--no-default-browser-check', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-extensions', '--disable-background-networking', '--disable-sync', '--disable-component-update',
      '--mute-audio', '--hide-scrollbars', '--lang=zh-CN', 'about:blank',
    ];
    // Chromium refuses to run as root inside its own sandbox; the pages it opens are the test's own.
    if (process.getuid && process.getuid() === 0) args.unshift('--no-sandbox');
    const child = spawn(executablePath, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    const browser = new Browser(child, userDataDir);
    const version = await browser.send('Browser.getVersion', {}, undefined, timeoutMs);
    browser.version = version.product;
    return browser;
  }

  constructor(child, userDataDir) {
    this.child = child;
    this.userDataDir = userDataDir;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Set();
    this.stderr = '';
    this.exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdio[2].on('data', (d) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    let buffer = '';
    child.stdio[4].on('data', (chunk) => {
      buffer += chunk.toString();
      for (let end = buffer.indexOf('\0'); end >= 0; end = buffer.indexOf('\0')) {
        this.dispatch(JSON.parse(buffer.slice(0, end)));
        buffer = buffer.slice(end + 1);
      }
    });
    child.once('exit', (code, signal) => {
      for (const { reject, method } of this.pending.values()) {
        reject(new Error(`chromium exited (${code ?? signal}) before answering ${method}:\n${this.stderr}`));
      }
      this.pending.clear();
    });
  }

  dispatch(message) {
    if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      else waiter.resolve(message.result);
      return;
    }
    for (const listener of [...this.listeners]) listener(message);
  }

  send(method, params = {}, sessionId = undefined, timeoutMs = 10000) {
    const id = this.nextId++;
    const message = { id, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from chromium in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, method, timer });
      this.child.stdio[3].write(`${JSON.stringify(message)}\0`);
    });
  }

  on(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async newPage() {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId);
    await page.init();
    return page;
  }

  async close() {
    try {
      await this.send('Browser.close', {}, undefined, 3000);
    } catch (e) {
      // Closing the pipe or killing it below ends chromium all the same.
    }
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(3000).then(() => true)]);
    if (timedOut) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}

export class Page {
  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.problems = [];  // uncaught exceptions, console errors, CSP violations: the test decides
  }

  send(method, params = {}, timeoutMs = 10000) {
    return this.browser.send(method, params, this.sessionId, timeoutMs);
  }

  async init() {
    this.browser.on((m) => {
      if (m.sessionId !== this.sessionId) return;
      if (m.method === 'Runtime.exceptionThrown') {
        this.problems.push({ kind: 'exception', text: m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text });
      } else if (m.method === 'Runtime.consoleAPICalled' && m.params.type === 'error') {
        this.problems.push({ kind: 'console', text: m.params.args.map((a) => a.value ?? a.description).join(' ') });
      } else if (m.method === 'Log.entryAdded') {
        this.problems.push({ kind: `log:${m.params.entry.source}:${m.params.entry.level}`, text: m.params.entry.text, url: m.params.entry.url });
      }
    });
    await Promise.all([this.send('Page.enable'), this.send('Runtime.enable'), this.send('Log.enable')]);
  }

  waitForEvent(method, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new Error(`no ${method} in ${timeoutMs} ms`)); }, timeoutMs);
      const off = this.browser.on((m) => {
        if (m.sessionId === this.sessionId && m.method === method) {
          clearTimeout(timer);
          off();
          resolve(m.params);
        }
      });
    });
  }

  async goto(url) {
    const loaded = this.waitForEvent('Page.loadEventFired');
    const { errorText } = await this.send('Page.navigate', { url });
    if (errorText) throw new Error(`navigating to ${url}: ${errorText}`);
    await loaded;
  }

  // Runs fn(...args) in the page and returns its (JSON) value; a thrown error comes back as an Error here.
  async evaluate(fn, ...args) {
    const expression = `(${fn.toString()})(${args.map((a) => JSON.stringify(a)).join(', ')})`;
    const { result, exceptionDetails } = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    return result.value;
  }

  async waitFor(fn, args = [], { timeoutMs = 8000, what = fn.toString() } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate(fn, ...args);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(50);
    }
  }

  // A real mouse click at the element's centre, refused if something else would receive it.
  async click(selector) {
    const point = await this.evaluate((sel) => {
      const e = document.querySelector(sel);
      if (!e) return { error: `no element ${sel}` };
      e.scrollIntoView({ block: 'center' });
      const r = e.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      const hit = document.elementFromPoint(x, y);
      if (!hit || (hit !== e && !e.contains(hit))) return { error: `${sel} is hidden or covered` };
      return { x, y };
    }, selector);
    if (point.error) throw new Error(point.error);
    const event = { x: point.x, y: point.y, button: 'left', clickCount: 1 };
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: point.x, y: point.y });
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...event });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...event });
  }

  async setViewport(width, height, { mobile = false, scale = 1 } = {}) {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: scale, mobile });
  }

  // The whole page, not just the viewport.
  async screenshot(file) {
    const { cssContentSize } = await this.send('Page.getLayoutMetrics');
    const { data } = await this.send('Page.captureScreenshot', {
      format: 'png', captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: Math.ceil(cssContentSize.width), height: Math.ceil(cssContentSize.height), scale: 1 },
    }, 20000);
    writeFileSync(file, Buffer.from(data, 'base64'));
    return file;
  }
}
