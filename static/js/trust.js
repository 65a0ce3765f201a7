// trust: the chat page's side of pins.js: the warnings that a friend's key
// or identity changed (and the stop on sending they may bring), the safety
// number panel with "Mark as verified" and "Send anyway", and the alarm
// about keys listed for this user that this browser did not make. It knows
// the conversation only through the hooks chat.js gives it.
import { say, sayError, $ } from './api.js';
import { getState, updateState } from './keystore.js';
import { qrMatrix, qrSvg } from './qr.js';

let state = null;	// chat.js's page state (secure, open conversation)
let hooks = null;	// {catchUp(), drawTimeline(conv), log(op, details)}

// Checks the peer's identity and key against what this browser pinned:
// the name on another account, or new key bytes for a verified friend,
// stop sending until the user compares safety numbers or chooses to go on;
// a new key of an unverified friend is said, in the timeline and here.
export async function checkPeerKey(conv) {
  // Worked out first and set in one go: sending must never see a state
  // half-way between the old answer and the new one.
  const who = await state.secure.identityCheck(conv.peer);
  const k = await state.secure.peerKeyState(conv.peer, conv.newest);
  if (conv !== state.open) return;
  let text = '';
  let blocked = null;
  if (who) {
    [text, blocked] = [who.text, 'identity'];
  } else if (!k.keyId) {
    text = `${conv.peer.username} has not opened the chat yet, so there is no key to encrypt with. You can write once they have.`;
  } else if (k.blocked) {
    text = k.status === 'mismatch'
      ? `⚠ The server now gives a different key for ${conv.peer.username} than the one this browser pinned under the same id. Someone may be intercepting: compare safety numbers before you trust this chat. Sending is stopped.`
      : `⚠ ${conv.peer.username}'s keys changed after you verified them. Sending is stopped until you compare safety numbers again, or choose to send anyway.`;
    blocked = 'key';
  } else if (k.status === 'mismatch') {
    text = `⚠ The server now gives a different key for ${conv.peer.username} than the one this browser saw under the same id. Someone may be intercepting: compare safety numbers before you trust this chat.`;
    conv.keyChanged = true;
  } else if (k.status === 'changed' || conv.keyChanged) {
    conv.keyChanged = true;
    text = `${conv.peer.username}'s keys changed (a new browser, or their storage was cleared). Compare safety numbers again to be sure it is them.`;
  }
  Object.assign(conv, { peerKeyId: k.keyId, peerJwk: k.jwk, verified: k.verified && !who, identity: who, blocked });
  const warn = $('key-warning');
  say(warn, text);
  warn.classList.toggle('alarm', !!blocked);
  $('trust-actions').hidden = !blocked;
  $('peer-verified').hidden = !conv.verified;
  // A safety number on screen is for the key it was made from.
  if (!$('safety').hidden && conv.shownKey && conv.shownKey.jwk.x !== (k.jwk && k.jwk.x)) $('safety').hidden = true;
  if (k.status === 'changed' || k.status === 'mismatch') await hooks.drawTimeline(conv);
}


async function showSafety() {
  const conv = state.open;
  if (!conv) return;
  await checkPeerKey(conv);
  if (!conv.peerJwk) return;
  $('safety-peer').textContent = conv.peer.username;
  conv.shownKey = { keyId: conv.peerKeyId, jwk: conv.peerJwk };
  drawSafetyNumber(await state.secure.safetyNumber(conv.peer, conv.peerJwk));
  $('mark-verified').disabled = conv.verified;
  $('verify-nudge').hidden = true;
  $('safety').hidden = false;
}

// 60 digits as 12 groups of 5 in three rows, read out group by group, and
// the same digits as a QR code made here (never an image from the server,
// which could show another number).
function drawSafetyNumber(number) {
  const groups = number.split(' ');
  const el = $('safety-number');
  el.replaceChildren();
  groups.forEach((g, i) => {
    if (i) el.append(' ');	// copied or read as text, it keeps its groups
    const span = document.createElement('span');
    span.textContent = g;
    el.append(span);
  });
  const digits = groups.join('');
  $('safety-qr').replaceChildren(qrSvg(document, qrMatrix(digits, { ecl: 'M' }), { scale: 4, margin: 4, label: 'Safety number as a QR code' }));
  $('safety-qr').dataset.digits = digits;
}

export function closeSafety() {
  if ($('safety').hidden) return false;
  const inside = $('safety').contains(document.activeElement);
  $('safety').hidden = true;
  if (inside) $('show-safety').focus();
  return true;
}

// Once per friend, in the first conversation with them that is not yet
// verified: a word on why and how to compare safety numbers.
export async function nudgeVerify(conv) {
  if (conv !== state.open || conv.verified || conv.blocked || !conv.peerJwk) return;
  const key = `nudged:${conv.peer.id}`;
  if (await getState(key)) return;
  await updateState(key, () => Date.now());
  if (conv !== state.open) return;
  $('nudge-peer').textContent = conv.peer.username;
  $('verify-nudge').hidden = false;
}

// After the user trusted a key or an identity, the conversation is checked
// again from the start: messages held under that key now open.
async function reshow(conv) {
  await checkPeerKey(conv);
  $('mark-verified').disabled = conv.verified;
  if (conv.blocked) return;
  conv.shown.clear();
  conv.opened = false;
  conv.newest = 0;
  conv.cursor = undefined;
  $('messages').replaceChildren();
  await hooks.catchUp();
}

// The directory lists a key for this user that this browser did not make.
export function ownKeyAlarm(foreign) {
  state.foreign = foreign;
  if (!foreign.length) {
    $('own-key-alarm').hidden = true;
    return;
  }
  const names = foreign.filter((k) => k.key_id).map((k) => `#${k.key_id}${k.fingerprint ? ` (${k.fingerprint})` : ''}`).join(', ');
  $('own-key-text').textContent = foreign.some((k) => k.missing && !k.jwk)
    ? '⚠ The server no longer lists this browser\'s key as yours, so friends may encrypt to a key that is not this browser\'s. If you did not sign in from another browser, someone may be reading what is sent to you.'
    : `⚠ The server lists a key for you that this browser did not make: ${names}. If you did not sign in from another browser, someone may be reading what is sent to you.`;
  $('own-key-alarm').hidden = false;
}

export async function checkOwnKeys() {
  try {
    ownKeyAlarm(await state.secure.ownKeys());
  } catch (err) {
    hooks.log('own keys not checked', err.message);
  }
}

// Binds the trust controls to the page's state and the conversation's hooks.
export function initTrust(pageState, conversationHooks) {
  state = pageState;
  hooks = conversationHooks;
  $('show-safety').addEventListener('click', showSafety);
  $('trust-compare').addEventListener('click', showSafety);
  $('nudge-compare').addEventListener('click', showSafety);
  $('nudge-dismiss').addEventListener('click', () => {
    $('verify-nudge').hidden = true;
  });

  $('hide-safety').addEventListener('click', () => {
    $('safety').hidden = true;
  });

  $('mark-verified').addEventListener('click', async () => {
    const conv = state.open;
    if (!conv || !conv.shownKey) return;
    // Exactly the bytes whose number the user compared, whatever came since.
    if (conv.identity) await state.secure.acceptIdentity(conv.peer);
    await state.secure.markVerified(conv.peer, conv.shownKey.keyId, conv.shownKey.jwk);
    conv.identity = null;
    conv.keyChanged = false;
    await reshow(conv);
  });

  $('trust-anyway').addEventListener('click', async () => {
    const conv = state.open;
    if (!conv) return;
    if (conv.identity) await state.secure.acceptIdentity(conv.peer);
    if (conv.blocked === 'key') await state.secure.acceptKey(conv.peer, conv.peerKeyId, conv.peerJwk);
    conv.identity = null;
    await reshow(conv);
  });

  $('own-key-republish').addEventListener('click', async () => {
    try {
      await state.secure.republish();
      await checkOwnKeys();
    } catch (err) {
      sayError($('sidebar-error'), err);
    }
  });

  $('own-key-ack').addEventListener('click', async () => {
    await state.secure.acknowledgeOwnKeys(state.foreign || []);
    await checkOwnKeys();
  });
}
