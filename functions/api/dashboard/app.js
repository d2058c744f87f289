// The dashboard's shell: header, navigation, language switch, sign-in, and the hash router
// (`#/mail?recipient=…`), so every screen with its filters can be bookmarked and the browser's
// back button works.

import { setToken, token } from './api.js';
import { lang, setLang, t } from './i18n.js';
import * as screens from './screens.js';
import { el, message } from './ui.js';

const ROUTES = {
  mail: screens.mail,
  message: screens.message_,
  recipient: screens.recipient,
  overview: screens.overview,
  access: screens.access,
  visits: screens.visits,
  stats: screens.stats,
  errors: screens.errors,
};

// Navigation entries; the timeline belongs to the mail screen.
const NAV = [
  ['mail', 'nav_mail'],
  ['recipient', 'nav_recipient'],
  ['overview', 'nav_overview'],
  ['access', 'nav_access'],
  ['visits', 'nav_visits'],
  ['stats', 'nav_stats'],
  ['errors', 'nav_errors'],
];

const state = {
  tz: 'Asia/Tokyo',
  signingIn: false,
  // Focus the results (after a search) rather than the title (after a screen change).
  focusResults: false,
  lastRoute: '',
};

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [name, query = ''] = raw.split('?');
  const params = Object.fromEntries(new URLSearchParams(query));
  return { name: ROUTES[name] ? name : 'mail', params };
}

function go(name, params = {}, { focusResults = false } = {}) {
  const kept = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  const q = new URLSearchParams(kept).toString();
  const hash = `#/${name}${q ? `?${q}` : ''}`;
  state.focusResults = focusResults;
  if (location.hash === hash) render();
  else location.hash = hash;
}

function header() {
  const { name } = parseHash();
  const current = name === 'message' ? 'mail' : name;
  document.title = t('app_title');
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('app_title'));
  nav.replaceChildren(
    el(
      'ul',
      {},
      NAV.map(([route, key]) =>
        el('li', {}, el('a', { href: `#/${route}`, 'aria-current': route === current ? 'page' : false }, t(key))),
      ),
    ),
  );
  const langButton = document.getElementById('lang-toggle');
  langButton.textContent = t('lang_switch');
  // The visible word is the accessible name (a voice-control user says what they see); the
  // longer sentence is the description.
  langButton.removeAttribute('aria-label');
  langButton.title = t('lang_switch_label');
  langButton.setAttribute('lang', lang() === 'ja' ? 'en' : 'ja');
  const out = document.getElementById('sign-out');
  out.textContent = t('sign_out');
  out.hidden = !token();
  const skip = document.getElementById('skip');
  skip.textContent = t('skip');
}

function signIn(again) {
  const main = document.getElementById('main');
  state.signingIn = true;
  const input = el('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const status = el('div', {});
  const form = el(
    'form',
    { class: 'signin', 'aria-labelledby': 'screen-title' },
    el('p', {}, t('signin_help')),
    again ? message('error', t('signin_again')) : null,
    el('div', { class: 'field' }, el('label', { for: 'token' }, t('signin_token')), input),
    status,
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, t('signin_submit'))),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = input.value.trim();
    if (!value) {
      status.replaceChildren(message('error', t('signin_empty')));
      input.focus();
      return;
    }
    setToken(value);
    state.signingIn = false;
    render();
  });
  main.replaceChildren(el('h2', { id: 'screen-title', tabindex: '-1' }, t('signin_title')), form);
  header();
  input.focus();
}

/** Called by a screen when the API answered 401: forget the token and ask again. */
function auth() {
  const hadToken = !!token();
  setToken('');
  signIn(hadToken);
}

function render() {
  if (state.signingIn) {
    signIn(false);
    return;
  }
  const { name, params } = parseHash();
  const main = document.getElementById('main');
  screens.destroyCharts();
  header();
  const ctx = {
    params,
    go,
    auth,
    tz: () => state.tz,
    setTz: (tz) => {
      state.tz = tz;
    },
  };
  ROUTES[name](main, ctx);
  const changed = state.lastRoute !== name;
  state.lastRoute = name;
  if (state.focusResults) {
    main.querySelector('.results')?.focus();
  } else if (changed) {
    document.getElementById('screen-title')?.focus();
  }
  state.focusResults = false;
}

function start() {
  setLang(lang());
  document.getElementById('lang-toggle').addEventListener('click', () => {
    setLang(lang() === 'ja' ? 'en' : 'ja');
    render();
    document.getElementById('lang-toggle').focus();
  });
  document.getElementById('sign-out').addEventListener('click', () => {
    setToken('');
    signIn(false);
  });
  // In-page jumps must not touch the hash, which holds the route.
  document.getElementById('skip').addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main').focus();
  });
  window.addEventListener('hashchange', render);
  render();
}

start();
