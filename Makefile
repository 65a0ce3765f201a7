# Sealed: an end-to-end encrypted chat. `make run` and `make test` are all the
# set-up a fresh Debian 12 machine needs (as root); see README.md.

SHELL := /bin/bash
.DEFAULT_GOAL := build

CC ?= cc
PKGS := libfcgi jansson libcurl openssl
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -g -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
	$(shell mariadb_config --cflags 2>/dev/null) $(shell pkg-config --cflags jansson libcurl openssl 2>/dev/null)
LIBS := -lfcgi -ljansson -lcurl -lcrypto -lpthread -lcrypt -loath -lqrencode -lgd -lunistring \
	$(shell mariadb_config --libs 2>/dev/null)
HARDEN := -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
SAN := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

SRC := $(filter-out fcgi/main.c,$(wildcard fcgi/*.c))
HDR := $(wildcard fcgi/*.h)
UNIT := $(wildcard tests/unit/test_*.c)

build: build/chatd build/blocklist.txt
.PHONY: build deps certs run stop test unit bench clean

deps:
	@docker/deps.sh

build/chatd: $(SRC) fcgi/main.c $(HDR) | build-dir
	$(CC) $(CFLAGS_COMMON) $(HARDEN) -o $@ $(SRC) fcgi/main.c $(LIBS) -pie -Wl,-z,relro,-z,now

# Unit tests: every fcgi/ source but main.c, built with ASan + UBSan.
build/unit/%: tests/unit/%.c $(SRC) $(HDR) | build-dir
	@mkdir -p build/unit
	$(CC) $(CFLAGS_COMMON) $(SAN) -Ifcgi -o $@ $< $(SRC) $(LIBS) -lcmocka

# The independent OpenSSL check of the E2EE vectors (ASan + UBSan too).
build/check_e2ee: tests/vectors/check_e2ee.c fcgi/b64.c fcgi/b64.h | build-dir
	$(CC) $(CFLAGS_COMMON) $(SAN) -Ifcgi -o $@ tests/vectors/check_e2ee.c fcgi/b64.c -ljansson -lcrypto

build/publish: tests/api/publish.c $(SRC) $(HDR) | build-dir
	$(CC) $(CFLAGS_COMMON) $(HARDEN) -Ifcgi -o $@ $< $(SRC) $(LIBS)

# The local blocklist: john-data's common passwords that could pass the length rule.
build/blocklist.txt: fcgi/blocklist.sh | build-dir
	fcgi/blocklist.sh /usr/share/john/password.lst $@

build-dir:
	@mkdir -p build

unit: $(UNIT:tests/unit/%.c=build/unit/%)
	@tests/unit/run.sh $^

certs: deps
	@certs/mkcerts.sh

run: deps build
	@tests/stack.sh run

stop:
	@tests/stack.sh stop run

test: deps build build/publish build/check_e2ee
	@tests/run.sh

bench: deps build
	@tests/bench/run.sh

clean:
	rm -rf build var
