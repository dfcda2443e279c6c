/* cookie.h: the Set-Cookie values of the web API's session cookie,
 * amule.sid (aMuTorrent's name): HttpOnly, SameSite=Lax, Path=/, Secure
 * over HTTPS. Pure: tests/unit/check_webauth_cookie links it alone. */
#ifndef MT_CGI_AUTH_COOKIE_H
#define MT_CGI_AUTH_COOKIE_H

#include <stdbool.h>

/* wa_cookie_set: the Set-Cookie value that gives the session sid for
 * max_age seconds. The caller frees it. */
char *wa_cookie_set(const char *sid, int max_age, bool secure);

/* wa_cookie_clear: the Set-Cookie value that removes the cookie. The
 * caller frees it. */
char *wa_cookie_clear(bool secure);

#endif
