/* caps.c: capability names and bits, user names, the retry delay and the
 * loopback test of web authentication (caps.h); pure functions. */
#include "config.h"

#include "webauth/caps.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cap_names[WEBAUTH_N_CAPS] = {
    "search",          "add_downloads",     "remove_downloads",   "pause_resume",
    "assign_categories", "move_files",      "rename_files",       "set_comment",
    "manage_categories", "view_history",    "clear_history",      "view_shared",
    "view_uploads",    "view_statistics",   "view_logs",          "view_servers",
    "view_all_downloads", "edit_all_downloads",
};

const char *
webauth_cap_name(int i)
{
    return i >= 0 && i < WEBAUTH_N_CAPS ? cap_names[i] : NULL;
}

/* cap_of_span: the bit of the name at s, n bytes long, or 0. */
static uint32_t
cap_of_span(const char *s, size_t n)
{
    for (int i = 0; i < WEBAUTH_N_CAPS; i++)
        if (strlen(cap_names[i]) == n && memcmp(cap_names[i], s, n) == 0)
            return 1u << i;
    return 0;
}

uint32_t
webauth_cap_of(const char *name)
{
    return name != NULL ? cap_of_span(name, strlen(name)) : 0;
}

int
webauth_caps_parse(const char *list, uint32_t *caps, const char **bad)
{
    *caps = 0;
    if (list == NULL)
        return 0;
    const char *p = list;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *start = p;
        size_t n = strcspn(p, ",");
        p += n;
        size_t len = n;
        while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
            len--;
        if (len == 3 && memcmp(start, "all", 3) == 0) {
            *caps |= WEBAUTH_CAPS_ALL;
        } else if (len > 0) {
            uint32_t c = cap_of_span(start, len);
            if (c == 0) {
                if (bad != NULL)
                    *bad = start;
                *caps = 0;
                return -1;
            }
            *caps |= c;
        }
        if (*p == ',')
            p++;
    }
    return 0;
}

const char *
webauth_caps_problem(uint32_t caps)
{
    if ((caps & WEBAUTH_CAP_EDIT_ALL_DOWNLOADS) && !(caps & WEBAUTH_CAP_VIEW_ALL_DOWNLOADS))
        return "edit_all_downloads requires view_all_downloads";
    return NULL;
}

uint32_t
webauth_caps_from_pg(const char *array)
{
    size_t n = array != NULL ? strlen(array) : 0;
    if (n < 2 || array[0] != '{' || array[n - 1] != '}')
        return 0;
    uint32_t caps = 0;
    const char *p = array + 1, *end = array + n - 1;
    while (p < end) {
        size_t len = strcspn(p, ",}");
        caps |= cap_of_span(p, len); /* a quoted element is no name of ours */
        p += len + 1;
    }
    return caps;
}

char *
webauth_caps_to_pg(uint32_t caps)
{
    size_t cap = 3;
    for (int i = 0; i < WEBAUTH_N_CAPS; i++)
        cap += strlen(cap_names[i]) + 1;
    char *out = xmalloc(cap);
    size_t n = 0;
    out[n++] = '{';
    for (int i = 0; i < WEBAUTH_N_CAPS; i++) {
        if ((caps & (1u << i)) == 0)
            continue;
        if (n > 1)
            out[n++] = ',';
        size_t l = strlen(cap_names[i]);
        memcpy(out + n, cap_names[i], l);
        n += l;
    }
    out[n++] = '}';
    out[n] = '\0';
    return out;
}

const char *
webauth_owner_of(const char *user, uint32_t caps, uint32_t all_cap)
{
    if ((caps & all_cap) == all_cap && all_cap != 0)
        return NULL;
    return user != NULL ? user : "";
}

bool
webauth_username_is_valid(const char *name)
{
    if (name == NULL)
        return false;
    size_t n = 0;
    for (; name[n] != '\0'; n++) {
        unsigned char c = (unsigned char)name[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return n >= 3 && n <= 32;
}

int
webauth_retry_delay_ms(int failures)
{
    if (failures <= 0)
        return 0;
    if (failures > 6)
        return 30000;
    int d = 1000 << (failures - 1); /* 1, 2, 4, 8, 16, 32 s */
    return d > 30000 ? 30000 : d;
}

bool
webauth_addr_is_loopback(const char *addr)
{
    if (addr == NULL)
        return false;
    if (strcmp(addr, "::1") == 0)
        return true;
    if (strncmp(addr, "::ffff:", 7) == 0)
        addr += 7;
    return strncmp(addr, "127.", 4) == 0;
}
