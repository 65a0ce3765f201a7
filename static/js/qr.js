// qr: a QR code encoder (ISO/IEC 18004 Model 2, versions 1-10) and an SVG
// drawing of it, made in the browser. The safety number is shown as a QR
// so two phones can compare it; the server is an adversary and an image it
// rendered could carry another number, so the symbol is computed here from
// the very string the page shows, with no library fetched from anywhere.
// Guarantees: the text is encoded losslessly (numeric, alphanumeric or UTF-8
// byte mode, one segment, an ECI saying UTF-8 when it is not ASCII), in the
// smallest version 1-10 that holds it at the asked error-correction level,
// with the mask of lowest standard penalty; text that needs more than
// version 10 throws a RangeError, never a partial symbol. Pure functions,
// no I/O; runs the same in Chromium and Node 20.

// --- Tables for versions 1-10 (ISO/IEC 18004:2015, tables 1, 9 and E.1) ----
// Index 0 is version 1. Total codewords (data + EC) in the symbol:
const TOTAL_CODEWORDS = [26, 44, 70, 100, 134, 172, 196, 242, 292, 346];
// Per level: EC codewords in each block, and the number of blocks. When the
// total does not split evenly, the later blocks carry one more data byte.
const EC_PER_BLOCK = {
  L: [7, 10, 15, 20, 26, 18, 20, 24, 30, 18],
  M: [10, 16, 26, 18, 24, 16, 18, 22, 22, 26],
  Q: [13, 22, 18, 26, 18, 24, 18, 22, 20, 24],
  H: [17, 28, 22, 16, 22, 28, 26, 26, 24, 28],
};
const BLOCKS = {
  L: [1, 1, 1, 1, 1, 2, 2, 2, 2, 4],
  M: [1, 1, 1, 2, 2, 4, 4, 4, 5, 5],
  Q: [1, 1, 2, 2, 4, 4, 6, 6, 8, 8],
  H: [1, 1, 2, 4, 4, 4, 5, 6, 8, 8],
};
// Centres of the alignment patterns, per axis.
const ALIGNMENT = [[], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34],
  [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]];
// The two bits the format information gives each level (not in L-M-Q-H order).
const ECL_BITS = { L: 1, M: 0, Q: 3, H: 2 };
const MAX_VERSION = 10;

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
// Mode indicator, and the width of the character count for versions 1-9 and
// 10-26 (version 10 is already in the second group).
const MODES = {
  numeric: { indicator: 0b0001, countBits: [10, 12] },
  alphanumeric: { indicator: 0b0010, countBits: [9, 11] },
  byte: { indicator: 0b0100, countBits: [8, 16] },
};

// --- Bits -----------------------------------------------------------------

// Appends `len` bits of `value`, most significant first.
function push(bits, value, len) {
  for (let i = len - 1; i >= 0; i--) bits.push((value >>> i) & 1);
}

// The mode and the data bits (without header) of one segment holding text.
function segment(text) {
  const bits = [];
  if (/^[0-9]*$/.test(text)) {
    // Three digits in 10 bits, a trailing two in 7, a trailing one in 4.
    for (let i = 0; i < text.length; i += 3) {
      const group = text.slice(i, i + 3);
      push(bits, Number(group), group.length * 3 + 1);
    }
    return { mode: MODES.numeric, count: text.length, bits };
  }
  if ([...text].every((c) => ALNUM.includes(c))) {
    // Pairs as 45*a + b in 11 bits, a last single character in 6.
    for (let i = 0; i < text.length; i += 2) {
      const a = ALNUM.indexOf(text[i]);
      if (i + 1 < text.length) push(bits, a * 45 + ALNUM.indexOf(text[i + 1]), 11);
      else push(bits, a, 6);
    }
    return { mode: MODES.alphanumeric, count: text.length, bits };
  }
  const bytes = new TextEncoder().encode(text);
  for (const b of bytes) push(bits, b, 8);
  // Readers guess the charset of byte mode (zbar takes UTF-8 Chinese for
  // Shift JIS); beyond ASCII an ECI header says UTF-8 (assignment 26).
  return { mode: MODES.byte, count: bytes.length, bits, eci: bytes.some((b) => b > 0x7f) };
}

function dataCodewords(version, ecl) {
  const v = version - 1;
  return TOTAL_CODEWORDS[v] - EC_PER_BLOCK[ecl][v] * BLOCKS[ecl][v];
}

// The smallest version whose data capacity holds header + data, and the
// padded data codewords for it.
function dataFor(text, ecl) {
  const seg = segment(text);
  for (let version = 1; version <= MAX_VERSION; version++) {
    const countBits = seg.mode.countBits[version < 10 ? 0 : 1];
    const capacity = dataCodewords(version, ecl) * 8;
    const header = (seg.eci ? 12 : 0) + 4 + countBits;
    if (seg.count >= 2 ** countBits || header + seg.bits.length > capacity) continue;
    const bits = [];
    if (seg.eci) push(bits, (0b0111 << 8) | 26, 12);	// ECI mode, designator 26
    push(bits, seg.mode.indicator, 4);
    push(bits, seg.count, countBits);
    bits.push(...seg.bits);
    push(bits, 0, Math.min(4, capacity - bits.length));	// terminator
    push(bits, 0, (8 - (bits.length % 8)) % 8);
    const bytes = [];
    for (let i = 0; i < bits.length; i += 8) {
      bytes.push(bits.slice(i, i + 8).reduce((acc, b) => (acc << 1) | b, 0));
    }
    // The standard's pad codewords alternate 0xEC and 0x11.
    for (let pad = 0xec; bytes.length < capacity / 8; pad ^= 0xec ^ 0x11) bytes.push(pad);
    return { version, bytes };
  }
  throw new RangeError(`qr: the text (${seg.count} ${seg.mode === MODES.byte ? 'bytes' : 'characters'}) `
    + `does not fit in a version ${MAX_VERSION} QR code at error-correction level ${ecl}`);
}

// --- Reed-Solomon over GF(256), polynomial x^8+x^4+x^3+x^2+1 (0x11d) -------

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = EXP[i + 255] = x;
  LOG[x] = i;
  x = (x << 1) ^ (x & 0x80 ? 0x11d : 0);
}
const mul = (a, b) => (a && b ? EXP[LOG[a] + LOG[b]] : 0);

// The generator (x - a^0)(x - a^1)...(x - a^(n-1)), leading 1 left out.
function generator(n) {
  let g = [1];
  for (let i = 0; i < n; i++) {
    const next = new Array(g.length + 1).fill(0);
    g.forEach((c, j) => { next[j] ^= c; next[j + 1] ^= mul(c, EXP[i]); });
    g = next;
  }
  return g.slice(1);
}

// The EC codewords: the remainder of data * x^n divided by the generator.
function ecCodewords(data, n) {
  const g = generator(n);
  const rem = new Array(n).fill(0);
  for (const d of data) {
    const factor = d ^ rem.shift();
    rem.push(0);
    g.forEach((c, i) => { rem[i] ^= mul(c, factor); });
  }
  return rem;
}

// Splits the data into blocks, adds each block's EC codewords, interleaves.
function interleave(bytes, version, ecl) {
  const v = version - 1;
  const nBlocks = BLOCKS[ecl][v];
  const nEc = EC_PER_BLOCK[ecl][v];
  const shortLen = Math.floor(bytes.length / nBlocks);
  const nLong = bytes.length % nBlocks;
  const blocks = [];
  for (let b = 0, at = 0; b < nBlocks; b++) {
    const len = shortLen + (b >= nBlocks - nLong ? 1 : 0);
    const data = bytes.slice(at, at + len);
    at += len;
    blocks.push({ data, ec: ecCodewords(data, nEc) });
  }
  const out = [];
  for (let i = 0; i <= shortLen; i++) for (const bl of blocks) if (i < bl.data.length) out.push(bl.data[i]);
  for (let i = 0; i < nEc; i++) for (const bl of blocks) out.push(bl.ec[i]);
  return out;
}

// --- The symbol -------------------------------------------------------------

// Remainder of a BCH code: value * x^(deg g) mod g, by long division.
function bch(value, poly, polyDeg) {
  let r = value << polyDeg;
  for (let i = 31 - Math.clz32(r); i >= polyDeg; i--) if ((r >>> i) & 1) r ^= poly << (i - polyDeg);
  return (value << polyDeg) | r;
}

// A grid with the function patterns drawn, and which cells they own.
function functionPatterns(version) {
  const size = 17 + 4 * version;
  const dark = Array.from({ length: size }, () => new Array(size).fill(false));
  const fixed = Array.from({ length: size }, () => new Array(size).fill(false));
  const set = (r, c, on) => { dark[r][c] = on; fixed[r][c] = true; };
  // Timing first; finders and alignments then overwrite where they meet it.
  for (let i = 0; i < size; i++) { set(6, i, i % 2 === 0); set(i, 6, i % 2 === 0); }
  // Finders with their separators: rings by Chebyshev distance from the centre.
  for (const [r0, c0] of [[3, 3], [3, size - 4], [size - 4, 3]]) {
    for (let dr = -4; dr <= 4; dr++) {
      for (let dc = -4; dc <= 4; dc++) {
        const r = r0 + dr, c = c0 + dc, d = Math.max(Math.abs(dr), Math.abs(dc));
        if (r >= 0 && r < size && c >= 0 && c < size) set(r, c, d !== 2 && d !== 4);
      }
    }
  }
  const pos = ALIGNMENT[version - 1];
  const last = pos.length - 1;
  pos.forEach((r0, i) => pos.forEach((c0, j) => {
    // Not in the three corners the finders hold (those on timing are kept).
    if ((i === 0 && (j === 0 || j === last)) || (i === last && j === 0)) return;
    for (let dr = -2; dr <= 2; dr++) {
      for (let dc = -2; dc <= 2; dc++) set(r0 + dr, c0 + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
    }
  }));
  if (version >= 7) {
    // 18 bits (6 of version, 12 of Golay code) twice: above the bottom-left
    // finder and left of the top-right one, least significant bit first.
    const info = bch(version, 0x1f25, 12);
    for (let i = 0; i < 18; i++) {
      const on = ((info >>> i) & 1) === 1;
      const a = size - 11 + (i % 3), b = Math.floor(i / 3);
      set(a, b, on);
      set(b, a, on);
    }
  }
  drawFormat({ dark, fixed, set, size }, 'M', 0);	// reserves the cells
  return { size, dark, fixed, set };
}

// The 15 format bits (level, mask, BCH(15,5), XOR 0x5412), in both copies,
// and the dark module that sits beside the lower copy.
function drawFormat(g, ecl, mask) {
  const bits = bch((ECL_BITS[ecl] << 3) | mask, 0x537, 10) ^ 0x5412;
  const bit = (i) => ((bits >>> i) & 1) === 1;
  const n = g.size;
  for (let i = 0; i < 15; i++) {
    // Around the top-left finder: down column 8 (skipping timing row 6),
    // then leftwards along row 8 (skipping timing column 6).
    if (i < 8) g.set(i < 6 ? i : i + 1, 8, bit(i));
    else g.set(8, i < 9 ? 7 : 14 - i, bit(i));
    // The copy: right part of row 8, then up column 8 at the bottom.
    if (i < 8) g.set(8, n - 1 - i, bit(i));
    else g.set(n - 15 + i, 8, bit(i));
  }
  g.set(n - 8, 8, true);
}

// The codeword bits, in two-column strips from the right, snaking up and
// down, around the function patterns (column 6 is the vertical timing).
function placeData(g, codewords) {
  let i = 0;
  for (let right = g.size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    const upward = ((right + 1) & 2) === 0;
    for (let v = 0; v < g.size; v++) {
      const r = upward ? g.size - 1 - v : v;
      for (const c of [right, right - 1]) {
        if (g.fixed[r][c]) continue;
        // Remainder bits past the last codeword stay light (0).
        g.dark[r][c] = i < codewords.length * 8 && ((codewords[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
        i++;
      }
    }
  }
}

const MASKS = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

// The four penalty rules of ISO/IEC 18004 7.8.3. Rule 3 counts a 1:1:3:1:1
// finder look-alike with four light modules on one side, the space outside
// the symbol counting as light (it is the quiet zone).
const FINDER_LIKE = [true, false, true, true, true, false, true];
function penalty(m) {
  const n = m.length;
  let score = 0, darkCount = 0;
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(m[i], m.map((row) => row[i]));
  for (const line of lines) {
    for (let i = 0, run = 1; i < n; i++) {	// rule 1: runs of 5+ of one colour
      if (i + 1 < n && line[i + 1] === line[i]) { run++; continue; }
      if (run >= 5) score += run - 2;
      run = 1;
    }
    const light = (from, to) => line.slice(Math.max(0, from), Math.max(0, to)).every((x) => !x);
    for (let i = 0; i + 7 <= n; i++) {	// rule 3
      if (FINDER_LIKE.every((on, k) => line[i + k] === on)
        && (light(i - 4, i) || light(i + 7, i + 11))) score += 40;
    }
  }
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (m[r][c]) darkCount++;
      if (r + 1 < n && c + 1 < n && m[r][c] === m[r][c + 1]	// rule 2: 2x2 blocks
        && m[r][c] === m[r + 1][c] && m[r][c] === m[r + 1][c + 1]) score += 3;
    }
  }
  // Rule 4: 10 points for every full 5% the dark share is away from 50%.
  return score + 10 * Math.floor(Math.abs(darkCount * 20 - n * n * 10) / (n * n));
}

// The version, and the final codeword sequence: data and EC, interleaved.
function codewords(text, ecl) {
  if (!(ecl in ECL_BITS)) throw new RangeError(`qr: unknown error-correction level ${ecl}`);
  const { version, bytes } = dataFor(String(text), ecl);
  return { version, codewords: interleave(bytes, version, ecl) };
}

function encode(text, ecl, forcedMask) {
  const { version, codewords: cw } = codewords(text, ecl);
  const base = functionPatterns(version);
  placeData(base, cw);
  let best = null;
  for (let mask = 0; mask < 8; mask++) {
    if (forcedMask !== undefined && mask !== forcedMask) continue;
    const dark = base.dark.map((row, r) => row.map((on, c) => on !== (!base.fixed[r][c] && MASKS[mask](r, c))));
    const g = { size: base.size, fixed: base.fixed, set: (r, c, on) => { dark[r][c] = on; } };
    drawFormat(g, ecl, mask);
    const score = penalty(dark);
    if (!best || score < best.score) best = { size: base.size, modules: dark, version, mask, score };
  }
  return best;
}

// The symbol for text: {size, modules, version, mask}; modules[row][col] is
// true for dark. Throws RangeError when it needs more than version 10.
export function qrMatrix(text, { ecl = 'M' } = {}) {
  const { size, modules, version, mask } = encode(text, ecl);
  return { size, modules, version, mask };
}

// For tests, what a decoder cannot check: the symbol with a given mask
// (0-7), the codewords before placement, and the penalty of a grid.
export function _encodeWithMask(text, mask, { ecl = 'M' } = {}) {
  if (!(mask >= 0 && mask < 8)) throw new RangeError(`qr: no mask ${mask}`);
  const { size, modules, version } = encode(text, ecl, mask);
  return { size, modules, version, mask };
}
export { codewords as _codewords, penalty as _penalty };

// An <svg> of the matrix: a white square and one path of dark modules (one
// element keeps the DOM light; crispEdges keeps scanners' edges sharp). It
// is black on white whatever the page's theme, since readers expect dark on
// light, and is made with DOM calls only: the CSP forbids inline style.
export function qrSvg(doc, matrix, { scale = 4, margin = 4, label = '' } = {}) {
  const NS = 'http://www.w3.org/2000/svg';
  const full = matrix.size + 2 * margin;
  const svg = doc.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${full} ${full}`);
  svg.setAttribute('width', String(full * scale));
  svg.setAttribute('height', String(full * scale));
  svg.setAttribute('shape-rendering', 'crispEdges');
  if (label) {
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
  } else {
    svg.setAttribute('aria-hidden', 'true');	// no name: keep it out of the tree
  }
  const bg = doc.createElementNS(NS, 'rect');
  for (const [k, v] of [['x', '0'], ['y', '0'], ['width', full], ['height', full], ['fill', '#fff']]) {
    bg.setAttribute(k, String(v));
  }
  // Each horizontal run of dark modules is one closed rectangle.
  let d = '';
  matrix.modules.forEach((row, r) => {
    for (let c = 0; c < matrix.size; c++) {
      if (!row[c]) continue;
      let end = c;
      while (end + 1 < matrix.size && row[end + 1]) end++;
      d += `M${c + margin} ${r + margin}h${end - c + 1}v1h-${end - c + 1}z`;
      c = end;
    }
  });
  const path = doc.createElementNS(NS, 'path');
  path.setAttribute('d', d);
  path.setAttribute('fill', '#000');
  svg.append(bg, path);
  return svg;
}
