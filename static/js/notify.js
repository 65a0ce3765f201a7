// notify: telling the user about messages they are not looking at. The
// title carries the unread count and the icon a red dot whenever something
// is unread; a desktop notification (only after the user turned it on with
// the visible control, never asked for on load) and an optional sound come
// for each new message while the tab is hidden or another conversation is
// open. A notification names the sender only, never the text: it may be
// shown on a locked screen or to whoever stands by. Clicking it opens the
// conversation.
import { $ } from './api.js';

const ICON = '/static/img/icon.svg';
const ICON_UNREAD = '/static/img/icon-unread.svg';

const prefs = {
  desktop: localStorage.getItem('notify-desktop') === '1',
  sound: localStorage.getItem('notify-sound') === '1',
};
const baseTitle = document.title;
let audio = null;
let openConversation = () => {};
let openPeerId = () => null;

// The count in the title and the dot on the icon.
export function showUnread(total) {
  const title = total > 0 ? `(${total > 99 ? '99+' : total}) ${baseTitle}` : baseTitle;
  if (document.title !== title) document.title = title;
  const link = document.querySelector('link[rel="icon"]');
  const href = total > 0 ? ICON_UNREAD : ICON;
  if (link && link.getAttribute('href') !== href) link.setAttribute('href', href);
}

// Whether a new message from peer is one to tell about: the tab is hidden,
// or another conversation is open (with none open, the list is in view).
function elsewhere(peerId) {
  const open = openPeerId();
  return document.visibilityState !== 'visible' || (open !== null && open !== undefined && open !== peerId);
}

// A new message from peer (checked and opened already): a notification and
// a sound, each only if the user asked for it and is looking elsewhere.
export function newMessage(peer) {
  if (!elsewhere(peer.id)) return;
  if (prefs.desktop && 'Notification' in window && Notification.permission === 'granted') {
    try {
      const n = new Notification(`New message from ${peer.username}`, {
        body: 'Open Sealed to read it.',
        tag: `sealed-${peer.id}`,	// one per sender: a burst replaces, not stacks
        icon: ICON,
      });
      n.addEventListener('click', () => {
        window.focus();
        openConversation(peer.username);
        n.close();
      });
    } catch {
      // A browser that shows notifications only from a service worker: the title still counts.
    }
  }
  if (prefs.sound) chime();
}

// Two short soft notes, made here (no audio file to fetch).
function chime() {
  if (!audio) return;
  const t = audio.currentTime;
  for (const [i, freq] of [[0, 880], [1, 1320]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + i * 0.12);
    gain.gain.exponentialRampToValueAtTime(0.15, t + i * 0.12 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.12 + 0.25);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + i * 0.12);
    osc.stop(t + i * 0.12 + 0.3);
  }
}

function drawPrefs() {
  const supported = 'Notification' in window;
  const permission = supported ? Notification.permission : 'denied';
  $('notify-desktop').checked = prefs.desktop && permission === 'granted';
  $('notify-desktop').disabled = !supported;
  $('notify-sound').checked = prefs.sound;
  $('notify-hint').textContent = !supported ? 'This browser cannot show notifications.'
    : permission === 'denied' ? 'Notifications are blocked for this site in the browser\'s settings.'
      : 'Notifications say who wrote, never what.';
  $('notify-toggle').setAttribute('aria-expanded', String(!$('notify-panel').hidden));
}

// Binds the notification settings; open(name) opens a conversation,
// openPeer() names the peer whose conversation is open (or none).
export function initNotify(open, openPeer) {
  openConversation = open;
  openPeerId = openPeer;
  $('notify-toggle').addEventListener('click', () => {
    $('notify-panel').hidden = !$('notify-panel').hidden;
    drawPrefs();
  });
  $('notify-desktop').addEventListener('change', async () => {
    if ($('notify-desktop').checked) {
      // Asked for here, because the user just asked for it, and never on load.
      const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
      prefs.desktop = permission === 'granted';
    } else {
      prefs.desktop = false;
    }
    localStorage.setItem('notify-desktop', prefs.desktop ? '1' : '0');
    drawPrefs();
  });
  $('notify-sound').addEventListener('change', () => {
    prefs.sound = $('notify-sound').checked;
    localStorage.setItem('notify-sound', prefs.sound ? '1' : '0');
    if (prefs.sound) {
      // Made during the click: a browser lets a page play sound only after a gesture.
      audio ||= new AudioContext();
      audio.resume().catch(() => {});
      chime();
    }
  });
  // A sound chosen in an earlier visit needs a gesture on this one first
  // (a click, a tap or a key).
  const wake = () => {
    if (prefs.sound && !audio) audio = new AudioContext();
  };
  document.addEventListener('pointerdown', wake, { once: true });
  document.addEventListener('keydown', wake, { once: true });
  drawPrefs();
}

export function closeNotifyPanel() {
  if ($('notify-panel').hidden) return false;
  const inside = $('notify-panel').contains(document.activeElement);
  $('notify-panel').hidden = true;
  drawPrefs();
  if (inside) $('notify-toggle').focus();
  return true;
}
