// node:test for static/js/qr.js. A symbol is right when a real decoder reads
// the text back: each matrix is drawn into a PGM image (4-module quiet zone,
// 4 pixels a module) and read with zbarimg (Debian zbar-tools), which checks
// the finders, format and version information, Reed-Solomon and the data.
// Beside that: the version chosen against the standard's capacity table
// (ISO/IEC 18004 table 7, written out here independently of qr.js), the
// format and version bits against the standard's lists, each of the eight
// masks, the RangeError past version 10, and the SVG (drawn back from its
// one path and decoded too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const { qrMatrix, qrSvg, _encodeWithMask, _codewords, _penalty } = await import('../../static/js/qr.js');

try {
  execFileSync('zbarimg', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('qr.test: zbarimg is needed (apt-get install zbar-tools)');
}

const dir = mkdtempSync(join(tmpdir(), 'qr-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

// Binary PGM (P5) of a boolean grid: dark = 0, light = 255, with a quiet zone.
function pgm(modules, { scale = 4, quiet = 4 } = {}) {
  const n = modules.length, w = (n + 2 * quiet) * scale;
  const px = Buffer.alloc(w * w, 255);
  modules.forEach((row, r) => row.forEach((on, c) => {
    if (!on) return;
    for (let y = 0; y < scale; y++) {
      const start = ((r + quiet) * scale + y) * w + (c + quiet) * scale;
      px.fill(0, start, start + scale);
    }
  }));
  return Buffer.concat([Buffer.from(`P5\n${w} ${w}\n255\n`), px]);
}

// What zbarimg reads in the grid ('' when it finds no symbol).
async function decode(modules) {
  const file = join(dir, `${fileNo++}.pgm`);
  writeFileSync(file, pgm(modules));
  try {
    const { stdout } = await promisify(execFile)('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' });
    return stdout.replace(/\n$/, '');	// --raw ends each symbol with a newline
  } catch (err) {
    if (err.code === 4) return '';	// zbarimg: no symbol found
    throw err;
  }
}

const SAFETY = '052819374650928137465092813746509281374650928137465092813746';
const groups = (s) => s.match(/.{5}/g).join(' ');

// ISO/IEC 18004:2015 table 7, versions 1-10: characters per level L, M, Q, H.
const CAPACITY = {
  numeric: [[41, 34, 27, 17], [77, 63, 48, 34], [127, 101, 77, 58], [187, 149, 111, 82],
    [255, 202, 144, 106], [322, 255, 178, 139], [370, 293, 207, 154], [461, 365, 259, 202],
    [552, 432, 312, 235], [652, 513, 364, 288]],
  alphanumeric: [[25, 20, 16, 10], [47, 38, 29, 20], [77, 61, 47, 35], [114, 90, 67, 50],
    [154, 122, 87, 64], [195, 154, 108, 84], [224, 178, 125, 93], [279, 221, 157, 122],
    [335, 262, 189, 143], [395, 311, 221, 174]],
  byte: [[17, 14, 11, 7], [32, 26, 20, 14], [53, 42, 32, 24], [78, 62, 46, 34],
    [106, 84, 60, 44], [134, 106, 74, 58], [154, 122, 86, 64], [192, 152, 108, 84],
    [230, 180, 130, 98], [271, 213, 151, 119]],
};
const LEVELS = ['L', 'M', 'Q', 'H'];
// Text of n characters that takes the mode (varied, so no two symbols agree).
const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const TEXT = {
  numeric: (n) => Array.from({ length: n }, (_, i) => (i * 7 + n) % 10).join(''),
  alphanumeric: (n) => 'A' + Array.from({ length: n - 1 }, (_, i) => ALNUM[(i * 11 + n) % 45]).join(''),
  byte: (n) => 'a' + Array.from({ length: n - 1 }, (_, i) => String.fromCharCode(33 + ((i * 13 + n) % 94))).join(''),
};

// --- Decoded by zbarimg -----------------------------------------------------------

const CASES = [
  ['safety number, numeric mode', SAFETY, 'M'],
  ['safety number in groups, alphanumeric mode', groups(SAFETY), 'M'],
  ['safety number, level H', SAFETY, 'H'],
  ['otpauth URI, byte mode', 'otpauth://totp/Sealed:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Sealed', 'Q'],
  ['UTF-8 beyond ASCII', 'Grüße, 世界', 'M'],
  ['short text, version 1', 'Sealed', 'L'],
  ['lower case in groups', groups(SAFETY).toLowerCase() + ' ok', 'L'],
];
for (const [name, text, ecl] of CASES) {
  test(`decodes: ${name} (${ecl})`, async () => {
    const m = qrMatrix(text, { ecl });
    assert.equal(m.modules.length, m.size);
    assert.ok(m.modules.every((row) => row.length === m.size && row.every((x) => typeof x === 'boolean')));
    assert.equal(await decode(m.modules), text);
  });
}

test('the safety number: version 2 at L and M (63 digits fit), 3 at Q, 4 at H', () => {
  // 60 digits: 4 + 10 + 200 bits = 27 codewords; version 2-M holds 28.
  assert.deepEqual(LEVELS.map((ecl) => qrMatrix(SAFETY, { ecl }).size), [25, 25, 29, 33]);
  assert.equal(qrMatrix('Sealed', { ecl: 'L' }).size, 21);
  assert.equal(qrMatrix('', { ecl: 'M' }).size, 21);
});

// Every version and level at its exact capacity in every mode (the fullest
// symbol of each block structure): the size is that version's, one more
// character moves it up (or past version 10 throws), and zbarimg reads it.
for (const mode of Object.keys(CAPACITY)) {
  test(`capacity table, ${mode} mode: versions 1-10 at L/M/Q/H, all decoded`, async () => {
    for (let v = 1; v <= 10; v++) {
      for (const [l, ecl] of LEVELS.entries()) {
        const n = CAPACITY[mode][v - 1][l];
        const m = qrMatrix(TEXT[mode](n), { ecl });
        assert.equal(m.size, 17 + 4 * v, `${mode} ${n} at ${ecl}: version ${v}`);
        if (v < 10) assert.equal(qrMatrix(TEXT[mode](n + 1), { ecl }).size, 21 + 4 * v, `${mode} ${n + 1} at ${ecl}`);
        else assert.throws(() => qrMatrix(TEXT[mode](n + 1), { ecl }), RangeError);
        assert.equal(await decode(m.modules), TEXT[mode](n), `${mode} version ${v}-${ecl}`);
      }
    }
  });
}

test('versions 7-10 carry the standard version information, both copies', async () => {
  // ISO/IEC 18004 table D.1.
  const INFO = { 7: 0x07c94, 8: 0x085bc, 9: 0x09a99, 10: 0x0a4d3 };
  for (const [v, ecl] of [[7, 'L'], [8, 'M'], [9, 'Q'], [10, 'H']]) {
    const text = TEXT.byte(CAPACITY.byte[v - 2][LEVELS.indexOf(ecl)] + 1);
    const { size, modules } = qrMatrix(text, { ecl });
    assert.equal(size, 17 + 4 * v);
    let upper = 0, lower = 0;
    for (let i = 17; i >= 0; i--) {
      const a = size - 11 + (i % 3), b = Math.floor(i / 3);
      upper = (upper << 1) | modules[b][a];
      lower = (lower << 1) | modules[a][b];
    }
    assert.equal(upper, INFO[v], `version ${v}, top right`);
    assert.equal(lower, INFO[v], `version ${v}, bottom left`);
    assert.equal(await decode(modules), text);
  }
});

test('each of the 8 masks decodes, with the standard format bits for each level', async () => {
  // ISO/IEC 18004 table C.1: the 15 format bits (masked) by level and mask.
  const FORMAT = {
    L: ['111011111000100', '111001011110011', '111110110101010', '111100010011101',
      '110011000101111', '110001100011000', '110110001000001', '110100101110110'],
    M: ['101010000010010', '101000100100101', '101111001111100', '101101101001011',
      '100010111111001', '100000011001110', '100111110010111', '100101010100000'],
    Q: ['011010101011111', '011000001101000', '011111100110001', '011101000000110',
      '010010010110100', '010000110000011', '010111011011010', '010101111101101'],
    H: ['001011010001001', '001001110111110', '001110011100111', '001100111010000',
      '000011101100010', '000001001010101', '000110100001100', '000100000111011'],
  };
  const bit = (x) => (x ? '1' : '0');
  for (const ecl of LEVELS) {
    for (const text of ['Sealed ' + ecl, TEXT.byte(CAPACITY.byte[6][LEVELS.indexOf(ecl)])]) {
      const seen = new Set();
      for (let mask = 0; mask < 8; mask++) {
        const m = _encodeWithMask(text, mask, { ecl });
        const g = m.modules, n = m.size;
        // Bit 14 first: around the top-left finder, and the copy split
        // between the bottom-left (bits 14-8) and the top-right (7-0).
        const near = [0, 1, 2, 3, 4, 5, 7, 8].map((c) => bit(g[8][c])).join('')
          + [7, 5, 4, 3, 2, 1, 0].map((r) => bit(g[r][8])).join('');
        const far = [1, 2, 3, 4, 5, 6, 7].map((i) => bit(g[n - i][8])).join('')
          + [8, 7, 6, 5, 4, 3, 2, 1].map((i) => bit(g[8][n - i])).join('');
        assert.equal(near, FORMAT[ecl][mask], `${ecl} mask ${mask}`);
        assert.equal(far, FORMAT[ecl][mask], `${ecl} mask ${mask}, copy`);
        assert.ok(g[n - 8][8], 'the dark module');
        seen.add(g.flat().map(bit).join(''));
        assert.equal(await decode(g), text, `${ecl} mask ${mask}, ${text.length} characters`);
      }
      assert.equal(seen.size, 8, 'eight different symbols');
    }
  }
});

test('qrMatrix picks one of the masks, and texts lead it to different ones', () => {
  const chosen = new Set();
  for (let i = 0; i < 60; i++) {
    const text = TEXT.byte(8 + i);
    const m = qrMatrix(text, { ecl: LEVELS[i % 4] });
    assert.deepEqual(m.modules, _encodeWithMask(text, m.mask, { ecl: LEVELS[i % 4] }).modules);
    chosen.add(m.mask);
  }
  assert.ok(chosen.size >= 4, `masks chosen: ${[...chosen]}`);
});

// --- What a decoder does not see ----------------------------------------------

test('codewords: the standard worked example, HELLO WORLD at 1-M', () => {
  // Alphanumeric data, terminator, the 0xEC 0x11 pads, then 10 EC codewords.
  assert.deepEqual(_codewords('HELLO WORLD', 'M'), { version: 1, codewords: [
    32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17,
    196, 35, 39, 119, 235, 215, 231, 226, 93, 23] });
});

test('penalty: the four rules on grids worked out by hand', () => {
  const grid = (f) => Array.from({ length: 21 }, (_, r) => Array.from({ length: 21 }, (_, c) => f(r, c)));
  const checker = (r, c) => (r + c) % 2 === 0;
  assert.equal(_penalty(grid(checker)), 0);
  // All light: rule 1, 42 lines of one run of 21 (3 + 16 each) = 798; rule 2,
  // 400 blocks of 2x2 (3 each) = 1200; rule 4, 0% dark is 10 steps of 5% = 100.
  assert.equal(_penalty(grid(() => false)), 2098);
  // A checkerboard whose first row starts 1011101 00000: the finder look-alike
  // (rule 3, 40) and a light run of 5 (rule 1, 3); 220 dark of 441 is 50%.
  const row0 = [1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0];
  assert.equal(_penalty(grid((r, c) => (r === 0 && c < 11 ? row0[c] === 1 : checker(r, c)))), 43);
  // The look-alike 1011101 at columns 9-15 with four light modules only on
  // its left (the checkerboard's dark column 16 on its right), then mirrored.
  const mid = (r, c) => (r === 0 && c >= 5 && c <= 15 ? [0, 0, 0, 0, ...row0.slice(0, 7)][c - 5] === 1 : checker(r, c));
  assert.equal(_penalty(grid(mid)), 40);
  assert.equal(_penalty(grid((r, c) => mid(r, 20 - c))), 40);
});

test('too long for version 10, or an unknown level: RangeError with a message', () => {
  assert.throws(() => qrMatrix('1'.repeat(514)), { name: 'RangeError', message: /does not fit in a version 10/ });
  assert.throws(() => qrMatrix('x'.repeat(5000), { ecl: 'L' }), RangeError);
  assert.throws(() => qrMatrix('é'.repeat(60), { ecl: 'H' }), RangeError);	// 120 bytes + ECI > 119
  assert.throws(() => qrMatrix('1', { ecl: 'X' }), RangeError);
});

// --- SVG ----------------------------------------------------------------------

// Enough of a DOM for qrSvg: elements that remember their attributes.
const fakeDoc = {
  createElementNS(ns, tag) {
    return {
      ns, tag, attrs: {}, children: [],
      setAttribute(k, v) { this.attrs[k] = String(v); },
      append(...kids) { this.children.push(...kids); },
    };
  },
};

// The grid a path of "Mx yhWv1h-Wz" rectangles paints (1 module each high).
function paint(d, full) {
  const grid = Array.from({ length: full }, () => new Array(full).fill(false));
  const re = /M(\d+) (\d+)h(\d+)v1h-(\d+)z/gy;
  let m, end = 0;
  while ((m = re.exec(d))) {
    const [x, y, w, back] = m.slice(1).map(Number);
    assert.equal(w, back);
    for (let c = x; c < x + w; c++) {
      assert.equal(grid[y][c], false, 'no module painted twice');
      grid[y][c] = true;
    }
    end = re.lastIndex;
  }
  assert.equal(end, d.length, 'the path is only rectangles');
  return grid;
}

test('qrSvg: one white rect and one black path, sized in modules, that decodes', async () => {
  const text = groups(SAFETY);
  const matrix = qrMatrix(text);
  const svg = qrSvg(fakeDoc, matrix, { scale: 5, label: 'Safety number as a QR code' });
  const full = matrix.size + 8;
  assert.equal(svg.ns, 'http://www.w3.org/2000/svg');
  assert.equal(svg.tag, 'svg');
  assert.deepEqual(svg.attrs, {
    viewBox: `0 0 ${full} ${full}`, width: String(full * 5), height: String(full * 5),
    'shape-rendering': 'crispEdges', role: 'img', 'aria-label': 'Safety number as a QR code',
  });
  assert.deepEqual(svg.children.map((c) => c.tag), ['rect', 'path']);
  const [rect, path] = svg.children;
  assert.ok(svg.children.every((c) => c.ns === svg.ns && c.children.length === 0 && !('style' in c.attrs)));
  assert.deepEqual(rect.attrs, { x: '0', y: '0', width: String(full), height: String(full), fill: '#fff' });
  assert.equal(path.attrs.fill, '#000');
  const grid = paint(path.attrs.d, full);
  // The path paints exactly the dark modules, inside the margin.
  const inner = grid.slice(4, 4 + matrix.size).map((row) => row.slice(4, 4 + matrix.size));
  assert.deepEqual(inner, matrix.modules);
  assert.equal(grid.flat().filter(Boolean).length, matrix.modules.flat().filter(Boolean).length);
  assert.equal(await decode(inner), text);
});

test('qrSvg: defaults, margin, and no label means hidden from assistive tech', () => {
  const matrix = qrMatrix('Sealed');
  const svg = qrSvg(fakeDoc, matrix);
  assert.equal(svg.attrs.viewBox, '0 0 29 29');
  assert.equal(svg.attrs.width, '116');
  assert.equal(svg.attrs['aria-hidden'], 'true');
  assert.ok(!('role' in svg.attrs) && !('aria-label' in svg.attrs));
  const wide = qrSvg(fakeDoc, matrix, { margin: 2, scale: 1 });
  assert.equal(wide.attrs.viewBox, '0 0 25 25');
  assert.match(wide.children[1].attrs.d, /^M2 2h7v1h-7z/);	// the finder's top edge
});
