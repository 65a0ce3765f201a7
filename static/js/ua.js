// Sessions as a person recognises them: "Chromium on Linux · today 04:10".
// The browser and system are read from the User-Agent string here, in the
// browser (the server keeps the raw string), and times are local.

const BROWSERS = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChromium\//, 'Chromium'],
  [/\b(?:Headless)?Chrome\/|\bCriOS\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  [/^curl\//, 'curl'],
];

const SYSTEMS = [
  [/\bWindows\b/, 'Windows'],
  [/\bAndroid\b/, 'Android'],
  [/\biPhone\b|\biPad\b|\biPod\b/, 'iOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

const first = (table, ua) => table.find(([re]) => re.test(ua))?.[1];

/** "Chromium on Linux", "Firefox", "Linux", or "Unknown browser". */
export function describeAgent(ua) {
  const browser = first(BROWSERS, ua || '');
  const system = first(SYSTEMS, ua || '');
  if (browser && system) return `${browser} on ${system}`;
  return browser || (system ? `A browser on ${system}` : 'Unknown browser');
}

const hhmm = (d) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
const dayStart = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

/** "today 04:10", "yesterday 22:15", or a short local date: "3 Mar 14:05" ("3 Mar 2024 14:05" in another year). */
export function whenLocal(iso, now = new Date()) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const days = Math.round((dayStart(now) - dayStart(d)) / 86_400_000);
  if (days === 0) return `today ${hhmm(d)}`;
  if (days === 1) return `yesterday ${hhmm(d)}`;
  const date = d.toLocaleDateString(undefined, {
    day: 'numeric', month: 'short', year: d.getFullYear() === now.getFullYear() ? undefined : 'numeric',
  });
  return `${date} ${hhmm(d)}`;
}
