// Jobyard's dashboard: plain DOM code over the REST API. Every value from the engine is put in
// the page as text (textContent, never innerHTML), so a job named <script>… stays a name.
'use strict';

const TOKEN_KEY = 'jobyard.token'; // sessionStorage: this tab only, gone when it closes
const REFRESH_MS = 1000;
const MAX_ROWS = 500;
const LOG_LINES = 50;
const STATES = ['QUEUED', 'SUBMITTING', 'PENDING', 'RUNNING', 'PAUSED', 'CANCELLING',
  'SUCCEEDED', 'FAILED', 'CANCELLED'];
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

const $ = (id) => document.getElementById(id);
let timer = null;
let busy = false;
// what the job list and the counts show now: redrawn only when they change, so clicks land
let drawn = '';
let counted = '';

class AuthError extends Error {}

/** Builds an element; string children become text nodes. */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function show(id) {
  for (const page of ['login-page', 'jobs-page', 'job-page']) $(page).hidden = page !== id;
  const inside = id !== 'login-page';
  $('who').hidden = !inside;
  $('logout').hidden = !inside;
  $('live').hidden = !inside;
}

function pageError(message) {
  $('page-error').textContent = message || '';
  $('page-error').hidden = !message;
}

/** Calls the API with the tab's token; a refused token ends the session. */
async function api(path, options) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new AuthError('no token');
  const opts = Object.assign({ cache: 'no-store', credentials: 'omit' }, options || {});
  opts.headers = Object.assign({ Authorization: 'Bearer ' + token }, opts.headers || {});
  const r = await fetch(path, opts);
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    throw new AuthError('the token is not valid');
  }
  return r;
}

async function json(path, options) {
  const r = await api(path, options);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const msg = body && body.error ? body.error.message : r.status + ' ' + r.statusText;
    throw new Error(msg);
  }
  return body;
}

function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

function stateBadge(state) {
  return el('span', { class: 'state ' + state }, state.toLowerCase());
}

// ---------------------------------------------------------------------------- log in / out

function showLogin(message) {
  stopRefresh();
  drawn = '';
  counted = '';
  show('login-page');
  $('job-rows').replaceChildren();
  $('counts').replaceChildren();
  $('login-error').textContent = message || '';
  $('login-error').hidden = !message;
  $('token').value = '';
  $('token').focus();
}

async function logIn(event) {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  await start();
}

function logOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.hash = '#/';
  showLogin('');
}

async function start() {
  try {
    const me = await json('/api/v1/health');
    $('who').textContent = me.user + (me.admin ? ' (admin: all jobs)' : '');
    $('login-error').hidden = true;
    route();
  } catch (e) {
    if (e instanceof AuthError) {
      showLogin(sessionStorage.getItem(TOKEN_KEY) === null && e.message !== 'no token'
        ? 'That token is not valid for this engine.' : '');
    } else {
      showLogin('The engine did not answer: ' + e.message);
    }
  }
}

// ---------------------------------------------------------------------------- pages

function route() {
  pageError('');
  const m = location.hash.match(/^#\/job\/([A-Za-z0-9._-]+)$/);
  if (m) {
    show('job-page');
    $('action-message').textContent = '';
    startRefresh(() => refreshJob(m[1]));
  } else {
    show('jobs-page');
    startRefresh(refreshJobs);
  }
}

function startRefresh(fn) {
  stopRefresh();
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await fn();
      pageError('');
    } catch (e) {
      if (e instanceof AuthError) {
        showLogin('Your session ended: the token is no longer valid.');
        return;
      }
      pageError('Cannot refresh: ' + e.message);
    } finally {
      busy = false;
    }
  };
  tick();
  timer = setInterval(tick, REFRESH_MS);
}

function stopRefresh() {
  if (timer !== null) clearInterval(timer);
  timer = null;
}

// ---------------------------------------------------------------------------- the job list

async function refreshJobs() {
  const body = await json('/api/v1/jobs');
  if ($('jobs-page').hidden) return; // the user moved on while we waited
  const jobs = body.jobs || [];
  renderCounts(jobs);
  const state = $('filter-state').value;
  const session = $('filter-session').value.trim();
  const name = $('filter-name').value.trim().toLowerCase();
  const shown = jobs.filter((j) => (!state || j.state === state)
    && (!session || (j.session || '') === session)
    && (!name || j.name.toLowerCase().includes(name)));
  shown.sort((a, b) => (b.created_at || '').localeCompare(a.created_at || ''));
  const signature = JSON.stringify([shown.slice(0, MAX_ROWS), shown.length, jobs.length]);
  if (signature === drawn) return;
  drawn = signature;
  const rows = shown.slice(0, MAX_ROWS).map((j) => {
    const tr = el('tr', { 'data-job-id': j.id, 'data-state': j.state },
      el('td', { class: 'name' }, el('a', { href: '#/job/' + encodeURIComponent(j.id) }, j.name)),
      el('td', { class: 'state-cell' }, stateBadge(j.state)),
      el('td', {}, j.cluster || ''),
      el('td', {}, j.session || ''),
      el('td', {}, j.owner),
      el('td', { class: 'num' }, j.attempt),
      el('td', { class: 'num' }, j.exit_code === null || j.exit_code === undefined ? '' : j.exit_code),
      el('td', {}, when(j.updated_at)),
      el('td', { class: 'id' }, j.id));
    tr.addEventListener('click', (ev) => {
      if (ev.target.tagName !== 'A') location.hash = '#/job/' + encodeURIComponent(j.id);
    });
    return tr;
  });
  $('job-rows').replaceChildren(...rows);
  $('no-jobs').hidden = shown.length > 0;
  $('shown').textContent = shown.length > MAX_ROWS
    ? `showing the newest ${MAX_ROWS} of ${shown.length} matching jobs (${jobs.length} in all)`
    : `${shown.length} of ${jobs.length} jobs`;
}

function renderCounts(jobs) {
  const byState = new Map(STATES.map((s) => [s, new Map()]));
  for (const j of jobs) {
    const clusters = byState.get(j.state) || new Map();
    const c = j.cluster || '—';
    clusters.set(c, (clusters.get(c) || 0) + 1);
    byState.set(j.state, clusters);
  }
  const signature = JSON.stringify([...byState].map(([s, m]) => [s, [...m]]));
  if (signature === counted) return;
  counted = signature;
  const cards = [el('div', { class: 'count total', 'data-state': 'TOTAL' },
    el('div', { class: 'n' }, jobs.length), el('div', { class: 'label' }, 'jobs'))];
  for (const [state, clusters] of byState) {
    let n = 0;
    for (const v of clusters.values()) n += v;
    if (n === 0 && !['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'].includes(state)) continue;
    const split = [...clusters].sort().map(([c, v]) => `${c} ${v}`).join(' · ');
    const card = el('div', { class: 'count ' + state.toLowerCase(), 'data-state': state },
      el('div', { class: 'n' }, n), el('div', { class: 'label' }, state),
      el('div', { class: 'split' }, split));
    card.title = 'show only ' + state.toLowerCase() + ' jobs';
    card.addEventListener('click', () => {
      $('filter-state').value = $('filter-state').value === state ? '' : state;
      refreshJobs().catch(() => {});
    });
    cards.push(card);
  }
  $('counts').replaceChildren(...cards);
}

// ---------------------------------------------------------------------------- one job

async function refreshJob(id) {
  const q = encodeURIComponent(id);
  const body = await json('/api/v1/jobs?id=' + q);
  if ($('job-page').hidden) return;
  const job = (body.jobs || [])[0];
  if (!job) {
    $('job-title').textContent = 'No job ' + id;
    $('job-fields').replaceChildren(el('dt', {}, 'note'),
      el('dd', {}, 'it does not exist, was flushed, or is not yours'));
    $('attempt-rows').replaceChildren();
    $('kill').disabled = true;
    $('restart').disabled = true;
    return;
  }
  $('job-title').textContent = job.name;
  $('job-page').setAttribute('data-state', job.state);
  const fields = [['id', job.id], ['state', stateBadge(job.state)], ['wanted', job.desired],
    ['owner', job.owner], ['session', job.session || ''], ['cluster', job.cluster || ''],
    ['native id', job.native_id || ''], ['attempt', job.attempt],
    ['exit code', job.exit_code === null || job.exit_code === undefined ? '' : job.exit_code],
    ['reason', job.reason || ''], ['created', when(job.created_at)],
    ['updated', when(job.updated_at)]];
  $('job-fields').replaceChildren(...fields.flatMap(([k, v]) =>
    [el('dt', {}, k), el('dd', { 'data-field': k }, v)]));
  $('kill').disabled = TERMINAL.has(job.state);
  $('restart').disabled = !TERMINAL.has(job.state);

  const attempts = (await json('/api/v1/jobs/' + q + '/attempts')).attempts || [];
  $('attempt-rows').replaceChildren(...attempts.map((a) => el('tr', {},
    el('td', { class: 'num' }, a.attempt), el('td', {}, a.cluster), el('td', {}, a.backend),
    el('td', {}, a.native_id || ''), el('td', {}, a.native_state || ''),
    el('td', {}, stateBadge(a.state)),
    el('td', { class: 'num' }, a.exit_code === null || a.exit_code === undefined ? '' : a.exit_code),
    el('td', {}, a.reason || ''), el('td', {}, when(a.created_at)),
    el('td', {}, when(a.updated_at)))));

  for (const stream of ['stdout', 'stderr']) {
    const r = await api(`/api/v1/jobs/${q}/logs?stream=${stream}&lines=${LOG_LINES}`);
    const text = await r.text();
    if (r.ok) {
      $(stream).textContent = text;
    } else {
      let msg = text;
      try { msg = JSON.parse(text).error.message; } catch (e) { /* not JSON: show as is */ }
      $(stream).textContent = '(' + msg + ')';
    }
  }
}

async function act(verb) {
  const m = location.hash.match(/^#\/job\/([A-Za-z0-9._-]+)$/);
  if (!m) return;
  $('action-message').textContent = verb === 'kill' ? 'killing…' : 'restarting…';
  try {
    await json('/api/v1/jobs/' + verb, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ids: [m[1]] }),
    });
    $('action-message').textContent = verb === 'kill' ? 'kill sent' : 'restarted';
    await refreshJob(m[1]);
  } catch (e) {
    if (e instanceof AuthError) showLogin('Your session ended: the token is no longer valid.');
    else $('action-message').textContent = verb + ' refused: ' + e.message;
  }
}

// ---------------------------------------------------------------------------- wiring

document.addEventListener('DOMContentLoaded', () => {
  for (const s of STATES) $('filter-state').append(el('option', { value: s }, s.toLowerCase()));
  $('login-form').addEventListener('submit', logIn);
  $('logout').addEventListener('click', logOut);
  $('kill').addEventListener('click', () => act('kill'));
  $('restart').addEventListener('click', () => act('restart'));
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  for (const f of ['filter-state', 'filter-session', 'filter-name']) {
    $(f).addEventListener('input', () => refreshJobs().catch(() => {}));
  }
  window.addEventListener('hashchange', () => {
    if (sessionStorage.getItem(TOKEN_KEY)) route();
  });
  if (sessionStorage.getItem(TOKEN_KEY)) start();
  else showLogin('');
});
