// Waiting out a lockout: a live "Try again in 4:32" next to a form whose
// submit button stays disabled until the time is up. The deadline is taken
// from the clock, so a tab in the background still ends on time.

/** "m:ss" of a number of seconds. */
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Disables button and counts down in el for `seconds`, then re-enables the
 * button and empties el. A new call on the same button replaces the old one.
 */
export function countdown(button, el, seconds) {
  clearInterval(Number(button.dataset.countdown || 0));
  const end = Date.now() + seconds * 1000;
  const tick = () => {
    const left = (end - Date.now()) / 1000;
    if (left <= 0) {
      clearInterval(timer);
      delete button.dataset.countdown;
      button.disabled = false;
      el.textContent = '';
      el.hidden = true;
      return;
    }
    el.textContent = `Try again in ${clock(left)}`;
    el.hidden = false;
  };
  const timer = setInterval(tick, 250);
  button.dataset.countdown = String(timer);
  button.disabled = true;
  tick();
}

/**
 * What a refusal that counts towards a lockout adds to its message: how
 * many attempts are left, or that logins now pause.
 */
export function attemptsNote(e) {
  const left = e.data?.attempts_left;
  if (typeof left !== 'number') return '';
  if (left === 0) return ' Logins for this name are paused for a while.';
  return ` ${left} ${left === 1 ? 'attempt' : 'attempts'} left before logins for this name pause.`;
}

/**
 * Shows a refusal in errorEl; a lockout (429, or a failure that started
 * one) also counts down in waitEl with the button disabled.
 */
export function refuse(e, errorEl, waitEl, button) {
  const base = e.data?.message || e.message;
  errorEl.textContent = base + attemptsNote(e);
  errorEl.hidden = false;
  const wait = e.status === 429 ? e.retryAfter : e.data?.retry_after;
  if (wait > 0) countdown(button, waitEl, wait);
}
