/*
 * qr: a QR code (libqrencode, error correction level M, 8-bit mode) as a
 * black-on-white PNG (libgd), 6 pixels per module with the 4-module quiet
 * zone that ISO/IEC 18004 asks for, so phone cameras read it off a screen.
 */
#ifndef CHATD_QR_H
#define CHATD_QR_H

#include "buf.h"

#define QR_MODULE_PX 6
#define QR_QUIET_MODULES 4

/*
 * Appends the PNG of text to png. 0, or -1 when the text does not fit in a
 * QR code (beyond about 2 KB) or a library fails; on -1 png may hold a part.
 */
int qr_png(const char *text, struct buf *png);

/* Appends "data:image/png;base64,..." of qr_png(text) to out. 0 or -1. */
int qr_data_url(const char *text, struct buf *out);

#endif
