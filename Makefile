# A thin wrapper over meson for those who expect make (meson does the work):
#   make                                  release build in $(BUILDDIR)
#   make test                             every test suite: scripts/test.sh
#   make install PREFIX=/usr/local DESTDIR=
#                                         the binary, the systemd unit, the
#                                         sysusers.d entry and the examples
#                                         (docs/deployment.md)
#   make clean
# MESONFLAGS passes more options to meson, e.g.
#   make install PREFIX=/usr MESONFLAGS=-Dsystemdunitdir=/lib/systemd/system
PREFIX ?= /usr/local
DESTDIR ?=
BUILDDIR ?= build-release
MESON ?= meson
MESONFLAGS ?=

.PHONY: all configure test install clean

all: configure
	$(MESON) compile -C $(BUILDDIR)

# Set up once; later runs apply a changed PREFIX or MESONFLAGS.
configure:
	@if [ -f $(BUILDDIR)/build.ninja ]; then \
	  echo "$(MESON) configure $(BUILDDIR) -Dprefix=$(PREFIX) $(MESONFLAGS)"; \
	  $(MESON) configure $(BUILDDIR) -Dprefix=$(PREFIX) $(MESONFLAGS); \
	else \
	  echo "$(MESON) setup $(BUILDDIR) --buildtype=release -Dtests=false --prefix=$(PREFIX) $(MESONFLAGS)"; \
	  $(MESON) setup $(BUILDDIR) --buildtype=release -Dtests=false \
	    --prefix=$(PREFIX) $(MESONFLAGS); \
	fi

test:
	bash scripts/test.sh

install: all
	DESTDIR="$(DESTDIR)" $(MESON) install -C $(BUILDDIR) --no-rebuild

clean:
	rm -rf $(BUILDDIR)
