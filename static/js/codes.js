// Recovery codes as a person keeps them: shown in a grid that never
// overlaps, and Copy, Download (a .txt named for the app and the user) and
// Print (app.css prints only the shown codes box: its heading and the codes).
// Used by the sign-up enrolment, a resumed enrolment at login, and the
// account page's "make new recovery codes". Codes live in script memory
// only: never in storage.

// The site's name, as the page's heading shows it.
const appName = () => (document.querySelector('h1')?.textContent || 'Sealed').trim();

// A file name of letters, digits, _ and - only.
const safe = (s) => s.replace(/[^A-Za-z0-9_-]+/g, '-');

/**
 * Binds the codes box `box` (a .codes-box with .codes-title, ol.codes and
 * buttons .codes-copy, .codes-download, .codes-print) and returns
 * show(codes, username), which lists the codes and shows the box.
 */
export function codesBox(box) {
  const list = box.querySelector('ol.codes');
  const title = box.querySelector('.codes-title');
  const copy = box.querySelector('.codes-copy');
  let codes = [];
  let user = '';

  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      copy.textContent = 'Copied';
    } catch {
      copy.textContent = 'Copy failed: select the list instead';
    }
  });

  box.querySelector('.codes-download').addEventListener('click', () => {
    const text = `${appName()} recovery codes for ${user}\n`
      + `Each code logs you in once if you lose your authenticator.\n\n${codes.join('\n')}\n`;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    a.download = `${safe(appName())}-recovery-codes-${safe(user)}.txt`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });

  box.querySelector('.codes-print').addEventListener('click', () => window.print());

  return function show(newCodes, username) {
    codes = [...newCodes];
    user = username;
    title.textContent = `${appName()} recovery codes for ${username}`;
    copy.textContent = 'Copy';
    list.replaceChildren(...codes.map((c) => {
      const li = document.createElement('li');
      li.textContent = c;
      return li;
    }));
    box.hidden = false;
  };
}
