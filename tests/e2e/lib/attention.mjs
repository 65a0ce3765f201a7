// What a test needs to see what the page does for a user who is not looking:
// a tab that can be hidden, and desktop notifications and sounds recorded as
// they are made. Headless Chromium keeps every tab "visible", so the tab's visibility
// is emulated the way a browser reports it (document.visibilityState and a
// visibilitychange event); notifications go through the real Notification
// class (permission granted to the context), each one also recorded.

// Runs in every document of the context before the page's own scripts.
function instrument() {
  let state = 'visible';
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => state });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => state === 'hidden' });
  window.__setVisibility = (s) => {
    state = s;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  window.__notifications = [];
  window.__permissionAsked = 0;
  // Each chime is two notes: counted as the oscillators the page starts.
  window.__notes = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__notes++;
    return start.apply(this, args);
  };
  const Real = window.Notification;
  if (!Real) return;
  class Recorded extends Real {
    constructor(title, options = {}) {
      super(title, options);
      window.__notifications.push({ title, body: options.body ?? '', tag: options.tag ?? '', n: this });
    }
    static requestPermission(...args) {
      window.__permissionAsked++;
      return Real.requestPermission(...args);
    }
  }
  window.Notification = Recorded;
}

/** Instruments context (before its pages load) and grants it notifications. */
export async function watchAttention(context) {
  await context.grantPermissions(['notifications']);
  await context.addInitScript(instrument);
}

/** Hides (or shows) page's tab as switching to another tab would. */
export async function setHidden(page, hidden) {
  await page.evaluate((s) => window.__setVisibility(s), hidden ? 'hidden' : 'visible');
}

/** The notifications page made so far: [{title, body, tag}]. */
export function notifications(page) {
  return page.evaluate(() => window.__notifications.map(({ title, body, tag }) => ({ title, body, tag })));
}

/** Clicks the newest notification, as the user clicking it on the desktop. */
export async function clickNotification(page) {
  await page.evaluate(() => window.__notifications.at(-1).n.dispatchEvent(new Event('click')));
}

/** How many notes of sound the page has played. */
export function notesPlayed(page) {
  return page.evaluate(() => window.__notes);
}

/** How often the page asked for the notification permission. */
export function permissionAsked(page) {
  return page.evaluate(() => window.__permissionAsked);
}
