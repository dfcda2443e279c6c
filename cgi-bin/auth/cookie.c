/* cookie.c: Set-Cookie values of the amule.sid session cookie (cookie.h). */
#include "config.h"

#include "auth/cookie.h"
#include "util/xalloc.h"
#include "webauth/auth.h"

char *
wa_cookie_set(const char *sid, int max_age, bool secure)
{
    return xasprintf("%s=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s", WEBAUTH_WEB_COOKIE,
                     sid, max_age > 0 ? max_age : 0, secure ? "; Secure" : "");
}

char *
wa_cookie_clear(bool secure)
{
    return xasprintf("%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s", WEBAUTH_WEB_COOKIE,
                     secure ? "; Secure" : "");
}
