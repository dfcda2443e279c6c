/* caps.h: the capabilities of the web API's user accounts (aMuTorrent
 * 3.8's list, server/modules/userManager.js), user names, and the other
 * pure rules of web authentication: the login throttle's retry delay and
 * the loopback test of the authentication switch-off. No libpq, no
 * nettle: tests/unit/check_webcaps links it alone. */
#ifndef MT_WEBAUTH_CAPS_H
#define MT_WEBAUTH_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* One bit per capability, in aMuTorrent's order. An admin has them all. */
enum {
    WEBAUTH_CAP_SEARCH = 1u << 0,
    WEBAUTH_CAP_ADD_DOWNLOADS = 1u << 1,
    WEBAUTH_CAP_REMOVE_DOWNLOADS = 1u << 2,
    WEBAUTH_CAP_PAUSE_RESUME = 1u << 3,
    WEBAUTH_CAP_ASSIGN_CATEGORIES = 1u << 4,
    WEBAUTH_CAP_MOVE_FILES = 1u << 5,
    WEBAUTH_CAP_RENAME_FILES = 1u << 6,
    WEBAUTH_CAP_SET_COMMENT = 1u << 7,
    WEBAUTH_CAP_MANAGE_CATEGORIES = 1u << 8,
    WEBAUTH_CAP_VIEW_HISTORY = 1u << 9,
    WEBAUTH_CAP_CLEAR_HISTORY = 1u << 10,
    WEBAUTH_CAP_VIEW_SHARED = 1u << 11,
    WEBAUTH_CAP_VIEW_UPLOADS = 1u << 12,
    WEBAUTH_CAP_VIEW_STATISTICS = 1u << 13,
    WEBAUTH_CAP_VIEW_LOGS = 1u << 14,
    WEBAUTH_CAP_VIEW_SERVERS = 1u << 15,
    WEBAUTH_CAP_VIEW_ALL_DOWNLOADS = 1u << 16,
    WEBAUTH_CAP_EDIT_ALL_DOWNLOADS = 1u << 17,
};
#define WEBAUTH_N_CAPS 18
#define WEBAUTH_CAPS_ALL ((uint32_t)((1u << WEBAUTH_N_CAPS) - 1))

/* webauth_cap_name: the name of capability number i (0 to
 * WEBAUTH_N_CAPS - 1: bit 1 << i), e.g. "remove_downloads"; NULL
 * outside. */
const char *webauth_cap_name(int i);

/* webauth_cap_of: the bit of a capability name (exact, lower case), or 0
 * for an unknown or NULL name. */
uint32_t webauth_cap_of(const char *name);

/* webauth_caps_parse: a comma-separated list of names ("search,
 * add_downloads"; blanks around names are ignored; "" is no capability;
 * "all" is every one) into *caps. -1 on an unknown name, with *bad (if
 * not NULL) pointing at it in list (up to the next comma or the end). */
int webauth_caps_parse(const char *list, uint32_t *caps, const char **bad);

/* webauth_caps_problem: NULL when an account may hold caps, else why not
 * (a static sentence for a person): as aMuTorrent's userAPI, which
 * answers 400, edit_all_downloads is refused without view_all_downloads
 * (changing downloads one cannot see). */
const char *webauth_caps_problem(uint32_t caps);

/* webauth_caps_from_pg: the bits of a PostgreSQL text[] in its text form
 * ("{search,pause_resume}"); unknown names are ignored (a capability a
 * later version dropped counts for nothing). NULL or malformed: 0. */
uint32_t webauth_caps_from_pg(const char *array);

/* webauth_caps_to_pg: the text[] literal of caps ("{search,...}", "{}"
 * for none). The caller frees it. */
char *webauth_caps_to_pg(uint32_t caps);

/* webauth_owner_of: whose downloads a caller named user, with caps
 * (WEBAUTH_CAPS_ALL for an admin), may reach where every account's need
 * all_cap (WEBAUTH_CAP_VIEW_ALL_DOWNLOADS to see them,
 * WEBAUTH_CAP_EDIT_ALL_DOWNLOADS to change them): NULL for everyone's,
 * else user (the added_by of its own; "" for a NULL user). Not a copy. */
const char *webauth_owner_of(const char *user, uint32_t caps, uint32_t all_cap);

/* webauth_username_is_valid: 3 to 32 ASCII letters, digits or
 * underscores (aMuTorrent's rule, and web_users' CHECK). */
bool webauth_username_is_valid(const char *name);

/* webauth_retry_delay_ms: how long a client should wait before its next
 * login after `failures` failed ones in a row (the retryDelay of a 401):
 * 0 for none, then 1 s doubling up to 30 s. */
int webauth_retry_delay_ms(int failures);

/* webauth_addr_is_loopback: addr (REMOTE_ADDR) is 127.0.0.0/8, ::1 or
 * ::ffff:127.x.y.z. NULL or "" is not. */
bool webauth_addr_is_loopback(const char *addr);

#endif
