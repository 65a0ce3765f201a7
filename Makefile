# Sealed: an end-to-end encrypted chat. `make run` and `make test` are all the
# set-up a fresh Debian 12 machine needs (as root); see README.md.
#
# The packages arrive with `deps`, after make has read this file. So nothing
# here asks a package anything at parse time: the flags that come from
# mariadb_config and pkg-config are recursive (`=`) variables, expanded only
# when a compile runs, and `run`, `test` and `bench` install first and build
# in a second make, one step after the other.

SHELL := /bin/bash
.DEFAULT_GOAL := build

CC ?= cc
CFLAGS_COMMON = -std=c11 -D_GNU_SOURCE -g -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
	$(shell mariadb_config --cflags 2>/dev/null) \
	$(shell pkg-config --cflags jansson libcurl openssl 2>/dev/null)
LIBS = -lfcgi -ljansson -lcurl -lcrypto -lpthread -lcrypt -loath -lqrencode -lgd -lunistring \
	$(shell mariadb_config --libs 2>/dev/null)
HARDEN := -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
SAN := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# The roles of docker/packages.txt each target needs: a server gets what
# building and running take, never the browser, compilers and load tools of
# the tests.
RUN_ROLES := build runtime app db web tools
TEST_ROLES := $(RUN_ROLES) test

# fcgi/ in layers, lowest first: lib (small libraries), core (request
# plumbing), store (one typed function per SQL statement), sec (security
# primitives), api (handlers), proc (the process).
LAYERS := lib core store sec api proc
INC := $(LAYERS:%=-Ifcgi/%)
SRC := $(filter-out fcgi/proc/main.c,$(foreach l,$(LAYERS),$(wildcard fcgi/$(l)/*.c)))
HDR := $(foreach l,$(LAYERS),$(wildcard fcgi/$(l)/*.h))
UNIT := $(wildcard tests/unit/test_*.c)
SUBMAKE = $(MAKE) --no-print-directory

# A build without the -dev packages stops with what to do, not a missing mysql.h.
NEED_BUILD_DEPS = @command -v mariadb_config >/dev/null || \
	{ echo "build: the build packages are missing: run 'make deps' (as root) first" >&2; exit 1; }

build: build/chatd build/blocklist.txt
.PHONY: build deps deps-test certs run stop reload test unit bench clean

deps:
	@docker/deps.sh $(RUN_ROLES)

deps-test:
	@docker/deps.sh $(TEST_ROLES)

build/chatd: $(SRC) fcgi/proc/main.c $(HDR) | build-dir
	$(NEED_BUILD_DEPS)
	$(CC) $(CFLAGS_COMMON) $(HARDEN) $(INC) -o $@ $(SRC) fcgi/proc/main.c $(LIBS) -pie -Wl,-z,relro,-z,now

# Unit tests: every fcgi/ source but main.c, built with ASan + UBSan.
build/unit/%: tests/unit/%.c $(SRC) $(HDR) | build-dir
	$(NEED_BUILD_DEPS)
	@mkdir -p build/unit
	$(CC) $(CFLAGS_COMMON) $(SAN) $(INC) -o $@ $< $(SRC) $(LIBS) -lcmocka

# The independent OpenSSL check of the E2EE vectors (ASan + UBSan too).
build/check_e2ee: tests/vectors/check_e2ee.c fcgi/lib/b64.c fcgi/lib/b64.h | build-dir
	$(NEED_BUILD_DEPS)
	$(CC) $(CFLAGS_COMMON) $(SAN) $(INC) -o $@ tests/vectors/check_e2ee.c fcgi/lib/b64.c -ljansson -lcrypto

build/publish: tests/api/publish.c $(SRC) $(HDR) | build-dir
	$(NEED_BUILD_DEPS)
	$(CC) $(CFLAGS_COMMON) $(HARDEN) $(INC) -o $@ $< $(SRC) $(LIBS)

# The local blocklist: john-data's common passwords that could pass the length rule.
build/blocklist.txt: fcgi/sec/blocklist.sh | build-dir
	fcgi/sec/blocklist.sh /usr/share/john/password.lst $@

build-dir:
	@mkdir -p build

unit: $(UNIT:tests/unit/%.c=build/unit/%)
	@tests/unit/run.sh $^

# openssl only: a compose host needs no nginx or MariaDB of its own.
certs:
	@docker/deps.sh tools
	@certs/mkcerts.sh

# A busy port is named before anything is installed, built or made.
run:
	@tests/stack.sh preflight run
	@$(SUBMAKE) deps
	@$(SUBMAKE) -s build
	@tests/stack.sh run

stop:
	@tests/stack.sh stop run

# nginx re-reads its configuration and certificates (after an ACME renewal).
reload:
	@tests/stack.sh reload run

test:
	@$(SUBMAKE) deps-test
	@$(SUBMAKE) build build/publish build/check_e2ee
	@tests/run.sh

bench:
	@$(SUBMAKE) deps-test
	@$(SUBMAKE) -s build
	@tests/bench/run.sh

clean:
	rm -rf build var
