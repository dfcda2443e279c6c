# dist/local.mk: what `make install` puts beside the programs: the
# migrations, the web page, the configuration examples (muleteer.conf,
# lighttpd), muleteer-setup, the systemd units (configure
# --with-systemdsystemunitdir), and `make installcheck`. The FastCGI
# programs go to $(pkglibexecdir) (cgi-bin/local.mk). docs/install.md.

# The migrations (compiled into the daemon too) for reading and for the
# database administrator.
sqldir = $(pkgdatadir)/sql
sql_DATA = $(MIGRATIONS)

examplesdir = $(pkgdatadir)/examples
examples_DATA = lighttpd.conf dist/muleteer.conf.example dist/lighttpd-muleteer.conf

doc_DATA = docs/install.md docs/configuration.md

EXTRA_DIST += dist/muleteer-setup.in dist/muleteerd.service.in dist/muleteer-ws.service.in \
	dist/installcheck.sh dist/www.list dist/muleteer.conf.example dist/lighttpd-muleteer.conf www

# muleteer-setup and the units get the installation's paths when they are
# installed (so that `make install prefix=...` is honoured).
MT_SUBST = $(SED) -e 's|@bindir[@]|$(bindir)|g' -e 's|@sbindir[@]|$(sbindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	-e 's|@docdir[@]|$(docdir)|g'
MT_UNITS = muleteerd.service muleteer-ws.service

install-exec-local:
	$(MKDIR_P) "$(DESTDIR)$(sbindir)"
	$(MT_SUBST) $(srcdir)/dist/muleteer-setup.in >"$(DESTDIR)$(sbindir)/muleteer-setup"
	chmod 0755 "$(DESTDIR)$(sbindir)/muleteer-setup"

uninstall-local: uninstall-dist
uninstall-dist:
	-rm -f "$(DESTDIR)$(sbindir)/muleteer-setup"
	-rm -rf "$(DESTDIR)$(pkgdatadir)/www"
if HAVE_SYSTEMD_UNITS
	-for u in $(MT_UNITS); do rm -f "$(DESTDIR)$(systemdsystemunitdir)/$$u"; done
endif
.PHONY: uninstall-dist

# The web page keeps its folders (www/css, www/js): listed in
# dist/www.list, one file a line, which installcheck.sh checks against
# www/ so that a new file is not forgotten.
install-data-local:
	@while read -r f; do \
	  case "$$f" in ''|'#'*) continue ;; esac; \
	  d=$$(dirname "$$f" | sed 's|^www||'); \
	  $(MKDIR_P) "$(DESTDIR)$(pkgdatadir)/www$$d" || exit 1; \
	  $(INSTALL_DATA) "$(srcdir)/$$f" "$(DESTDIR)$(pkgdatadir)/www$$d/" || exit 1; \
	done <$(srcdir)/dist/www.list
if HAVE_SYSTEMD_UNITS
	$(MKDIR_P) "$(DESTDIR)$(systemdsystemunitdir)"
	for u in $(MT_UNITS); do \
	  $(MT_SUBST) "$(srcdir)/dist/$$u.in" >"$(DESTDIR)$(systemdsystemunitdir)/$$u" || exit 1; \
	  chmod 0644 "$(DESTDIR)$(systemdsystemunitdir)/$$u"; \
	done
endif

# make installcheck: the installed tree has every file and its programs run.
installcheck-local:
	$(SHELL) $(srcdir)/dist/installcheck.sh "$(DESTDIR)" "$(bindir)" "$(sbindir)" \
	  "$(pkglibexecdir)" "$(pkgdatadir)" "$(systemdsystemunitdir)" "$(srcdir)"
