/* user.c: `muleteer user ...`: the web API's accounts (web_users) added,
 * removed, given a new password and listed, through lib/webauth/users.h
 * on the configuration's database; no daemon needed. */
#include "config.h"

#include "user.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db/db.h"
#include "passwd.h"
#include "util/conf.h"
#include "util/xalloc.h"
#include "webauth/caps.h"
#include "webauth/users.h"

static int
usage(void)
{
    fprintf(stderr, "muleteer: usage: muleteer user add NAME [--admin] [--caps LIST] | "
                    "remove NAME | passwd NAME | api-key NAME | list\n");
    return EXIT_USAGE;
}

/* connect_db: the configuration's database, or NULL after a message. */
static PGconn *
connect_db(void)
{
    char *path = conf_default_file();
    conf_t *conf = conf_new();
    mt_error_t *err = NULL;
    PGconn *db = NULL;
    if (conf_load_file(conf, path, &err) != 0)
        fprintf(stderr, "muleteer: %s\n", err->message);
    else if ((db = db_connect(conf_get_str(conf, "database"), "muleteer-cli",
                              (int)conf_get_int(conf, "db_connect_timeout"), &err)) == NULL)
        fprintf(stderr, "muleteer: %s\n", err != NULL ? err->message : "no database");
    mt_error_free(err);
    conf_free(conf);
    free(path);
    return db;
}

/* find: the id of the account name, or 0 after a message. */
static long long
find(PGconn *db, const char *name)
{
    long long id = 0;
    mt_error_t *err = NULL;
    if (webauth_user_find(db, name, &id, &err) != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        return 0;
    }
    if (id == 0)
        fprintf(stderr, "muleteer: no user %s\n", name);
    return id;
}

static int
user_add(PGconn *db, int nargs, char **av)
{
    const char *name = av[0];
    bool admin = false;
    uint32_t caps = 0;
    for (int i = 1; i < nargs; i++) {
        if (strcmp(av[i], "--admin") == 0) {
            admin = true;
        } else if (strcmp(av[i], "--caps") == 0 && i + 1 < nargs) {
            const char *bad = NULL;
            if (webauth_caps_parse(av[++i], &caps, &bad) != 0) {
                fprintf(stderr, "muleteer: unknown capability \"%.*s\"; the capabilities are:",
                        (int)strcspn(bad, ","), bad);
                for (int c = 0; c < WEBAUTH_N_CAPS; c++)
                    fprintf(stderr, " %s", webauth_cap_name(c));
                fprintf(stderr, " (or all)\n");
                return EXIT_USAGE;
            }
        } else {
            return usage();
        }
    }
    const char *why = webauth_caps_problem(caps);
    if (why != NULL) {
        fprintf(stderr, "muleteer: --caps: %s (an account changes only the downloads it sees)\n",
                why);
        return EXIT_USAGE;
    }
    if (!webauth_username_is_valid(name)) {
        fprintf(stderr, "muleteer: a user name is 3 to 32 letters, digits or underscores\n");
        return EXIT_USAGE;
    }
    char *pw = passwd_read_new("Password: ");
    if (pw == NULL)
        return EXIT_CMD_ERROR;
    long long id = 0;
    mt_error_t *err = NULL;
    int rc = webauth_user_add(db, name, pw, admin, caps, &id, &err);
    passwd_free_secret(pw);
    if (rc != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        return EXIT_CMD_ERROR;
    }
    printf("user %s added (id %lld)\n", name, id);
    return EXIT_OK;
}

static int
user_remove(PGconn *db, const char *name)
{
    long long id = find(db, name);
    if (id == 0)
        return EXIT_CMD_ERROR;
    mt_error_t *err = NULL;
    if (webauth_user_remove(db, id, &err) != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        return EXIT_CMD_ERROR;
    }
    printf("user %s removed\n", name);
    return EXIT_OK;
}

static int
user_passwd(PGconn *db, const char *name)
{
    long long id = find(db, name);
    if (id == 0)
        return EXIT_CMD_ERROR;
    char *pw = passwd_read_new("New password: ");
    if (pw == NULL)
        return EXIT_CMD_ERROR;
    webauth_user_change_t ch = { .password = pw };
    mt_error_t *err = NULL;
    int rc = webauth_user_update(db, id, &ch, &err);
    passwd_free_secret(pw);
    if (rc != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        return EXIT_CMD_ERROR;
    }
    printf("password of %s changed; its sessions ended\n", name);
    return EXIT_OK;
}

static int
user_api_key(PGconn *db, const char *name)
{
    long long id = find(db, name);
    if (id == 0)
        return EXIT_CMD_ERROR;
    char *key = NULL;
    mt_error_t *err = NULL;
    if (webauth_user_new_api_key(db, id, &key, &err) != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        return EXIT_CMD_ERROR;
    }
    printf("%s\n", key); /* shown this once: only its hash is kept */
    free(key);
    return EXIT_OK;
}

static int
user_list(PGconn *db)
{
    webauth_user_t *list = NULL;
    size_t n = 0;
    mt_error_t *err = NULL;
    if (webauth_users_list(db, &list, &n, &err) != 0) {
        fprintf(stderr, "muleteer: %s\n", err->message);
        mt_error_free(err);
        return EXIT_CMD_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        const webauth_user_t *u = &list[i];
        printf("%-32s %s%s", u->username, u->is_admin ? "admin" : "user",
               u->disabled ? " disabled" : "");
        if (!u->is_admin) {
            char *caps = webauth_caps_to_pg(u->caps);
            caps[strlen(caps) - 1] = '\0'; /* "{a,b}" printed as "a,b" */
            printf(" %s", caps[1] != '\0' ? caps + 1 : "-");
            free(caps);
        }
        printf("\n");
    }
    webauth_users_free(list, n);
    return EXIT_OK;
}

int
user_command(int nargs, char **av)
{
    if (nargs < 1)
        return usage();
    const char *sub = av[0];
    bool one = strcmp(sub, "remove") == 0 || strcmp(sub, "passwd") == 0 ||
               strcmp(sub, "api-key") == 0;
    bool named = one || strcmp(sub, "add") == 0;
    if (!(named && nargs >= 2) && !(strcmp(sub, "list") == 0 && nargs == 1))
        return usage();
    if (one && nargs != 2)
        return usage();
    PGconn *db = connect_db();
    if (db == NULL)
        return EXIT_UNREACHABLE;
    int st = strcmp(sub, "add") == 0      ? user_add(db, nargs - 1, av + 1)
             : strcmp(sub, "remove") == 0 ? user_remove(db, av[1])
             : strcmp(sub, "passwd") == 0 ? user_passwd(db, av[1])
             : strcmp(sub, "api-key") == 0 ? user_api_key(db, av[1])
                                           : user_list(db);
    PQfinish(db);
    return st;
}
