#!/bin/sh
# autogen.sh: generates ./configure and Makefile.in from configure.ac and
# Makefile.am. Needs autoconf, automake and pkg-config.
set -e
cd "$(dirname "$0")"
autoreconf --install --force --warnings=all
