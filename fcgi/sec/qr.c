/*
 * qr: QR code PNGs and data: URLs (see qr.h). Each call builds its own
 * QRcode and gdImage and frees both before returning.
 */
#include <gd.h>
#include <qrencode.h>

#include "qr.h"

int
qr_png(const char *text, struct buf *png)
{
	QRcode *qr = NULL;
	gdImagePtr im = NULL;
	void *data = NULL;
	int side, black, size = 0, ret = -1;

	if (text == NULL || (qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL)
		return -1;
	/* Version 40 has 177 modules a side: the image stays under 1,100 px. */
	if (qr->width <= 0 || qr->width > 177)
		goto out;
	side = (qr->width + 2 * QR_QUIET_MODULES) * QR_MODULE_PX;
	if ((im = gdImageCreate(side, side)) == NULL)
		goto out;
	/* The first colour allocated in a palette image is its background. */
	if (gdImageColorAllocate(im, 255, 255, 255) < 0 ||
	    (black = gdImageColorAllocate(im, 0, 0, 0)) < 0)
		goto out;
	for (int y = 0; y < qr->width; y++) {
		for (int x = 0; x < qr->width; x++) {
			int px = (x + QR_QUIET_MODULES) * QR_MODULE_PX;
			int py = (y + QR_QUIET_MODULES) * QR_MODULE_PX;

			/* Bit 0 of each byte is the module: 1 dark, 0 light. */
			if (qr->data[y * qr->width + x] & 1)
				gdImageFilledRectangle(im, px, py, px + QR_MODULE_PX - 1,
				    py + QR_MODULE_PX - 1, black);
		}
	}
	if ((data = gdImagePngPtr(im, &size)) == NULL || size <= 0)
		goto out;
	buf_append(png, data, (size_t)size);
	ret = buf_failed(png) ? -1 : 0;
out:
	if (data != NULL)
		gdFree(data);
	if (im != NULL)
		gdImageDestroy(im);
	QRcode_free(qr);
	return ret;
}

int
qr_data_url(const char *text, struct buf *out)
{
	struct buf png = {0};
	int ret = -1;

	if (qr_png(text, &png) == 0) {
		buf_data_url(out, "image/png", png.p, png.len);
		ret = buf_failed(out) ? -1 : 0;
	}
	buf_free(&png);
	return ret;
}
