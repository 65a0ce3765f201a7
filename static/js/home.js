// Home page: shows whether the service (chatd and its database) answers.
// Text goes in through textContent only.

const el = document.getElementById('health');

async function checkHealth() {
  try {
    const res = await fetch('/api/health', { headers: { Accept: 'application/json' } });
    const body = await res.json();
    const ok = res.ok && body.status === 'ok';
    el.textContent = ok ? 'ok' : 'unavailable';
    el.className = ok ? 'ok' : 'down';
  } catch {
    el.textContent = 'unreachable';
    el.className = 'down';
  }
}

checkHealth();
