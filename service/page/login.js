// The login page's script: plain DOM calls against the public JSON API, no framework. Every value from the
// server is shown with textContent, never parsed as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { user: '', device: '', devices: [], session: '', pending: null };

async function call(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ ok: false, reason: 'bad reply', detail: `HTTP ${response.status}` }));
  return { status: response.status, data };
}

function verdict(text, ok) {
  const el = $('verdict');
  el.textContent = text;
  el.className = ok ? 'ok' : 'refused';
}

function fillDevices(select, devices, label) {
  select.replaceChildren(...devices.map((d) => {
    const option = document.createElement('option');
    option.value = d.serial;
    option.textContent = `${d.serial} (${d.kind}${d.locked ? ', locked' : ''})`;
    option.disabled = d.locked;
    return option;
  }));
  if (label) label.hidden = devices.length < 2;
}

function askForAnswer(purpose, issued) {
  state.pending = { purpose, challenge: issued.challenge };
  $('answer-legend').textContent = purpose === 'login' ? 'Your card' : purpose === 'pin-change' ? 'Confirm the new PIN' : `Authorise USD ${issued.amountUsd}`;
  $('answer-pin').textContent = purpose === 'pin-change' ? 'NEW PIN' : 'PIN';
  $('answer-device').textContent = issued.device;
  $('challenge').textContent = issued.challenge;
  $('response').value = '';
  $('answer').hidden = false;
  $('response').focus();
}

$('start').addEventListener('submit', async (event) => {
  event.preventDefault();
  state.user = $('user').value.trim();
  const choice = $('device-choice').hidden ? undefined : $('device').value;
  const { status, data } = await call('/v1/login/start', { user: state.user, password: $('password').value, ...(choice && { device: choice }) });
  if (status === 409 && data.reason === 'choose device') {
    fillDevices($('device'), data.devices, $('device-choice'));
    verdict('Select the device you will answer with.', true);
    return;
  }
  if (status !== 200) return verdict(data.detail || data.reason, false);
  // The password is not needed again: clear it from the page.
  $('password').value = '';
  state.devices = data.devices;
  state.device = data.device;
  verdict('', true);
  askForAnswer('login', data);
});

$('answer').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { purpose, challenge } = state.pending;
  const path = purpose === 'login' ? '/v1/login/verify' : purpose === 'pin-change' ? '/v1/pin-change/verify' : '/v1/withdrawals/verify';
  const { status, data } = await call(path, { user: state.user, challenge, response: $('response').value.trim() });
  if (status !== 200) return verdict(`${purpose === 'login' ? 'LOGIN REFUSED' : 'REFUSED'}: ${data.detail || data.reason}`, false);
  $('answer').hidden = true;
  if (purpose === 'login') {
    // The session stays in this page's memory only (no cookie, no storage): PIN change and withdrawals send it.
    state.session = data.session.token;
    verdict('LOGIN OK', true);
    $('start').hidden = true;
    $('account').hidden = false;
    await showLimits();
  } else if (purpose === 'pin-change') {
    verdict('PIN CHANGED', true);
  } else {
    verdict(`WITHDRAWAL OF USD ${data.amountUsd} AUTHORISED`, true);
  }
});

async function showLimits() {
  const { data } = await call('/v1/limits');
  const usd = (n) => (n === null ? 'unlimited' : n.toLocaleString('en-US'));
  const mine = new Set(state.devices.map((d) => d.kind));
  $('limits').tBodies[0].replaceChildren(...data.limits.filter((l) => mine.has(l.kind)).map((l) => {
    const row = document.createElement('tr');
    for (const text of [l.kind, usd(l.dailyUsd), usd(l.fiveBusinessDaysUsd)]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  }));
  fillDevices($('withdrawal-device'), state.devices);
}

$('pin-change').addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { user: state.user, session: state.session, device: state.device, newPin: $('new-pin').value, confirmPin: $('confirm-pin').value };
  $('new-pin').value = '';
  $('confirm-pin').value = '';
  const { status, data } = await call('/v1/pin-change/start', body);
  if (status !== 200) return verdict(data.detail || data.reason, false);
  askForAnswer('pin-change', data);
});

$('withdrawal').addEventListener('submit', async (event) => {
  event.preventDefault();
  const amount = Number($('amount').value.replace(/[ ,]/g, ''));
  const { status, data } = await call('/v1/withdrawals/start', { user: state.user, session: state.session, amountUsd: amount, device: $('withdrawal-device').value });
  if (status !== 200) return verdict(data.detail || data.reason, false);
  askForAnswer('withdrawal', data);
});
