// switcher: the keyboard's way around the chat page. Ctrl+K (⌘K on a Mac)
// opens a friend switcher: type part of a name, arrows to choose, Enter to
// open. Escape closes whatever panel is open, the innermost first.
import { $ } from './api.js';

let state = null;	// chat.js's page state (friends)
let open = null;	// open(name): opens a conversation
const closers = [];	// functions that close a panel and say whether one was open

function matches(filter) {
  const f = filter.trim().toLowerCase();
  return [...state.friends.keys()].filter((name) => name.toLowerCase().includes(f))
    .sort((a, b) => Number(!a.toLowerCase().startsWith(f)) - Number(!b.toLowerCase().startsWith(f)) || a.localeCompare(b));
}

function draw() {
  const ul = $('switch-list');
  ul.replaceChildren();
  const names = matches($('switch-filter').value);
  names.forEach((name, i) => {
    const li = document.createElement('li');
    li.id = `switch-${i}`;
    li.setAttribute('role', 'option');
    li.textContent = name;
    li.dataset.user = name;
    li.setAttribute('aria-selected', String(i === 0));
    li.addEventListener('click', () => choose(name));
    ul.append(li);
  });
  $('switch-empty').textContent = names.length ? '' : 'No friend by that name.';
  select(names.length ? 0 : -1);
}

function select(i) {
  const items = [...$('switch-list').children];
  items.forEach((li, k) => li.setAttribute('aria-selected', String(k === i)));
  if (i >= 0) {
    $('switch-filter').setAttribute('aria-activedescendant', items[i].id);
    items[i].scrollIntoView({ block: 'nearest' });
  } else {
    $('switch-filter').removeAttribute('aria-activedescendant');
  }
}

function selected() {
  return [...$('switch-list').children].findIndex((li) => li.getAttribute('aria-selected') === 'true');
}

function choose(name) {
  $('switcher').close();
  open(name);
}

export function openSwitcher() {
  $('switch-filter').value = '';
  draw();
  if (!$('switcher').open) $('switcher').showModal();
  $('switch-filter').focus();
}

// closeFn() closes a panel and returns whether it was open; the last added is closed first.
export function onEscape(closeFn) {
  closers.unshift(closeFn);
}

export function initSwitcher(pageState, openConversation) {
  state = pageState;
  open = openConversation;
  $('switch-filter').addEventListener('input', draw);
  $('switch-filter').addEventListener('keydown', (ev) => {
    const n = $('switch-list').children.length;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (n) select((selected() + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      const li = $('switch-list').children[selected()];
      if (li) choose(li.dataset.user);
    }
  });
  $('switch-open').addEventListener('click', openSwitcher);
  $('switch-close').addEventListener('click', () => $('switcher').close());
  // A click on the backdrop (outside the dialog's box) closes it too.
  $('switcher').addEventListener('click', (ev) => {
    if (ev.target !== $('switcher')) return;
    const r = $('switcher').getBoundingClientRect();
    const inside = ev.clientX >= r.left && ev.clientX <= r.right && ev.clientY >= r.top && ev.clientY <= r.bottom;
    if (!inside) $('switcher').close();
  });
  document.addEventListener('keydown', (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey && ev.key.toLowerCase() === 'k') {
      ev.preventDefault();
      openSwitcher();
    } else if (ev.key === 'Escape' && !$('switcher').open) {
      for (const close of closers) if (close()) break;
    }
  });
}
